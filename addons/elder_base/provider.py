# This file is part of the eldercare platform. See LICENSE.
import datetime as dt

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields, sequence_ordered)
from trytond.pool import Pool
from trytond.pyson import Eval, If

from .elder import check_phone
from .exceptions import InvalidCreditCode
from .identity import normalize_phone, validate_credit_code
from .rec_name import NameColumnMixin

# The standard's §6: application, qualification review, agreement (or unified
# authorisation), training, enabled; suspended and exited afterwards.
STATES = [
    ('applied', "Applied"),
    ('reviewing', "Qualification Review"),
    ('agreed', "Agreement Signed"),
    ('training', "Training"),
    ('active', "Enabled"),
    ('suspended', "Suspended"),
    ('exited', "Exited"),
    ]
ORGANISATION_TYPES = [
    (None, ""),
    ('enterprise', "Enterprise"),
    ('private_non_enterprise', "Private non-enterprise unit"),
    ('public_institution', "Public institution"),
    ('social_organisation', "Social organisation"),
    ('other', "Other"),
    ]
LICENCE_KINDS = [
    ('business', "Business licence"),
    ('registration', "Registration certificate"),
    ('food', "Food business licence"),
    ('medical', "Medical institution licence"),
    ('fire', "Fire safety inspection"),
    ('other', "Other"),
    ]
# A licence expiring within this many days is flagged.
EXPIRY_WARNING_DAYS = 60


def validity(valid_to, today=None):
    "Return 'valid', 'expiring' or 'expired' for a document valid until a date"
    if not valid_to:
        return 'valid'
    today = today or Pool().get('ir.date').today()
    if valid_to < today:
        return 'expired'
    if valid_to <= today + dt.timedelta(days=EXPIRY_WARNING_DAYS):
        return 'expiring'
    return 'valid'


VALIDITIES = [
    (None, ""),
    ('valid', "Valid"),
    ('expiring', "Expiring"),
    ('expired', "Expired"),
    ]


class Provider(NameColumnMixin, Workflow, ModelSQL, ModelView):
    "Service provider (服务机构)"
    __name__ = 'elder.provider'
    # An organisation's published contact data (tests/test_sensitivity.py)
    _sensitivity = {
        'phone': 'public', 'address': 'public', 'latitude': 'public',
        'longitude': 'public'}

    party = fields.Many2One(
        'party.party', "Party", required=True, readonly=True,
        ondelete='RESTRICT')
    code = fields.Char("Code", readonly=True)
    name = fields.Char("Name", required=True, strip=True)
    credit_code = fields.Char(
        "Unified Social Credit Code", required=True, strip=True,
        help="18-character code (GB 32100).")
    organisation_type = fields.Selection(
        ORGANISATION_TYPES, "Organisation Type", sort=False)
    legal_representative = fields.Char("Legal Representative")
    phone = fields.Char("Phone", strip=True)
    region = fields.Many2One(
        'elder.region', "Registered Region", required=True,
        ondelete='RESTRICT',
        help="The region whose civil-affairs office supervises the provider.")
    address = fields.Char("Address")
    latitude = fields.Numeric("Latitude", digits=(3, 6))
    longitude = fields.Numeric("Longitude", digits=(3, 6))
    service_areas = fields.Many2Many(
        'elder.provider-elder.region', 'provider', 'region', "Service Areas")
    service_types = fields.Many2Many(
        'elder.provider-elder.service.type', 'provider', 'service_type',
        "Service Types")
    capacity = fields.Integer(
        "Capacity", domain=[If(Eval('capacity'), ('capacity', '>=', 0), ())],
        help="Service orders the provider can carry at the same time.")
    licences = fields.One2Many('elder.provider.licence', 'provider', "Licences")
    contacts = fields.One2Many(
        'elder.provider.contact', 'provider', "Contact Persons")
    practitioners = fields.One2Many(
        'elder.practitioner', 'provider', "Practitioners", readonly=True)
    agreement_number = fields.Char("Agreement Number")
    agreement_start = fields.Date("Agreement Start")
    agreement_end = fields.Date("Agreement End")
    training_date = fields.Date("Platform Training Date")
    licence_validity = fields.Function(
        fields.Selection(VALIDITIES, "Licence Validity"),
        'get_licence_validity')
    state = fields.Selection(STATES, "Status", readonly=True, required=True)
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('credit_code_uniq', Unique(t, t.credit_code),
                'elder_base.msg_provider_credit_code_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.region, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order.insert(0, ('code', 'ASC'))
        cls._transitions |= {
            ('applied', 'reviewing'),
            ('reviewing', 'agreed'),
            ('reviewing', 'applied'),
            ('agreed', 'training'),
            ('training', 'active'),
            ('active', 'suspended'),
            ('suspended', 'active'),
            ('active', 'exited'),
            ('suspended', 'exited'),
            ('applied', 'exited'),
            ('reviewing', 'exited'),
            }
        buttons = {
            'review': ['applied'],
            'reject': ['reviewing'],
            'agree': ['reviewing'],
            'train': ['agreed'],
            'enable': ['training', 'suspended'],
            'suspend': ['active'],
            'exit': ['applied', 'reviewing', 'active', 'suspended'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }

    @staticmethod
    def default_state():
        return 'applied'

    def get_licence_validity(self, name):
        order = {'valid': 0, 'expiring': 1, 'expired': 2}
        worst = 'valid'
        for licence in self.licences:
            if order[licence.validity] > order[worst]:
                worst = licence.validity
        return worst

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('code', operator, operand, *extra),
            ('credit_code', operator, operand, *extra),
            ]

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Party = pool.get('party.party')
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        values = super().preprocess_values(mode, values)
        if values.get('credit_code'):
            values['credit_code'] = values['credit_code'].strip().upper()
        if values.get('phone'):
            try:
                values['phone'] = normalize_phone(values['phone'])
            except ValueError:
                pass
        if mode == 'create':
            if not values.get('code'):
                values['code'] = Sequence(ModelData.get_id(
                        'elder_base', 'sequence_provider')).get()
            if not values.get('party'):
                party, = Party.create([{'name': values.get('name')}])
                values['party'] = party.id
        return values

    @classmethod
    def validate_fields(cls, providers, field_names):
        super().validate_fields(providers, field_names)
        if field_names is None or 'credit_code' in field_names:
            for provider in providers:
                try:
                    validate_credit_code(provider.credit_code)
                except ValueError:
                    raise InvalidCreditCode(gettext(
                            'elder_base.msg_invalid_credit_code',
                            code=provider.credit_code, name=provider.name))
        if field_names is None or 'phone' in field_names:
            for provider in providers:
                if provider.phone:
                    check_phone(provider.phone, provider.name)

    @classmethod
    def on_modification(cls, mode, providers, field_names=None):
        pool = Pool()
        Party = pool.get('party.party')
        super().on_modification(mode, providers, field_names=field_names)
        if mode == 'write' and 'name' in field_names:
            parties = []
            for provider in providers:
                if provider.party.name != provider.name:
                    provider.party.name = provider.name
                    parties.append(provider.party)
            Party.save(parties)

    @classmethod
    def copy(cls, providers, default=None):
        default = default.copy() if default is not None else {}
        for name in ['code', 'party', 'credit_code', 'practitioners']:
            default.setdefault(name, None)
        default.setdefault('state', 'applied')
        return super().copy(providers, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('reviewing')
    def review(cls, providers):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('applied')
    def reject(cls, providers):
        "Send the application back for missing qualifications"

    @classmethod
    @ModelView.button
    @Workflow.transition('agreed')
    def agree(cls, providers):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('training')
    def train(cls, providers):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def enable(cls, providers):
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        cls.write(
            [p for p in providers if not p.training_date],
            {'training_date': today})

    @classmethod
    @ModelView.button
    @Workflow.transition('suspended')
    def suspend(cls, providers):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('exited')
    def exit(cls, providers):
        pass


class ProviderServiceArea(ModelSQL):
    "Provider - Service area"
    __name__ = 'elder.provider-elder.region'
    provider = fields.Many2One(
        'elder.provider', "Provider", required=True, ondelete='CASCADE')
    region = fields.Many2One(
        'elder.region', "Region", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('provider')


class ProviderServiceType(ModelSQL):
    "Provider - Service type"
    __name__ = 'elder.provider-elder.service.type'
    provider = fields.Many2One(
        'elder.provider', "Provider", required=True, ondelete='CASCADE')
    service_type = fields.Many2One(
        'elder.service.type', "Service Type", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('provider')


class Licence(ModelSQL, ModelView):
    "Provider licence or qualification"
    __name__ = 'elder.provider.licence'
    provider = fields.Many2One(
        'elder.provider', "Provider", required=True, ondelete='CASCADE')
    kind = fields.Selection(LICENCE_KINDS, "Kind", required=True, sort=False)
    number = fields.Char("Number", required=True, strip=True)
    issuer = fields.Char("Issued By")
    valid_from = fields.Date("Valid From")
    valid_to = fields.Date(
        "Valid To",
        domain=[If(Eval('valid_from') & Eval('valid_to'),
                ('valid_to', '>=', Eval('valid_from')), ())])
    validity = fields.Function(
        fields.Selection(VALIDITIES, "Validity"), 'get_validity')

    def get_validity(self, name):
        return validity(self.valid_to)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('provider')


class ContactPerson(sequence_ordered(), ModelSQL, ModelView):
    "Provider contact person"
    __name__ = 'elder.provider.contact'
    # A person of the provider (position: job title)
    _sensitivity = {
        'name': 'personal', 'phone': 'personal', 'email': 'personal',
        'position': 'internal'}
    provider = fields.Many2One(
        'elder.provider', "Provider", required=True, ondelete='CASCADE')
    name = fields.Char("Name", required=True)
    position = fields.Char("Position")
    phone = fields.Char("Phone", required=True, strip=True)
    email = fields.Char("Email")

    @classmethod
    def validate_fields(cls, contacts, field_names):
        super().validate_fields(contacts, field_names)
        if field_names is None or 'phone' in field_names:
            for contact in contacts:
                check_phone(contact.phone, contact.name)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('provider')
