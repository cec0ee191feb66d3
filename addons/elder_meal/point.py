# This file is part of the eldercare platform. See LICENSE.
"""Meal points (助餐点): community canteens, partner restaurants and central
kitchens, each a facility of a provider, with opening hours per meal period,
food-safety licence, inspections, registered older people, staff and the
face gallery of the canteen terminal."""
import datetime as dt
import math

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import InspectionError, MealPointError

MEAL_PERIODS = [
    ('breakfast', "Breakfast"),
    ('lunch', "Lunch"),
    ('dinner', "Dinner"),
    ]
KINDS = [
    ('canteen', "Community Canteen"),
    ('restaurant', "Partner Restaurant"),
    ('kitchen', "Central Kitchen"),
    ]
LICENCE_STATES = [
    (None, ""),
    ('valid', "Valid"),
    ('expiring', "Expiring"),
    ('expired', "Expired"),
    ('missing', "Missing"),
    ]
INSPECTION_STATUS = [
    (None, ""),
    ('never', "Never Inspected"),
    ('passed', "Passed"),
    ('rectifying', "Rectification Open"),
    ('overdue', "Rectification Overdue"),
    ('failed', "Failed"),
    ]
LICENCE_WARNING_DAYS = 30
INSPECTION_INTERVAL_DAYS = 180
DEFAULT_ORDER_CUTOFF = 2


def distance_m(lat1, lon1, lat2, lon2):
    "Haversine distance in metres"
    lat1, lon1, lat2, lon2 = map(
        lambda v: math.radians(float(v)), (lat1, lon1, lat2, lon2))
    a = (math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2)
        * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371000 * math.asin(math.sqrt(a))


class Point(DeactivableMixin, ModelSQL, ModelView):
    "Meal Point (助餐点)"
    __name__ = 'meal.point'
    # the address, position and phone are those of the canteen (a business,
    # published by GET /meal/points); photos are pictures of the premises
    _sensitivity = {'staff': 'internal', 'members': 'personal',
        'address': 'public', 'latitude': 'public', 'longitude': 'public',
        'phone': 'public', 'photo_count': 'internal'}

    name = fields.Char("Name", required=True, translate=False)
    code = fields.Char("Code", required=True,
        help="Short code printed on the terminal and used by the routes.")
    kind = fields.Selection(KINDS, "Kind", required=True)
    provider = fields.Many2One('elder.provider', "Provider", required=True,
        ondelete='RESTRICT', help="The provider running the facility.")
    region = fields.Many2One('elder.region', "Region", required=True,
        ondelete='RESTRICT')
    address = fields.Char("Address", required=True)
    latitude = fields.Numeric("Latitude", digits=(3, 6),
        domain=['OR', ('latitude', '=', None),
            [('latitude', '>=', -90), ('latitude', '<=', 90)]])
    longitude = fields.Numeric("Longitude", digits=(3, 6),
        domain=['OR', ('longitude', '=', None),
            [('longitude', '>=', -180), ('longitude', '<=', 180)]])
    phone = fields.Char("Phone")
    capacity = fields.Integer("Seats", required=True,
        domain=[('capacity', '>=', 0)])
    delivery = fields.Boolean("Delivers Meals")
    delivery_radius = fields.Numeric("Delivery Radius (km)", digits=(6, 2),
        domain=['OR', ('delivery_radius', '=', None),
            ('delivery_radius', '>', 0)],
        states={'invisible': ~Eval('delivery'),
            'required': Eval('delivery', False)})
    periods = fields.One2Many('meal.point.period', 'point', "Opening Hours")
    order_cutoff = fields.Integer("Pre-order Cut-off (hours)", required=True,
        domain=[('order_cutoff', '>=', 0), ('order_cutoff', '<=', 168)],
        help="Families order and cancel a meal until this many hours "
        "before the meal period opens.")
    licence_number = fields.Char("Food Business Licence",
        help="食品经营许可证 number.")
    licence_expiry = fields.Date("Licence Expiry")
    licence_state = fields.Function(
        fields.Selection(LICENCE_STATES, "Licence"), 'get_licence_state',
        searcher='search_licence_state')
    inspections = fields.One2Many('meal.inspection', 'point', "Inspections")
    inspection_status = fields.Function(
        fields.Selection(INSPECTION_STATUS, "Inspection Status"),
        'get_inspection_status')
    last_inspection = fields.Function(
        fields.Date("Last Inspection"), 'get_inspection_status')
    staff = fields.Many2Many('meal.point-res.user', 'point', 'user', "Staff",
        help="The logins of the counter staff and terminals of the point: "
        "they see this point only.")
    members = fields.Many2Many('meal.point-elder.elder', 'point', 'elder',
        "Registered Older People")
    gallery = fields.Many2One('face.gallery', "Face Gallery", readonly=True,
        ondelete='RESTRICT',
        help="Identification by face at the counter searches this gallery "
        "(the registered older people who are enrolled).")
    photo_count = fields.Function(fields.Integer("Photos"), 'get_photo_count')
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code), 'elder_meal.msg_point_code'),
            ]
        cls._sql_indexes.add(Index(t, (t.provider, Index.Range())))
        cls._order = [('code', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'sync_gallery': {'invisible': ~Eval('active')},
                })

    @staticmethod
    def default_kind():
        return 'canteen'

    @staticmethod
    def default_capacity():
        return 0

    @staticmethod
    def default_order_cutoff():
        return DEFAULT_ORDER_CUTOFF

    def get_rec_name(self, name):
        return '%s %s' % (self.code, self.name)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op, ('code', operator, operand, *extra),
            ('name', operator, operand, *extra)]

    @classmethod
    def licence_state_of(cls, expiry, number, today):
        if not number or not expiry:
            return 'missing'
        if expiry < today:
            return 'expired'
        if expiry <= today + dt.timedelta(days=LICENCE_WARNING_DAYS):
            return 'expiring'
        return 'valid'

    def get_licence_state(self, name):
        today = Pool().get('ir.date').today()
        return self.licence_state_of(
            self.licence_expiry, self.licence_number, today)

    @classmethod
    def search_licence_state(cls, name, clause):
        today = Pool().get('ir.date').today()
        soon = today + dt.timedelta(days=LICENCE_WARNING_DAYS)
        _, operator, value = clause
        domains = {
            'missing': ['OR', ('licence_number', '=', None),
                ('licence_expiry', '=', None)],
            'expired': [('licence_number', '!=', None),
                ('licence_expiry', '<', today)],
            'expiring': [('licence_number', '!=', None),
                ('licence_expiry', '>=', today),
                ('licence_expiry', '<=', soon)],
            'valid': [('licence_number', '!=', None),
                ('licence_expiry', '>', soon)],
            }
        values = value if isinstance(value, (list, tuple)) else [value]
        domain = ['OR'] + [domains[v] for v in values if v in domains]
        if operator in {'!=', 'not in'}:
            return ['NOT', domain] if len(domain) > 1 else []
        return domain if len(domain) > 1 else [('id', '=', -1)]

    @classmethod
    def get_inspection_status(cls, points, names):
        pool = Pool()
        Inspection = pool.get('meal.inspection')
        today = pool.get('ir.date').today()
        result = {n: {p.id: None for p in points} for n in names}
        with without_check_access():
            for point in points:
                inspections = Inspection.search([
                        ('point', '=', point.id),
                        ('state', '!=', 'draft'),
                        ], order=[('date', 'DESC'), ('id', 'DESC')])
                status, last = 'never', None
                if inspections:
                    last = inspections[0].date
                    status = 'passed'
                    for inspection in inspections:
                        if inspection.state == 'open':
                            status = ('overdue' if inspection.deadline
                                and inspection.deadline < today
                                else 'rectifying')
                            break
                    if status == 'passed' and inspections[0].result == 'fail':
                        status = 'failed'
                if 'inspection_status' in names:
                    result['inspection_status'][point.id] = status
                if 'last_inspection' in names:
                    result['last_inspection'][point.id] = last
        return result

    @classmethod
    def get_photo_count(cls, points, name):
        Attachment = Pool().get('ir.attachment')
        result = {p.id: 0 for p in points}
        with without_check_access():
            for attachment in Attachment.search([
                        ('resource', 'in', [str(p) for p in points])]):
                result[attachment.resource.id] += 1
        return result

    def period_at(self, time):
        "The meal period open at time, or None"
        for period in self.periods:
            if period.start <= time <= period.end:
                return period.meal_period
        return None

    def is_open(self, meal_period, time):
        for period in self.periods:
            if (period.meal_period == meal_period
                    and period.start <= time <= period.end):
                return True
        return False

    def serves(self, meal_period):
        return any(p.meal_period == meal_period for p in self.periods)

    def preorder_deadline(self, date, meal_period):
        """Until when families order and cancel the meal of the period on
        date (the opening minus the cut-off), or None if not served"""
        for period in self.periods:
            if period.meal_period == meal_period:
                hours = (self.order_cutoff if self.order_cutoff is not None
                    else DEFAULT_ORDER_CUTOFF)
                return (dt.datetime.combine(date, period.start)
                    - dt.timedelta(hours=hours))
        return None

    @classmethod
    def validate_fields(cls, points, field_names):
        super().validate_fields(points, field_names)
        for point in points:
            if ('provider' in field_names and point.active
                    and point.provider.state != 'active'):
                # a point opens for an onboarded (enabled) provider only
                raise MealPointError(gettext(
                        'elder_meal.msg_point_provider',
                        point=point.rec_name,
                        provider=point.provider.rec_name))
            if (point.latitude is None) != (point.longitude is None):
                raise MealPointError(gettext(
                        'elder_meal.msg_point_coordinates',
                        point=point.rec_name))

    @classmethod
    @ModelView.button
    def sync_gallery(cls, points):
        """Create or update the face gallery of each point: the enrolled
        registered older people as members, the staff as terminal users"""
        pool = Pool()
        Gallery = pool.get('face.gallery')
        Enrolment = pool.get('face.enrolment')
        with without_check_access():
            for point in cls.browse(points):
                enrolments = Enrolment.search([
                        ('elder', 'in', [e.id for e in point.members]),
                        ('state', '=', 'enrolled'),
                        ])
                values = {
                    'members': [('add', [e.id for e in enrolments])],
                    'terminals': [('add', [u.id for u in point.staff])],
                    }
                if point.gallery:
                    gallery = point.gallery
                    Gallery.write([gallery], {
                            'members': [('remove',
                                    [m.id for m in gallery.members])],
                            'terminals': [('remove',
                                    [u.id for u in gallery.terminals])],
                            })
                    Gallery.write([gallery], values)
                else:
                    gallery, = Gallery.create([{
                                'name': point.name,
                                'code': 'MEAL-%s' % point.code,
                                **values}])
                    cls.write([point], {'gallery': gallery.id})

    @classmethod
    def cron_licence(cls):
        "Daily: raise the licence alerts (meal.anomaly)"
        Anomaly = Pool().get('meal.anomaly')
        return Anomaly.detect_licences()

    @classmethod
    def for_user(cls, user_id=None):
        "The points of which the user is staff"
        PointUser = Pool().get('meal.point-res.user')
        user_id = user_id or Transaction().user
        with without_check_access():
            return [r.point for r in PointUser.search(
                    [('user', '=', user_id)])]


class PointPeriod(ModelSQL, ModelView):
    "Meal Point Opening Hours"
    __name__ = 'meal.point.period'
    point = fields.Many2One('meal.point', "Meal Point", required=True,
        ondelete='CASCADE')
    meal_period = fields.Selection(MEAL_PERIODS, "Meal Period",
        required=True)
    start = fields.Time("Opens", required=True)
    end = fields.Time("Closes", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls.__access__.add('point')
        cls._sql_constraints += [
            ('period_uniq', Unique(t, t.point, t.meal_period),
                'elder_meal.msg_period_unique'),
            ]
        cls._order = [('start', 'ASC'), ('id', 'ASC')]

    @classmethod
    def validate_fields(cls, periods, field_names):
        super().validate_fields(periods, field_names)
        for period in periods:
            if period.start >= period.end:
                raise MealPointError(gettext(
                        'elder_meal.msg_period_times',
                        point=period.point.rec_name))


class PointUser(ModelSQL):
    "Meal Point - Staff"
    __name__ = 'meal.point-res.user'
    point = fields.Many2One('meal.point', "Meal Point", required=True,
        ondelete='CASCADE')
    user = fields.Many2One('res.user', "User", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('point')

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        Pool().get('res.user')._get_meal_points_cache.clear()
        Pool().get('ir.rule')._domain_get_cache.clear()


class PointElder(ModelSQL):
    "Meal Point - Older Person"
    __name__ = 'meal.point-elder.elder'
    _sensitivity = {'elder': 'personal'}
    point = fields.Many2One('meal.point', "Meal Point", required=True,
        ondelete='CASCADE')
    elder = fields.Many2One('elder.elder', "Older Person", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls.__access__.add('point')
        cls._sql_constraints += [
            ('member_uniq', Unique(t, t.point, t.elder),
                'elder_meal.msg_member_unique'),
            ]


class Inspection(Workflow, ModelSQL, ModelView):
    "Food-Safety Inspection (食品安全检查)"
    __name__ = 'meal.inspection'
    _states = {'readonly': Eval('state') != 'draft'}

    point = fields.Many2One('meal.point', "Meal Point", required=True,
        ondelete='CASCADE', states=_states)
    date = fields.Date("Date", required=True, states=_states)
    inspector = fields.Char("Inspector", required=True, states=_states,
        help="Name and body of the inspector (市场监管, 民政 …).")
    result = fields.Selection([
            ('pass', "Passed"),
            ('rectify', "Rectification Required"),
            ('fail', "Failed"),
            ], "Result", required=True, states=_states)
    findings = fields.Text("Findings", states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('result') != 'pass'})
    deadline = fields.Date("Rectification Deadline", states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('result') == 'rectify'})
    rectification = fields.Text("Rectification", states={
            'readonly': Eval('state') != 'open'},
        help="What the provider did (its answer).")
    rectified_date = fields.Date("Rectified On", readonly=True)
    verified_by = fields.Many2One('res.user', "Verified By", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('open', "Rectification Open"),
            ('rectified', "Rectified"),
            ('closed', "Closed"),
            ], "State", readonly=True, required=True)
    region = fields.Function(fields.Many2One('elder.region', "Region"),
        'on_change_with_region')
    provider = fields.Function(fields.Many2One('elder.provider', "Provider"),
        'on_change_with_provider')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.point, Index.Range()),
                (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'open'), ('draft', 'closed'),
            ('open', 'rectified'), ('rectified', 'closed'),
            ('rectified', 'open'),
            }
        cls._buttons.update({
                'confirm': {'invisible': Eval('state') != 'draft',
                    'depends': ['state']},
                'rectify': {'invisible': Eval('state') != 'open',
                    'depends': ['state']},
                'close': {'invisible': Eval('state') != 'rectified',
                    'depends': ['state']},
                'reopen': {'invisible': Eval('state') != 'rectified',
                    'depends': ['state']},
                })

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_result():
        return 'pass'

    @fields.depends('point', '_parent_point.region')
    def on_change_with_region(self, name=None):
        return self.point.region if self.point else None

    @fields.depends('point', '_parent_point.provider')
    def on_change_with_provider(self, name=None):
        return self.point.provider if self.point else None

    def get_rec_name(self, name):
        return '%s %s' % (self.point.rec_name, self.date)

    @classmethod
    def validate_fields(cls, inspections, field_names):
        super().validate_fields(inspections, field_names)
        today = Pool().get('ir.date').today()
        for inspection in inspections:
            if inspection.date > today:
                raise InspectionError(gettext(
                        'elder_meal.msg_inspection_future',
                        inspection=inspection.rec_name))
            if inspection.deadline and inspection.deadline < inspection.date:
                raise InspectionError(gettext(
                        'elder_meal.msg_inspection_deadline',
                        inspection=inspection.rec_name))

    @classmethod
    @ModelView.button
    def confirm(cls, inspections):
        "Record the inspection: passed ones close, others wait for the answer"
        cls.write([i for i in inspections if i.result != 'pass'],
            {'state': 'open'})
        cls.write([i for i in inspections if i.result == 'pass'],
            {'state': 'closed'})

    @classmethod
    @ModelView.button
    @Workflow.transition('rectified')
    def rectify(cls, inspections):
        "The provider answers with what it rectified"
        for inspection in inspections:
            if not inspection.rectification:
                raise InspectionError(gettext(
                        'elder_meal.msg_rectification_required',
                        inspection=inspection.rec_name))
        cls.write(inspections, {
                'rectified_date': Pool().get('ir.date').today()})

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, inspections):
        "The supervisor verifies the rectification"
        cls.write(inspections, {'verified_by': Transaction().user})

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, inspections):
        "The rectification is not enough"
        pass
