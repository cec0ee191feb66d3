# This file is part of the eldercare platform. See LICENSE.
"Community elderly-care service facilities (社区养老服务场所, standard §4.3)."
from sql.aggregate import Avg, Count

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.modules.elder_base.elder import check_phone
from trytond.modules.elder_base.identity import normalize_phone
from trytond.modules.elder_base.provider import (
    LICENCE_KINDS, VALIDITIES, validity)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .exceptions import CommunityValidationError

KINDS = [
    ('day_care', "Day-care centre"),
    ('station', "Community elderly-care station"),
    ('comprehensive', "Comprehensive service centre"),
    ('canteen', "Elderly canteen"),
    ('other', "Other"),
    ]
STATES = [
    ('planned', "Planned"),
    ('open', "Open"),
    ('suspended', "Suspended"),
    ('closed', "Closed"),
    ]
GRADES = [
    (None, ""),
    ('5', "5 stars"),
    ('4', "4 stars"),
    ('3', "3 stars"),
    ('2', "2 stars"),
    ('1', "1 star"),
    ]


class Facility(Workflow, ModelSQL, ModelView):
    "Community elderly-care service facility (社区养老服务场所)"
    __name__ = 'community.facility'
    # A public place: its address, position and phone are published.
    _sensitivity = {
        'address': 'public', 'latitude': 'public', 'longitude': 'public',
        'phone': 'public'}

    code = fields.Char("Code", readonly=True)
    name = fields.Char("Name", required=True, strip=True)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False)
    region = fields.Many2One(
        'elder.region', "Region", required=True, ondelete='RESTRICT',
        help="The sub-district or community where the facility is.")
    address = fields.Char("Address", required=True)
    latitude = fields.Numeric("Latitude", digits=(3, 6),
        domain=[If(Eval('latitude'),
                [('latitude', '>=', -90), ('latitude', '<=', 90)], [])])
    longitude = fields.Numeric("Longitude", digits=(3, 6),
        domain=[If(Eval('longitude'),
                [('longitude', '>=', -180), ('longitude', '<=', 180)], [])])
    area = fields.Numeric("Floor Area", digits=(10, 1),
        domain=[If(Eval('area'), ('area', '>=', 0), ())],
        help="Square metres.")
    beds = fields.Integer("Beds",
        domain=[If(Eval('beds'), ('beds', '>=', 0), ())])
    seats = fields.Integer("Day-care Places",
        domain=[If(Eval('seats'), ('seats', '>=', 0), ())],
        help="Older people the facility can receive at the same time.")
    opening_hours = fields.Char("Opening Hours",
        help="For example 周一至周五 8:00-17:30.")
    phone = fields.Char("Phone", strip=True)
    operator = fields.Many2One(
        'elder.provider', "Operator", ondelete='RESTRICT',
        help="The provider that runs the facility (公建民营 or its own).")
    meal_service = fields.Boolean("Meal Service",
        help="The facility serves meals (助餐点); attendance records meals.")
    equipment = fields.Text("Facilities and Equipment",
        help="Rooms and equipment: rehabilitation room, reading room, "
        "bathing room, canteen …; photos go in the attachments.")
    licences = fields.One2Many(
        'community.facility.licence', 'facility', "Licences")
    licence_validity = fields.Function(
        fields.Selection(VALIDITIES, "Licence Validity"),
        'get_licence_validity')
    members = fields.One2Many(
        'community.facility.member', 'facility', "Enrolled Older People")
    inspections = fields.One2Many(
        'community.inspection', 'facility', "Inspections", readonly=True)
    grade = fields.Function(
        fields.Selection(GRADES, "Rating"), 'get_inspection_stats')
    inspection_score = fields.Function(
        fields.Float("Average Inspection Score", digits=(5, 1)),
        'get_inspection_stats')
    present = fields.Function(
        fields.Integer("Present Now"), 'get_present')
    opened_date = fields.Date("Opened On")
    state = fields.Selection(STATES, "Status", readonly=True, required=True)
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.region, Index.Range())),
                Index(t, (t.operator, Index.Range())),
                })
        cls._order = [('code', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('planned', 'open'),
            ('open', 'suspended'),
            ('suspended', 'open'),
            ('open', 'closed'),
            ('suspended', 'closed'),
            ('planned', 'closed'),
            }
        buttons = {
            'open': ['planned', 'suspended'],
            'suspend': ['open'],
            'close': ['planned', 'open', 'suspended'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }

    @staticmethod
    def default_state():
        return 'planned'

    @staticmethod
    def default_kind():
        return 'day_care'

    def get_licence_validity(self, name):
        order = {'valid': 0, 'expiring': 1, 'expired': 2}
        worst = 'valid'
        for licence in self.licences:
            if order[licence.validity] > order[worst]:
                worst = licence.validity
        return worst

    @classmethod
    def get_inspection_stats(cls, facilities, names):
        pool = Pool()
        Inspection = pool.get('community.inspection')
        i = Inspection.__table__()
        cursor = Transaction().connection.cursor()
        ids = [f.id for f in facilities]
        result = {n: {i_: None for i_ in ids} for n in names}
        cursor.execute(*i.select(i.facility, Avg(i.score),
                where=i.facility.in_(ids) & (i.state == 'done'),
                group_by=[i.facility]))
        for facility, score in cursor:
            if 'inspection_score' in names:
                result['inspection_score'][facility] = round(float(score), 1)
        if 'grade' in names:
            # The grade of the latest finished inspection counts.
            for facility in facilities:
                done = Inspection.search([
                        ('facility', '=', facility.id),
                        ('state', '=', 'done'),
                        ], order=[('date', 'DESC'), ('id', 'DESC')], limit=1)
                if done:
                    result['grade'][facility.id] = done[0].grade
        return result

    @classmethod
    def get_present(cls, facilities, name):
        pool = Pool()
        Attendance = pool.get('community.attendance')
        a = Attendance.__table__()
        cursor = Transaction().connection.cursor()
        ids = [f.id for f in facilities]
        result = {i: 0 for i in ids}
        cursor.execute(*a.select(a.facility, Count(a.id),
                where=a.facility.in_(ids) & (a.state == 'present'),
                group_by=[a.facility]))
        result.update(dict(cursor))
        return result

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        values = super().preprocess_values(mode, values)
        if values.get('phone'):
            try:
                values['phone'] = normalize_phone(values['phone'])
            except ValueError:
                pass
        if mode == 'create' and not values.get('code'):
            values['code'] = Sequence(ModelData.get_id(
                    'elder_community', 'sequence_facility')).get()
        return values

    @classmethod
    def validate_fields(cls, facilities, field_names):
        super().validate_fields(facilities, field_names)
        if field_names is None or 'phone' in field_names:
            for facility in facilities:
                if facility.phone:
                    check_phone(facility.phone, facility.name)

    @classmethod
    def copy(cls, facilities, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('code', None)
        default.setdefault('state', 'planned')
        default.setdefault('members', [])
        return super().copy(facilities, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def open(cls, facilities):
        pool = Pool()
        Date = pool.get('ir.date')
        cls.write([f for f in facilities if not f.opened_date],
            {'opened_date': Date.today()})

    @classmethod
    @ModelView.button
    @Workflow.transition('suspended')
    def suspend(cls, facilities):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, facilities):
        pass


class FacilityLicence(ModelSQL, ModelView):
    "Facility licence"
    __name__ = 'community.facility.licence'
    facility = fields.Many2One(
        'community.facility', "Facility", required=True, ondelete='CASCADE')
    kind = fields.Selection(LICENCE_KINDS, "Kind", required=True, sort=False)
    number = fields.Char("Number", required=True, strip=True)
    issuer = fields.Char("Issued By")
    valid_from = fields.Date("Valid From")
    valid_to = fields.Date("Valid To",
        domain=[If(Eval('valid_from') & Eval('valid_to'),
                ('valid_to', '>=', Eval('valid_from')), ())])
    validity = fields.Function(
        fields.Selection(VALIDITIES, "Validity"), 'get_validity')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('facility')

    def get_validity(self, name):
        return validity(self.valid_to)


class FacilityMember(DeactivableMixin, ModelSQL, ModelView):
    "Older person enrolled at a facility"
    __name__ = 'community.facility.member'
    # The attendance card's number identifies the older person at the door.
    _sensitivity = {'card_number': 'personal'}
    facility = fields.Many2One(
        'community.facility', "Facility", required=True, ondelete='CASCADE')
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, ondelete='RESTRICT')
    card_number = fields.Char(
        "Card or QR Code", strip=True,
        help="The number of the attendance card or of the QR code the older "
        "person shows at the door.")
    enrolled_date = fields.Date("Enrolled On", required=True)
    meals = fields.Boolean("Takes Meals")
    note = fields.Char("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('facility')
        t = cls.__table__()
        cls._sql_constraints += [
            ('elder_uniq', Unique(t, t.facility, t.elder),
                'elder_community.msg_member_unique'),
            ('card_uniq', Unique(t, t.facility, t.card_number),
                'elder_community.msg_member_card_unique'),
            ]

    @classmethod
    def default_enrolled_date(cls):
        return Pool().get('ir.date').today()

    def get_rec_name(self, name):
        return self.elder.rec_name

    @classmethod
    def validate_fields(cls, members, field_names):
        super().validate_fields(members, field_names)
        for member in members:
            if member.elder.state != 'active':
                raise CommunityValidationError(gettext(
                        'elder_community.msg_member_elder_inactive',
                        elder=member.elder.rec_name))
