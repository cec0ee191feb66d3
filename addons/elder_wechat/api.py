# This file is part of the eldercare platform. See LICENSE.
"""REST API of the mini program and the H5 family page (JSON).

Routes under ``/<database>/wechat/v1/`` (OpenAPI document:
``GET openapi.json``, kept in the repository as ``openapi.json``).
``Authorization: Bearer <session>`` (the web_user session a WeChat login
returns, also valid on elder_service's family API) except for the logins.

Every call about an older person is authorised by an active binding of the
caller (wechat.binding): unknown and someone else's older people get the
same 403. Errors are JSON ``{"error": <translated message>, "code":
<machine code>}`` with an HTTP status; bad input changes nothing. Lists
take ``page`` (from 1) and ``size`` (1–50) and answer ``{"items", "page",
"size", "total"}``. Calls are counted per account (and logins per client
address) in the database; over the limit: 429.
"""
import datetime as dt
import json
import mimetypes
import os
import re
from decimal import Decimal

from wechatpy.exceptions import WeChatClientException
import requests

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.protocols.wrappers import (
    HTTPStatus, Response, with_pool, with_transaction)
from trytond.transaction import Transaction, without_check_access
from trytond.wsgi import app

from trytond.modules.elder_base.elder import RELATIONSHIPS
from trytond.modules.elder_base.identity import (
    normalize_phone, parse_citizen_id)
from trytond.modules.elder_security.masking import mask_value
from trytond.modules.elder_service import family

from .account import registered

PREFIX = '/<database_name>/wechat/v1'
HERE = os.path.dirname(__file__)
OPENAPI = os.path.join(HERE, 'openapi.json')
H5 = os.path.join(HERE, 'h5')
PAGE_SIZE, MAX_PAGE_SIZE = 20, 50
CODE = re.compile(r'^[A-Za-z0-9_-]{1,128}$')
APPID = re.compile(r'^wx[0-9A-Za-z]{6,32}$')
TEXT_SIZE = 500


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _fail(status, code, msg_id, **variables):
    raise ApiError(status, code,
        gettext('elder_wechat.msg_api_' + msg_id, **variables))


def _answer(status, code, msg_id, **variables):
    "An error answered (not raised): what the call counted is committed"
    return _json({'error': gettext('elder_wechat.msg_api_' + msg_id,
                **variables), 'code': code}, status)


def _json(data, status=HTTPStatus.OK):
    response = Response(
        json.dumps(data, ensure_ascii=False, default=str), status=status,
        content_type='application/json; charset=utf-8')
    response.headers['Cache-Control'] = 'no-store'
    return response


def wechat_route(path, methods, auth=True):
    """A JSON route: language from Accept-Language, the caller's web user
    (auth), rate limit, JSON errors with rollback"""
    def decorator(func):
        def view(request, pool, **kwargs):
            transaction = Transaction()
            Configuration = pool.get('wechat.configuration')
            Throttle = pool.get('wechat.throttle')
            with transaction.set_context(
                    language=family._language(request)):
                try:
                    config = Configuration(1)
                    if auth:
                        user = _web_user(request, pool)
                        if Throttle.hit('api:%s' % user.id,
                                config.api_per_minute, 60):
                            return _answer(HTTPStatus.TOO_MANY_REQUESTS,
                                'rate_limited', 'rate_limited')
                        return func(request, pool, user, **kwargs)
                    return func(request, pool, **kwargs)
                except ApiError as e:
                    transaction.rollback()
                    return _json({'error': e.message, 'code': e.code},
                        e.status)
                except family.FamilyError as e:
                    transaction.rollback()
                    return _json({'error': e.message, 'code': e.code},
                        e.status)
                except UserError as e:
                    transaction.rollback()
                    return _json({'error': e.message, 'code': 'invalid'},
                        HTTPStatus.UNPROCESSABLE_ENTITY)
        view.__name__ = 'wechat_' + func.__name__
        view.__doc__ = func.__doc__
        return app.route(PREFIX + path, methods=methods)(
            with_pool(with_transaction(readonly=False)(view)))
    return decorator


# --- input ---------------------------------------------------------------

def _body(request):
    try:
        data = json.loads(request.get_data(as_text=True) or '{}')
    except ValueError:
        data = None
    if not isinstance(data, dict):
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'malformed')
    return data


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


def _page(request):
    try:
        page = int(request.args.get('page', 1))
        size = int(request.args.get('size', PAGE_SIZE))
    except ValueError:
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field='page')
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'page')
    return page, size


def _paged(Model, domain, order, request, convert):
    page, size = _page(request)
    total = Model.search_count(domain)
    records = Model.search(domain, order=order, offset=(page - 1) * size,
        limit=size)
    return {'items': [convert(r) for r in records], 'page': page,
        'size': size, 'total': total}


# --- callers -------------------------------------------------------------

def _session_key(request):
    header = request.headers.get('Authorization') or ''
    scheme, _, key = header.partition(' ')
    key = key.strip()
    if scheme.lower() != 'bearer' or not key or len(key) > 200:
        _fail(HTTPStatus.UNAUTHORIZED, 'unauthenticated', 'unauthenticated')
    return key


def _web_user(request, pool):
    WebUser = pool.get('web.user')
    user = WebUser.get_user(_session_key(request))
    if not user or not user.active:
        _fail(HTTPStatus.UNAUTHORIZED, 'unauthenticated', 'unauthenticated')
    return user


def _elder(pool, user, elder_id):
    "The older person if the caller has an active binding, or a 403"
    Binding = pool.get('wechat.binding')
    Elder = pool.get('elder.elder')
    if elder_id not in Binding.active_elders(user):
        _fail(HTTPStatus.FORBIDDEN, 'not_your_elder', 'not_your_elder')
    return Elder(elder_id)


def _my_order(pool, user, order_id):
    Binding = pool.get('wechat.binding')
    Order = pool.get('service.order')
    orders = Order.search([('id', '=', order_id),
            ('elder', 'in', Binding.active_elders(user))], limit=1)
    if not orders:
        _fail(HTTPStatus.NOT_FOUND, 'not_found', 'order_not_found')
    return orders[0]


def _client_address(request):
    return request.remote_addr or 'unknown'


def _delegate(func, request, pool, **kwargs):
    "Run an elder_service family route's view in this transaction"
    view = func
    while hasattr(view, '__wrapped__'):
        view = view.__wrapped__
    return view(request, pool, **kwargs)


# --- documents -------------------------------------------------------------

@app.route(PREFIX + '/openapi.json', methods={'GET'})
def wechat_openapi(request, database_name):
    "The OpenAPI document of this API"
    with open(OPENAPI, 'rb') as file:
        response = Response(file.read(),
            content_type='application/json; charset=utf-8')
    response.headers['Cache-Control'] = 'no-cache'
    return response


@app.route('/<database_name>/wechat/h5/', methods={'GET'})
@app.route('/<database_name>/wechat/h5/<path:name>', methods={'GET'})
def wechat_h5(request, database_name, name='index.html'):
    "The H5 family page of the official account (static files)"
    path = os.path.normpath(os.path.join(H5, name))
    if not path.startswith(H5 + os.sep) or not os.path.isfile(path):
        return Response('Not Found', status=404)
    with open(path, 'rb') as file:
        data = file.read()
    content_type = mimetypes.guess_type(path)[0] or 'application/octet-stream'
    if content_type.startswith('text/') or content_type.endswith(
            'javascript'):
        content_type += '; charset=utf-8'
    response = Response(data, content_type=content_type)
    response.headers['Cache-Control'] = 'no-cache'
    response.headers['Content-Security-Policy'] = (
        "default-src 'self'; connect-src *; img-src 'self' data:")
    return response


# --- login -------------------------------------------------------------------

def _login_answer(pool, identity):
    Binding = pool.get('wechat.binding')
    Session = pool.get('web.user.session')
    user = identity.web_user
    key = user.new_session()
    family._audit('login', user=user, object=user,
        details={'channel': 'wechat_' + identity.account.kind})
    return _json({
            'session': key,
            'expires_in': int(Session.timeout().total_seconds()),
            'bound': bool(Binding.active_elders(user)),
            'name': user.party.rec_name if user.party else None,
            })


def _login(request, pool, kind):
    Account = pool.get('wechat.account')
    Identity = pool.get('wechat.identity')
    Configuration = pool.get('wechat.configuration')
    Throttle = pool.get('wechat.throttle')
    config = Configuration(1)
    if Throttle.hit('login:%s' % _client_address(request),
            config.logins_per_minute, 60):
        return _answer(HTTPStatus.TOO_MANY_REQUESTS, 'rate_limited',
            'rate_limited')
    data = _body(request)
    appid = _text(data, 'appid', 64, required=True)
    code = _text(data, 'code', 128, required=True)
    if not APPID.match(appid) or not CODE.match(code):
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field='code')
    account = Account.by_appid(appid)
    if not account or account.kind != kind or not account.active:
        _fail(HTTPStatus.BAD_REQUEST, 'unknown_app', 'unknown_app')
    try:
        if kind == 'mini_program':
            result = account.client().wxa.code_to_session(code)
        else:
            from .client import oauth_for
            result = oauth_for(account).fetch_access_token(code)
    except WeChatClientException as e:
        if e.errcode in {40029, 40163, 40125, 40013, 41008}:
            # Counted against the address (committed with the answer)
            return _answer(HTTPStatus.UNAUTHORIZED, 'invalid_code',
                'invalid_code', errcode=e.errcode)
        return _answer(HTTPStatus.BAD_GATEWAY, 'wechat_error',
            'wechat_error', errcode=e.errcode)
    except requests.RequestException:
        return _answer(HTTPStatus.BAD_GATEWAY, 'wechat_error',
            'wechat_error', errcode='-')
    if not result.get('openid'):
        return _answer(HTTPStatus.BAD_GATEWAY, 'wechat_error',
            'wechat_error', errcode='-')
    identity = Identity.login(account, result['openid'],
        result.get('unionid'))
    return _login_answer(pool, identity)


@wechat_route('/login/miniprogram', {'POST'}, auth=False)
def login_miniprogram(request, pool):
    "Mini program login: {appid, code of wx.login()} → session"
    return _login(request, pool, 'mini_program')


@wechat_route('/login/oauth', {'POST'}, auth=False)
def login_oauth(request, pool):
    "Official account web authorisation: {appid, code} → session"
    return _login(request, pool, 'official_account')


@wechat_route('/oauth/url', {'GET'}, auth=False)
def oauth_url(request, pool):
    "The official account's authorisation address for the H5 page"
    from .client import authorize_url
    Account = pool.get('wechat.account')
    appid = request.args.get('appid', '')
    redirect = request.args.get('redirect', '')
    account = Account.by_appid(appid)
    if not account or account.kind != 'official_account':
        _fail(HTTPStatus.BAD_REQUEST, 'unknown_app', 'unknown_app')
    allowed = account.oauth_redirect or ''
    if not allowed or not redirect.startswith(allowed):
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field='redirect')
    import secrets
    return _json({'url': authorize_url(account, redirect,
                secrets.token_urlsafe(8))})


@wechat_route('/logout', {'POST'})
def logout(request, pool, user):
    "End the session"
    Session = pool.get('web.user.session')
    Session.remove(_session_key(request))
    return _json({'ok': True})


@wechat_route('/me', {'GET'})
def me(request, pool, user):
    "The caller: name, WeChat applications, number of bindings"
    Identity = pool.get('wechat.identity')
    Binding = pool.get('wechat.binding')
    return _json({
            'name': user.party.rec_name if user.party else None,
            'apps': [{'appid': i.account.appid, 'kind': i.account.kind}
                for i in Identity.of_user(user)],
            'elders': len(Binding.active_elders(user)),
            })


# --- binding -------------------------------------------------------------------

def binding_data(binding):
    relationships = dict(RELATIONSHIPS)
    return {
        'id': binding.id,
        'state': binding.state,
        'state_name': _selection(binding, 'state'),
        'method': binding.method,
        'elder': {'id': binding.elder.id, 'name': binding.elder.name},
        'name': binding.name,
        'relationship': binding.relationship,
        'relationship_name': gettext_selection(relationships,
            binding.relationship),
        'code_sent_to': binding.code_phone,
        'code_expires': binding.code_expires,
        'requested_at': binding.requested_at,
        'verified_at': binding.verified_at,
        'revoked_at': binding.revoked_at,
        }


def _selection(record, name):
    values = dict(record.fields_get([name])[name]['selection'])
    return values.get(getattr(record, name))


def gettext_selection(values, key):
    return values.get(key, key)


@wechat_route('/bindings', {'GET'})
def bindings(request, pool, user):
    "The caller's binding requests and bindings"
    Binding = pool.get('wechat.binding')
    return _json(_paged(Binding, [('web_user', '=', user.id)],
            [('id', 'DESC')], request, binding_data))


@wechat_route('/bindings', {'POST'})
def request_binding(request, pool, user):
    """Ask to follow an older person: {id_number, elder_name, name,
    relationship, phone, method: sms|staff}"""
    Binding = pool.get('wechat.binding')
    Elder = pool.get('elder.elder')
    Throttle = pool.get('wechat.throttle')
    Configuration = pool.get('wechat.configuration')
    config = Configuration(1)
    data = _body(request)
    id_number = _text(data, 'id_number', 18, required=True)
    elder_name = _text(data, 'elder_name', 50, required=True)
    name = _text(data, 'name', 50, required=True)
    relationship = _text(data, 'relationship', 30, required=True)
    phone = _text(data, 'phone', 20, required=True)
    method = data.get('method') or 'sms'
    if relationship not in dict(RELATIONSHIPS) or relationship == 'community':
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field='relationship')
    if method not in {'sms', 'staff'}:
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
            field='method')
    try:
        id_number = parse_citizen_id(id_number)[0]
    except ValueError:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'id_number', 'id_number')
    try:
        phone = normalize_phone(phone)
    except ValueError:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'phone', 'phone')
    if Throttle.hit('binding:%s' % user.id, config.requests_per_user,
            3600):
        return _answer(HTTPStatus.TOO_MANY_REQUESTS, 'rate_limited',
            'rate_limited')
    with without_check_access():
        elders = Elder.search([('id_number', '=', id_number),
                ('state', '=', 'active')], limit=1)
    # Unknown ID number or another name: one answer, nothing leaks
    if not elders or elders[0].name != elder_name:
        return _answer(HTTPStatus.NOT_FOUND, 'elder_not_found',
            'elder_not_found')
    elder, = elders
    if not user.party:
        _fail(HTTPStatus.FORBIDDEN, 'not_family', 'not_family')
    existing = Binding.search([('web_user', '=', user.id),
            ('elder', '=', elder.id),
            ('state', 'in', ['pending', 'active'])], limit=1)
    if existing and existing[0].state == 'active':
        _fail(HTTPStatus.CONFLICT, 'already_bound', 'already_bound')
    if existing:
        Binding.write(existing, {'state': 'rejected', 'code_hash': None})
    if method == 'sms':
        if not Binding.code_holder(elder):
            _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'no_phone', 'no_phone')
        if Throttle.hit('code:%s' % elder.id, config.codes_per_elder,
                86400):
            return _answer(HTTPStatus.TOO_MANY_REQUESTS, 'rate_limited',
                'rate_limited')
    binding, = Binding.create([{
                'web_user': user.id, 'party': user.party.id,
                'elder': elder.id, 'region': elder.region.id,
                'name': name, 'relationship': relationship, 'phone': phone,
                'method': method, 'requested_at': dt.datetime.now(),
                }])
    if method == 'sms':
        binding.send_code()
    return _json({'binding': binding_data(Binding(binding.id))},
        HTTPStatus.CREATED)


def _my_binding(pool, user, binding_id):
    Binding = pool.get('wechat.binding')
    bindings = Binding.search([('id', '=', binding_id),
            ('web_user', '=', user.id)], limit=1)
    if not bindings:
        _fail(HTTPStatus.NOT_FOUND, 'not_found', 'binding_not_found')
    return bindings[0]


@wechat_route('/bindings/<int:binding>/verify', {'POST'})
def verify_binding(request, pool, user, binding):
    """Enter the SMS code with the older person's consent:
    {code, consent: true}"""
    Binding = pool.get('wechat.binding')
    Configuration = pool.get('wechat.configuration')
    config = Configuration(1)
    data = _body(request)
    code = _text(data, 'code', 12, required=True)
    if data.get('consent') is not True:
        _fail(HTTPStatus.UNPROCESSABLE_ENTITY, 'consent', 'consent')
    binding = _my_binding(pool, user, binding)
    Binding.lock([binding])
    binding = Binding(binding.id)
    if binding.state != 'pending' or binding.method != 'sms':
        _fail(HTTPStatus.CONFLICT, 'state', 'binding_state',
            state=_selection(binding, 'state'))
    if binding.attempts >= config.code_attempts:
        return _answer(HTTPStatus.TOO_MANY_REQUESTS, 'rate_limited',
            'code_locked')
    if not binding.check_code(code):
        attempts = binding.attempts + 1
        values = {'attempts': attempts}
        if attempts >= config.code_attempts:
            values.update({'state': 'rejected', 'code_hash': None})
        Binding.write([binding], values)
        if binding.code_expires and binding.code_expires < (
                dt.datetime.now()):
            return _answer(HTTPStatus.UNPROCESSABLE_ENTITY, 'code_expired',
                'code_expired')
        return _answer(HTTPStatus.UNPROCESSABLE_ENTITY, 'wrong_code',
            'wrong_code', left=max(config.code_attempts - attempts, 0))
    Binding.activate([binding], binding.code_given_by or 'subject', 'app')
    Binding(binding.id).notify_family('binding')
    return _json({'binding': binding_data(Binding(binding.id))})


@wechat_route('/bindings/<int:binding>/resend', {'POST'})
def resend_code(request, pool, user, binding):
    "Send a new code (counted against the older person's daily limit)"
    Throttle = pool.get('wechat.throttle')
    Configuration = pool.get('wechat.configuration')
    config = Configuration(1)
    binding = _my_binding(pool, user, binding)
    if binding.state != 'pending' or binding.method != 'sms':
        _fail(HTTPStatus.CONFLICT, 'state', 'binding_state',
            state=_selection(binding, 'state'))
    if Throttle.hit('code:%s' % binding.elder.id, config.codes_per_elder,
            86400):
        return _answer(HTTPStatus.TOO_MANY_REQUESTS, 'rate_limited',
            'rate_limited')
    binding.send_code()
    return _json({'binding': binding_data(binding)})


@wechat_route('/bindings/<int:binding>', {'DELETE'})
def unbind(request, pool, user, binding):
    "Unbind (or withdraw a pending request)"
    Binding = pool.get('wechat.binding')
    binding = _my_binding(pool, user, binding)
    if binding.state == 'active':
        Binding.revoke_bindings([binding], reason=gettext(
                'elder_wechat.msg_revoked_family'))
    elif binding.state == 'pending':
        Binding.write([binding], {'state': 'rejected', 'code_hash': None})
    else:
        _fail(HTTPStatus.CONFLICT, 'state', 'binding_state',
            state=_selection(binding, 'state'))
    return _json({'binding': binding_data(Binding(binding.id))})


# --- older people --------------------------------------------------------------

def _mask_address(value):
    if not value:
        return None
    return value[:6] + '****'


def elder_data(elder):
    return {
        'id': elder.id,
        'name': elder.name,
        'sex': _selection(elder, 'sex'),
        'age': elder.age,
        'id_number': mask_value('citizen_id', elder.id_number),
        'phone': mask_value('phone', elder.phone),
        'address': _mask_address(elder.address),
        'region': elder.region.name if elder.region else None,
        'living_situation': _selection(elder, 'living_situation'),
        'state': elder.state,
        'state_name': _selection(elder, 'state'),
        }


@wechat_route('/elders', {'GET'})
def elders(request, pool, user):
    "The older people the caller is bound to (masked profiles)"
    Binding = pool.get('wechat.binding')
    Elder = pool.get('elder.elder')
    ids = Binding.active_elders(user)
    with without_check_access():
        result = [elder_data(e) for e in Elder.browse(ids)]
    family._audit('full_view', user=user, object='elder.elder',
        details={'channel': 'wechat_api', 'route': 'elders', 'elders': ids})
    return _json({'items': result, 'page': 1, 'size': len(result),
            'total': len(result)})


@wechat_route('/elders/<int:elder>', {'GET'})
def elder_profile(request, pool, user, elder):
    "One older person's masked profile and status summary"
    Device = pool.get('device.device')
    Alarm = pool.get('device.alarm')
    elder = _elder(pool, user, elder)
    data = elder_data(elder)
    devices = Device.search([('elder', '=', elder.id)])
    data['devices'] = {'total': len(devices),
        'online': len([d for d in devices if d.online])}
    data['open_alarms'] = Alarm.search_count([('elder', '=', elder.id),
            ('state', '!=', 'closed')])
    family._audit('full_view', user=user, object=elder,
        details={'channel': 'wechat_api', 'route': 'elder'})
    return _json({'elder': data})


def _money(value):
    return str(Decimal(value).quantize(Decimal('0.01'))) if (
        value is not None) else None


@wechat_route('/elders/<int:elder>/entitlements', {'GET'})
def entitlements(request, pool, user, elder):
    "Entitlements in force and this month's remaining quota"
    elder = _elder(pool, user, elder)
    if not registered(pool, 'elder.entitlement'):
        return _json({'available': False, 'items': []})
    Entitlement = pool.get('elder.entitlement')
    today = dt.date.today()
    used_amount = used_hours = None
    if registered(pool, 'settlement.line'):
        Line = pool.get('settlement.line')
        used_amount, used_hours = Line.used_quota(elder,
            today.replace(day=1))
    items = []
    for entitlement in Entitlement.active(elder, today):
        item = {
            'id': entitlement.id,
            'benefit': entitlement.benefit,
            'benefit_name': _selection(entitlement, 'benefit'),
            'start_date': entitlement.start_date,
            'end_date': entitlement.end_date,
            'monthly_amount': _money(entitlement.monthly_amount),
            'monthly_hours': _money(entitlement.monthly_hours),
            'used_amount': None, 'used_hours': None,
            'remaining_amount': None, 'remaining_hours': None,
            }
        if entitlement.benefit == 'home_service_subsidy' and (
                used_amount is not None):
            item['used_amount'] = _money(used_amount)
            item['used_hours'] = _money(used_hours)
            if entitlement.monthly_amount is not None:
                item['remaining_amount'] = _money(max(
                        entitlement.monthly_amount - used_amount, 0))
            if entitlement.monthly_hours is not None:
                item['remaining_hours'] = _money(max(
                        entitlement.monthly_hours - used_hours, 0))
        items.append(item)
    family._audit('full_view', user=user, object=elder,
        details={'channel': 'wechat_api', 'route': 'entitlements'})
    return _json({'available': True, 'month': today.strftime('%Y-%m'),
            'items': items})


@wechat_route('/elders/<int:elder>/assessments', {'GET'})
def assessments(request, pool, user, elder):
    "The older person's capability assessments (status and level)"
    elder = _elder(pool, user, elder)
    if not registered(pool, 'elder.assessment'):
        return _json({'available': False, 'items': []})
    Assessment = pool.get('elder.assessment')

    def convert(a):
        return {'id': a.id, 'number': a.number, 'state': a.state,
            'state_name': _selection(a, 'state'),
            'level': a.level if a.state in {'published', 'effective',
                    'objected', 'superseded'} else None,
            'level_name': _selection(a, 'level') if a.state in {
                'published', 'effective', 'objected', 'superseded'}
            else None,
            'request_date': a.request_date,
            'assessment_date': a.assessment_date,
            'published_date': a.published_date,
            'effective_date': a.effective_date}
    with without_check_access():
        result = _paged(Assessment, [('elder', '=', elder.id)],
            [('request_date', 'DESC'), ('id', 'DESC')], request, convert)
    result['available'] = True
    return _json(result)


def _utc_iso(value):
    return value.replace(tzinfo=dt.timezone.utc).isoformat() if value else None


@wechat_route('/elders/<int:elder>/devices', {'GET'})
def devices(request, pool, user, elder):
    "The older person's devices: state, online, battery, last seen"
    Device = pool.get('device.device')
    elder = _elder(pool, user, elder)

    def convert(d):
        return {'id': d.id, 'type': d.type.name,
            'category': d.category, 'state': d.state,
            'state_name': _selection(d, 'state'),
            'online': d.online, 'battery': d.battery,
            'last_seen': _utc_iso(d.last_seen), 'place': d.place}
    return _json(_paged(Device, [('elder', '=', elder.id)],
            [('id', 'ASC')], request, convert))


def alarm_data(alarm, user):
    from trytond.pool import Pool
    Acknowledgement = Pool().get('wechat.alarm.ack')
    acks = Acknowledgement.search([('alarm', '=', alarm.id)])
    return {'id': alarm.id, 'kind': alarm.kind,
        'kind_name': _selection(alarm, 'kind'),
        'priority': alarm.priority, 'state': alarm.state,
        'state_name': _selection(alarm, 'state'),
        'description': alarm.description,
        'first_occurrence': _utc_iso(alarm.first_occurrence),
        'last_occurrence': _utc_iso(alarm.last_occurrence),
        'repeat_count': alarm.repeat_count,
        'family_acknowledged': any(a.web_user == user for a in acks),
        'family_acknowledgements': len(acks)}


@wechat_route('/elders/<int:elder>/alarms', {'GET'})
def alarms(request, pool, user, elder):
    "Recent alarms of the older person's devices, newest first"
    Alarm = pool.get('device.alarm')
    elder = _elder(pool, user, elder)
    with without_check_access():
        return _json(_paged(Alarm, [('elder', '=', elder.id)],
                [('first_occurrence', 'DESC'), ('id', 'DESC')], request,
                lambda a: alarm_data(a, user)))


@wechat_route('/alarms/<int:alarm>/acknowledge', {'POST'})
def acknowledge_alarm(request, pool, user, alarm):
    """The family member has seen the alarm (recorded on the alarm for the
    hotline; the alarm's handling stays with the call center)"""
    Alarm = pool.get('device.alarm')
    Binding = pool.get('wechat.binding')
    Acknowledgement = pool.get('wechat.alarm.ack')
    alarms = Alarm.search([('id', '=', alarm),
            ('elder', 'in', Binding.active_elders(user))], limit=1)
    if not alarms:
        _fail(HTTPStatus.NOT_FOUND, 'not_found', 'alarm_not_found')
    alarm, = alarms
    Acknowledgement.acknowledge(alarm, user)
    return _json({'alarm': alarm_data(Alarm(alarm.id), user)})


@wechat_route('/elders/<int:elder>/items', {'GET'})
def items(request, pool, user, elder):
    "The service items the older person may book"
    elder = _elder(pool, user, elder)
    return _json({'elder': elder.id, 'items': [
                family.item_data(i) for i in family._offered(pool, elder)]})


# --- orders ----------------------------------------------------------------------

@wechat_route('/orders', {'GET'})
def orders(request, pool, user):
    "Orders of the caller's older people (?elder=, ?state=), newest first"
    Order = pool.get('service.order')
    Binding = pool.get('wechat.binding')
    elders = Binding.active_elders(user)
    domain = [('elder', 'in', elders)]
    if request.args.get('elder'):
        try:
            elder = int(request.args['elder'])
        except ValueError:
            _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
                field='elder')
        if elder not in elders:
            _fail(HTTPStatus.FORBIDDEN, 'not_your_elder', 'not_your_elder')
        domain.append(('elder', '=', elder))
    state = request.args.get('state')
    if state:
        states = dict(Order.fields_get(['state'])['state']['selection'])
        if state not in states:
            _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_invalid',
                field='state')
        domain.append(('state', '=', state))
    result = _paged(Order, domain,
        [('requested_date', 'DESC'), ('id', 'DESC')], request,
        lambda o: family.order_data(o, user))
    family._audit('full_view', user=user, object='service.order',
        details={'channel': 'wechat_api', 'route': 'orders',
            'orders': [o['id'] for o in result['items']]})
    return _json(result)


@wechat_route('/orders', {'POST'})
def book(request, pool, user):
    """Book a service (elder_service's family order logic: idempotent by
    Idempotency-Key / request_key)"""
    data = _body(request)
    try:
        elder = int(data.get('elder'))
    except (TypeError, ValueError):
        _fail(HTTPStatus.BAD_REQUEST, 'malformed', 'field_required',
            field='elder')
    _elder(pool, user, elder)
    return _delegate(family.family_create_order, request, pool)


@wechat_route('/orders/<int:order>', {'GET'})
def order(request, pool, user, order):
    "One order with its progress (events)"
    order = _my_order(pool, user, order)
    data = family.order_data(order, user)
    with without_check_access():
        data['progress'] = [{'time': e.date, 'action': e.action,
                'action_name': _selection(e, 'action'),
                'state': e.to_state}
            for e in sorted(order.events, key=lambda e: (e.date, e.id))]
    data['complaints'] = [{'id': c.id, 'number': c.number,
            'state': c.state, 'state_name': _selection(c, 'state')}
        for c in pool.get('service.complaint').search(
            [('order', '=', order.id)])]
    family._audit('full_view', user=user, object=order,
        details={'channel': 'wechat_api', 'route': 'order'})
    return _json({'order': data})


@wechat_route('/orders/<int:order>/cancel', {'POST'})
def cancel(request, pool, user, order):
    "Cancel an order the caller booked, before a provider has it"
    _my_order(pool, user, order)
    return _delegate(family.family_cancel, request, pool, order=order)


@wechat_route('/orders/<int:order>/confirm', {'POST'})
def confirm(request, pool, user, order):
    "Confirm a completed visit with a rating 1–5 and a comment"
    _my_order(pool, user, order)
    return _delegate(family.family_confirm, request, pool, order=order)


@wechat_route('/orders/<int:order>/complaints', {'POST'})
def complain(request, pool, user, order):
    "Complain about an order: {description}"
    Complaint = pool.get('service.complaint')
    Contact = pool.get('elder.contact')
    Throttle = pool.get('wechat.throttle')
    data = _body(request)
    description = _text(data, 'description', TEXT_SIZE, required=True)
    order = _my_order(pool, user, order)
    if Throttle.hit('complaint:%s' % user.id, 10, 86400):
        return _answer(HTTPStatus.TOO_MANY_REQUESTS, 'rate_limited',
            'rate_limited')
    contacts = Contact.search([('elder', '=', order.elder.id),
            ('party', '=', user.party.id)], limit=1)
    with without_check_access():
        complaint, = Complaint.create([{
                    'order': order.id, 'channel': 'family',
                    'date': dt.datetime.now().replace(microsecond=0),
                    'complainant': contacts[0].name if contacts else None,
                    'description': description,
                    }])
    return _json({'complaint': {'id': complaint.id,
                'number': complaint.number, 'state': complaint.state,
                'state_name': _selection(complaint, 'state')}},
        HTTPStatus.CREATED)


# --- bills and payment ---------------------------------------------------------

def _bill_payment(pool, line):
    Payment = pool.get('wechat.payment')
    payments = Payment.search([('bill', '=', str(line)),
            ('state', 'in', ['paid', 'refunded', 'paying'])],
        order=[('id', 'DESC')])
    for state in ['paid', 'refunded', 'paying']:
        for payment in payments:
            if payment.state == state:
                return payment


def bill_data(pool, line):
    payment = _bill_payment(pool, line)
    return {'id': line.id, 'elder': {'id': line.elder.id,
            'name': line.elder.name},
        'order': {'id': line.order.id, 'number': line.order.number},
        'item': line.item.name, 'service_date': line.service_date,
        'amount': _money(line.amount),
        'subsidy_amount': _money(line.subsidy_amount),
        'self_pay_amount': _money(line.self_pay_amount),
        'basis_name': _selection(line, 'basis'),
        'paid': bool(payment and payment.state == 'paid'),
        'payment': {'id': payment.id, 'state': payment.state,
            'state_name': _selection(payment, 'state'),
            'paid_at': _utc_iso(payment.paid_at)} if payment else None}


def _bill_domain(pool, user):
    # Bills of home-service orders: meals, beds and renovations settle lines
    # without an order, their self-paid part is paid where they are given.
    return [('elder', 'in', pool.get('wechat.binding').active_elders(user)),
        ('order', '!=', None),
        ('self_pay_amount', '>', 0),
        ('state', 'in', ['pending', 'statement'])]


@wechat_route('/bills', {'GET'})
def bills(request, pool, user):
    "Self-paid amounts of the services of the caller's older people"
    if not registered(pool, 'settlement.line'):
        return _json({'available': False, 'items': [], 'page': 1,
                'size': 0, 'total': 0})
    Line = pool.get('settlement.line')
    with without_check_access():
        result = _paged(Line, _bill_domain(pool, user),
            [('service_date', 'DESC'), ('id', 'DESC')], request,
            lambda l: bill_data(pool, l))
    result['available'] = True
    return _json(result)


@wechat_route('/bills/<int:bill>/pay', {'POST'})
def pay_bill(request, pool, user, bill):
    """Pay a bill with WeChat Pay (JSAPI): {appid} of the application the
    caller pays in → parameters of wx.requestPayment"""
    Identity = pool.get('wechat.identity')
    Payment = pool.get('wechat.payment')
    if not registered(pool, 'settlement.line'):
        _fail(HTTPStatus.NOT_FOUND, 'not_found', 'bill_not_found')
    Line = pool.get('settlement.line')
    data = _body(request)
    appid = _text(data, 'appid', 64)
    with without_check_access():
        lines = Line.search([('id', '=', bill)] + _bill_domain(pool, user),
            limit=1)
    if not lines:
        _fail(HTTPStatus.NOT_FOUND, 'not_found', 'bill_not_found')
    identities = [i for i in Identity.of_user(user)
        if not appid or i.account.appid == appid]
    if not identities:
        _fail(HTTPStatus.FORBIDDEN, 'no_wechat', 'no_wechat')
    with without_check_access():
        payment, params = Payment.for_bill(lines[0], identities[0], user)
    return _json({'payment': {'id': payment.id, 'number': payment.number,
                'amount': _money(payment.amount), 'state': payment.state},
            'pay_params': params})


@wechat_route('/payments/<int:payment>', {'GET'})
def payment_status(request, pool, user, payment):
    "The state of a payment of the caller's older people"
    Payment = pool.get('wechat.payment')
    Binding = pool.get('wechat.binding')
    with without_check_access():
        payments = Payment.search([('id', '=', payment),
                ('elder', 'in', Binding.active_elders(user))], limit=1)
    if not payments:
        _fail(HTTPStatus.NOT_FOUND, 'not_found', 'payment_not_found')
    payment, = payments
    return _json({'payment': {'id': payment.id, 'number': payment.number,
                'amount': _money(payment.amount), 'state': payment.state,
                'state_name': _selection(payment, 'state'),
                'paid_at': _utc_iso(payment.paid_at)}})


@app.route('/<database_name>/wechat/pay/notify', methods={'POST'})
@with_pool
@with_transaction(readonly=False)
def pay_notify(request, pool):
    "WeChat Pay's payment and refund notifications"
    Payment = pool.get('wechat.payment')
    status, answer = Payment.handle_notification(
        dict(request.headers), request.get_data(as_text=True))
    return _json(answer, status)


# --- notices ------------------------------------------------------------------------

def notice_data(notification):
    return {'id': notification.id, 'event': notification.event,
        'title': notification.title, 'body': notification.body,
        'elder': notification.elder.id if notification.elder else None,
        'time': _utc_iso(notification.create_date),
        'read': bool(notification.read_at),
        'delivered_by': {'sent': 'wechat', 'sms': 'sms'}.get(
            notification.state)}


@wechat_route('/notices', {'GET'})
def notices(request, pool, user):
    "The caller's notices (alarms, services, bills, results), newest first"
    Notification = pool.get('wechat.notification')
    with without_check_access():
        return _json(_paged(Notification, [('web_user', '=', user.id)],
                [('id', 'DESC')], request, notice_data))


@wechat_route('/notices/<int:notice>/read', {'POST'})
def read_notice(request, pool, user, notice):
    "Mark a notice read"
    Notification = pool.get('wechat.notification')
    with without_check_access():
        notices = Notification.search([('id', '=', notice),
                ('web_user', '=', user.id)], limit=1)
        if not notices:
            _fail(HTTPStatus.NOT_FOUND, 'not_found', 'notice_not_found')
        if not notices[0].read_at:
            Notification.write(notices, {'read_at': dt.datetime.now()})
        return _json({'notice': notice_data(Notification(notice))})
