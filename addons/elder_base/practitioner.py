# This file is part of the eldercare platform. See LICENSE.
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval, If

from trytond.modules.elder_security.crypto import EncryptedMixin

from .elder import SEXES, check_phone, encrypted, normalize_encrypted
from .exceptions import InvalidCitizenID
from .identity import normalize_phone, parse_citizen_id
from .provider import VALIDITIES, validity
from .rec_name import NameColumnMixin

KINDS = [
    ('caregiver', "Caregiver"),
    ('nurse', "Nurse"),
    ('doctor', "Doctor"),
    ('therapist', "Rehabilitation therapist"),
    ('social_worker', "Social worker"),
    ('dietitian', "Dietitian or cook"),
    ('assessor', "Assessor"),
    ('technician', "Device technician"),
    ('manager', "Manager"),
    ('other', "Other"),
    ]
# 养老护理员国家职业技能标准: five skill levels.
SKILL_LEVELS = [
    (None, ""),
    ('5', "Level 5 (junior)"),
    ('4', "Level 4 (intermediate)"),
    ('3', "Level 3 (senior)"),
    ('2', "Level 2 (technician)"),
    ('1', "Level 1 (senior technician)"),
    ]
STATES = [
    ('active', "Active"),
    ('suspended', "Suspended"),
    ('left', "Left"),
    ]


class Practitioner(
        NameColumnMixin, EncryptedMixin, Workflow, ModelSQL, ModelView):
    "Practitioner (从业人员)"
    __name__ = 'elder.practitioner'
    _encrypted_fields = {'id_number': 'citizen_id', 'phone': 'phone'}
    _sensitivity = {
        'name': 'personal', 'birth_date': 'personal', 'sex': 'personal',
        'phone': 'personal'}
    _encrypted_indexed = {'id_number': 'citizen_id', 'phone': 'phone'}

    party = fields.Many2One(
        'party.party', "Party", required=True, readonly=True,
        ondelete='RESTRICT')
    provider = fields.Many2One(
        'elder.provider', "Provider", required=True, ondelete='RESTRICT')
    name = fields.Char("Name", required=True, strip=True)
    id_number = encrypted(
        fields.Char("Citizen ID", required=True, strip=True), index=True)
    id_number_enc = fields.Char("Citizen ID (Encrypted)", readonly=True)
    id_number_bidx = fields.Char("Citizen ID (Index)", readonly=True)
    birth_date = fields.Date("Birth Date", readonly=True)
    sex = fields.Selection(SEXES, "Sex", readonly=True, sort=False)
    phone = encrypted(
        fields.Char("Phone", required=True, strip=True), index=True)
    phone_enc = fields.Char("Phone (Encrypted)", readonly=True)
    phone_bidx = fields.Char("Phone (Index)", readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False)
    skill_level = fields.Selection(SKILL_LEVELS, "Skill Level", sort=False)
    hire_date = fields.Date("Hire Date")
    leave_date = fields.Date(
        "Leave Date",
        domain=[If(Eval('hire_date') & Eval('leave_date'),
                ('leave_date', '>=', Eval('hire_date')), ())])
    user = fields.Many2One(
        'res.user', "User", ondelete='SET NULL',
        help="The login the practitioner uses in the worker app.")
    certificates = fields.One2Many(
        'elder.practitioner.certificate', 'practitioner', "Certificates")
    trainings = fields.One2Many(
        'elder.practitioner.training', 'practitioner', "Trainings")
    certificate_validity = fields.Function(
        fields.Selection(VALIDITIES, "Certificate Validity"),
        'get_certificate_validity')
    state = fields.Selection(STATES, "Status", readonly=True, required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('id_number_uniq', Unique(t, t.id_number_bidx),
                'elder_base.msg_practitioner_id_number_unique'),
            ('user_uniq', Unique(t, t.user),
                'elder_base.msg_practitioner_user_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.provider, Index.Range())))
        cls._transitions |= {
            ('active', 'suspended'),
            ('suspended', 'active'),
            ('active', 'left'),
            ('suspended', 'left'),
            }
        cls._buttons.update({
                'suspend': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                'activate': {
                    'invisible': Eval('state') != 'suspended',
                    'depends': ['state'],
                    },
                'leave': {
                    'invisible': Eval('state') == 'left',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'active'

    @classmethod
    def encrypted_normalize(cls, name, value):
        return normalize_encrypted(name, value)

    @staticmethod
    def default_kind():
        return 'caregiver'

    @classmethod
    def default_provider(cls):
        pool = Pool()
        User = pool.get('res.user')
        return User.get_elder_provider()

    def get_certificate_validity(self, name):
        if not self.certificates:
            return None
        # The best certificate counts: one valid qualification suffices.
        order = {'valid': 0, 'expiring': 1, 'expired': 2}
        return min((c.validity for c in self.certificates), key=order.get)

    @fields.depends('id_number')
    def on_change_id_number(self):
        try:
            self.id_number, self.birth_date, self.sex = parse_citizen_id(
                self.id_number)
        except ValueError:
            pass

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Party = pool.get('party.party')
        values = super().preprocess_values(mode, values)
        if values.get('id_number'):
            values['id_number'] = values['id_number'].strip().upper()
        if values.get('phone'):
            try:
                values['phone'] = normalize_phone(values['phone'])
            except ValueError:
                pass
        if mode == 'create' and not values.get('party'):
            party, = Party.create([{'name': values.get('name')}])
            values['party'] = party.id
        return values

    def compute_fields(self, field_names=None):
        values = super().compute_fields(field_names=field_names)
        if field_names is None or 'id_number' in field_names:
            try:
                _, birth_date, sex = parse_citizen_id(self.id_number)
            except ValueError:
                pass
            else:
                if self.birth_date != birth_date:
                    values['birth_date'] = birth_date
                if self.sex != sex:
                    values['sex'] = sex
        return values

    @classmethod
    def validate_fields(cls, practitioners, field_names):
        super().validate_fields(practitioners, field_names)
        if field_names is None or 'id_number' in field_names:
            for practitioner in practitioners:
                try:
                    parse_citizen_id(practitioner.id_number)
                except ValueError:
                    raise InvalidCitizenID(gettext(
                            'elder_base.msg_invalid_citizen_id',
                            number=practitioner.id_number,
                            name=practitioner.name))
        if field_names is None or 'phone' in field_names:
            for practitioner in practitioners:
                check_phone(practitioner.phone, practitioner.name)

    @classmethod
    def on_modification(cls, mode, practitioners, field_names=None):
        pool = Pool()
        Party = pool.get('party.party')
        User = pool.get('res.user')
        super().on_modification(mode, practitioners, field_names=field_names)
        if mode == 'write' and 'name' in field_names:
            parties = []
            for practitioner in practitioners:
                if practitioner.party.name != practitioner.name:
                    practitioner.party.name = practitioner.name
                    parties.append(practitioner.party)
            Party.save(parties)
        # The user's data scope follows the practitioner's provider.
        User._get_elder_scope_cache.clear()

    @classmethod
    def copy(cls, practitioners, default=None):
        default = default.copy() if default is not None else {}
        for name in ['party', 'user']:
            default.setdefault(name, None)
        default.setdefault('state', 'active')
        return super().copy(practitioners, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('suspended')
    def suspend(cls, practitioners):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def activate(cls, practitioners):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('left')
    def leave(cls, practitioners):
        pool = Pool()
        Date = pool.get('ir.date')
        cls.write(
            [p for p in practitioners if not p.leave_date],
            {'leave_date': Date.today()})


class Certificate(ModelSQL, ModelView):
    "Practitioner certificate"
    __name__ = 'elder.practitioner.certificate'
    practitioner = fields.Many2One(
        'elder.practitioner', "Practitioner", required=True,
        ondelete='CASCADE')
    name = fields.Char(
        "Certificate", required=True,
        help="For example 养老护理员职业技能等级证书, 护士执业证书, 社会工作者职业水平证书.")
    number = fields.Char("Number", required=True, strip=True)
    issuer = fields.Char("Issued By")
    level = fields.Char("Level")
    issue_date = fields.Date("Issue Date")
    expiry_date = fields.Date(
        "Expiry Date",
        domain=[If(Eval('issue_date') & Eval('expiry_date'),
                ('expiry_date', '>=', Eval('issue_date')), ())])
    validity = fields.Function(
        fields.Selection(VALIDITIES, "Validity"), 'get_validity')

    def get_validity(self, name):
        return validity(self.expiry_date)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('practitioner')


class Training(ModelSQL, ModelView):
    "Practitioner training record"
    __name__ = 'elder.practitioner.training'
    practitioner = fields.Many2One(
        'elder.practitioner', "Practitioner", required=True,
        ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    course = fields.Char("Course", required=True)
    hours = fields.Numeric("Hours", digits=(4, 1))
    organiser = fields.Char("Organiser")
    passed = fields.Boolean("Passed")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('practitioner')
        cls._order.insert(0, ('date', 'DESC'))
