# This file is part of the eldercare platform. See LICENSE.
"""Family ordering API (JSON) for the mini program.

Accounts are the official ``web_user`` module's ``web.user`` (email and
password, sessions in ``web.user.session``, link to a ``party.party``). A
family member is an ``elder.contact`` (elder_base) whose ``party`` is the web
user's party (or one of its secondary parties): they reach the older people
they are a registered contact of, and nothing else. ``elder_wechat`` will
bind a WeChat identity to the same ``web.user`` later; these routes do not
change then.

The routes run as root (a web user is not a ``res.user``) and scope every
read and write to the caller's older people in the code below; the tests
prove the refusals. Bad input gets a translated JSON error with an HTTP code
and changes nothing (the transaction is rolled back).

Routes under ``/<database>/service/family/v1/`` (``Authorization: Bearer
<session key>`` except for the login)::

    POST login                 {"email", "password"} → {"session", ...}
    POST logout
    GET  elders                my older people
    GET  elders/<id>/items     service items offered in their region
    GET  orders[?elder=<id>]   orders of my older people, newest first
    POST orders                create (channel family), idempotent by key
    GET  orders/<id>
    POST orders/<id>/cancel    {"reason"} before dispatch, own orders
    POST orders/<id>/confirm   {"rating" 1-5, "comment"} completed orders
"""
import datetime as dt
import json
import re

from trytond.exceptions import RateLimitException, UserError
from trytond.i18n import gettext
from trytond.protocols.wrappers import (
    HTTPStatus, Response, with_pool, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app

PREFIX = '/<database_name>/service/family/v1'
LANGUAGES = {'zh': 'zh_CN', 'en': 'en'}
DEFAULT_LANGUAGE = 'zh_CN'
# The family may cancel its own orders until a provider has them.
FAMILY_CANCELLABLE = ('draft', 'submitted')
# How far ahead a family may book.
MAX_DAYS_AHEAD = 90
KEY = re.compile(r'^[A-Za-z0-9_.:-]{8,64}$')
NOTE_SIZE = 500
LOCKOUT_PREFIX = 'web.user:'


class FamilyError(Exception):
    "An error answered as JSON: HTTP status, code and translated message"

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _fail(status, code, msg_id, **variables):
    raise FamilyError(status, code, gettext(
            'elder_service.msg_family_' + msg_id, **variables))


def _json(data, status=HTTPStatus.OK):
    response = Response(
        json.dumps(data, ensure_ascii=False, default=str), status=status,
        content_type='application/json; charset=utf-8')
    response.headers['Cache-Control'] = 'no-store'
    return response


def _language(request):
    for value, _ in request.accept_languages:
        code = LANGUAGES.get(value.replace('_', '-').split('-')[0].lower())
        if code:
            return code
    return DEFAULT_LANGUAGE


def family_route(path, methods, prefix=PREFIX, name=''):
    """Register a family route: JSON errors, rollback on error, language
    from Accept-Language (Chinese by default). Other modules' family APIs
    register theirs with their prefix, and a name prefix for the view."""
    def decorator(func):
        def view(request, pool, **kwargs):
            transaction = Transaction()
            with transaction.set_context(language=_language(request)):
                try:
                    return func(request, pool, **kwargs)
                except FamilyError as e:
                    transaction.rollback()
                    return _json({'error': e.message, 'code': e.code},
                        e.status)
                except UserError as e:
                    # A rule of the model refused the data.
                    transaction.rollback()
                    return _json({'error': e.message, 'code': 'invalid'},
                        HTTPStatus.UNPROCESSABLE_ENTITY)
        view.__name__ = name + func.__name__
        view.__doc__ = func.__doc__
        return app.route(prefix + path, methods=methods)(
            with_pool(with_transaction()(view)))
    return decorator


# --- input -------------------------------------------------------------------

def _body(request):
    try:
        data = json.loads(request.get_data(as_text=True) or '{}')
    except ValueError:
        data = None
    if not isinstance(data, dict):
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'malformed')
    return data


def _int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field=name)
    try:
        return int(value)
    except ValueError:
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field=name)


def _text(data, name, size, required=False):
    value = data.get(name)
    if value is None or value == '':
        if required:
            _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_required',
                field=name)
        return None
    if not isinstance(value, str) or len(value) > size:
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field=name)
    return value.strip() or None


def _parse(value, name, parser):
    if not isinstance(value, str):
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field=name)
    try:
        return parser(value)
    except ValueError:
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field=name)


# --- authentication ------------------------------------------------------------

def _audit(event_type, user=None, email=None, **values):
    from trytond.pool import Pool
    Event = Pool().get('security.audit.event')
    if user is not None:
        email = user.email
    Event.log(event_type, user_id=0,
        login=(LOCKOUT_PREFIX + (email or ''))[:512], **values)


def _web_user(request, pool):
    "The web user of the Bearer session or a 401"
    WebUser = pool.get('web.user')
    header = request.headers.get('Authorization') or ''
    scheme, _, key = header.partition(' ')
    key = key.strip()
    if scheme.lower() != 'bearer' or not key or len(key) > 200:
        _fail(HTTPStatus.UNAUTHORIZED, 'unauthenticated', 'unauthenticated')
    user = WebUser.get_user(key)
    if not user or not user.active:
        _fail(HTTPStatus.UNAUTHORIZED, 'unauthenticated', 'unauthenticated')
    return user


def _parties(user):
    parties = [user.party.id] if user.party else []
    return parties + [p.id for p in user.secondary_parties]


def _contacts(pool, user, elder=None):
    "The caller's elder.contact records (of one older person)"
    Contact = pool.get('elder.contact')
    parties = _parties(user)
    if not parties:
        return []
    domain = [
        ('party', 'in', parties),
        ('elder.state', '=', 'active'),
        ]
    if elder is not None:
        domain.append(('elder', '=', elder))
    return Contact.search(domain, order=[('elder', 'ASC'), ('id', 'ASC')])


def _my_elder(pool, user, elder_id):
    "The older person if the caller is their registered contact, or a 403"
    contacts = _contacts(pool, user, elder_id)
    if not contacts:
        # Unknown or someone else's: the same answer, so ids leak nothing.
        _fail(HTTPStatus.FORBIDDEN, 'not_your_elder', 'not_your_elder')
    return contacts[0].elder, contacts[0]


def _my_order(pool, user, order_id):
    Order = pool.get('service.order')
    elders = {c.elder.id for c in _contacts(pool, user)}
    orders = Order.search([
            ('id', '=', order_id),
            ('elder', 'in', list(elders)),
            ], limit=1)
    if not orders:
        _fail(HTTPStatus.NOT_FOUND, 'not_found', 'order_not_found')
    return orders[0]


@family_route('/login', methods={'POST'})
def family_login(request, pool):
    "Log a family member in: email and password → session key"
    WebUser = pool.get('web.user')
    Lockout = pool.get('security.login.lockout')
    Configuration = pool.get('security.configuration')
    data = _body(request)
    email = _text(data, 'email', 320, required=True)
    password = data.get('password')
    if not isinstance(password, str) or not password or len(password) > 256:
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_required',
            field='password')
    email = email.lower()
    lockout_key = LOCKOUT_PREFIX + email
    config = Configuration.get_values()
    if Lockout.is_locked(lockout_key, config):
        _audit('login_failure', email=email, result='failure',
            details={'reason': 'locked', 'channel': 'family_api'})
        _fail(HTTPStatus.TOO_MANY_REQUESTS, 'locked', 'locked',
            minutes=config['lockout_duration'])
    try:
        user = WebUser.authenticate(email, password)
    except RateLimitException:
        _audit('login_failure', email=email, result='failure',
            details={'reason': 'rate_limit', 'channel': 'family_api'})
        _fail(HTTPStatus.TOO_MANY_REQUESTS, 'locked', 'locked',
            minutes=config['lockout_duration'])
    if not user:
        # Counted (in this transaction, which commits with the answer)
        Lockout.failure(lockout_key, config)
        _audit('login_failure', email=email, result='failure',
            details={'channel': 'family_api'})
        # Answered, not raised: the failure counted must be committed.
        return _json({
                'error': gettext('elder_service.msg_family_bad_credentials'),
                'code': 'bad_credentials'}, HTTPStatus.UNAUTHORIZED)
    Lockout.success(lockout_key)
    if not _contacts(pool, user):
        _audit('login_failure', user=user, result='failure',
            object=user, details={'reason': 'no_elder',
                'channel': 'family_api'})
        raise FamilyError(HTTPStatus.FORBIDDEN, 'not_family',
            gettext('elder_service.msg_family_not_family'))
    key = user.new_session()
    _audit('login', user=user, object=user,
        details={'channel': 'family_api'})
    return _json({
            'session': key,
            'expires_in': int(
                pool.get('web.user.session').timeout().total_seconds()),
            'email': user.email,
            'name': user.party.rec_name if user.party else None,
            })


@family_route('/logout', methods={'POST'})
def family_logout(request, pool):
    "End the session"
    Session = pool.get('web.user.session')
    user = _web_user(request, pool)
    key = request.headers['Authorization'].partition(' ')[2].strip()
    Session.remove(key)
    _audit('other', user=user, object=user,
        details={'action': 'logout', 'channel': 'family_api'})
    return _json({'ok': True})


# --- older people and catalog ----------------------------------------------------

def _mask_name(name):
    "王小明 → 王**: a caregiver's family name only"
    if not name:
        return None
    return name[0] + '*' * max(len(name) - 1, 1)


@family_route('/elders', methods={'GET'})
def family_elders(request, pool):
    "The older people the caller is a registered contact of"
    Contact = pool.get('elder.contact')
    user = _web_user(request, pool)
    contacts = _contacts(pool, user)
    relationships = dict(
        Contact.fields_get(['relationship'])['relationship']['selection'])
    seen, elders = set(), []
    for contact in contacts:
        elder = contact.elder
        if elder.id in seen:
            continue
        seen.add(elder.id)
        elders.append({
                'id': elder.id,
                'name': elder.name,
                'relationship': contact.relationship,
                'relationship_name': relationships.get(
                    contact.relationship),
                'region': elder.region.name,
                })
    _audit('full_view', user=user, object='elder.elder',
        details={'channel': 'family_api', 'route': 'elders',
            'elders': sorted(seen)})
    return _json({'elders': elders})


def item_data(item):
    return {
        'id': item.id,
        'code': item.code,
        'name': item.name,
        'service_type': {
            'code': item.service_type.code,
            'name': item.service_type.name},
        'unit': item.unit,
        'unit_name': item.unit_string,
        'duration': item.duration,
        'price': str(item.price),
        'description': item.description,
        }


def _offered(pool, elder):
    Item = pool.get('service.item')
    return [i for i in Item.search([], order=[('code', 'ASC')])
        if i.offered_in(elder.region)]


@family_route('/elders/<int:elder>/items', methods={'GET'})
def family_items(request, pool, elder):
    "The service items the older person may order in their region"
    user = _web_user(request, pool)
    elder, _ = _my_elder(pool, user, elder)
    return _json({'elder': elder.id,
            'items': [item_data(i) for i in _offered(pool, elder)]})


# --- orders ------------------------------------------------------------------------

def order_data(order, user):
    return {
        'id': order.id,
        'number': order.number,
        'state': order.state,
        'state_name': order.state_string,
        'channel': order.channel,
        'elder': {'id': order.elder.id, 'name': order.elder.name},
        'item': {'id': order.item.id, 'name': order.item.name},
        'date': order.requested_date.isoformat(),
        'time_from': order.time_from.strftime('%H:%M')
        if order.time_from else None,
        'time_to': order.time_to.strftime('%H:%M')
        if order.time_to else None,
        'note': order.note if order.web_user == user else None,
        'provider': order.provider.rec_name if order.provider else None,
        'practitioner': _mask_name(
            order.practitioner.name if order.practitioner else None),
        'checkin_time': order.checkin_time,
        'checkout_time': order.checkout_time,
        'duration': order.duration,
        'rating': order.rating,
        'rating_comment': order.rating_comment,
        'mine': order.web_user == user,
        'can_cancel': (order.web_user == user
            and order.state in FAMILY_CANCELLABLE),
        'can_confirm': order.state == 'completed',
        }


@family_route('/orders', methods={'GET'})
def family_orders(request, pool):
    "The orders of the caller's older people (every channel)"
    Order = pool.get('service.order')
    user = _web_user(request, pool)
    elders = sorted({c.elder.id for c in _contacts(pool, user)})
    elder = request.args.get('elder')
    if elder:
        elder = _int(elder, 'elder')
        if elder not in elders:
            _fail(HTTPStatus.FORBIDDEN, 'not_your_elder', 'not_your_elder')
        elders = [elder]
    orders = Order.search([('elder', 'in', elders)],
        order=[('requested_date', 'DESC'), ('id', 'DESC')], limit=100)
    _audit('full_view', user=user, object='service.order',
        details={'channel': 'family_api', 'route': 'orders',
            'orders': [o.id for o in orders]})
    return _json({'orders': [order_data(o, user) for o in orders]})


@family_route('/orders/<int:order>', methods={'GET'})
def family_order(request, pool, order):
    "One order of the caller's older people"
    user = _web_user(request, pool)
    order = _my_order(pool, user, order)
    _audit('full_view', user=user, object=order,
        details={'channel': 'family_api', 'route': 'order'})
    return _json({'order': order_data(order, user)})


@family_route('/orders', methods={'POST'})
def family_create_order(request, pool):
    """Order a service for one of the caller's older people.

    Idempotent: the key (header Idempotency-Key or "request_key") makes a
    second submission answer the first order (200) instead of creating
    another (201)."""
    Order = pool.get('service.order')
    Item = pool.get('service.item')
    WebUser = pool.get('web.user')
    Configuration = pool.get('service.configuration')
    user = _web_user(request, pool)
    data = _body(request)
    key = request.headers.get('Idempotency-Key') or data.get('request_key')
    if not isinstance(key, str) or not KEY.match(key):
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'request_key')
    for name in ['elder', 'item', 'date', 'time_from']:
        if data.get(name) in (None, ''):
            _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_required',
                field=name)
    elder_id = _int(data['elder'], 'elder')
    item_id = _int(data['item'], 'item')
    date = _parse(data['date'], 'date', dt.date.fromisoformat)
    time_from = _parse(data['time_from'], 'time_from', dt.time.fromisoformat)
    time_to = None
    if data.get('time_to'):
        time_to = _parse(data['time_to'], 'time_to', dt.time.fromisoformat)
    note = _text(data, 'note', NOTE_SIZE)

    # One submission at a time per account: the double submit waits here
    # and then finds the first order.
    WebUser.lock([user])
    previous = Order.search([
            ('web_user', '=', user.id),
            ('request_key', '=', key),
            ], limit=1)
    if previous:
        order, = previous
        if (order.elder.id, order.item.id, order.requested_date) != (
                elder_id, item_id, date):
            _fail(HTTPStatus.CONFLICT, 'key_reused', 'key_reused')
        return _json({'order': order_data(order, user), 'replayed': True})

    elder, contact = _my_elder(pool, user, elder_id)
    items = Item.search([('id', '=', item_id)], limit=1)
    if not items:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'item', 'item_unknown')
    item, = items
    if not item.offered_in(elder.region):
        raise FamilyError(HTTPStatus.UNPROCESSABLE_ENTITY, 'item',
            gettext('elder_service.msg_item_not_offered',
                item=item.rec_name, region=elder.region.rec_name))
    start = dt.datetime.combine(date, time_from)
    now = dt.datetime.now()
    if start <= now:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'time', 'time_past',
            start=start.strftime('%Y-%m-%d %H:%M'))
    if date > now.date() + dt.timedelta(days=MAX_DAYS_AHEAD):
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'time', 'time_far',
            days=MAX_DAYS_AHEAD)
    if time_to is not None and time_to <= time_from:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'time', 'time_order')

    actor = gettext('elder_service.msg_family_actor', name=contact.name)
    with Transaction().set_context(service_actor=actor):
        order, = Order.create([{
                    'elder': elder.id,
                    'item': item.id,
                    'channel': 'family',
                    'requested_date': date,
                    'time_from': time_from,
                    'time_to': time_to,
                    'note': note,
                    'web_user': user.id,
                    'request_key': key,
                    }])
        Order.submit([order])
        config = Configuration(1)
        if config.auto_dispatch and config.dispatch_policy:
            Order.dispatch_orders([order])
    order = Order(order.id)
    return _json({'order': order_data(order, user), 'replayed': False},
        HTTPStatus.CREATED)


@family_route('/orders/<int:order>/cancel', methods={'POST'})
def family_cancel(request, pool, order):
    "Cancel an order the caller placed, before a provider has it"
    Order = pool.get('service.order')
    user = _web_user(request, pool)
    data = _body(request)
    reason = _text(data, 'reason', 200)
    order = _my_order(pool, user, order)
    if order.web_user != user:
        _fail(HTTPStatus.FORBIDDEN, 'not_yours', 'cancel_not_yours')
    if order.state not in FAMILY_CANCELLABLE:
        _fail(HTTPStatus.CONFLICT, 'state', 'cancel_state',
            state=order.state_string)
    actor = gettext('elder_service.msg_family_actor',
        name=_contacts(pool, user, order.elder.id)[0].name)
    with Transaction().set_context(service_actor=actor):
        Order.write([order], {'cancel_reason': reason or gettext(
                    'elder_service.msg_family_cancel_reason')})
        Order.cancel([order])
    return _json({'order': order_data(Order(order.id), user)})


@family_route('/orders/<int:order>/confirm', methods={'POST'})
def family_confirm(request, pool, order):
    "Confirm a completed visit with a rating (1–5) and a comment"
    Order = pool.get('service.order')
    user = _web_user(request, pool)
    data = _body(request)
    rating = data.get('rating')
    if isinstance(rating, bool) or not isinstance(rating, int) \
            or not 1 <= rating <= 5:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'rating', 'rating')
    comment = _text(data, 'comment', NOTE_SIZE)
    order = _my_order(pool, user, order)
    if order.state != 'completed':
        _fail(HTTPStatus.CONFLICT, 'state', 'confirm_state',
            state=order.state_string)
    contact = _contacts(pool, user, order.elder.id)[0]
    actor = gettext('elder_service.msg_family_actor', name=contact.name)
    with Transaction().set_context(service_actor=actor):
        Order.confirm_service(order, rating, comment, by=actor)
    return _json({'order': order_data(Order(order.id), user)})
