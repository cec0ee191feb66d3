# This file is part of the eldercare platform. See LICENSE.
"""Alarm handling (告警处置): every device alarm gets a handling record in
the call center's alarm queue, ordered by priority and age with an SLA
timer, and the SOS workflow

    waiting → accepted → calling_elder → calling_contacts → dispatched
            → follow_up → closed

(calling the contacts and dispatching may be skipped; every action is a
timestamped, attributed step). Unreachable older people are escalated by
the schedule call.alarm.handling|escalate."""
import datetime as dt
import json

from trytond.bus import notify
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .agent import utcnow
from .exceptions import CallCenterError

STATES = [
    ('waiting', "Waiting"),
    ('accepted', "Accepted"),
    ('calling_elder', "Calling the Older Person"),
    ('calling_contacts', "Calling the Contacts"),
    ('dispatched', "Help Dispatched"),
    ('follow_up', "Follow-up"),
    ('closed', "Closed"),
    ]
DISPATCH_KINDS = [
    (None, ""),
    ('service_order', "Provider Visit (Service Order)"),
    ('family', "Family Notified"),
    ('referral_120', "Referred to 120 (Ambulance)"),
    ('referral_110', "Referred to 110 (Police)"),
    ('referral_119', "Referred to 119 (Fire)"),
    ]
OUTCOMES = [
    (None, ""),
    ('resolved_by_phone', "Resolved by Phone"),
    ('help_arrived', "Help Arrived"),
    ('hospital', "Taken to Hospital"),
    ('false_alarm', "False Alarm"),
    ('other', "Other"),
    ]
ACTIONS = [
    ('accept', "Accepted"),
    ('call_elder', "Called the Older Person"),
    ('call_contact', "Called a Contact"),
    ('reached', "Reached"),
    ('unreachable', "Not Reached"),
    ('dispatch', "Help Dispatched"),
    ('follow_up', "Follow-up"),
    ('escalate', "Escalated"),
    ('close', "Closed"),
    ]
ESCALATIONS = [
    (None, ""),
    ('not_accepted', "Not Accepted in Time"),
    ('unreachable', "Older Person Unreachable"),
    ]
OPEN = ['waiting', 'accepted', 'calling_elder', 'calling_contacts',
    'dispatched', 'follow_up']


class Handling(Workflow, ModelSQL, ModelView):
    "Alarm Handling"
    __name__ = 'call.alarm.handling'
    _sensitivity = {'elder': 'personal', 'notes': 'personal',
        'contact': 'personal'}
    _open = {'readonly': Eval('state') == 'closed'}
    alarm = fields.Many2One('device.alarm', "Alarm", required=True,
        readonly=True, ondelete='CASCADE')
    elder = fields.Many2One('elder.elder', "Older Person", readonly=True,
        ondelete='RESTRICT')
    region = fields.Many2One('elder.region', "Region", readonly=True,
        ondelete='RESTRICT')
    kind = fields.Selection('get_alarm_kinds', "Kind", readonly=True)
    priority = fields.Selection([
            ('1', "Critical"), ('2', "High"), ('3', "Normal"), ('4', "Low")],
        "Priority", readonly=True, sort=False)
    raised_at = fields.Timestamp("Raised At", readonly=True)
    sla_deadline = fields.Timestamp("Accept By", readonly=True)
    waiting_seconds = fields.Function(fields.Integer("Waiting (s)",
            help="Seconds since the alarm was raised (until accepted)."),
        'get_waiting')
    overdue = fields.Function(fields.Boolean("SLA Missed"), 'get_overdue',
        searcher='search_overdue')
    state = fields.Selection(STATES, "State", readonly=True, required=True)
    accepted_at = fields.Timestamp("Accepted At", readonly=True)
    accepted_by = fields.Many2One('res.user', "Accepted By", readonly=True)
    first_contact_at = fields.Timestamp("First Contact At", readonly=True,
        help="When the older person or a contact was first reached.")
    elder_unreachable = fields.Boolean("Older Person Unreachable",
        readonly=True)
    contact = fields.Many2One('elder.contact', "Contact Called",
        domain=[('elder', '=', Eval('elder', -1))], states=_open)
    dispatch_kind = fields.Selection(DISPATCH_KINDS, "Help",
        states=_open, sort=False)
    service_item = fields.Many2One('service.item', "Service Item",
        states={'invisible': Eval('dispatch_kind') != 'service_order',
            'readonly': Eval('state') == 'closed'})
    order = fields.Many2One('service.order', "Service Order", readonly=True,
        ondelete='RESTRICT')
    referral_number = fields.Char("Referral Reference",
        states={'invisible': ~Eval('dispatch_kind', '').in_(
                ['referral_120', 'referral_110', 'referral_119']),
            'readonly': Eval('state') == 'closed'},
        help="The emergency service's case or call reference.")
    dispatched_at = fields.Timestamp("Dispatched At", readonly=True)
    outcome = fields.Selection(OUTCOMES, "Outcome", states=_open, sort=False)
    notes = fields.Text("Notes", states=_open)
    closed_at = fields.Timestamp("Closed At", readonly=True)
    closed_by = fields.Many2One('res.user', "Closed By", readonly=True)
    escalation = fields.Selection(ESCALATIONS, "Escalation", readonly=True)
    escalated_at = fields.Timestamp("Escalated At", readonly=True)
    steps = fields.One2Many('call.alarm.step', 'handling', "Steps",
        readonly=True)
    del _open

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('alarm_uniq', Unique(t, t.alarm),
                'elder_callcenter.msg_handling_alarm_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.region, Index.Range())),
                Index(t, (t.raised_at, Index.Range())),
                })
        # the alarm queue: most urgent first, then the oldest
        cls._order = [('priority', 'ASC'), ('raised_at', 'ASC'),
            ('id', 'ASC')]
        cls._transitions |= {
            ('waiting', 'accepted'),
            ('accepted', 'calling_elder'),
            ('calling_elder', 'calling_contacts'),
            ('accepted', 'calling_contacts'),
            ('accepted', 'dispatched'),
            ('calling_elder', 'dispatched'),
            ('calling_contacts', 'dispatched'),
            ('dispatched', 'follow_up'),
            ('accepted', 'closed'),
            ('calling_elder', 'closed'),
            ('calling_contacts', 'closed'),
            ('dispatched', 'closed'),
            ('follow_up', 'closed'),
            }
        cls._buttons.update({
                'accept': {
                    'invisible': Eval('state') != 'waiting',
                    'depends': ['state'],
                    },
                'call_elder': {
                    'invisible': Eval('state') != 'accepted',
                    'depends': ['state'],
                    },
                'call_contacts': {
                    'invisible': ~Eval('state').in_(
                        ['accepted', 'calling_elder']),
                    'depends': ['state'],
                    },
                'reached': {
                    'invisible': ~Eval('state').in_(
                        ['calling_elder', 'calling_contacts']),
                    'depends': ['state'],
                    },
                'unreachable': {
                    'invisible': ~Eval('state').in_(
                        ['calling_elder', 'calling_contacts']),
                    'depends': ['state'],
                    },
                # Not readonly without the help or the outcome: sao
                # evaluates a button's states when the form is displayed,
                # not when a field changes, so the agent could not click it
                # after choosing; the button asks for them (translated).
                'dispatch': {
                    'invisible': ~Eval('state').in_(
                        ['accepted', 'calling_elder', 'calling_contacts']),
                    'depends': ['state'],
                    },
                'follow_up': {
                    'invisible': Eval('state') != 'dispatched',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': ~Eval('state').in_(
                        ['accepted', 'calling_elder', 'calling_contacts',
                            'dispatched', 'follow_up']),
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'waiting'

    @staticmethod
    def default_elder_unreachable():
        return False

    @classmethod
    def get_alarm_kinds(cls):
        Alarm = Pool().get('device.alarm')
        return Alarm.fields_get(['kind'])['kind']['selection']

    def get_rec_name(self, name):
        return self.alarm.rec_name

    def get_waiting(self, name):
        if not self.raised_at:
            return None
        end = self.accepted_at or utcnow()
        return int((end - self.raised_at).total_seconds())

    def get_overdue(self, name):
        if not self.sla_deadline:
            return False
        return (self.accepted_at or utcnow()) > self.sla_deadline

    @classmethod
    def search_overdue(cls, name, clause):
        _, operator, value = clause
        now = utcnow()
        late = ['OR',
            [('accepted_at', '=', None), ('sla_deadline', '<', now)],
            ('escalation', '=', 'not_accepted')]
        if (operator == '=') == bool(value):
            return late
        return ['NOT', late]

    # --- creation -----------------------------------------------------------

    @classmethod
    @without_check_access
    def from_alarms(cls, alarms):
        "A handling for each alarm that has none"
        Configuration = Pool().get('call.configuration')
        config = Configuration(1)
        existing = {h.alarm.id for h in cls.search([
                    ('alarm', 'in', [a.id for a in alarms])])}
        values = []
        for alarm in alarms:
            if alarm.id in existing or alarm.state == 'closed':
                continue
            values.append({
                    'alarm': alarm.id,
                    'elder': alarm.elder.id if alarm.elder else None,
                    'region': alarm.region.id if alarm.region else None,
                    'kind': alarm.kind,
                    'priority': alarm.priority,
                    'raised_at': alarm.first_occurrence,
                    'sla_deadline': alarm.first_occurrence + dt.timedelta(
                        seconds=config.accept_seconds),
                    })
        return cls.create(values) if values else []

    # --- steps ---------------------------------------------------------------

    @classmethod
    @without_check_access
    def _step(cls, handlings, action, note=None, result=None, contact=None):
        Step = Pool().get('call.alarm.step')
        user = Transaction().user or None
        now = utcnow()
        Step.create([{'handling': h.id, 'action': action, 'at': now,
                    'user': user, 'note': note, 'result': result,
                    'contact': contact.id if contact else None}
                for h in handlings])
        return now

    @classmethod
    @ModelView.button
    @Workflow.transition('accepted')
    def accept(cls, handlings):
        Alarm = Pool().get('device.alarm')
        now = cls._step(handlings, 'accept')
        cls.write(handlings, {'accepted_at': now,
                'accepted_by': Transaction().user or None})
        alarms = [h.alarm for h in handlings if h.alarm.state == 'open']
        if alarms:
            with Transaction().set_context(_check_access=False):
                Alarm.acknowledge(alarms)

    @classmethod
    def _dial(cls, handling, number):
        "Click-to-dial when the user works at a seat; None otherwise"
        pool = Pool()
        Call = pool.get('call.call')
        Agent = pool.get('call.agent')
        agent = Agent.for_user()
        if not number or not agent or not agent.seat:
            return None
        return Call.click_to_dial(number,
            elder=handling.elder.id if handling.elder else None,
            reference='alarm:%s' % handling.id)

    @classmethod
    @ModelView.button
    @Workflow.transition('calling_elder')
    def call_elder(cls, handlings):
        for handling in handlings:
            phone = handling.elder.phone if handling.elder else None
            dial = cls._dial(handling, phone)
            cls._step([handling], 'call_elder',
                note=gettext('elder_callcenter.msg_dial_sent')
                if dial else None)

    @classmethod
    @ModelView.button
    @Workflow.transition('calling_contacts')
    def call_contacts(cls, handlings):
        for handling in handlings:
            contact = handling.contact or next(
                (c for c in (handling.elder.contacts if handling.elder
                        else []) if c.is_emergency), None)
            if not contact:
                raise CallCenterError(gettext(
                        'elder_callcenter.msg_no_contact',
                        handling=handling.rec_name))
            if handling.state == 'calling_elder' and not any(
                    s.result for s in handling.steps
                    if s.action == 'call_elder'):
                cls._step([handling], 'unreachable', result='unreachable')
                cls.write([handling], {'elder_unreachable': True})
            dial = cls._dial(handling, contact.phone)
            cls._step([handling], 'call_contact', contact=contact,
                note=gettext('elder_callcenter.msg_dial_sent')
                if dial else None)
            cls.write([handling], {'contact': contact.id})

    @classmethod
    @ModelView.button
    def reached(cls, handlings):
        now = cls._step(handlings, 'reached', result='reached')
        for handling in handlings:
            values = {}
            if not handling.first_contact_at:
                values['first_contact_at'] = now
            if values:
                cls.write([handling], values)

    @classmethod
    @ModelView.button
    def unreachable(cls, handlings):
        for handling in handlings:
            cls._step([handling], 'unreachable', result='unreachable',
                contact=handling.contact
                if handling.state == 'calling_contacts' else None)
            if handling.state == 'calling_elder':
                cls.write([handling], {'elder_unreachable': True})

    @classmethod
    @ModelView.button
    @Workflow.transition('dispatched')
    def dispatch(cls, handlings):
        pool = Pool()
        Order = pool.get('service.order')
        for handling in handlings:
            kind = handling.dispatch_kind
            if not kind:
                raise CallCenterError(gettext(
                        'elder_callcenter.msg_dispatch_kind',
                        handling=handling.rec_name))
            values = {'dispatched_at': utcnow()}
            note = None
            if kind == 'service_order':
                if not handling.service_item or not handling.elder:
                    raise CallCenterError(gettext(
                            'elder_callcenter.msg_dispatch_item',
                            handling=handling.rec_name))
                with Transaction().set_context(_check_access=False):
                    order, = Order.create([{
                                'elder': handling.elder.id,
                                'item': handling.service_item.id,
                                'channel': 'call_center',
                                'note': gettext(
                                    'elder_callcenter.msg_order_from_alarm',
                                    alarm=handling.rec_name),
                                }])
                    Order.submit([order])
                values['order'] = order.id
                note = order.number
            elif kind.startswith('referral'):
                if not handling.referral_number:
                    raise CallCenterError(gettext(
                            'elder_callcenter.msg_referral_number',
                            handling=handling.rec_name))
                note = handling.referral_number
            elif kind == 'family':
                contact = handling.contact or next(
                    (c for c in (handling.elder.contacts if handling.elder
                            else []) if c.is_emergency), None)
                if not contact:
                    raise CallCenterError(gettext(
                            'elder_callcenter.msg_no_contact',
                            handling=handling.rec_name))
                note = contact.name
            cls.write([handling], values)
            cls._step([handling], 'dispatch', note=note)

    @classmethod
    @ModelView.button
    @Workflow.transition('follow_up')
    def follow_up(cls, handlings):
        cls._step(handlings, 'follow_up')

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, handlings):
        Alarm = Pool().get('device.alarm')
        for handling in handlings:
            if not handling.outcome:
                raise CallCenterError(gettext(
                        'elder_callcenter.msg_close_outcome',
                        handling=handling.rec_name))
        now = cls._step(handlings, 'close')
        cls.write(handlings, {'closed_at': now,
                'closed_by': Transaction().user or None})
        outcomes = dict(cls.fields_get(['outcome'])['outcome']['selection'])
        for handling in handlings:
            alarm = handling.alarm
            if alarm.state == 'closed':
                continue
            summary = '\n'.join(filter(None, [alarm.notes,
                        gettext('elder_callcenter.msg_alarm_closed_by_handling',
                            outcome=outcomes.get(handling.outcome, '')),
                        handling.notes]))
            with Transaction().set_context(_check_access=False):
                Alarm.write([alarm], {'notes': summary})
                Alarm.close([alarm])

    # --- escalation ------------------------------------------------------------

    @classmethod
    @without_check_access
    def escalate(cls):
        """Cron: alarms not accepted within the SLA, and older people
        unreachable (nobody reached) for the configured minutes after
        acceptance, are escalated once: a step, and a notification to the
        supervisors and operators whose scope covers the region."""
        pool = Pool()
        Configuration = pool.get('call.configuration')
        config = Configuration(1)
        now = utcnow()
        late = cls.search([
                ('state', '=', 'waiting'),
                ('sla_deadline', '<', now),
                ('escalation', '=', None)])
        limit = now - dt.timedelta(minutes=config.unreachable_minutes)
        unreachable = cls.search([
                ('state', 'in', ['accepted', 'calling_elder',
                        'calling_contacts']),
                ('accepted_at', '<', limit),
                ('first_contact_at', '=', None),
                ('escalation', 'in', [None, 'not_accepted'])])
        for handlings, level in [(late, 'not_accepted'),
                (unreachable, 'unreachable')]:
            if not handlings:
                continue
            cls.write(handlings, {'escalation': level, 'escalated_at': now})
            cls._step(handlings, 'escalate', note=level)
            cls._notify_escalation(handlings, level)
        return late + unreachable

    @classmethod
    def _notify_escalation(cls, handlings, level):
        pool = Pool()
        User = pool.get('res.user')
        Notification = pool.get('res.notification')
        ModelData = pool.get('ir.model.data')
        groups = [ModelData.get_id('elder_base', 'group_supervisor'),
            ModelData.get_id('elder_base', 'group_operator')]
        levels = dict(ESCALATIONS)
        values = []
        for handling in handlings:
            regions, region = [], handling.region
            while region and region.id not in regions:
                regions.append(region.id)
                region = region.parent
            if not regions:
                continue
            title = gettext('elder_callcenter.msg_escalation_title',
                alarm=handling.rec_name,
                elder=handling.elder.name if handling.elder else '')
            for user in User.search([('groups', 'in', groups),
                        ('elder_region', 'in', regions)]):
                values.append({'user': user.id, 'label': title,
                        'description': levels.get(level, level),
                        'icon': 'tryton-warning', 'model': cls.__name__,
                        'records': json.dumps([handling.id])})
                notify(title, priority=1, user=user.id)
        if values:
            Notification.create(values)

    @classmethod
    @without_check_access
    def sync_open_alarms(cls):
        "Cron: open alarms without handling (e.g. raised before activation)"
        Alarm = Pool().get('device.alarm')
        handled = {h.alarm.id for h in cls.search([])}
        alarms = [a for a in Alarm.search([('state', '!=', 'closed')])
            if a.id not in handled]
        return cls.from_alarms(alarms)


class Step(ModelSQL, ModelView):
    "Alarm Handling Step"
    __name__ = 'call.alarm.step'
    _sensitivity = {'note': 'personal', 'contact': 'personal'}
    handling = fields.Many2One('call.alarm.handling', "Handling",
        required=True, readonly=True, ondelete='CASCADE')
    action = fields.Selection(ACTIONS, "Action", readonly=True)
    at = fields.Timestamp("At", readonly=True)
    user = fields.Many2One('res.user', "By", readonly=True)
    contact = fields.Many2One('elder.contact', "Contact", readonly=True,
        ondelete='SET NULL')
    result = fields.Selection([(None, ""), ('reached', "Reached"),
            ('unreachable', "Not Reached")], "Result", readonly=True)
    note = fields.Char("Note", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('at', 'ASC'), ('id', 'ASC')]


class Alarm(metaclass=PoolMeta):
    __name__ = 'device.alarm'
    handling = fields.Function(fields.Many2One('call.alarm.handling',
            "Handling"), 'get_handling')

    def get_handling(self, name):
        Handling = Pool().get('call.alarm.handling')
        records = Handling.search([('alarm', '=', self.id)], limit=1)
        return records[0].id if records else None

    @classmethod
    def raise_signals(cls, signals):
        "New alarms enter the call center's alarm queue"
        Handling = Pool().get('call.alarm.handling')
        alarms = super().raise_signals(signals)
        if alarms:
            Handling.from_alarms(alarms)
        return alarms
