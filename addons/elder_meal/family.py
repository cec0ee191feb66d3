# This file is part of the eldercare platform. See LICENSE.
"""Family meal API (JSON) for the mini program: meal points, menus with the
older person's subsidised price, pre-orders and their cancellation.

Same accounts, sessions and rules as elder_service's family API
(``family.py`` there, whose helpers this module uses): ``Authorization:
Bearer <web.user session>`` — the key of elder_service's family login or of
elder_wechat's mini-program login — and only for the older people the
caller is a registered contact of (``elder.contact.party``: an active
WeChat binding of elder_wechat links the party there and a revoked one
removes it). Unknown and someone else's older people get the same 403.
The routes run as root and scope every read and write in the code below.
Errors: ``{"error": <translated>, "code": <machine code>}`` with the HTTP
status; bad input changes nothing (the transaction is rolled back). Full
views are audited (``security.audit.event``, ``full_view``).

Routes under ``/<database>/meal/family/v1/``::

    GET  elders/<id>/points          meal points serving the older person
    GET  elders/<id>/menus?point=<code>[&date=][&days=1..14]
                                     published offers with the estimated
                                     subsidy and self-pay of this person
    GET  orders[?elder=<id>]         meal orders of my older people
    GET  orders/<id>
    POST orders                      pre-order (channel mini_program),
                                     idempotent by the Idempotency-Key
    POST orders/<id>/cancel          {"reason"?} own pre-orders, before the
                                     point's cut-off
"""
import datetime as dt
import re

from trytond.i18n import gettext
from trytond.modules.elder_service import family
from trytond.modules.elder_service.family import (
    FamilyError, _audit, _body, _contacts, _int, _json, _my_elder, _parse,
    _text, _web_user)
from trytond.modules.elder_settlement.line import district_of
from trytond.protocols.wrappers import HTTPStatus

from .order import MODES
from .point import MEAL_PERIODS, distance_m

PREFIX = '/<database_name>/meal/family/v1'
# How far ahead a family may see the menus and pre-order.
MAX_DAYS_AHEAD = 14
DEFAULT_DAYS = 7
LICENCE_OK = ['valid', 'expiring']
CODE = re.compile(r'^[A-Za-z0-9_.-]{1,50}$')
REASON_SIZE = 200
CHANNEL = 'mini_program'


def _fail(status, code, msg_id, **variables):
    raise FamilyError(status, code, gettext(
            'elder_meal.msg_family_' + msg_id, **variables))


def meal_route(path, methods):
    "Register a family meal route (elder_service's family route rules)"
    return family.family_route(path, methods, prefix=PREFIX,
        name='meal_family_')


def _now():
    return dt.datetime.now().replace(second=0, microsecond=0)


def _stamp(value):
    return value.strftime('%Y-%m-%d %H:%M') if value else None


def _labels(pool):
    "The translated names of the selections of meal.order"
    Order = pool.get('meal.order')
    names = ['meal_period', 'service_mode', 'state', 'basis', 'channel']
    return {n: dict(f['selection'])
        for n, f in Order.fields_get(names).items()}


# --- meal points ---------------------------------------------------------

def _distance(point, elder):
    if None in (point.latitude, point.longitude, elder.latitude,
            elder.longitude):
        return None
    return round(distance_m(point.latitude, point.longitude,
            elder.latitude, elder.longitude))


def _delivers(point, distance):
    return bool(point.delivery and point.delivery_radius
        and distance is not None
        and distance <= float(point.delivery_radius) * 1000)


def serving_points(pool, elder):
    """The meal points serving the older person: active, in their district,
    with a licence not expired and opening hours; nearest first"""
    Point = pool.get('meal.point')
    district = district_of(elder.region)
    points = [p for p in Point.search([
                ('active', '=', True),
                ('region', 'child_of', [district.id], 'parent'),
                ('licence_state', 'in', LICENCE_OK),
                ]) if p.periods]

    def key(point):
        distance = _distance(point, elder)
        return (distance is None, distance or 0, point.code)
    return sorted(points, key=key)


def _serving_point(pool, elder, code, status):
    if not isinstance(code, str) or not CODE.match(code):
        family._fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field='point')
    for point in serving_points(pool, elder):
        if point.code == code:
            return point
    _fail(status, 'point', 'point_unknown', point=code)


def point_data(point, elder, labels):
    distance = _distance(point, elder)
    return {
        'code': point.code,
        'name': point.name,
        'kind': point.kind,
        'address': point.address,
        'phone': point.phone,
        'latitude': point.latitude,
        'longitude': point.longitude,
        'distance_m': distance,
        'delivery': _delivers(point, distance),
        'delivery_radius_km': point.delivery_radius if point.delivery
        else None,
        'order_cutoff_hours': point.order_cutoff,
        'licence': point.licence_state,
        'registered': elder in point.members,
        'hours': [{
                'meal_period': p.meal_period,
                'meal_period_name': labels['meal_period'].get(p.meal_period),
                'start': p.start.strftime('%H:%M'),
                'end': p.end.strftime('%H:%M'),
                } for p in point.periods],
        }


@meal_route('/elders/<int:elder>/points', methods={'GET'})
def points(request, pool, elder):
    "The meal points serving one of the caller's older people"
    user = _web_user(request, pool)
    elder, _ = _my_elder(pool, user, elder)
    labels = _labels(pool)
    return _json({'elder': {'id': elder.id, 'name': elder.name},
            'points': [point_data(p, elder, labels)
                for p in serving_points(pool, elder)]})


# --- menus -------------------------------------------------------------------

def estimate(pool, elder, date, meal_period, price):
    """The subsidy, self-pay and basis of a meal of price for the older
    person, as the counter would split it now (subsidy already given that
    day and month; other pre-orders are not yet counted)"""
    Order = pool.get('meal.order')
    probe = Order(elder=elder, date=date, meal_period=meal_period,
        price=price)
    values = probe.compute_price()
    return (values['subsidy_amount'], values['self_pay_amount'],
        values['basis'])


def offer_data(pool, offer, elder, date, labels):
    subsidy, self_pay, basis = estimate(pool, elder, date,
        offer.meal_period, offer.price)
    data = offer.as_json()
    data.update({
            'subsidy': str(subsidy),
            'self_pay': str(self_pay),
            'basis': basis,
            'basis_name': labels['basis'].get(basis),
            })
    return data


def _pending(pool, elder, start, end):
    "The pre-orders (state ordered) of the older person by (date, period)"
    Order = pool.get('meal.order')
    return {(o.date, o.meal_period): o for o in Order.search([
                ('elder', '=', elder.id),
                ('date', '>=', start), ('date', '<=', end),
                ('state', '=', 'ordered'),
                ])}


@meal_route('/elders/<int:elder>/menus', methods={'GET'})
def menus(request, pool, elder):
    """The published offers of a meal point for the coming days, with the
    older person's estimated subsidy and self-pay"""
    Menu = pool.get('meal.menu')
    Entitlement = pool.get('elder.entitlement')
    user = _web_user(request, pool)
    elder, _ = _my_elder(pool, user, elder)
    today = pool.get('ir.date').today()
    date = today
    if request.args.get('date'):
        date = _parse(request.args['date'], 'date', dt.date.fromisoformat)
    days = request.args.get('days') or DEFAULT_DAYS
    days = _int(days, 'days')
    if not 1 <= days <= MAX_DAYS_AHEAD:
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'days',
            days=MAX_DAYS_AHEAD)
    if date < today:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'date', 'date_past')
    point = _serving_point(pool, elder, request.args.get('point'),
        HTTPStatus.NOT_FOUND)
    last = min(date + dt.timedelta(days=days - 1),
        today + dt.timedelta(days=MAX_DAYS_AHEAD))
    labels = _labels(pool)
    pending = _pending(pool, elder, date, last)
    now = _now()
    result = []
    day = date
    while day <= last:
        periods = []
        for period, _ in MEAL_PERIODS:
            offers = Menu.offers(point, day, period)
            if not offers:
                continue
            deadline = point.preorder_deadline(day, period)
            order = pending.get((day, period))
            periods.append({
                    'meal_period': period,
                    'meal_period_name': labels['meal_period'].get(period),
                    'deadline': _stamp(deadline),
                    'orderable': bool(deadline and now < deadline
                        and order is None),
                    'order': ({'id': order.id, 'number': order.number,
                            'point': order.point.code,
                            'dish': order.offer.dish.name}
                        if order else None),
                    'offers': [offer_data(pool, o, elder, day, labels)
                        for o in offers],
                    })
        result.append({'date': day.isoformat(), 'weekday': day.weekday(),
                'periods': periods})
        day += dt.timedelta(days=1)
    entitlement = Entitlement.meal_subsidy(elder, date)
    _audit('full_view', user=user, object=elder,
        details={'channel': 'family_api', 'route': 'meal_menus',
            'point': point.code})
    return _json({
            'elder': {'id': elder.id, 'name': elder.name},
            'point': point_data(point, elder, labels),
            'subsidy': ({
                    'per_meal': entitlement.meal_amount,
                    'daily_cap': entitlement.meal_daily_cap,
                    'monthly_cap': entitlement.monthly_amount,
                    } if entitlement else None),
            'days': result,
            })


# --- orders ------------------------------------------------------------------

def _my_elders(pool, user):
    return sorted({c.elder.id for c in _contacts(pool, user)})


def _my_order(pool, user, order_id):
    Order = pool.get('meal.order')
    orders = Order.search([
            ('id', '=', order_id),
            ('elder', 'in', _my_elders(pool, user)),
            ], limit=1)
    if not orders:
        family._fail(HTTPStatus.NOT_FOUND, 'not_found', 'order_not_found')
    return orders[0]


def order_data(pool, order, user, labels, now=None):
    now = now or _now()
    deadline = order.point.preorder_deadline(order.date, order.meal_period)
    if order.state == 'ordered':
        subsidy, self_pay, basis = estimate(pool, order.elder, order.date,
            order.meal_period, order.price)
    else:
        subsidy, self_pay, basis = (order.subsidy_amount,
            order.self_pay_amount, order.basis)
    mine = order.web_user == user
    return {
        'id': order.id,
        'number': order.number,
        'state': order.state,
        'state_name': labels['state'].get(order.state),
        'channel': order.channel,
        'channel_name': labels['channel'].get(order.channel),
        'elder': {'id': order.elder.id, 'name': order.elder.name},
        'point': {'code': order.point.code, 'name': order.point.name,
            'address': order.point.address, 'phone': order.point.phone},
        'date': order.date.isoformat(),
        'meal_period': order.meal_period,
        'meal_period_name': labels['meal_period'].get(order.meal_period),
        'service_mode': order.service_mode,
        'service_mode_name': labels['service_mode'].get(order.service_mode),
        'offer': order.offer.id,
        'dish': order.offer.dish.name,
        'count': 1,
        'price': str(order.price) if order.price is not None else None,
        'subsidy': str(subsidy) if subsidy is not None else None,
        'self_pay': str(self_pay) if self_pay is not None else None,
        'basis': basis,
        'basis_name': labels['basis'].get(basis),
        'estimated': order.state == 'ordered',
        'deadline': _stamp(deadline),
        'served_at': _stamp(order.served_at),
        'cancel_reason': order.cancel_reason if mine else None,
        'mine': mine,
        'can_cancel': bool(mine and order.state == 'ordered'
            and deadline and now < deadline),
        }


@meal_route('/orders', methods={'GET'})
def orders(request, pool):
    "The meal orders of the caller's older people (every channel)"
    Order = pool.get('meal.order')
    user = _web_user(request, pool)
    elders = _my_elders(pool, user)
    elder = request.args.get('elder')
    if elder:
        elder = _int(elder, 'elder')
        if elder not in elders:
            family._fail(HTTPStatus.FORBIDDEN, 'not_your_elder',
                'not_your_elder')
        elders = [elder]
    records = Order.search([('elder', 'in', elders)],
        order=[('date', 'DESC'), ('meal_period', 'DESC'), ('id', 'DESC')],
        limit=100)
    labels = _labels(pool)
    now = _now()
    _audit('full_view', user=user, object='meal.order',
        details={'channel': 'family_api', 'route': 'meal_orders',
            'orders': [o.id for o in records]})
    return _json({'orders': [order_data(pool, o, user, labels, now)
                for o in records]})


@meal_route('/orders/<int:order>', methods={'GET'})
def order(request, pool, order):
    "One meal order of the caller's older people"
    user = _web_user(request, pool)
    order = _my_order(pool, user, order)
    _audit('full_view', user=user, object=order,
        details={'channel': 'family_api', 'route': 'meal_order'})
    return _json({'order': order_data(pool, order, user, _labels(pool))})


def _choice(data, name, choices, default=None):
    value = data.get(name)
    if value in (None, '') and default is not None:
        return default
    if value in (None, ''):
        family._fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_required',
            field=name)
    if not isinstance(value, str) or value not in dict(choices):
        family._fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field=name)
    return value


@meal_route('/orders', methods={'POST'})
def create_order(request, pool):
    """Pre-order a meal for one of the caller's older people.

    Idempotent: the key (header Idempotency-Key or "request_key") makes a
    repeated submission answer the first order (200) instead of creating
    another (201); the same key with other data is a 409."""
    Order = pool.get('meal.order')
    Menu = pool.get('meal.menu')
    WebUser = pool.get('web.user')
    user = _web_user(request, pool)
    data = _body(request)
    key = request.headers.get('Idempotency-Key') or data.get('request_key')
    if not isinstance(key, str) or not family.KEY.match(key):
        family._fail(HTTPStatus.BAD_REQUEST, 'malformed', 'request_key')
    for name in ['elder', 'point', 'date', 'meal_period', 'offer']:
        if data.get(name) in (None, ''):
            family._fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_required',
                field=name)
    elder_id = _int(data['elder'], 'elder')
    code = data['point']
    if not isinstance(code, str) or not CODE.match(code):
        family._fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field='point')
    date = _parse(data['date'], 'date', dt.date.fromisoformat)
    meal_period = _choice(data, 'meal_period', MEAL_PERIODS)
    service_mode = _choice(data, 'service_mode', MODES, default='dine_in')
    offer_id = _int(data['offer'], 'offer')
    count = data.get('count', 1)
    if count is None:
        count = 1
    count = _int(count, 'count')
    if count != 1:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'count', 'count')

    # One submission at a time per account: the double submit waits here
    # and then finds the first order.
    WebUser.lock([user])
    previous = Order.search([
            ('web_user', '=', user.id),
            ('request_key', '=', key),
            ], limit=1)
    labels = _labels(pool)
    if previous:
        order, = previous
        if (order.elder.id, order.point.code, order.date, order.meal_period,
                order.offer.id, order.service_mode) != (
                elder_id, code, date, meal_period, offer_id, service_mode):
            family._fail(HTTPStatus.CONFLICT, 'key_reused', 'key_reused')
        return _json({'order': order_data(pool, order, user, labels),
                'replayed': True})

    elder, _ = _my_elder(pool, user, elder_id)
    point = _serving_point(pool, elder, code,
        HTTPStatus.UNPROCESSABLE_ENTITY)
    today = pool.get('ir.date').today()
    if date < today:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'date', 'date_past')
    if date > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'date', 'date_far',
            days=MAX_DAYS_AHEAD)
    period_name = labels['meal_period'][meal_period]
    deadline = point.preorder_deadline(date, meal_period)
    if deadline is None:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'meal_period',
            'period_not_served', point=point.name, period=period_name)
    if _now() >= deadline:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'too_late', 'too_late',
            deadline=_stamp(deadline))
    offers = Menu.offers(point, date, meal_period)
    offer = next((o for o in offers if o.id == offer_id), None)
    if offer is None:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'offer', 'offer',
            point=point.name, date=date.isoformat(), period=period_name)
    if service_mode == 'delivery' and not _delivers(
            point, _distance(point, elder)):
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'delivery', 'delivery',
            point=point.name)
    existing = Order.search([
            ('elder', '=', elder.id), ('date', '=', date),
            ('meal_period', '=', meal_period), ('state', '=', 'ordered'),
            ], limit=1)
    if existing:
        _fail(HTTPStatus.CONFLICT, 'already_ordered', 'already_ordered',
            number=existing[0].number, period=period_name)

    order, = Order.create([{
                'point': point.id,
                'elder': elder.id,
                'date': date,
                'meal_period': meal_period,
                'channel': CHANNEL,
                'service_mode': service_mode,
                'offer': offer.id,
                'web_user': user.id,
                'request_key': key,
                }])
    return _json({'order': order_data(pool, Order(order.id), user, labels),
            'replayed': False}, HTTPStatus.CREATED)


@meal_route('/orders/<int:order>/cancel', methods={'POST'})
def cancel_order(request, pool, order):
    "Cancel a pre-order the caller placed, before the point's cut-off"
    Order = pool.get('meal.order')
    user = _web_user(request, pool)
    data = _body(request)
    reason = _text(data, 'reason', REASON_SIZE)
    order = _my_order(pool, user, order)
    labels = _labels(pool)
    if order.web_user != user:
        family._fail(HTTPStatus.FORBIDDEN, 'not_yours', 'cancel_not_yours')
    if order.state != 'ordered':
        family._fail(HTTPStatus.CONFLICT, 'state', 'cancel_state',
            state=labels['state'].get(order.state))
    deadline = order.point.preorder_deadline(order.date, order.meal_period)
    if deadline is None or _now() >= deadline:
        _fail(HTTPStatus.CONFLICT, 'too_late', 'cancel_too_late',
            deadline=_stamp(deadline) or '')
    Order.write([order], {'cancel_reason': reason or gettext(
                'elder_service.msg_family_cancel_reason')})
    Order.cancel([order])
    return _json({'order': order_data(pool, Order(order.id), user, labels)})
