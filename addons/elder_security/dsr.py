# This file is part of the eldercare platform. See LICENSE.
"""Data-subject requests (GB/T 35273 §8: access, correction, deletion,
withdrawal of consent), answered within 30 days.

The request only knows ``party.party`` and the consents. Modules that hold
more about a person extend the two hooks of ``security.subject.request``:

``collect_subject_data(party)``
    return a dict (JSON-serialisable with ``default=str``) of everything
    held about the person; call ``super()`` and add your keys;
``anonymise_subject(party)``
    anonymise what you hold (replace names by ``ANONYMISED``, clear or hash
    identifiers, clear phones and addresses) rather than deleting records
    that others depend on.

elder_base extends both for ``elder.elder`` and ``elder.contact``.
"""
import datetime
import hashlib
import json

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .configuration import DEFAULTS
from .consent import PURPOSES

ANONYMISED = '已匿名'

DEFAULTS.update({
        'subject_request_days': 30,
        })

KINDS = [
    ('access', "Access (Copy of the Data)"),
    ('correction', "Correction"),
    ('deletion', "Deletion / Anonymisation"),
    ('withdrawal', "Withdrawal of Consent"),
    ]
STATES = [
    ('received', "Received"),
    ('in_progress', "In Progress"),
    ('done', "Done"),
    ('refused', "Refused"),
    ]


def pseudonym(value):
    "A stable, non-reversible replacement of an identifier"
    if not value:
        return value
    return 'ANON-' + hashlib.sha256(value.encode('utf-8')).hexdigest()[:16]


class Configuration(metaclass=PoolMeta):
    __name__ = 'security.configuration'

    subject_request_days = fields.Integer(
        "Days to Answer a Data-Subject Request", required=True,
        domain=[('subject_request_days', '>=', 1)])

    @classmethod
    def default_subject_request_days(cls):
        return DEFAULTS['subject_request_days']


class SubjectRequest(Workflow, ModelSQL, ModelView):
    "Data-subject request (个人信息主体请求)"
    __name__ = 'security.subject.request'

    _readonly = {'readonly': Eval('state').in_(['done', 'refused'])}

    party = fields.Many2One(
        'party.party', "Person", required=True, ondelete='RESTRICT',
        states={'readonly': Eval('state') != 'received'})
    kind = fields.Selection(
        KINDS, "Kind", required=True, sort=False,
        states={'readonly': Eval('state') != 'received'})
    purpose = fields.Selection(
        [(None, "All Purposes")] + PURPOSES,
        "Consent Purpose", sort=False,
        states={
            'invisible': Eval('kind') != 'withdrawal',
            'readonly': Eval('state') != 'received',
            })
    description = fields.Text(
        "Request", required=True, states=_readonly,
        help="What the person asks for, in their words (for a correction: "
        "which data and the correct values).")
    requested_by = fields.Char(
        "Requested By", states=_readonly,
        help="The person or the guardian who made the request, and how "
        "their identity was checked.")
    received_date = fields.Date(
        "Received On", required=True,
        states={'readonly': Eval('state') != 'received'})
    due_date = fields.Date("Due Date", readonly=True)
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    handler = fields.Many2One(
        'res.user', "Handled By", readonly=True, ondelete='RESTRICT')
    done_at = fields.Timestamp("Closed At", readonly=True)
    response = fields.Text(
        "Response", states=_readonly,
        help="The answer given to the person (required to refuse).")
    data = fields.Binary(
        "Copy of the Data", readonly=True, filename='data_filename',
        states={'invisible': Eval('kind') != 'access'})
    data_filename = fields.Char("File Name", readonly=True)
    overdue = fields.Function(
        fields.Boolean("Overdue"), 'get_overdue', searcher='search_overdue')

    del _readonly

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('due_date', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('received', 'in_progress'),
            ('received', 'refused'),
            ('in_progress', 'done'),
            ('in_progress', 'refused'),
            }
        cls._buttons.update({
                'start': {
                    'invisible': Eval('state') != 'received',
                    'depends': ['state'],
                    },
                'process': {
                    'invisible': Eval('state') != 'in_progress',
                    'depends': ['state'],
                    },
                'refuse': {
                    'invisible': ~Eval('state').in_(
                        ['received', 'in_progress']),
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'received'

    @staticmethod
    def default_received_date():
        return Pool().get('ir.date').today()

    @classmethod
    def due_date_for(cls, received):
        pool = Pool()
        Configuration = pool.get('security.configuration')
        days = Configuration.get_values()['subject_request_days']
        return received + datetime.timedelta(days=days)

    @classmethod
    def create(cls, vlist):
        Date = Pool().get('ir.date')
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            received = values.get('received_date') or Date.today()
            values['due_date'] = cls.due_date_for(received)
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        args = list(args)
        for i in range(1, len(args), 2):
            if args[i].get('received_date'):
                args[i] = dict(args[i], due_date=cls.due_date_for(
                        args[i]['received_date']))
        super().write(*args)

    def get_rec_name(self, name):
        return '%s - %s' % (
            self.party.rec_name if self.party else '', self.id)

    def get_overdue(self, name):
        Date = Pool().get('ir.date')
        return bool(
            self.state in {'received', 'in_progress'}
            and self.due_date and self.due_date < Date.today())

    @classmethod
    def search_overdue(cls, name, clause):
        Date = Pool().get('ir.date')
        _, operator, value = clause[:3]
        overdue = [
            ('state', 'in', ['received', 'in_progress']),
            ('due_date', '<', Date.today()),
            ]
        positive = (operator == '=') == bool(value)
        if positive:
            return overdue
        return ['OR',
            ('state', 'not in', ['received', 'in_progress']),
            ('due_date', '>=', Date.today()),
            ('due_date', '=', None),
            ]

    @classmethod
    def check_modification(cls, mode, requests, values=None, external=False):
        super().check_modification(
            mode, requests, values=values, external=external)
        if mode == 'delete':
            for request in requests:
                if request.state != 'received':
                    raise AccessError(gettext(
                            'elder_security.msg_subject_request_delete',
                            request=request.rec_name))

    @classmethod
    def overdue_requests(cls):
        "The open requests past their due date"
        with without_check_access():
            return cls.search([('overdue', '=', True)])

    @classmethod
    @ModelView.button
    @Workflow.transition('in_progress')
    def start(cls, requests):
        cls.write(requests, {'handler': Transaction().user or None})

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def process(cls, requests):
        from .separation import audit_log
        for request in requests:
            getattr(request, '_process_%s' % request.kind)()
            audit_log('subject_request', request, details={
                    'kind': request.kind, 'party': request.party.id})
        cls.write(requests, {
                'done_at': datetime.datetime.now(),
                'handler': Transaction().user or None,
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('refused')
    def refuse(cls, requests):
        for request in requests:
            if not request.response:
                raise AccessError(gettext(
                        'elder_security.msg_subject_request_refuse_reason',
                        request=request.rec_name))
        cls.write(requests, {
                'done_at': datetime.datetime.now(),
                'handler': Transaction().user or None,
                })

    # -- the actions -----------------------------------------------------

    def _process_access(self):
        data = self.collect_subject_data(self.party)
        content = json.dumps(
            data, ensure_ascii=False, indent=2, sort_keys=True, default=str)
        self.data = content.encode('utf-8')
        self.data_filename = 'subject-data-%s-%s.json' % (
            self.party.id, datetime.date.today().isoformat())
        self.save()

    def _process_correction(self):
        "The correction itself is made in the business forms."

    def _process_deletion(self):
        self.anonymise_subject(self.party)

    def _process_withdrawal(self):
        pool = Pool()
        Consent = pool.get('security.consent')
        domain = [
            ('party', '=', self.party.id),
            ('withdrawn_at', '=', None),
            ]
        if self.purpose:
            domain.append(('purpose', '=', self.purpose))
        with without_check_access():
            Consent.withdraw_consents(Consent.search(domain))

    # -- hooks -----------------------------------------------------------

    @classmethod
    def _record_values(cls, record, exclude=None):
        """The values of record as a JSON-friendly dict: stored fields and
        encrypted ones in clear (it is the person's own copy), relations as
        their names."""
        exclude = set(exclude or []) | {
            'create_uid', 'write_uid', 'rec_name', '_timestamp'}
        encrypted = getattr(record, '_encrypted_fields', {})
        values = {}
        with without_check_access():
            record = record.__class__(record.id)
            for name, field in record._fields.items():
                if (name in exclude or name.endswith('_enc')
                        or name.endswith('_bidx')):
                    continue
                if isinstance(field, fields.Function):
                    if name not in encrypted:
                        continue
                    field = field._field
                if isinstance(field, (fields.One2Many, fields.Many2Many,
                            fields.Binary, fields.Reference)):
                    continue
                value = getattr(record, name)
                if isinstance(field, fields.Many2One):
                    value = value.rec_name if value else None
                values[name] = value
        return values

    @classmethod
    def collect_subject_data(cls, party):
        """Return a dict of everything held about party (a person).

        Modules add their own keys (call super())."""
        pool = Pool()
        Consent = pool.get('security.consent')
        with without_check_access():
            party = party.__class__(party.id)
            data = {
                'party': cls._record_values(party),
                'identifiers': [
                    cls._record_values(i) for i in party.identifiers],
                'contact_mechanisms': [
                    cls._record_values(c)
                    for c in party.contact_mechanisms],
                'addresses': [
                    cls._record_values(a) for a in party.addresses],
                'consents': [
                    cls._record_values(c) for c in Consent.search(
                            [('party', '=', party.id)])],
                'subject_requests': [
                    cls._record_values(r, exclude=['data'])
                    for r in cls.search([('party', '=', party.id)])],
                }
        return data

    @classmethod
    def anonymise_subject(cls, party):
        """Anonymise party: name replaced, identifiers hashed, contact
        mechanisms and addresses cleared. Modules holding more data about
        the person extend this method (call super())."""
        pool = Pool()
        Party = pool.get('party.party')
        ContactMechanism = pool.get('party.contact_mechanism')
        Identifier = pool.get('party.identifier')
        Address = pool.get('party.address')
        with without_check_access():
            party = Party(party.id)
            ContactMechanism.delete(list(party.contact_mechanisms))
            for identifier in party.identifiers:
                # the type check (cn_ric…) would refuse the hash
                table = Identifier.__table__()
                cursor = Transaction().connection.cursor()
                cursor.execute(*table.update(
                        [table.code, table.type],
                        [pseudonym(identifier.code), None],
                        where=table.id == identifier.id))
            address_values = {}
            for name in ['street', 'name', 'postal_code', 'city']:
                if name in Address._fields:
                    address_values[name] = None
            if party.addresses and address_values:
                Address.write(list(party.addresses), address_values)
            Party.write([party], {'name': ANONYMISED})

