# This file is part of the eldercare platform. See LICENSE.
"""Customer service (客户服务体系, standard §7.1.3): feedback from the web
site's service column, online customer service, the service telephone and
WeChat in one queue.

The queue is shared: the call center (elder_callcenter) files its tickets
into it with ``Feedback.intake`` and adds its ticket model to
``Feedback._get_origins``; the WeChat module does the same for messages from
the official account or the mini program."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.elder_base.elder import (
    check_phone, encrypted, normalize_encrypted)
from trytond.modules.elder_security.crypto import EncryptedMixin
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .common import next_number
from .exceptions import FeedbackError

CHANNELS = [
    ('web', "Website service column"),
    ('online', "Online customer service"),
    ('phone', "Service telephone"),
    ('wechat', "WeChat"),
    ('visit', "In person"),
    ('other', "Other"),
    ]
KINDS = [
    ('consultation', "Consultation"),
    ('request', "Service request"),
    ('suggestion', "Suggestion"),
    ('praise', "Praise"),
    ('complaint', "Complaint"),
    ('dispute', "Dispute"),
    ]
STATES = [
    ('new', "New"),
    ('assigned', "Assigned"),
    ('answered', "Answered"),
    ('closed', "Closed"),
    ]


class Feedback(EncryptedMixin, Workflow, ModelSQL, ModelView):
    "Customer feedback (客户服务)"
    __name__ = 'cs.feedback'
    _sensitivity = {
        'contact_name': 'personal', 'elder': 'personal',
        'description': 'personal', 'answer': 'personal'}
    _encrypted_fields = {'contact_phone': 'phone'}
    _new = {'readonly': Eval('state') != 'new'}

    number = fields.Char("Number", readonly=True)
    channel = fields.Selection(CHANNELS, "Channel", required=True,
        sort=False, states=_new)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False,
        states=_new)
    date = fields.Timestamp("Received", required=True, states=_new)
    region = fields.Many2One('elder.region', "Region", required=True,
        ondelete='RESTRICT', states=_new,
        help="The region whose civil-affairs office the feedback concerns.")
    elder = fields.Many2One('elder.elder', "Older Person",
        ondelete='RESTRICT', states=_new)
    contact_name = fields.Char("Contact", states=_new)
    contact_phone = encrypted(fields.Char("Contact Phone", states=_new))
    contact_phone_enc = fields.Char("Contact Phone (Encrypted)",
        readonly=True)
    provider = fields.Many2One('elder.provider', "Provider",
        ondelete='RESTRICT', states={
            'readonly': Eval('state') == 'closed'})
    order = fields.Many2One('service.order', "Service Order",
        ondelete='RESTRICT', states={
            'readonly': Eval('state') == 'closed'})
    subject = fields.Char("Subject", required=True, states=_new)
    description = fields.Text("Description", required=True, states=_new)
    origin = fields.Reference("Origin", selection='get_origins',
        readonly=True,
        help="Where the feedback came from: a call-center ticket, a "
        "WeChat message …")
    assigned_to = fields.Many2One('res.user', "Assigned To",
        ondelete='RESTRICT', states={
            'readonly': Eval('state').in_(['answered', 'closed'])})
    due = fields.Timestamp("Answer Due", readonly=True)
    overdue = fields.Function(fields.Boolean("Overdue"), 'get_overdue',
        searcher='search_overdue')
    answer = fields.Text("Answer", states={
            'readonly': Eval('state') == 'closed',
            'required': Eval('state').in_(['answered', 'closed']),
            })
    answered_at = fields.Timestamp("Answered At", readonly=True)
    complaint = fields.Many2One('service.complaint', "Complaint",
        readonly=True, ondelete='RESTRICT')
    dispute = fields.Many2One('cs.dispute', "Dispute", readonly=True,
        ondelete='RESTRICT')
    satisfied = fields.Selection([
            (None, ""),
            ('yes', "Satisfied"),
            ('no', "Not satisfied"),
            ], "Satisfaction", states={
            'readonly': Eval('state') != 'answered'})
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    del _new

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.region, Index.Range())),
                Index(t, (t.date, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls.__rpc__.update({'intake': RPC(readonly=False)})
        cls._transitions |= {
            ('new', 'assigned'),
            ('assigned', 'answered'),
            ('new', 'answered'),
            ('answered', 'assigned'),
            ('answered', 'closed'),
            }
        buttons = {
            'assign': ['new', 'answered'],
            'answer_button': ['new', 'assigned'],
            'close': ['answered'],
            'to_complaint': ['new', 'assigned'],
            'to_dispute': ['new', 'assigned'],
            'commend': ['new', 'assigned', 'answered'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }
        cls._buttons['to_complaint']['invisible'] |= (
            ~Bool(Eval('order')) | Bool(Eval('complaint')))
        cls._buttons['to_complaint']['depends'] += ['order', 'complaint']
        cls._buttons['to_dispute']['invisible'] |= Bool(Eval('dispute'))
        cls._buttons['to_dispute']['depends'] += ['dispute']
        cls._buttons['commend']['invisible'] |= (
            (Eval('kind') != 'praise') | ~Bool(Eval('provider')))
        cls._buttons['commend']['depends'] += ['kind', 'provider']

    @staticmethod
    def default_state():
        return 'new'

    @staticmethod
    def default_channel():
        return 'phone'

    @staticmethod
    def default_kind():
        return 'consultation'

    @classmethod
    def default_date(cls):
        return dt.datetime.now().replace(microsecond=0)

    @classmethod
    def default_region(cls):
        regions = Pool().get('res.user').get_elder_regions()
        return regions[0] if regions else None

    @classmethod
    def encrypted_normalize(cls, name, value):
        return normalize_encrypted('phone', value)

    @classmethod
    def _get_origins(cls):
        """Models that feed the queue; elder_callcenter adds its ticket
        model, elder_wechat its message model"""
        return ['service.order', 'service.complaint']

    @classmethod
    def get_origins(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        return [(None, '')] + [
            (m, Model.get_name(m)) for m in cls._get_origins()]

    def get_overdue(self, name):
        now = dt.datetime.now()
        return bool(self.due and self.state in {'new', 'assigned'}
            and self.due < now)

    @classmethod
    def search_overdue(cls, name, clause):
        now = dt.datetime.now()
        _, operator, value = clause
        overdue = [('state', 'in', ['new', 'assigned']), ('due', '<', now)]
        if (operator == '=') == bool(value):
            return overdue
        return ['OR', ('state', 'not in', ['new', 'assigned']),
            ('due', '>=', now), ('due', '=', None)]

    def get_rec_name(self, name):
        return '%s %s' % (self.number or '', self.subject)

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Configuration = pool.get('community.configuration')
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            if not values.get('number'):
                values['number'] = next_number('sequence_feedback')
            if not values.get('due'):
                received = values.get('date') or dt.datetime.now()
                values['due'] = received + dt.timedelta(
                    hours=Configuration(1).feedback_due_hours)
        return values

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        if field_names is None or 'contact_phone' in field_names:
            for record in records:
                if record.contact_phone:
                    check_phone(record.contact_phone,
                        record.contact_name or record.number)

    @classmethod
    def intake(cls, values):
        """File feedback into the queue from another channel and return its
        id: values are the fields (channel, kind, region, subject,
        description, contact_name, contact_phone, elder, provider, order,
        origin as 'model,id'). Bad values are refused with the field's
        translated error and nothing is written"""
        allowed = {'channel', 'kind', 'region', 'subject', 'description',
            'contact_name', 'contact_phone', 'elder', 'provider', 'order',
            'origin', 'date'}
        unknown = set(values) - allowed
        if unknown:
            raise FeedbackError(gettext(
                    'elder_community.msg_feedback_unknown_fields',
                    fields=', '.join(sorted(unknown))))
        if values.get('contact_phone'):
            # Checked before anything is written (a refused intake leaves
            # no row even when the caller keeps its transaction).
            check_phone(values['contact_phone'],
                values.get('contact_name') or '')
        record, = cls.create([dict(values)])
        return record.id

    @classmethod
    @ModelView.button
    @Workflow.transition('assigned')
    def assign(cls, records):
        for record in records:
            if not record.assigned_to:
                cls.write([record], {'assigned_to': Transaction().user})

    @classmethod
    @ModelView.button
    @Workflow.transition('answered')
    def answer_button(cls, records):
        for record in records:
            if not record.answer:
                raise FeedbackError(gettext(
                        'elder_community.msg_feedback_answer_required',
                        feedback=record.rec_name))
        cls.write(records, {
                'answered_at': dt.datetime.now().replace(microsecond=0)})

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, records):
        pass

    @classmethod
    @ModelView.button
    def to_complaint(cls, records):
        "A complaint about a service order goes to elder_service's complaints"
        pool = Pool()
        Complaint = pool.get('service.complaint')
        for record in records:
            if not record.order or record.complaint:
                continue
            channel = {'phone': 'hotline', 'wechat': 'family'}.get(
                record.channel, 'other')
            complaint, = Complaint.create([{
                        'order': record.order.id,
                        'channel': channel,
                        'date': record.date,
                        'complainant': record.contact_name,
                        'description': record.description,
                        }])
            cls.write([record], {
                    'complaint': complaint.id, 'kind': 'complaint'})

    @classmethod
    @ModelView.button
    def to_dispute(cls, records):
        "Open a dispute case for mediation (§7.1.4)"
        pool = Pool()
        Dispute = pool.get('cs.dispute')
        for record in records:
            if record.dispute:
                continue
            if not record.provider:
                raise FeedbackError(gettext(
                        'elder_community.msg_feedback_provider_required',
                        feedback=record.rec_name))
            dispute, = Dispute.create([{
                        'region': record.region.id,
                        'provider': record.provider.id,
                        'elder': record.elder.id if record.elder else None,
                        'order': record.order.id if record.order else None,
                        'feedback': record.id,
                        'client_claim': record.description,
                        }])
            cls.write([record], {'dispute': dispute.id, 'kind': 'dispute'})

    @classmethod
    @ModelView.button
    def commend(cls, records):
        "Praise of a provider becomes a commendation in its credit record"
        pool = Pool()
        Record = pool.get('credit.record')
        for record in records:
            if record.kind == 'praise' and record.provider:
                Record.record_event(record.provider, 'commendation',
                    origin=record, date=record.date.date(),
                    description=record.subject)
