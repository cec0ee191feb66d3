# This file is part of the eldercare platform. See LICENSE.
"""Disputes between providers and their clients (纠纷, standard §7.1.4):
the platform operator helps to resolve them through recorded mediation
steps to an outcome; a provider found at fault loses credit."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Workflow, fields, sequence_ordered)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .common import next_number
from .exceptions import FeedbackError

STATES = [
    ('open', "Open"),
    ('mediating', "Mediating"),
    ('settled', "Settled"),
    ('failed', "Mediation Failed"),
    ('closed', "Closed"),
    ]
OUTCOMES = [
    (None, ""),
    ('agreement', "Mediation agreement"),
    ('compensation', "Compensation paid"),
    ('redo', "Service redone"),
    ('apology', "Apology accepted"),
    ('no_fault', "No fault found"),
    ('withdrawn', "Withdrawn by the client"),
    ('referred', "Referred to the authorities or a court"),
    ]
STEP_KINDS = [
    ('intake', "Intake"),
    ('hear_client', "Hearing the client"),
    ('hear_provider', "Hearing the provider"),
    ('investigation', "Investigation"),
    ('joint', "Joint mediation meeting"),
    ('proposal', "Settlement proposal"),
    ('agreement', "Agreement signed"),
    ('follow_up', "Follow-up"),
    ('note', "Note"),
    ]


class Dispute(Workflow, ModelSQL, ModelView):
    "Dispute case (纠纷调解)"
    __name__ = 'cs.dispute'
    _sensitivity = {
        'elder': 'personal', 'client_claim': 'personal',
        'provider_position': 'internal', 'outcome_note': 'personal'}
    _open = {'readonly': Eval('state').in_(['settled', 'failed', 'closed'])}

    number = fields.Char("Number", readonly=True)
    date = fields.Date("Opened On", required=True, states=_open)
    region = fields.Many2One('elder.region', "Region", required=True,
        ondelete='RESTRICT', states=_open)
    provider = fields.Many2One('elder.provider', "Provider", required=True,
        ondelete='RESTRICT', states=_open)
    elder = fields.Many2One('elder.elder', "Older Person",
        ondelete='RESTRICT', states=_open)
    order = fields.Many2One('service.order', "Service Order",
        ondelete='RESTRICT', states=_open,
        domain=[If(Eval('provider'),
                ('provider', '=', Eval('provider', -1)), ())])
    feedback = fields.Many2One('cs.feedback', "Feedback", readonly=True,
        ondelete='RESTRICT')
    complaint = fields.Many2One('service.complaint', "Complaint",
        ondelete='RESTRICT', states=_open)
    client_claim = fields.Text("Client's Claim", required=True,
        states=_open)
    provider_position = fields.Text("Provider's Position", states=_open)
    amount_claimed = fields.Numeric("Amount Claimed", digits=(16, 2),
        states=_open,
        domain=[If(Eval('amount_claimed'), ('amount_claimed', '>=', 0), ())])
    mediator = fields.Many2One('res.user', "Mediator", ondelete='RESTRICT',
        states=_open)
    steps = fields.One2Many('cs.dispute.step', 'dispute', "Mediation Steps",
        states={'readonly': Eval('state') == 'closed'})
    outcome = fields.Selection(OUTCOMES, "Outcome", sort=False, states={
            'readonly': Eval('state').in_(['settled', 'failed', 'closed']),
            })
    compensation = fields.Numeric("Compensation", digits=(16, 2),
        domain=[If(Eval('compensation'), ('compensation', '>=', 0), ())],
        states={
            'readonly': Eval('state').in_(['settled', 'failed', 'closed']),
            'required': Eval('outcome') == 'compensation',
            })
    provider_at_fault = fields.Boolean("Provider at Fault", states={
            'readonly': Eval('state').in_(['settled', 'failed', 'closed']),
            }, help="Counts against the provider's credit.")
    outcome_note = fields.Text("Outcome", states={
            'readonly': Eval('state') == 'closed'})
    closed_date = fields.Date("Closed On", readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    del _open

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.provider, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'mediating'),
            ('mediating', 'settled'),
            ('mediating', 'failed'),
            ('open', 'settled'),
            ('settled', 'closed'),
            ('failed', 'closed'),
            }
        buttons = {
            'mediate': ['open'],
            'settle': ['open', 'mediating'],
            'fail': ['mediating'],
            'close': ['settled', 'failed'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }

    @staticmethod
    def default_state():
        return 'open'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @staticmethod
    def default_mediator():
        return Transaction().user

    def get_rec_name(self, name):
        return '%s %s' % (self.number or '', self.provider.rec_name)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('number'):
            values['number'] = next_number('sequence_dispute')
        return values

    @classmethod
    def _add_step(cls, disputes, kind, note):
        pool = Pool()
        Step = pool.get('cs.dispute.step')
        Step.create([{
                    'dispute': d.id,
                    'kind': kind,
                    'note': note,
                    } for d in disputes])

    @classmethod
    @ModelView.button
    @Workflow.transition('mediating')
    def mediate(cls, disputes):
        cls._add_step(disputes, 'intake',
            gettext('elder_community.msg_dispute_step_mediation'))

    @classmethod
    @ModelView.button
    @Workflow.transition('settled')
    def settle(cls, disputes):
        for dispute in disputes:
            if not dispute.outcome or not dispute.outcome_note:
                raise FeedbackError(gettext(
                        'elder_community.msg_dispute_outcome_required',
                        dispute=dispute.rec_name))
            if dispute.outcome in {'no_fault', 'withdrawn'} \
                    and dispute.provider_at_fault:
                raise FeedbackError(gettext(
                        'elder_community.msg_dispute_fault_outcome',
                        dispute=dispute.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('failed')
    def fail(cls, disputes):
        for dispute in disputes:
            if not dispute.outcome_note:
                raise FeedbackError(gettext(
                        'elder_community.msg_dispute_outcome_required',
                        dispute=dispute.rec_name))
        cls.write([d for d in disputes if not d.outcome],
            {'outcome': 'referred'})

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, disputes):
        "Closing records the credit deduction of a provider at fault"
        pool = Pool()
        Record = pool.get('credit.record')
        Date = pool.get('ir.date')
        today = Date.today()
        cls.write(disputes, {'closed_date': today})
        for dispute in disputes:
            if dispute.provider_at_fault:
                Record.record_event(dispute.provider, 'dispute_at_fault',
                    origin=dispute, date=today,
                    description=dispute.outcome_note)


class DisputeStep(sequence_ordered(), ModelSQL, ModelView):
    "Mediation step of a dispute"
    __name__ = 'cs.dispute.step'
    _sensitivity = {'note': 'personal'}
    dispute = fields.Many2One('cs.dispute', "Dispute", required=True,
        ondelete='CASCADE')
    date = fields.Timestamp("Date", required=True)
    kind = fields.Selection(STEP_KINDS, "Step", required=True, sort=False)
    participants = fields.Char("Participants")
    note = fields.Text("Note", required=True)
    user = fields.Many2One('res.user', "Recorded By", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('dispute')
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_date(cls):
        return dt.datetime.now().replace(microsecond=0)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values.setdefault('user', Transaction().user)
        return values


