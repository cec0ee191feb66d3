# This file is part of the eldercare platform. See LICENSE.
"""Tickets (工单): requests and complaints taken by phone, web or WeChat
(standard §7.1.3 customer service, §7.1.4 disputes). Processing a ticket
hands it to the module that owns the matter: a service request creates a
service.order, a complaint a service.complaint, a device fault a
device.repair."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .agent import utcnow
from .exceptions import CallCenterError

KINDS = [
    ('consultation', "Consultation"),
    ('service_request', "Service Request"),
    ('complaint', "Complaint"),
    ('dispute', "Dispute"),
    ('device_fault', "Device Fault"),
    ]
CHANNELS = [
    ('phone', "Phone"),
    ('web', "Web"),
    ('wechat', "WeChat"),
    ]
STATES = [
    ('open', "Open"),
    ('processing', "Processing"),
    ('resolved', "Resolved"),
    ('closed', "Closed"),
    ]


class Ticket(Workflow, ModelSQL, ModelView):
    "Ticket"
    __name__ = 'call.ticket'
    _sensitivity = {'elder': 'personal', 'description': 'personal',
        'resolution': 'personal', 'requester': 'personal',
        'survey_comment': 'personal'}
    _open = {'readonly': Eval('state') != 'open'}
    number = fields.Char("Number", readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, states=_open)
    channel = fields.Selection(CHANNELS, "Channel", required=True,
        states=_open)
    call = fields.Many2One('call.call', "Call", ondelete='SET NULL',
        states=_open)
    elder = fields.Many2One('elder.elder', "Older Person",
        ondelete='RESTRICT', states=_open,
        required=True)
    region = fields.Many2One('elder.region', "Region", readonly=True,
        ondelete='RESTRICT')
    requester = fields.Char("Requester", states=_open,
        help="Who asked (the older person, a family member …).")
    description = fields.Text("Description", required=True, states=_open)
    service_item = fields.Many2One('service.item', "Service Item",
        states={'invisible': Eval('kind') != 'service_request',
            'required': (Eval('kind') == 'service_request')
            & (Eval('state') != 'open'),
            'readonly': Eval('state') != 'open'})
    order = fields.Many2One('service.order', "Service Order",
        ondelete='RESTRICT',
        domain=[If(Eval('kind') == 'complaint',
                [('elder', '=', Eval('elder', -1))], [])],
        states={'invisible': ~Eval('kind').in_(
                ['service_request', 'complaint', 'dispute']),
            'readonly': (Eval('state') != 'open')
            | (Eval('kind') == 'service_request')},
        help="The order complained about, or the order created.")
    complaint = fields.Many2One('service.complaint', "Complaint",
        readonly=True, ondelete='RESTRICT')
    device = fields.Many2One('device.device', "Device", ondelete='RESTRICT',
        domain=[('elder', '=', Eval('elder', -1))],
        states={'invisible': Eval('kind') != 'device_fault',
            'readonly': Eval('state') != 'open'})
    repair = fields.Many2One('device.repair', "Repair", readonly=True,
        ondelete='RESTRICT')
    assigned_to = fields.Many2One('res.user', "Assigned To",
        states={'readonly': Eval('state').in_(['resolved', 'closed'])})
    opened_at = fields.Timestamp("Opened At", readonly=True)
    deadline = fields.Timestamp("Deadline", readonly=True)
    overdue = fields.Function(fields.Boolean("Overdue"), 'get_overdue',
        searcher='search_overdue')
    resolution = fields.Text("Resolution",
        states={'readonly': Eval('state') == 'closed',
            'required': Eval('state').in_(['resolved', 'closed'])})
    resolved_at = fields.Timestamp("Resolved At", readonly=True)
    survey_score = fields.Integer("Satisfaction",
        domain=[If(Eval('survey_score'),
                [('survey_score', '>=', 1), ('survey_score', '<=', 5)], [])],
        states={'readonly': Eval('state') != 'resolved'},
        help="Closure survey: 1 (very dissatisfied) to 5 (very satisfied).")
    survey_comment = fields.Char("Survey Comment",
        states={'readonly': Eval('state') != 'resolved'})
    closed_at = fields.Timestamp("Closed At", readonly=True)
    state = fields.Selection(STATES, "State", readonly=True, required=True)
    del _open

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.region, Index.Range())),
                Index(t, (t.deadline, Index.Range())),
                })
        cls._order = [('opened_at', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'processing'),
            ('open', 'resolved'),
            ('processing', 'resolved'),
            ('resolved', 'processing'),
            ('resolved', 'closed'),
            }
        cls._buttons.update({
                'process': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'resolve': {
                    'invisible': ~Eval('state').in_(['open', 'processing']),
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') != 'resolved',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'resolved',
                    'readonly': ~Eval('survey_score'),
                    'depends': ['state', 'survey_score'],
                    },
                })

    @staticmethod
    def default_state():
        return 'open'

    @staticmethod
    def default_channel():
        return 'phone'

    @staticmethod
    def default_kind():
        return 'consultation'

    @classmethod
    def default_call(cls):
        return Transaction().context.get('call')

    @classmethod
    def default_elder(cls):
        Call = Pool().get('call.call')
        call = Transaction().context.get('call')
        if call:
            call = Call(call)
            return call.elder.id if call.elder else None

    def get_rec_name(self, name):
        return self.number or str(self.id)

    def get_overdue(self, name):
        if self.state in {'resolved', 'closed'} or not self.deadline:
            return False
        return utcnow() > self.deadline

    @classmethod
    def search_overdue(cls, name, clause):
        _, operator, value = clause
        domain = [('state', 'in', ['open', 'processing']),
            ('deadline', '<', utcnow())]
        if (operator == '=') == bool(value):
            return domain
        return ['NOT', domain]

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        Configuration = pool.get('call.configuration')
        Elder = pool.get('elder.elder')
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            if not values.get('number'):
                values['number'] = Sequence(ModelData.get_id(
                        'elder_callcenter', 'sequence_ticket')).get()
            now = utcnow()
            values.setdefault('opened_at', now)
            hours = getattr(Configuration(1), 'deadline_%s' % (
                    values.get('kind') or 'consultation'))
            values.setdefault('deadline', now + dt.timedelta(hours=hours))
            if values.get('elder'):
                values['region'] = Elder(values['elder']).region.id
        return values

    @classmethod
    @ModelView.button
    @Workflow.transition('processing')
    def process(cls, tickets):
        """Hand the ticket to the module that owns the matter"""
        pool = Pool()
        Order = pool.get('service.order')
        Complaint = pool.get('service.complaint')
        Repair = pool.get('device.repair')
        for ticket in tickets:
            values = {}
            if ticket.kind == 'service_request' and not ticket.order:
                if not ticket.service_item:
                    raise CallCenterError(gettext(
                            'elder_callcenter.msg_ticket_item',
                            ticket=ticket.rec_name))
                order, = Order.create([{
                            'elder': ticket.elder.id,
                            'item': ticket.service_item.id,
                            'channel': 'call_center',
                            'note': ticket.description}])
                Order.submit([order])
                values['order'] = order.id
            elif ticket.kind == 'complaint' and not ticket.complaint:
                if not ticket.order:
                    raise CallCenterError(gettext(
                            'elder_callcenter.msg_ticket_order',
                            ticket=ticket.rec_name))
                complaint, = Complaint.create([{
                            'order': ticket.order.id,
                            'channel': 'hotline'
                            if ticket.channel == 'phone' else 'family',
                            'complainant': ticket.requester,
                            'description': ticket.description}])
                values['complaint'] = complaint.id
            elif ticket.kind == 'device_fault' and not ticket.repair:
                if not ticket.device:
                    raise CallCenterError(gettext(
                            'elder_callcenter.msg_ticket_device',
                            ticket=ticket.rec_name))
                repairs = Repair.report([ticket.device], 'hotline',
                    ticket.description)
                values['repair'] = repairs[0].id
            if values:
                cls.write([ticket], values)

    @classmethod
    @ModelView.button
    @Workflow.transition('resolved')
    def resolve(cls, tickets):
        for ticket in tickets:
            if not (ticket.resolution or '').strip():
                raise CallCenterError(gettext(
                        'elder_callcenter.msg_ticket_resolution',
                        ticket=ticket.rec_name))
        cls.write(tickets, {'resolved_at': utcnow()})

    @classmethod
    @ModelView.button
    @Workflow.transition('processing')
    def reopen(cls, tickets):
        cls.write(tickets, {'resolved_at': None})

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, tickets):
        for ticket in tickets:
            if not ticket.survey_score:
                raise CallCenterError(gettext(
                        'elder_callcenter.msg_ticket_survey',
                        ticket=ticket.rec_name))
        cls.write(tickets, {'closed_at': utcnow()})
