# This file is part of the eldercare platform. See LICENSE.
"""Volunteers (志愿者, standard §7.2.5): registry checked against the
citizen ID standard, skills, the older people of their family (who may
receive their time-bank hours) and their time-bank statement."""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.modules.elder_base.elder import (
    SEXES, check_phone, encrypted, normalize_encrypted)
from trytond.modules.elder_base.exceptions import InvalidCitizenID
from trytond.modules.elder_base.identity import (
    normalize_phone, parse_citizen_id)
from trytond.modules.elder_security.crypto import EncryptedMixin
from trytond.pool import Pool
from trytond.pyson import Eval

from .common import next_number

STATES = [
    ('applied', "Applied"),
    ('active', "Active"),
    ('inactive', "Inactive"),
    ]


class Skill(DeactivableMixin, ModelSQL, ModelView):
    "Volunteer skill"
    __name__ = 'volunteer.skill'
    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True, translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code),
                'elder_community.msg_skill_code_unique'),
            ]


class Volunteer(EncryptedMixin, Workflow, ModelSQL, ModelView):
    "Volunteer (志愿者)"
    __name__ = 'volunteer.volunteer'
    _sensitivity = {
        'name': 'personal', 'birth_date': 'personal', 'sex': 'personal',
        'family_elders': 'personal', 'note': 'personal',
        'region': 'personal', 'balance': 'personal',
        'hours_earned': 'personal', 'hours_transferred': 'personal',
        'hours_redeemed': 'personal'}
    _encrypted_fields = {'id_number': 'citizen_id', 'phone': 'phone'}
    _encrypted_indexed = {'id_number': 'citizen_id', 'phone': 'phone'}

    code = fields.Char("Number", readonly=True)
    party = fields.Many2One('party.party', "Party", required=True,
        readonly=True, ondelete='RESTRICT')
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
    region = fields.Many2One('elder.region', "Region", required=True,
        ondelete='RESTRICT', help="The community the volunteer serves in.")
    skills = fields.Many2Many(
        'volunteer.volunteer-volunteer.skill', 'volunteer', 'skill',
        "Skills")
    family_elders = fields.Many2Many(
        'volunteer.volunteer-elder.elder', 'volunteer', 'elder',
        "Older People of the Family",
        help="Family members who may receive the volunteer's time-bank "
        "hours (时间银行转赠).")
    user = fields.Many2One('res.user', "User", ondelete='SET NULL')
    registered_date = fields.Date("Registered On", required=True)
    account = fields.Function(fields.Many2One(
            'timebank.account', "Time-bank Account"), 'get_account')
    balance = fields.Function(fields.Numeric(
            "Time-bank Balance", digits=(16, 1)), 'get_totals')
    hours_earned = fields.Function(fields.Numeric(
            "Hours Earned", digits=(16, 1)), 'get_totals')
    hours_transferred = fields.Function(fields.Numeric(
            "Hours Transferred", digits=(16, 1)), 'get_totals')
    hours_redeemed = fields.Function(fields.Numeric(
            "Hours Redeemed", digits=(16, 1)), 'get_totals')
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('id_number_uniq', Unique(t, t.id_number_bidx),
                'elder_community.msg_volunteer_id_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.region, Index.Range())))
        cls._order = [('code', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('applied', 'active'),
            ('active', 'inactive'),
            ('inactive', 'active'),
            ('applied', 'inactive'),
            }
        buttons = {
            'activate': ['applied', 'inactive'],
            'deactivate': ['applied', 'active'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }

    @staticmethod
    def default_state():
        return 'applied'

    @classmethod
    def default_registered_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def encrypted_normalize(cls, name, value):
        return normalize_encrypted(name, value)

    def get_account(self, name):
        pool = Pool()
        Account = pool.get('timebank.account')
        accounts = Account.search([('volunteer', '=', self.id)], limit=1)
        return accounts[0].id if accounts else None

    @classmethod
    def get_totals(cls, volunteers, names):
        pool = Pool()
        Account = pool.get('timebank.account')
        result = {n: {v.id: 0 for v in volunteers} for n in names}
        for account in Account.search([
                    ('volunteer', 'in', [v.id for v in volunteers])]):
            totals = account.totals()
            for name in names:
                key = {'balance': 'balance', 'hours_earned': 'earn',
                    'hours_transferred': 'transfer_out',
                    'hours_redeemed': 'redeem'}[name]
                result[name][account.volunteer.id] = abs(
                    Decimal(totals[key])).quantize(Decimal('0.1'))
        return result

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
        if mode == 'create':
            if not values.get('code'):
                values['code'] = next_number('sequence_volunteer')
            if not values.get('party'):
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
    def validate_fields(cls, volunteers, field_names):
        super().validate_fields(volunteers, field_names)
        if field_names is None or 'id_number' in field_names:
            for volunteer in volunteers:
                try:
                    parse_citizen_id(volunteer.id_number)
                except ValueError:
                    raise InvalidCitizenID(gettext(
                            'elder_base.msg_invalid_citizen_id',
                            number=volunteer.id_number,
                            name=volunteer.name))
        if field_names is None or 'phone' in field_names:
            for volunteer in volunteers:
                check_phone(volunteer.phone, volunteer.name)

    @classmethod
    def on_modification(cls, mode, volunteers, field_names=None):
        pool = Pool()
        Party = pool.get('party.party')
        super().on_modification(mode, volunteers, field_names=field_names)
        if mode == 'write' and 'name' in field_names:
            parties = []
            for volunteer in volunteers:
                if volunteer.party.name != volunteer.name:
                    volunteer.party.name = volunteer.name
                    parties.append(volunteer.party)
            Party.save(parties)

    @classmethod
    def copy(cls, volunteers, default=None):
        default = default.copy() if default is not None else {}
        for name in ['code', 'party', 'user']:
            default.setdefault(name, None)
        default.setdefault('state', 'applied')
        return super().copy(volunteers, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def activate(cls, volunteers):
        "An active volunteer has a time-bank account"
        pool = Pool()
        Account = pool.get('timebank.account')
        for volunteer in volunteers:
            Account.of(volunteer)

    @classmethod
    @ModelView.button
    @Workflow.transition('inactive')
    def deactivate(cls, volunteers):
        pass


class VolunteerSkill(ModelSQL):
    "Volunteer - Skill"
    __name__ = 'volunteer.volunteer-volunteer.skill'
    volunteer = fields.Many2One('volunteer.volunteer', "Volunteer",
        required=True, ondelete='CASCADE')
    skill = fields.Many2One('volunteer.skill', "Skill", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('volunteer')


class VolunteerElder(ModelSQL):
    "Volunteer - Older person of the family"
    __name__ = 'volunteer.volunteer-elder.elder'
    _sensitivity = {'elder': 'personal'}
    volunteer = fields.Many2One('volunteer.volunteer', "Volunteer",
        required=True, ondelete='CASCADE')
    elder = fields.Many2One('elder.elder', "Older Person", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('volunteer')
