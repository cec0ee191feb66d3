# This file is part of the eldercare platform. See LICENSE.
"""JSON routes of the worker (H5) app.

Authentication: the standard trytond route authentication
(``app.auth_required``): either the session of a JSON-RPC login
(``Authorization: Session base64(login:user_id:session)``, which goes
through the login checks of elder_security: password policy, lockout,
second factor, idle timeout) or HTTP Basic with the user's login and
password. The routes run as that user with access checks on
(``_check_access``), so the record rules of service.order apply: a caregiver
only reaches the orders assigned to them, and check-in/out refuse any other
order.
"""
import base64
import binascii
import datetime as dt
import json

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, with_pool, with_transaction)
from trytond.transaction import Transaction, without_check_access
from trytond.wsgi import app

TASK_STATES = ['accepted', 'on_the_way', 'in_service', 'completed']


def _json(data, status=HTTPStatus.OK):
    return Response(
        json.dumps(data, ensure_ascii=False, default=str), status=status,
        content_type='application/json')


def _error(message, status=HTTPStatus.BAD_REQUEST):
    return _json({'error': message}, status=status)


def tasks_data(orders):
    """The worker app's view of the orders (in their order): a few reads
    for the whole list (orders, older people, items, steps), not a load of
    every field of each record, and only the encrypted fields it shows are
    decrypted. Read without access checks, as record attributes are: the
    caller got the orders through a search with the record rules."""
    pool = Pool()
    Order = pool.get('service.order')
    Elder = pool.get('elder.elder')
    Item = pool.get('service.item')
    Step = pool.get('service.order.step')
    ids = [int(o) for o in orders]
    if not ids:
        return []
    with without_check_access():
        rows = Order.read(ids, ['number', 'state', 'elder', 'address',
                'item', 'requested_date', 'time_from', 'time_to', 'steps',
                'checkin_time', 'checkout_time', 'flagged'])
        elders = {e['id']: e for e in Elder.read(
                list({r['elder'] for r in rows}),
                ['name', 'latitude', 'longitude'])}
        items = {i['id']: i for i in Item.read(
                list({r['item'] for r in rows}),
                ['name', 'service_type.name', 'duration', 'photo_before',
                    'photo_after', 'signature'])}
        steps = {s['id']: s for s in Step.read(
                [s for r in rows for s in r['steps']],
                ['name', 'required', 'done'])}
    rows = {r['id']: r for r in rows}
    result = []
    for id_ in ids:
        order = rows[id_]
        elder = elders[order['elder']]
        item = items[order['item']]
        result.append({
            'id': id_,
            'number': order['number'],
            'state': order['state'],
            'elder': elder['name'],
            'address': order['address'],
            'latitude': elder['latitude'],
            'longitude': elder['longitude'],
            'item': item['name'],
            'service_type': (item['service_type.'] or {}).get('name'),
            'duration': item['duration'],
            'date': order['requested_date'].isoformat(),
            'time_from': (order['time_from'].isoformat()
                if order['time_from'] else None),
            'time_to': (order['time_to'].isoformat()
                if order['time_to'] else None),
            'evidence': {
                'photo_before': item['photo_before'],
                'photo_after': item['photo_after'],
                'signature': item['signature'],
                },
            'steps': [{'id': s, 'name': steps[s]['name'],
                    'required': steps[s]['required'],
                    'done': steps[s]['done']} for s in order['steps']],
            'checkin_time': order['checkin_time'],
            'checkout_time': order['checkout_time'],
            'flagged': order['flagged'],
            })
    return result


def task_data(order):
    return tasks_data([order])[0]


@app.route('/<database_name>/service/worker/tasks', methods={'GET'})
@app.auth_required
@with_pool
@with_transaction(user='request', context=dict(_check_access=True))
def worker_tasks(request, pool):
    "The orders of the logged-in practitioner for a day (today by default)"
    Order = pool.get('service.order')
    Date = pool.get('ir.date')
    date = request.args.get('date')
    try:
        date = dt.date.fromisoformat(date) if date else Date.today()
    except ValueError:
        abort(HTTPStatus.BAD_REQUEST)
    orders = Order.search([
            ('practitioner.user', '=', Transaction().user),
            ('requested_date', '=', date),
            ('state', 'in', TASK_STATES),
            ], order=[('time_from', 'ASC NULLS FIRST'), ('id', 'ASC')])
    return _json({'date': date.isoformat(),
            'tasks': tasks_data(orders)})


def _payload(request):
    try:
        data = json.loads(request.get_data(as_text=True) or '{}')
        if not isinstance(data, dict):
            raise ValueError
        position = (data['latitude'], data['longitude'])
        timestamp = data.get('timestamp')
        if timestamp:
            timestamp = dt.datetime.fromisoformat(timestamp)
            if timestamp.tzinfo:
                timestamp = timestamp.astimezone(dt.timezone.utc).replace(
                    tzinfo=None)
        blobs = {}
        for key in ['photo', 'signature']:
            if data.get(key):
                blobs[key] = base64.b64decode(data[key], validate=True)
        accuracy = data.get('accuracy')
        if accuracy is not None:
            accuracy = float(accuracy)
    except (ValueError, KeyError, TypeError, binascii.Error):
        abort(HTTPStatus.BAD_REQUEST)
    return data, position, accuracy, timestamp, blobs


def _visit(pool, order_id, method, request):
    Order = pool.get('service.order')
    data, (lat, lon), accuracy, timestamp, blobs = _payload(request)
    orders = Order.search([('id', '=', order_id)])
    if not orders:
        abort(HTTPStatus.NOT_FOUND)
    order, = orders
    kwargs = {'accuracy': accuracy, 'timestamp': timestamp,
        'photo': blobs.get('photo')}
    if method == 'checkout':
        kwargs['signature'] = blobs.get('signature')
        kwargs['steps'] = data.get('steps')
    try:
        anomalies = getattr(Order, method)(order, lat, lon, **kwargs)
    except AccessError as e:
        Transaction().rollback()
        return _error(e.message, HTTPStatus.FORBIDDEN)
    except UserError as e:
        Transaction().rollback()
        return _error(e.message, HTTPStatus.CONFLICT)
    return _json({'order': task_data(Order(order.id)),
            'anomalies': anomalies})


@app.route('/<database_name>/service/worker/<int:order>/depart',
    methods={'POST'})
@app.auth_required
@with_pool
@with_transaction(user='request', context=dict(_check_access=True))
def worker_depart(request, pool, order):
    "The practitioner sets off to the older person's home"
    Order = pool.get('service.order')
    orders = Order.search([('id', '=', order)])
    if not orders:
        abort(HTTPStatus.NOT_FOUND)
    order, = orders
    try:
        order._check_worker()
        if order.state != 'accepted':
            abort(HTTPStatus.CONFLICT)
        Order.depart([order])
    except AccessError as e:
        Transaction().rollback()
        return _error(e.message, HTTPStatus.FORBIDDEN)
    except UserError as e:
        Transaction().rollback()
        return _error(e.message, HTTPStatus.CONFLICT)
    return _json({'order': task_data(Order(order.id)), 'anomalies': []})


@app.route('/<database_name>/service/worker/<int:order>/checkin',
    methods={'POST'})
@app.auth_required
@with_pool
@with_transaction(user='request', context=dict(_check_access=True))
def worker_checkin(request, pool, order):
    return _visit(pool, order, 'checkin', request)


@app.route('/<database_name>/service/worker/<int:order>/checkout',
    methods={'POST'})
@app.auth_required
@with_pool
@with_transaction(user='request', context=dict(_check_access=True))
def worker_checkout(request, pool, order):
    return _visit(pool, order, 'checkout', request)
