# This file is part of the eldercare platform. See LICENSE.
"""Meal orders and served meals (助餐记录), and the counter check-in log.

An order is pre-ordered (family, hotline, mini program, counter) or created
at the counter for a walk-in; it is served at check-in (by face, ID card
number or the QR code of the older person's meal card) or delivered (the
practitioner's check-in at the door); otherwise it is cancelled or becomes a
no-show. At serving, the price of the offer is split between the meal
subsidy (elder_assess entitlement ``meal_subsidy``, ``pricing.split``) and
the older person's payment (cash, card, WeChat Pay reference).

One subsidised meal per person and meal period: besides the check in
``_price``, an exclusion constraint on (elder, date, meal period) where the
row is served and subsidised makes the database refuse a second one, also
when two counters serve the same person at the same moment.
"""
import datetime as dt
import re
from decimal import Decimal

from sql import Literal, Null
from sql.aggregate import Sum
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import (
    Exclude, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.modules.elder_base.identity import parse_citizen_id
from trytond.modules.elder_face.attempt import REASONS as FACE_REASONS
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from . import pricing
from .exceptions import CheckInError, MealOrderError
from .point import MEAL_PERIODS, distance_m

CHANNELS = [
    ('family', "Family"),
    ('hotline', "Hotline"),
    ('mini_program', "Mini Program"),
    ('counter', "Counter Pre-order"),
    ('walk_in', "Walk-in"),
    ]
MODES = [
    ('dine_in', "Dine-in"),
    ('pickup', "Pick-up"),
    ('delivery', "Delivery"),
    ]
STATES = [
    ('ordered', "Ordered"),
    ('served', "Served"),
    ('cancelled', "Cancelled"),
    ('no_show', "No-show"),
    ]
METHODS = [
    (None, ""),
    ('face', "Face"),
    ('id_card', "ID Card Number"),
    ('qr', "Meal Card QR Code"),
    ('delivery', "Delivery Check-in"),
    ]
BASES = [
    (None, ""),
    ('full', "Subsidised"),
    ('capped', "Partly subsidised (cap reached)"),
    ('over_cap', "Cap reached (self-paid)"),
    ('not_entitled', "Not entitled (self-paid)"),
    ('second_meal', "Second meal of the period (self-paid)"),
    ]
PAYMENTS = [
    (None, ""),
    ('none', "Nothing to pay"),
    ('cash', "Cash"),
    ('card', "Bank Card"),
    ('wechat', "WeChat Pay"),
    ]
CHECKIN_REASONS = [r for r in FACE_REASONS] + [
    ('unknown_person', "Unknown Person"),
    ('deceased', "Deceased"),
    ('no_gallery', "No Face Gallery"),
    ]
QR_PREFIX = 'ELDERMEAL:'
QR_PATTERN = re.compile(r'^ELDERMEAL:([0-9a-f]{32})$')
WECHAT_REFERENCE = re.compile(r'^[0-9]{28}$')
# A delivery checked in farther than this from the home is flagged
DELIVERY_TOLERANCE_M = 200


class Order(Workflow, ModelSQL, ModelView):
    "Meal Order (助餐订单)"
    __name__ = 'meal.order'
    _sensitivity = {
        'elder': 'personal', 'entitlement': 'sensitive',
        'subsidy_amount': 'sensitive', 'self_pay_amount': 'sensitive',
        'price': 'internal', 'basis': 'sensitive',
        'payment_reference': 'sensitive', 'payment_method': 'personal',
        'delivery_latitude': 'sensitive', 'delivery_longitude': 'sensitive',
        'delivery_distance': 'sensitive', 'face_attempt': 'sensitive',
        'cancel_reason': 'personal', 'served_by': 'internal',
        'web_user': 'personal', 'request_key': 'internal',
        }
    _states = {'readonly': Eval('state') != 'ordered'}

    number = fields.Char("Number", readonly=True)
    point = fields.Many2One('meal.point', "Meal Point", required=True,
        ondelete='RESTRICT', states=_states)
    region = fields.Many2One('elder.region', "Region", readonly=True,
        ondelete='RESTRICT', help="The region of the meal point.")
    elder = fields.Many2One('elder.elder', "Older Person", required=True,
        ondelete='RESTRICT', states=_states)
    date = fields.Date("Date", required=True, states=_states)
    meal_period = fields.Selection(MEAL_PERIODS, "Meal Period",
        required=True, states=_states)
    channel = fields.Selection(CHANNELS, "Channel", required=True,
        states=_states)
    service_mode = fields.Selection(MODES, "Service", required=True,
        states=_states)
    offer = fields.Many2One('meal.menu.line', "Offer", required=True,
        ondelete='RESTRICT', states=_states,
        domain=[('menu.point', '=', Eval('point', -1)),
            ('meal_period', '=', Eval('meal_period'))])
    price = fields.Numeric("Price", digits=(16, 2), readonly=True)
    subsidy_amount = fields.Numeric("Subsidy", digits=(16, 2),
        readonly=True)
    self_pay_amount = fields.Numeric("Self-pay", digits=(16, 2),
        readonly=True)
    basis = fields.Selection(BASES, "Basis", readonly=True, sort=False)
    subsidised = fields.Boolean("Subsidised", readonly=True)
    entitlement = fields.Many2One('elder.entitlement', "Entitlement",
        readonly=True, ondelete='RESTRICT')
    served_at = fields.Timestamp("Served At", readonly=True)
    served_by = fields.Many2One('res.user', "Served By", readonly=True)
    checkin_method = fields.Selection(METHODS, "Check-in Method",
        readonly=True)
    face_attempt = fields.Many2One('face.attempt', "Face Attempt",
        readonly=True, ondelete='RESTRICT')
    payment_method = fields.Selection(PAYMENTS, "Payment", states={
            'readonly': ~Eval('state').in_(['ordered', 'served']),
            })
    payment_reference = fields.Char("Payment Reference", states={
            'readonly': ~Eval('state').in_(['ordered', 'served']),
            'required': Eval('payment_method').in_(['card', 'wechat']),
            }, help="WeChat Pay transaction number (28 digits) or the "
        "card terminal's reference.")
    deliverer = fields.Many2One('elder.practitioner', "Deliverer",
        ondelete='RESTRICT', states={
            'invisible': Eval('service_mode') != 'delivery',
            'readonly': Eval('state') != 'ordered',
            })
    delivery_latitude = fields.Numeric("Delivery Latitude", digits=(3, 6),
        readonly=True)
    delivery_longitude = fields.Numeric("Delivery Longitude",
        digits=(3, 6), readonly=True)
    delivery_distance = fields.Float("Distance from Home (m)", digits=(8, 0),
        readonly=True)
    delivery_flagged = fields.Boolean("Delivery Flagged", readonly=True,
        help="Checked in at the door farther than the tolerance from the "
        "home, or the home has no coordinates.")
    cancel_reason = fields.Char("Cancellation Reason", states={
            'readonly': Eval('state') != 'ordered'})
    web_user = fields.Many2One('web.user', "Family Account", readonly=True,
        ondelete='RESTRICT',
        help="The family member who pre-ordered through the mini program.")
    request_key = fields.Char("Request Key", readonly=True,
        help="The idempotency key of the family's submission.")
    state = fields.Selection(STATES, "State", readonly=True, required=True)
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('one_subsidised_meal',
                Exclude(t, (t.elder, Equal), (t.date, Equal),
                    (t.meal_period, Equal),
                    where=(t.subsidised == Literal(True))
                    & (t.state == 'served')),
                'elder_meal.msg_double_subsidy'),
            ('one_pre_order',
                Exclude(t, (t.elder, Equal), (t.date, Equal),
                    (t.meal_period, Equal),
                    where=(t.state == 'ordered')),
                'elder_meal.msg_double_order'),
            ('family_request_uniq', Unique(t, t.web_user, t.request_key),
                'elder_service.msg_family_key_reused'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.point, Index.Range()), (t.date, Index.Range())),
                Index(t, (t.elder, Index.Range()), (t.date, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('ordered', 'served'), ('ordered', 'cancelled'),
            ('ordered', 'no_show'),
            }
        cls._buttons.update({
                'cancel': {'invisible': Eval('state') != 'ordered',
                    'depends': ['state']},
                'mark_no_show': {'invisible': Eval('state') != 'ordered',
                    'depends': ['state']},
                })

    @staticmethod
    def default_state():
        return 'ordered'

    @staticmethod
    def default_channel():
        return 'counter'

    @staticmethod
    def default_service_mode():
        return 'dine_in'

    @staticmethod
    def default_date():
        return Pool().get('ir.date').today()

    @staticmethod
    def default_subsidised():
        return False

    @staticmethod
    def default_delivery_flagged():
        return False

    def get_rec_name(self, name):
        return self.number or str(self.id)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('number',) + tuple(clause[1:])]

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            pool = Pool()
            Point = pool.get('meal.point')
            Line = pool.get('meal.menu.line')
            if values.get('point'):
                values['region'] = Point(values['point']).region.id
            if values.get('offer') and values.get('price') is None:
                values['price'] = Line(values['offer']).price
        return values

    @classmethod
    def on_modification(cls, mode, orders, field_names=None):
        super().on_modification(mode, orders, field_names=field_names)
        if mode == 'create':
            to_write = []
            for order in orders:
                if not order.number:
                    to_write.extend([[order], {'number': '%s-%s-%05d' % (
                                    order.point.code,
                                    order.date.strftime('%Y%m%d'),
                                    order.id)}])
            if to_write:
                with without_check_access():
                    cls.write(*to_write)

    @classmethod
    def validate_fields(cls, orders, field_names):
        super().validate_fields(orders, field_names)
        pool = Pool()
        Menu = pool.get('meal.menu')
        for order in orders:
            if order.state != 'ordered':
                continue
            if order.elder.state != 'active':
                raise MealOrderError(gettext(
                        'elder_meal.msg_order_elder_state',
                        elder=order.elder.rec_name))
            if not order.point.active:
                raise MealOrderError(gettext(
                        'elder_meal.msg_order_point_closed',
                        point=order.point.rec_name))
            with without_check_access():
                offers = Menu.offers(order.point, order.date,
                    order.meal_period)
            if order.offer not in offers:
                raise MealOrderError(gettext(
                        'elder_meal.msg_order_offer',
                        point=order.point.rec_name, date=order.date,
                        dish=order.offer.dish.name))
            if order.service_mode == 'delivery':
                order.check_delivery()
            if order.payment_method:
                order.check_payment()

    def check_delivery(self):
        point = self.point
        if not point.delivery:
            raise MealOrderError(gettext(
                    'elder_meal.msg_order_no_delivery',
                    point=point.rec_name))
        with without_check_access():
            lat, lon = self.elder.latitude, self.elder.longitude
        if (lat is None or lon is None or point.latitude is None
                or point.longitude is None):
            raise MealOrderError(gettext(
                    'elder_meal.msg_order_no_coordinates',
                    elder=self.elder.rec_name, point=point.rec_name))
        distance = distance_m(point.latitude, point.longitude, lat, lon)
        if distance > float(point.delivery_radius) * 1000:
            raise MealOrderError(gettext(
                    'elder_meal.msg_order_radius',
                    elder=self.elder.rec_name, point=point.rec_name,
                    distance='%.1f' % (distance / 1000),
                    radius=point.delivery_radius))

    def check_payment(self):
        if self.payment_method in {'card', 'wechat'} and not (
                self.payment_reference):
            raise MealOrderError(gettext(
                    'elder_meal.msg_payment_reference', order=self.rec_name))
        if (self.payment_method == 'wechat'
                and not WECHAT_REFERENCE.match(self.payment_reference)):
            raise MealOrderError(gettext(
                    'elder_meal.msg_payment_wechat', order=self.rec_name,
                    reference=self.payment_reference))

    @classmethod
    def check_modification(cls, mode, orders, values=None, external=False):
        super().check_modification(
            mode, orders, values=values, external=external)
        if mode == 'delete':
            for order in orders:
                if order.state != 'ordered':
                    raise MealOrderError(gettext(
                            'elder_meal.msg_order_delete',
                            order=order.rec_name))
        if mode == 'write' and external:
            for order in orders:
                allowed = {'payment_method', 'payment_reference'}
                if order.state == 'served' and set(values) - allowed:
                    raise MealOrderError(gettext(
                            'elder_meal.msg_order_served',
                            order=order.rec_name))
                if order.state in {'cancelled', 'no_show'}:
                    raise MealOrderError(gettext(
                            'elder_meal.msg_order_closed',
                            order=order.rec_name))

    @classmethod
    def validate(cls, orders):
        super().validate(orders)
        for order in orders:
            if order.state == 'served' and order.payment_method:
                order.check_payment()

    # --- pricing and serving ----------------------------------------------

    @classmethod
    def used_subsidy(cls, elder, start, end, exclude=None):
        "Subsidy already given to the older person between two dates"
        order = cls.__table__()
        cursor = Transaction().connection.cursor()
        where = ((order.elder == elder.id) & (order.date >= start)
            & (order.date <= end) & (order.state == 'served')
            & (order.subsidy_amount != Null))
        if exclude:
            where &= order.id != exclude
        cursor.execute(*order.select(Sum(order.subsidy_amount), where=where))
        amount, = cursor.fetchone()
        return pricing.money(amount or 0)

    def compute_price(self):
        "The values splitting the price between subsidy and self-pay"
        pool = Pool()
        Entitlement = pool.get('elder.entitlement')
        with without_check_access():
            entitlement = Entitlement.meal_subsidy(self.elder, self.date)
            first = not self.search([
                    ('id', '!=', self.id),
                    ('elder', '=', self.elder.id),
                    ('date', '=', self.date),
                    ('meal_period', '=', self.meal_period),
                    ('state', '=', 'served'),
                    ('subsidised', '=', True),
                    ])
        month = self.date.replace(day=1)
        daily_used = self.used_subsidy(
            self.elder, self.date, self.date, self.id)
        monthly_used = self.used_subsidy(
            self.elder, month, self.date, self.id)
        subsidy, self_pay, basis = pricing.split(
            self.price,
            per_meal=entitlement.meal_amount if entitlement else None,
            daily_cap=entitlement.meal_daily_cap if entitlement else None,
            daily_used=daily_used,
            monthly_cap=entitlement.monthly_amount if entitlement else None,
            monthly_used=monthly_used,
            entitled=bool(entitlement), first_of_period=first)
        return {
            'entitlement': entitlement.id if entitlement and basis in {
                    'full', 'capped', 'over_cap'} else None,
            'subsidy_amount': subsidy,
            'self_pay_amount': self_pay,
            'basis': basis,
            'subsidised': subsidy > 0,
            }

    @classmethod
    def serve(cls, order, method, when=None, attempt=None, **values):
        """Serve the order now (check-in): price it and record how the
        person was recognised; return the order"""
        if order.state != 'ordered':
            raise MealOrderError(gettext(
                    'elder_meal.msg_order_not_ordered', order=order.rec_name))
        when = when or dt.datetime.now().replace(microsecond=0)
        if order.elder.state == 'deceased' or (
                order.elder.death_date and order.elder.death_date
                < order.date):
            raise MealOrderError(gettext(
                    'elder_meal.msg_order_elder_state',
                    elder=order.elder.rec_name))
        price = order.compute_price()
        price.update(values)
        price.update({
                'served_at': when,
                'served_by': Transaction().user,
                'checkin_method': method,
                'face_attempt': attempt.id if attempt else None,
                })
        if price.get('payment_method') is None:
            price['payment_method'] = (
                'none' if price['self_pay_amount'] == 0 else None)
        with without_check_access():
            cls.write([order], price)
            cls._serve([order])
        return cls(order.id)

    @classmethod
    @Workflow.transition('served')
    def _serve(cls, orders):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, orders):
        "Cancel a pre-order (with the reason)"
        for order in orders:
            if not order.cancel_reason:
                raise MealOrderError(gettext(
                        'elder_meal.msg_cancel_reason', order=order.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('no_show')
    def mark_no_show(cls, orders):
        "The person did not come (or was not at home)"
        pass

    @classmethod
    def cron_no_show(cls, date=None):
        "Daily: the pre-orders of past days not served are no-shows"
        today = date or Pool().get('ir.date').today()
        orders = cls.search([
                ('state', '=', 'ordered'),
                ('date', '<', today),
                ])
        cls.mark_no_show(orders)
        return orders

    @classmethod
    def deliver(cls, order, latitude, longitude, when=None):
        """The deliverer's check-in at the door: the meal is served, the
        position recorded and compared with the home"""
        Practitioner = Pool().get('elder.practitioner')
        with without_check_access():
            me = Practitioner.search([
                    ('user', '=', Transaction().user)], limit=1)
        if (order.service_mode != 'delivery' or not order.deliverer
                or not me or me[0] != order.deliverer):
            raise MealOrderError(gettext(
                    'elder_meal.msg_delivery_not_yours', order=order.rec_name))
        try:
            latitude = Decimal(str(latitude)).quantize(Decimal('0.000001'))
            longitude = Decimal(str(longitude)).quantize(
                Decimal('0.000001'))
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise ValueError
        except (ValueError, ArithmeticError):
            raise MealOrderError(gettext(
                    'elder_meal.msg_delivery_position', order=order.rec_name))
        with without_check_access():
            home = (order.elder.latitude, order.elder.longitude)
        distance, flagged = None, True
        if home[0] is not None and home[1] is not None:
            distance = round(distance_m(home[0], home[1], latitude,
                    longitude))
            flagged = distance > DELIVERY_TOLERANCE_M
        return cls.serve(order, 'delivery', when=when,
            delivery_latitude=latitude, delivery_longitude=longitude,
            delivery_distance=distance, delivery_flagged=flagged)


class CheckIn(ModelSQL, ModelView):
    "Meal Check-in (就餐签到)"
    __name__ = 'meal.checkin'
    _sensitivity = {
        'elder': 'personal', 'value_hint': 'personal',
        'face_attempt': 'sensitive', 'user': 'internal',
        }
    date = fields.Timestamp("Date", required=True, readonly=True)
    point = fields.Many2One('meal.point', "Meal Point", required=True,
        readonly=True, ondelete='RESTRICT')
    method = fields.Selection(METHODS[1:], "Method", required=True,
        readonly=True)
    result = fields.Selection([
            ('accepted', "Accepted"),
            ('rejected', "Rejected"),
            ], "Result", required=True, readonly=True)
    reason = fields.Selection(CHECKIN_REASONS, "Reason", readonly=True)
    value_hint = fields.Char("Identifier", readonly=True,
        help="The last characters of the ID number or card presented.")
    elder = fields.Many2One('elder.elder', "Older Person", readonly=True,
        ondelete='RESTRICT')
    order = fields.Many2One('meal.order', "Order", readonly=True,
        ondelete='RESTRICT')
    face_attempt = fields.Many2One('face.attempt', "Face Attempt",
        readonly=True, ondelete='RESTRICT')
    user = fields.Many2One('res.user', "User", readonly=True,
        ondelete='SET NULL')
    region = fields.Function(fields.Many2One('elder.region', "Region"),
        'get_point_field')
    provider = fields.Function(fields.Many2One('elder.provider', "Provider"),
        'get_point_field')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.point, Index.Range()),
                (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls.__rpc__.update({
                'counter_check_in': RPC(readonly=False, instantiate=None),
                })

    def get_point_field(self, name):
        return getattr(self.point, name).id

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if external or (mode in {'write', 'delete'}
                and Transaction().check_access):
            raise CheckInError(gettext('elder_meal.msg_checkin_readonly'))

    @classmethod
    def log(cls, values):
        values = dict(values)
        values.setdefault('date', dt.datetime.now().replace(microsecond=0))
        values.setdefault('user', Transaction().user or None)
        with without_check_access():
            record, = cls.create([values])
        return record

    # --- identification ---------------------------------------------------

    @classmethod
    def identify(cls, point, method, value):
        """Return (elder or None, reason or None, face attempt, hint).
        Malformed input raises CheckInError (nothing is recorded)."""
        pool = Pool()
        Elder = pool.get('elder.elder')
        Attempt = pool.get('face.attempt')
        if method == 'face':
            if not isinstance(value, bytes) or not value:
                raise CheckInError(gettext('elder_meal.msg_checkin_image'))
            if not point.gallery:
                return None, 'no_gallery', None, None
            attempt = Attempt.identify(point.gallery, value,
                source='canteen', reference=str(point))
            reason = attempt.reason
            if not reason and attempt.liveness_verdict != 'live':
                # money is paid on this check-in: only a live verdict counts
                reason = ('not_live' if attempt.liveness_verdict == 'spoof'
                    else 'liveness_error')
            elder = None
            if not reason and attempt.matched:
                elder = attempt.matched.elder
                if not elder:
                    reason = 'no_match'
            return elder, reason, attempt, None
        if method == 'id_card':
            try:
                number, _, _ = parse_citizen_id(
                    value if isinstance(value, str) else '')
            except ValueError:
                raise CheckInError(gettext(
                        'elder_meal.msg_checkin_id_number'))
            with without_check_access():
                elders = Elder.search([('id_number', '=', number)], limit=1)
            hint = '*' * 14 + number[-4:]
            if not elders:
                return None, 'unknown_person', None, hint
            return elders[0], None, None, hint
        if method == 'qr':
            match = QR_PATTERN.match((value or '').strip()) if isinstance(
                value, str) else None
            if not match:
                raise CheckInError(gettext('elder_meal.msg_checkin_qr'))
            token = match.group(1)
            with without_check_access():
                elders = Elder.search([('meal_card', '=', token)], limit=1)
            hint = token[-4:]
            if not elders:
                return None, 'unknown_person', None, hint
            return elders[0], None, None, hint
        raise CheckInError(gettext('elder_meal.msg_checkin_method'))

    @classmethod
    def check_in(cls, point, method, value, meal_period=None, offer=None,
            service_mode='dine_in', when=None, payment_method=None,
            payment_reference=None):
        """Check an older person in at the counter of point and serve the
        meal: their pre-order of the period, else a walk-in order of offer
        (or the first offer of the period). Returns the check-in record;
        a rejected one has no order. Raises CheckInError on bad input."""
        pool = Pool()
        Order = pool.get('meal.order')
        Menu = pool.get('meal.menu')
        Line = pool.get('meal.menu.line')
        when = when or dt.datetime.now().replace(microsecond=0)
        if meal_period is None:
            meal_period = point.period_at(when.time())
            if meal_period is None:
                raise CheckInError(gettext(
                        'elder_meal.msg_checkin_closed', point=point.rec_name))
        elif meal_period not in dict(MEAL_PERIODS):
            raise CheckInError(gettext('elder_meal.msg_checkin_period'))
        if service_mode not in dict(MODES) or service_mode == 'delivery':
            raise CheckInError(gettext('elder_meal.msg_checkin_mode'))
        if payment_method not in dict(PAYMENTS):
            raise CheckInError(gettext('elder_meal.msg_checkin_payment'))
        elder, reason, attempt, hint = cls.identify(point, method, value)
        values = {
            'point': point.id, 'method': method, 'value_hint': hint,
            'face_attempt': attempt.id if attempt else None,
            'date': when,
            }
        if elder and (elder.state == 'deceased' or (
                    elder.death_date and elder.death_date <= when.date())):
            reason = 'deceased'
        if reason or not elder:
            return cls.log({**values, 'elder': elder.id if elder else None,
                    'result': 'rejected', 'reason': reason or 'no_match'})
        date = when.date()
        with without_check_access():
            if elder not in point.members:
                # registered at the point from the first meal on
                pool.get('meal.point-elder.elder').create([{
                            'point': point.id, 'elder': elder.id}])
            orders = Order.search([
                    ('elder', '=', elder.id), ('point', '=', point.id),
                    ('date', '=', date), ('meal_period', '=', meal_period),
                    ('state', '=', 'ordered'),
                    ('service_mode', '!=', 'delivery'),
                    ], limit=1)
            if orders:
                order, = orders
            else:
                if offer is not None:
                    offer = Line(int(offer))
                    offers = Menu.offers(point, date, meal_period)
                    if offer not in offers:
                        raise CheckInError(gettext(
                                'elder_meal.msg_checkin_offer',
                                point=point.rec_name))
                else:
                    offers = Menu.offers(point, date, meal_period)
                    if not offers:
                        raise CheckInError(gettext(
                                'elder_meal.msg_checkin_no_menu',
                                point=point.rec_name))
                    offer = offers[0]
                order, = Order.create([{
                            'point': point.id, 'elder': elder.id,
                            'date': date, 'meal_period': meal_period,
                            'channel': 'walk_in', 'service_mode': service_mode,
                            'offer': offer.id,
                            }])
        extra = {}
        if payment_method:
            extra = {'payment_method': payment_method,
                'payment_reference': payment_reference or None}
        order = Order.serve(order, method, when=when, attempt=attempt,
            **extra)
        return cls.log({**values, 'elder': elder.id, 'order': order.id,
                'result': 'accepted'})

    @classmethod
    def counter_check_in(cls, point_id, method, value, meal_period=None,
            offer=None, service_mode='dine_in', payment_method=None,
            payment_reference=None):
        """RPC for counter clients: check in at a point the user works at
        (face images as base64); returns as_json()"""
        import base64
        import binascii
        pool = Pool()
        Point = pool.get('meal.point')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        user = Transaction().user
        admin = ModelData.get_id('res', 'group_admin') in User.get_groups()
        if int(point_id) not in User.get_meal_points() and not (
                admin or user == 0):
            raise CheckInError(gettext('elder_meal.msg_checkin_not_staff'))
        if method == 'face':
            try:
                value = base64.b64decode(value or '', validate=True)
            except (binascii.Error, ValueError, TypeError):
                raise CheckInError(gettext('elder_meal.msg_checkin_image'))
        with without_check_access():
            point = Point(int(point_id))
            checkin = cls.check_in(point, method, value,
                meal_period=meal_period, offer=offer,
                service_mode=service_mode, payment_method=payment_method,
                payment_reference=payment_reference)
            return checkin.as_json()

    def as_json(self):
        order = self.order
        result = {
            'checkin': self.id,
            'result': self.result,
            'reason': self.reason,
            'message': (dict(self.fields_get(['reason'])['reason'][
                        'selection']).get(self.reason) if self.reason
                else None),
            'method': self.method,
            'person': ({'id': self.elder.id, 'name': self.elder.name}
                if self.elder and self.result == 'accepted' else None),
            'order': None,
            }
        if self.face_attempt:
            result['liveness'] = self.face_attempt.liveness_verdict
            result['distance'] = self.face_attempt.distance
        if order:
            result['order'] = {
                'number': order.number, 'meal_period': order.meal_period,
                'dish': order.offer.dish.name,
                'price': str(order.price),
                'subsidy': str(order.subsidy_amount),
                'self_pay': str(order.self_pay_amount),
                'basis': order.basis,
                'basis_text': dict(order.fields_get(['basis'])['basis'][
                        'selection']).get(order.basis),
                }
        return result
