# This file is part of the eldercare platform. See LICENSE.
"""Return visits and callbacks (回访, standard §7.3.5): outbound call lists
with scripted questions and recorded answers, planned by the schedule
call.callback|generate after services, after device installations, and
periodically for older people living alone (care calls)."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Workflow, fields,
    sequence_ordered)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .agent import utcnow
from .exceptions import CallCenterError

KINDS = [
    ('after_service', "After a Service"),
    ('after_install', "After a Device Installation"),
    ('care', "Care Call (Living Alone)"),
    ('other', "Other"),
    ]
ANSWER_TYPES = [
    ('yes_no', "Yes / No"),
    ('score', "Score 1-5"),
    ('text', "Text"),
    ]
STATES = [
    ('planned', "Planned"),
    ('done', "Done"),
    ('unreachable', "Not Reached"),
    ('cancelled', "Cancelled"),
    ]
YES = {'yes', 'y', '是', '1', 'true'}
NO = {'no', 'n', '否', '0', 'false'}


class Script(DeactivableMixin, ModelSQL, ModelView):
    "Return Visit Script"
    __name__ = 'call.callback.script'
    name = fields.Char("Name", required=True, translate=True)
    kind = fields.Selection(KINDS, "Kind", required=True)
    questions = fields.One2Many('call.callback.question', 'script',
        "Questions")


class Question(sequence_ordered(), ModelSQL, ModelView):
    "Return Visit Question"
    __name__ = 'call.callback.question'
    script = fields.Many2One('call.callback.script', "Script", required=True,
        ondelete='CASCADE')
    text = fields.Char("Question", required=True, translate=True)
    answer_type = fields.Selection(ANSWER_TYPES, "Answer Type",
        required=True)
    required = fields.Boolean("Required")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('script')

    @staticmethod
    def default_answer_type():
        return 'yes_no'

    @staticmethod
    def default_required():
        return True


class Callback(Workflow, ModelSQL, ModelView):
    "Return Visit"
    __name__ = 'call.callback'
    _sensitivity = {'elder': 'personal', 'notes': 'personal'}
    elder = fields.Many2One('elder.elder', "Older Person", required=True,
        ondelete='CASCADE', states={'readonly': Eval('state') != 'planned'})
    region = fields.Many2One('elder.region', "Region", readonly=True,
        ondelete='RESTRICT')
    kind = fields.Selection(KINDS, "Kind", required=True,
        states={'readonly': Eval('state') != 'planned'})
    script = fields.Many2One('call.callback.script', "Script",
        domain=[('kind', '=', Eval('kind'))],
        states={'readonly': Eval('state') != 'planned'})
    origin = fields.Reference("Origin", selection=[
            (None, ''),
            ('service.order', "Service Order"),
            ('device.device', "Device"),
            ], readonly=True)
    planned_date = fields.Date("Planned Date", required=True,
        states={'readonly': Eval('state') != 'planned'})
    call = fields.Many2One('call.call', "Call", ondelete='SET NULL',
        states={'readonly': Eval('state') != 'planned'})
    attempts = fields.Integer("Attempts", readonly=True)
    answers = fields.One2Many('call.callback.answer', 'callback', "Answers",
        states={'readonly': Eval('state') != 'planned'})
    notes = fields.Text("Notes")
    done_at = fields.Timestamp("Done At", readonly=True)
    done_by = fields.Many2One('res.user', "Done By", readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.region, Index.Range())),
                Index(t, (t.origin, Index.Equality())),
                Index(t, (t.elder, Index.Range()), (t.kind, Index.Equality())),
                })
        cls._order = [('planned_date', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('planned', 'done'),
            ('planned', 'unreachable'),
            ('unreachable', 'planned'),
            ('planned', 'cancelled'),
            }
        cls._buttons.update({
                'load_script': {
                    'invisible': (Eval('state') != 'planned')
                    | Eval('answers', []),
                    'depends': ['state', 'answers'],
                    },
                'dial': {
                    'invisible': Eval('state') != 'planned',
                    'depends': ['state'],
                    },
                'done': {
                    'invisible': Eval('state') != 'planned',
                    'depends': ['state'],
                    },
                'unreachable': {
                    'invisible': Eval('state') != 'planned',
                    'depends': ['state'],
                    },
                'retry': {
                    'invisible': Eval('state') != 'unreachable',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'planned',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'planned'

    @staticmethod
    def default_attempts():
        return 0

    @staticmethod
    def default_kind():
        return 'other'

    @classmethod
    def default_planned_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def preprocess_values(cls, mode, values):
        Elder = Pool().get('elder.elder')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('elder'):
            values['region'] = Elder(values['elder']).region.id
        return values

    @classmethod
    @ModelView.button
    def load_script(cls, callbacks):
        Answer = Pool().get('call.callback.answer')
        to_create = []
        for callback in callbacks:
            if callback.answers or not callback.script:
                continue
            for question in callback.script.questions:
                to_create.append({'callback': callback.id,
                        'question': question.id})
        if to_create:
            Answer.create(to_create)

    @classmethod
    @ModelView.button
    def dial(cls, callbacks):
        Call = Pool().get('call.call')
        for callback in callbacks:
            Call.click_to_dial(callback.elder.phone, elder=callback.elder.id,
                reference='callback:%s' % callback.id)
        cls.load_script(callbacks)

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def done(cls, callbacks):
        for callback in callbacks:
            if callback.script and not callback.answers:
                raise CallCenterError(gettext(
                        'elder_callcenter.msg_callback_no_answers',
                        callback=callback.rec_name))
            for answer in callback.answers:
                answer.check_answer()
        cls.write(callbacks, {'done_at': utcnow(),
                'done_by': Transaction().user or None})

    @classmethod
    @ModelView.button
    @Workflow.transition('unreachable')
    def unreachable(cls, callbacks):
        for callback in callbacks:
            cls.write([callback], {'attempts': (callback.attempts or 0) + 1})

    @classmethod
    @ModelView.button
    @Workflow.transition('planned')
    def retry(cls, callbacks):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, callbacks):
        pass

    @classmethod
    def _script(cls, kind):
        Script = Pool().get('call.callback.script')
        scripts = Script.search([('kind', '=', kind)], limit=1)
        return scripts[0].id if scripts else None

    @classmethod
    @without_check_access
    def generate(cls, days_back=30):
        """Cron: plan the return visits that are due and not planned yet.
        Running it again plans nothing twice."""
        pool = Pool()
        Order = pool.get('service.order')
        DeviceEvent = pool.get('device.device.event')
        Elder = pool.get('elder.elder')
        Configuration = pool.get('call.configuration')
        Date = pool.get('ir.date')
        config = Configuration(1)
        today = Date.today()
        since = utcnow() - dt.timedelta(days=days_back)
        delay = dt.timedelta(days=config.callback_days)
        values = []

        done = Order.search([
                ('state', 'in', ['completed', 'confirmed', 'closed']),
                ('checkout_time', '>=', since)])
        planned = {str(c.origin) for c in cls.search([
                    ('origin', 'in', [str(o) for o in done])])} \
            if done else set()
        script = cls._script('after_service')
        for order in done:
            if str(order) in planned:
                continue
            values.append({'elder': order.elder.id, 'kind': 'after_service',
                    'script': script, 'origin': str(order),
                    'planned_date': order.checkout_time.date() + delay})

        installs = DeviceEvent.search([
                ('to_state', '=', 'installed'), ('date', '>=', since)])
        devices = {e.device for e in installs if e.device.elder}
        planned = {str(c.origin) for c in cls.search([
                    ('origin', 'in', [str(d) for d in devices])])} \
            if devices else set()
        script = cls._script('after_install')
        for event in installs:
            device = event.device
            if not device.elder or str(device) in planned:
                continue
            planned.add(str(device))
            values.append({'elder': device.elder.id, 'kind': 'after_install',
                    'script': script, 'origin': str(device),
                    'planned_date': event.date.date() + delay})

        alone = Elder.search([('state', '=', 'active'),
                ('living_situation', '=', 'alone')])
        recent = today - dt.timedelta(days=config.care_call_days)
        covered = {c.elder.id for c in cls.search([
                    ('kind', '=', 'care'),
                    ('elder', 'in', [e.id for e in alone]),
                    ['OR', ('state', '=', 'planned'),
                        ('planned_date', '>', recent)]])} if alone else set()
        script = cls._script('care')
        for elder in alone:
            if elder.id in covered:
                continue
            values.append({'elder': elder.id, 'kind': 'care',
                    'script': script, 'planned_date': today})
        return cls.create(values) if values else []


class Answer(ModelSQL, ModelView):
    "Return Visit Answer"
    __name__ = 'call.callback.answer'
    _sensitivity = {'answer': 'personal'}
    callback = fields.Many2One('call.callback', "Return Visit",
        required=True, ondelete='CASCADE')
    question = fields.Many2One('call.callback.question', "Question",
        required=True, ondelete='RESTRICT', readonly=True)
    answer_type = fields.Function(fields.Selection(ANSWER_TYPES,
            "Answer Type"), 'get_answer_type')
    answer = fields.Char("Answer")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('callback')

    def get_answer_type(self, name):
        return self.question.answer_type

    def check_answer(self):
        value = (self.answer or '').strip()
        question = self.question
        if not value:
            if question.required:
                raise CallCenterError(gettext(
                        'elder_callcenter.msg_callback_answer_missing',
                        question=question.text))
            return
        if question.answer_type == 'yes_no' and \
                value.lower() not in YES | NO:
            raise CallCenterError(gettext(
                    'elder_callcenter.msg_callback_answer_yes_no',
                    question=question.text, answer=value))
        if question.answer_type == 'score' and value not in {
                '1', '2', '3', '4', '5'}:
            raise CallCenterError(gettext(
                    'elder_callcenter.msg_callback_answer_score',
                    question=question.text, answer=value))
