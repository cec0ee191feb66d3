# This file is part of the eldercare platform. See LICENSE.
"""JSON routes of meal assistance.

Public (no login; published information only, no personal data):

GET  /<db>/meal/points[?region=<GB/T 2260 code>]
     active meal points of the region subtree: name, kind, address,
     coordinates, hours, seats, delivery radius, licence state.
GET  /<db>/meal/menus?point=<code>[&date=YYYY-MM-DD][&days=1..14]
     the published offers of the point day by day (dish, price, nutrition
     tags) for families and the mini program.

Staff (trytond route authentication, as the worker routes of elder_service):

POST /<db>/meal/checkin    {"point": code, "method": "face"|"id_card"|"qr",
                            "image": base64 (face) | "value": str,
                            "meal_period"?, "offer"?, "service_mode"?,
                            "payment_method"?, "payment_reference"?}
     only for the staff of the point; answers the check-in (result, reason,
     person's name, price, subsidy, self-pay). Bad input → 400 with the
     translated message, nothing recorded.
POST /<db>/meal/delivery/<order>/checkin  {"latitude", "longitude"}
     the deliverer's check-in at the door.
"""
import base64
import binascii
import datetime as dt
import json

from trytond.exceptions import UserError
from trytond.modules.elder_service.family import _language
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, with_pool, with_transaction)
from trytond.transaction import Transaction, without_check_access
from trytond.wsgi import app

MAX_IMAGE_REQUEST = 8 * 1024 * 1024


def _json(data, status=HTTPStatus.OK):
    return Response(
        json.dumps(data, ensure_ascii=False, default=str), status=status,
        content_type='application/json')


def _body(request):
    try:
        data = json.loads(request.get_data(as_text=True) or '{}')
    except ValueError:
        abort(HTTPStatus.BAD_REQUEST)
    if not isinstance(data, dict):
        abort(HTTPStatus.BAD_REQUEST)
    return data


@app.route('/<database_name>/meal/points', methods={'GET'})
@with_pool
@with_transaction()
def meal_points(request, pool):
    Point = pool.get('meal.point')
    Region = pool.get('elder.region')
    domain = [('active', '=', True)]
    code = request.args.get('region')
    if code:
        regions = Region.search([('code', '=', code[:12])], limit=1)
        if not regions:
            abort(HTTPStatus.NOT_FOUND)
        domain.append(('region', 'child_of', [regions[0].id], 'parent'))
    result = []
    for point in Point.search(domain):
        result.append({
                'code': point.code, 'name': point.name, 'kind': point.kind,
                'region': point.region.code, 'address': point.address,
                'latitude': point.latitude, 'longitude': point.longitude,
                'phone': point.phone, 'seats': point.capacity,
                'delivery': bool(point.delivery),
                'delivery_radius_km': point.delivery_radius,
                'licence': point.licence_state,
                'hours': [{'meal_period': p.meal_period,
                        'start': p.start.strftime('%H:%M'),
                        'end': p.end.strftime('%H:%M')}
                    for p in point.periods],
                })
    return _json({'points': result})


@app.route('/<database_name>/meal/menus', methods={'GET'})
@with_pool
@with_transaction()
def meal_menus(request, pool):
    Point = pool.get('meal.point')
    Menu = pool.get('meal.menu')
    Date = pool.get('ir.date')
    points = Point.search([
            ('code', '=', (request.args.get('point') or '')[:50]),
            ('active', '=', True)], limit=1)
    if not points:
        abort(HTTPStatus.NOT_FOUND)
    point, = points
    try:
        date = (dt.date.fromisoformat(request.args['date'])
            if request.args.get('date') else Date.today())
        days = int(request.args.get('days') or 1)
        if not 1 <= days <= 14:
            raise ValueError
    except ValueError:
        abort(HTTPStatus.BAD_REQUEST)
    result = []
    for i in range(days):
        day = date + dt.timedelta(days=i)
        result.append({
                'date': day.isoformat(),
                'offers': [l.as_json() for l in Menu.offers(point, day)],
                })
    return _json({'point': {'code': point.code, 'name': point.name},
            'days': result})


@app.route('/<database_name>/meal/checkin', methods={'POST'})
@app.auth_required
@with_pool
@with_transaction(user='request', context=dict(_check_access=True))
def meal_checkin(request, pool):
    Point = pool.get('meal.point')
    CheckIn = pool.get('meal.checkin')
    User = pool.get('res.user')
    data = _body(request)
    with without_check_access():
        points = Point.search([
                ('code', '=', str(data.get('point') or '')[:50]),
                ('active', '=', True)], limit=1)
    if not points:
        abort(HTTPStatus.NOT_FOUND)
    point, = points
    if point.id not in User.get_meal_points():
        abort(HTTPStatus.FORBIDDEN)
    method = data.get('method')
    value = data.get('value')
    if method == 'face':
        try:
            value = base64.b64decode(data.get('image') or '', validate=True)
        except (binascii.Error, ValueError, TypeError):
            abort(HTTPStatus.BAD_REQUEST)
    try:
        # messages and reasons in the language of the counter's browser
        with Transaction().set_context(_check_access=False,
                language=_language(request)):
            checkin = CheckIn.check_in(point, method, value,
                meal_period=data.get('meal_period') or None,
                offer=data.get('offer') or None,
                service_mode=data.get('service_mode') or 'dine_in',
                payment_method=data.get('payment_method') or None,
                payment_reference=data.get('payment_reference') or None)
            result = checkin.as_json()
    except UserError as e:
        Transaction().rollback()
        return _json({'error': e.message}, HTTPStatus.BAD_REQUEST)
    except ValueError:
        Transaction().rollback()
        abort(HTTPStatus.BAD_REQUEST)
    return _json(result)


meal_checkin.max_request_size = MAX_IMAGE_REQUEST


@app.route('/<database_name>/meal/delivery/<int:order>/checkin',
    methods={'POST'})
@app.auth_required
@with_pool
@with_transaction(user='request', context=dict(_check_access=True))
def meal_delivery_checkin(request, pool, order):
    Order = pool.get('meal.order')
    data = _body(request)
    with without_check_access():
        orders = Order.search([('id', '=', order)])
    if not orders:
        abort(HTTPStatus.NOT_FOUND)
    try:
        with Transaction().set_context(_check_access=False):
            served = Order.deliver(orders[0], data.get('latitude'),
                data.get('longitude'))
            result = {
                'number': served.number, 'state': served.state,
                'distance': served.delivery_distance,
                'flagged': served.delivery_flagged,
                'subsidy': str(served.subsidy_amount),
                'self_pay': str(served.self_pay_amount),
                }
    except UserError as e:
        Transaction().rollback()
        return _json({'error': e.message}, HTTPStatus.CONFLICT)
    return _json(result)
