# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
import logging

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields, sequence_ordered)
from trytond.pool import Pool
from trytond.model.fields import SQL_OPERATORS
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from trytond.modules.elder_security.crypto import IN_MAX, EncryptedMixin

from .exceptions import DeathDateError, InvalidCitizenID, InvalidPhone
from .identity import normalize_phone, parse_citizen_id
from .rec_name import NameColumnMixin

logger = logging.getLogger(__name__)


def ensure_trigram():
    """Create PostgreSQL's pg_trgm extension when missing, so that the
    Index.Similarity indexes are GIN trigram indexes: sao's search box sends
    `ilike '%text%'`, which a B-tree cannot serve (a full scan of 200,000
    older people otherwise). pg_trgm is a trusted extension (PostgreSQL 13+):
    the database owner may create it. Without the right it logs a warning
    and the search still works, by scanning."""
    database = Transaction().database
    if database.name is None or not hasattr(database, 'has_extension'):
        return
    if database.has_extension('pg_trgm'):
        return
    connection = database.get_connection(autocommit=True)
    try:
        connection.cursor().execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    except Exception as error:  # noqa: BLE001 (an optional optimisation)
        logger.warning("pg_trgm not created (%s): name searches scan", error)
    finally:
        database.put_connection(connection)
    # has_extension caches its answer per process
    database._extensions[database.name].pop('pg_trgm', None)


SEXES = [
    (None, ""),
    ('1', "Male"),
    ('2', "Female"),
    ('0', "Unknown"),
    ('9', "Unspecified"),
    ]
MARITAL_STATUSES = [  # GB/T 2261.2
    (None, ""),
    ('10', "Unmarried"),
    ('20', "Married"),
    ('30', "Widowed"),
    ('40', "Divorced"),
    ('90', "Unspecified"),
    ]
LIVING_SITUATIONS = [
    (None, ""),
    ('alone', "Living alone"),
    ('spouse', "With spouse only"),
    ('children', "With children"),
    ('relatives', "With other relatives"),
    ('carer', "With a live-in carer"),
    ('institution', "In an institution"),
    ('other', "Other"),
    ]
STATES = [
    ('active', "Active"),
    ('moved', "Moved Away"),
    ('deceased', "Deceased"),
    ]
RELATIONSHIPS = [
    ('spouse', "Spouse"),
    ('son', "Son"),
    ('daughter', "Daughter"),
    ('daughter_in_law', "Daughter-in-law"),
    ('son_in_law', "Son-in-law"),
    ('grandchild', "Grandchild"),
    ('sibling', "Sibling"),
    ('relative', "Other relative"),
    ('neighbour', "Neighbour"),
    ('friend', "Friend"),
    ('community', "Community worker"),
    ('other', "Other"),
    ]


def encrypted(field, index=False):
    """Return the Function field of an encrypted value (see
    elder_security.crypto); the model declares <name>_enc (and <name>_bidx
    when index) as stored Char fields"""
    return fields.Function(
        field, 'get_encrypted_value', setter='set_encrypted',
        searcher='search_encrypted' if index else None)


def normalize_encrypted(name, value):
    "Normalise a personal value before it is encrypted and indexed"
    if not isinstance(value, str):
        return value
    value = value.strip()
    if name == 'id_number':
        value = value.upper()
    elif name == 'phone' and value:
        try:
            value = normalize_phone(value)
        except ValueError:
            pass
    return value


class Elder(
        NameColumnMixin, EncryptedMixin, Workflow, ModelSQL, ModelView):
    "Older person (老年人档案)"
    __name__ = 'elder.elder'
    # GB/T 35273 class of the personal fields (tests/test_sensitivity.py);
    # the encrypted ones below are sensitive.
    _sensitivity = {
        'name': 'personal', 'birth_date': 'personal', 'age': 'personal',
        'sex': 'personal', 'ethnicity': 'sensitive',
        'marital_status': 'personal', 'hukou_region': 'personal',
        'region': 'personal', 'living_situation': 'personal',
        'categories': 'sensitive', 'contacts': 'personal',
        'guardian': 'personal', 'death_date': 'personal',
        'moved_date': 'personal', 'note': 'personal',
        'phone': 'personal',
        }
    # Personal data stored encrypted (SM4-GCM); id_number and phone are
    # masked in the API and searchable by exact value (blind index).
    _encrypted_fields = {
        'id_number': 'citizen_id',
        'phone': 'phone',
        'hukou_address': None,
        'address': None,
        'latitude': None,
        'longitude': None,
        'health_summary': None,
        'chronic_diseases': None,
        }
    _encrypted_indexed = {
        'id_number': 'citizen_id',
        'phone': 'phone',
        }

    _states = {'readonly': Eval('state') != 'active'}

    party = fields.Many2One(
        'party.party', "Party", required=True, readonly=True,
        ondelete='RESTRICT',
        help="The party that represents the older person in every module.")
    code = fields.Char("Record Number", readonly=True)
    name = fields.Char("Name", required=True, strip=True, states=_states)
    id_number = encrypted(fields.Char(
        "Citizen ID", required=True, strip=True, states=_states,
        help="18-character citizen identity number (GB 11643)."), index=True)
    id_number_enc = fields.Char("Citizen ID (Encrypted)", readonly=True)
    id_number_bidx = fields.Char("Citizen ID (Index)", readonly=True)
    birth_date = fields.Date("Birth Date", readonly=True)
    sex = fields.Selection(SEXES, "Sex", readonly=True, sort=False)
    age = fields.Function(fields.Integer("Age"), 'get_age')
    ethnicity = fields.Many2One(
        'elder.ethnicity', "Ethnicity", ondelete='RESTRICT', states=_states)
    marital_status = fields.Selection(
        MARITAL_STATUSES, "Marital Status", sort=False, states=_states)
    phone = encrypted(
        fields.Char("Phone", strip=True, states=_states), index=True)
    phone_enc = fields.Char("Phone (Encrypted)", readonly=True)
    phone_bidx = fields.Char("Phone (Index)", readonly=True)

    hukou_region = fields.Many2One(
        'elder.region', "Household Registration Region",
        ondelete='RESTRICT', states=_states)
    hukou_address = encrypted(fields.Char(
        "Household Registration Address", states=_states))
    hukou_address_enc = fields.Char(
        "Household Registration Address (Encrypted)", readonly=True)
    region = fields.Many2One(
        'elder.region', "Residence Region", required=True,
        ondelete='RESTRICT', states=_states,
        help="Where the older person lives: it decides which civil-affairs "
        "office and which providers serve them.")
    address = encrypted(fields.Char("Residence Address", states=_states))
    address_enc = fields.Char("Residence Address (Encrypted)", readonly=True)
    latitude = encrypted(
        fields.Numeric("Latitude", digits=(3, 6), states=_states))
    latitude_enc = fields.Char("Latitude (Encrypted)", readonly=True)
    longitude = encrypted(
        fields.Numeric("Longitude", digits=(3, 6), states=_states))
    longitude_enc = fields.Char("Longitude (Encrypted)", readonly=True)
    living_situation = fields.Selection(
        LIVING_SITUATIONS, "Living Situation", sort=False, states=_states)
    categories = fields.Many2Many(
        'elder.elder-elder.category', 'elder', 'category', "Categories",
        states=_states)
    health_summary = encrypted(fields.Text("Health Summary", states=_states))
    health_summary_enc = fields.Text(
        "Health Summary (Encrypted)", readonly=True)
    chronic_diseases = encrypted(
        fields.Text("Chronic Diseases", states=_states))
    chronic_diseases_enc = fields.Text(
        "Chronic Diseases (Encrypted)", readonly=True)
    contacts = fields.One2Many(
        'elder.contact', 'elder', "Family and Contacts", states=_states)
    guardian = fields.Function(
        fields.Many2One('elder.contact', "Guardian"), 'get_guardian')
    state = fields.Selection(STATES, "Status", readonly=True, required=True)
    moved_date = fields.Date("Moved Away On", readonly=True)
    death_date = fields.Date("Date of Death", readonly=True)
    note = fields.Text("Note")

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('id_number_uniq', Unique(t, t.id_number_bidx),
                'elder_base.msg_elder_id_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.region, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.name, Index.Similarity())),
                Index(t, (t.code, Index.Similarity())),
                })
        cls._order = [('code', 'DESC'), ('id', 'DESC')]
        cls._sql_indexes.add(
            Index(t, (t.phone_bidx, Index.Equality())))
        cls._transitions |= {
            ('active', 'moved'),
            ('moved', 'active'),
            ('active', 'deceased'),
            ('moved', 'deceased'),
            }
        cls._buttons.update({
                'move_away': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                'reactivate': {
                    'invisible': Eval('state') != 'moved',
                    'depends': ['state'],
                    },
                'record_death': {
                    'invisible': Eval('state') == 'deceased',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def __register__(cls, module_name):
        ensure_trigram()
        super().__register__(module_name)

    @staticmethod
    def default_state():
        return 'active'

    @classmethod
    def encrypted_normalize(cls, name, value):
        return normalize_encrypted(name, value)

    @classmethod
    def get_age(cls, elders, name):
        # One query for the list, not a load of every field of each record
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        today = dt.date.today()
        ages = {e.id: None for e in elders}
        for sub_ids in grouped_slice(list(ages), IN_MAX):
            cursor.execute(*table.select(
                    table.id, table.birth_date, table.death_date,
                    where=SQL_OPERATORS['in'](table.id, list(sub_ids))))
            for id_, birth_date, death_date in cursor:
                ages[id_] = age_at(birth_date, death_date or today)
        return ages

    @classmethod
    def get_guardian(cls, elders, name):
        "The first guardian in the order of the contacts"
        pool = Pool()
        Contact = pool.get('elder.contact')
        guardians = {e.id: None for e in elders}
        with without_check_access():
            for sub_ids in grouped_slice(list(guardians), IN_MAX):
                for contact in Contact.search([
                            ('elder', 'in', list(sub_ids)),
                            ('is_guardian', '=', True),
                            ]):
                    if guardians[contact.elder.id] is None:
                        guardians[contact.elder.id] = contact.id
        return guardians

    @fields.depends('id_number')
    def on_change_id_number(self):
        try:
            self.id_number, self.birth_date, self.sex = parse_citizen_id(
                self.id_number)
        except ValueError:
            pass

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('code', operator, operand, *extra),
            ('id_number', operator, operand, *extra),
            ]

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
                pass  # validate_fields reports it with the raw value
        if mode == 'create':
            if not values.get('code'):
                values['code'] = cls._code_sequence().get()
            if not values.get('party'):
                party, = Party.create([{'name': values.get('name')}])
                values['party'] = party.id
        return values

    @classmethod
    def _code_sequence(cls):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        return Sequence(ModelData.get_id('elder_base', 'sequence_elder'))

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
    def validate_fields(cls, elders, field_names):
        super().validate_fields(elders, field_names)
        if field_names is None or 'id_number' in field_names:
            for elder in elders:
                try:
                    parse_citizen_id(elder.id_number)
                except ValueError:
                    raise InvalidCitizenID(gettext(
                            'elder_base.msg_invalid_citizen_id',
                            number=elder.id_number, name=elder.name))
        if field_names is None or 'phone' in field_names:
            for elder in elders:
                if elder.phone:
                    check_phone(elder.phone, elder.name)

    @classmethod
    def on_modification(cls, mode, elders, field_names=None):
        pool = Pool()
        Party = pool.get('party.party')
        super().on_modification(mode, elders, field_names=field_names)
        if mode == 'write' and 'name' in field_names:
            to_save = []
            for elder in elders:
                if elder.party.name != elder.name:
                    elder.party.name = elder.name
                    to_save.append(elder.party)
            Party.save(to_save)

    @classmethod
    def copy(cls, elders, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('code', None)
        default.setdefault('party', None)
        default.setdefault('state', 'active')
        default.setdefault('moved_date', None)
        default.setdefault('death_date', None)
        return super().copy(elders, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('moved')
    def move_away(cls, elders):
        pool = Pool()
        Date = pool.get('ir.date')
        cls.write(elders, {'moved_date': Date.today()})

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def reactivate(cls, elders):
        cls.write(elders, {'moved_date': None})

    @classmethod
    @ModelView.button_action('elder_base.wizard_record_death')
    def record_death(cls, elders):
        pass

    @classmethod
    @Workflow.transition('deceased')
    def deceased(cls, elders, date):
        """Record the death of the older people on date.

        Modules that run services, devices or money for older people extend
        this method to stop them (the standard's §7.3.4)."""
        if date > Pool().get('ir.date').today():
            raise DeathDateError(gettext('elder_base.msg_death_date_future'))
        cls.write(elders, {'death_date': date})


def age_at(birth_date, end):
    "Whole years from birth_date to end (None without a birth date)"
    if not birth_date:
        return None
    years = end.year - birth_date.year
    if (end.month, end.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def check_phone(phone, owner):
    try:
        normalize_phone(phone)
    except ValueError:
        raise InvalidPhone(gettext(
                'elder_base.msg_invalid_phone', phone=phone, name=owner))


class ElderCategoryRel(ModelSQL):
    "Older person - Category"
    __name__ = 'elder.elder-elder.category'
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, ondelete='CASCADE')
    category = fields.Many2One(
        'elder.category', "Category", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('elder')


class Contact(EncryptedMixin, sequence_ordered(), ModelSQL, ModelView):
    "Family member, guardian or emergency contact of an older person"
    __name__ = 'elder.contact'
    _encrypted_fields = {'phone': 'phone', 'address': None}
    _sensitivity = {
        'name': 'personal', 'phone': 'personal', 'address': 'personal',
        'relationship': 'personal', 'note': 'personal'}
    _encrypted_indexed = {'phone': 'phone'}
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, ondelete='CASCADE')
    name = fields.Char("Name", required=True, strip=True)
    relationship = fields.Selection(
        RELATIONSHIPS, "Relationship", required=True, sort=False)
    phone = encrypted(
        fields.Char("Phone", required=True, strip=True), index=True)
    phone_enc = fields.Char("Phone (Encrypted)", readonly=True)
    phone_bidx = fields.Char("Phone (Index)", readonly=True)
    is_guardian = fields.Boolean("Guardian")
    is_emergency = fields.Boolean("Emergency Contact")
    party = fields.Many2One(
        'party.party', "Party", ondelete='SET NULL',
        help="Set when the family member also uses the platform.")
    address = encrypted(fields.Char("Address"))
    address_enc = fields.Char("Address (Encrypted)", readonly=True)
    note = fields.Char("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('elder')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.phone_bidx, Index.Equality())))

    @staticmethod
    def default_is_emergency():
        return True

    @classmethod
    def encrypted_normalize(cls, name, value):
        return normalize_encrypted(name, value)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('phone'):
            try:
                values['phone'] = normalize_phone(values['phone'])
            except ValueError:
                pass
        return values

    @classmethod
    def validate_fields(cls, contacts, field_names):
        super().validate_fields(contacts, field_names)
        if field_names is None or 'phone' in field_names:
            for contact in contacts:
                check_phone(contact.phone, contact.name)


class RecordDeathStart(ModelView):
    "Record death"
    __name__ = 'elder.elder.record_death.start'
    date = fields.Date("Date of Death", required=True)

    @staticmethod
    def default_date():
        return Pool().get('ir.date').today()


class RecordDeath(Wizard):
    "Record death"
    __name__ = 'elder.elder.record_death'
    start = StateView(
        'elder.elder.record_death.start',
        'elder_base.record_death_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Record", 'record', 'tryton-ok', default=True),
            ])
    record = StateTransition()

    def transition_record(self):
        self.model.deceased(list(self.records), self.start.date)
        return 'end'
