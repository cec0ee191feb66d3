# This file is part of the eldercare platform. See LICENSE.
"""Web routes of the supervision big screen.

``GET /<db>/bi/screen/``         the page (HTML, ECharts, no build step)
``GET /<db>/bi/screen/<asset>``  its script, style and echarts.min.js
``GET /<db>/bi/screen/data``     the figures (JSON) of ``?region=<id>``

The data route authenticates like every route of the platform
(``app.auth_required``: the session of a JSON-RPC login, through
elder_security's login checks, or HTTP Basic) and runs as that user. Only
supervisors, operators, finance and the analytics managers (and the
administrator) may open it; the region must be the user's region scope
(``res.user.elder_region``, the one the record rules use) or below it — a
district supervisor sees their district and cannot ask for another. A user
with a role but no scope gets nothing. Each figure carries a link into the
web client (``/#<db>/model/<model>;domain=…``) only when the user may read
that model; there the model's record rules apply again.
"""
import hashlib
import html
import json
import mimetypes
import urllib.parse
from pathlib import Path

from trytond.i18n import gettext
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, with_pool, with_transaction)
from trytond.transaction import Transaction

from .store import in_pool
from trytond.wsgi import app

from .dashboard import figures
from .exceptions import StoreError

SCREEN = Path(__file__).resolve().parent / 'screen'
ECHARTS = SCREEN / 'node_modules' / 'echarts' / 'dist' / 'echarts.min.js'
ASSETS = {'app.js', 'app.css', 'echarts.min.js'}
VIEWER_GROUPS = [
    ('elder_base', 'group_supervisor'), ('elder_base', 'group_operator'),
    ('elder_base', 'group_finance'), ('elder_bi', 'group_bi_manager'),
    ('res', 'group_admin'),
    ]
SCREEN_TEXTS = (
    'title', 'login_title', 'login_name', 'password', 'login_button',
    'continue', 'logout', 'bad_login', 'network_error', 'forbidden',
    'no_store', 'loading', 'elders', 'orders_month', 'orders_done',
    'spent_year', 'budget_year', 'device_online', 'call_answer',
    'alarm_response', 'seconds', 'by_category', 'by_level',
    'orders_trend', 'orders', 'completed', 'orders_by_type',
    'spend_vs_budget', 'subsidy', 'budget', 'alarms_by_hour', 'alarms',
    'alarms_by_kind', 'open', 'providers', 'provider', 'rating', 'score',
    'flagged', 'anomalies', 'flagged_orders', 'call_anomalies',
    'stale_alarms', 'budget_alert', 'meals', 'beds', 'renovations',
    'children', 'region', 'drill_up', 'telemetry', 'sync', 'sync_lag',
    'sync_error', 'open_records', 'none', 'p90', 'overdue', 'refresh',
    'not_active', 'last_7_days',
    )
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'")


def _json(data, status=HTTPStatus.OK):
    response = Response(
        json.dumps(data, ensure_ascii=False, default=str), status=status,
        content_type='application/json')
    response.headers['Cache-Control'] = 'no-store'
    return response


def _headers(response, cache):
    response.headers['Cache-Control'] = cache
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.headers['Referrer-Policy'] = 'same-origin'
    response.headers['Content-Security-Policy'] = CSP
    return response


def catalogue():
    return {k: gettext('elder_bi.msg_screen_%s' % k) for k in SCREEN_TEXTS}


@app.route('/<database_name>/bi/screen/', methods={'GET'})
@with_pool
@with_transaction(context={'language': 'zh_CN'})
def screen_index(request, pool):
    texts = catalogue()
    page = (SCREEN / 'index.html').read_text(encoding='utf-8')
    page = page.replace('{{title}}', html.escape(texts['title']))
    page = page.replace('{{i18n}}', html.escape(
            json.dumps(texts, ensure_ascii=False), quote=False))
    response = Response(page, content_type='text/html; charset=utf-8')
    return _headers(response, 'no-cache')


@app.route('/<database_name>/bi/screen/<name>', methods={'GET'})
def screen_asset(request, database_name, name):
    if name not in ASSETS:
        abort(HTTPStatus.NOT_FOUND)
    path = ECHARTS if name == 'echarts.min.js' else SCREEN / name
    if not path.is_file():
        abort(HTTPStatus.NOT_FOUND)
    data = path.read_bytes()
    etag = hashlib.sha256(data).hexdigest()[:32]
    if request.headers.get('If-None-Match') == etag:
        return _headers(Response(status=HTTPStatus.NOT_MODIFIED), 'no-cache')
    content_type = mimetypes.guess_type(name)[0] or 'application/octet-stream'
    response = Response(data, content_type=content_type + '; charset=utf-8')
    response.headers['ETag'] = etag
    return _headers(response, 'no-cache')


def _is_viewer(pool, user_id):
    ModelData = pool.get('ir.model.data')
    User = pool.get('res.user')
    if user_id == 0:
        return True
    groups = {g.id for g in User(user_id).groups}
    for module, xml_id in VIEWER_GROUPS:
        try:
            if ModelData.get_id(module, xml_id) in groups:
                return True
        except KeyError:
            continue
    return False


def scope_roots(pool, user_id):
    """The regions at the top of the user's dashboard scope: their record
    rule scope; every top region for the administrator; none otherwise"""
    User = pool.get('res.user')
    Region = pool.get('elder.region')
    ModelData = pool.get('ir.model.data')
    regions = User.get_elder_regions()
    if regions:
        return Region.browse(regions)
    admin = ModelData.get_id('res', 'group_admin')
    if user_id == 0 or admin in {g.id for g in User(user_id).groups}:
        return Region.search([('parent', '=', None)])
    return []


def resolve_region(pool, user_id, region_id=None):
    """The region the user asks for, when inside their scope (or their
    first scope region), with the chain of regions from the scope top"""
    Region = pool.get('elder.region')
    roots = scope_roots(pool, user_id)
    if not roots:
        return None, []
    if region_id is None:
        region = roots[0]
    else:
        found = Region.search([
                ('id', '=', region_id),
                ('parent', 'child_of', [r.id for r in roots], 'parent'),
                ])
        if not found:
            return None, []
        region, = found
    chain = []
    node = region
    root_ids = {r.id for r in roots}
    while node:
        chain.insert(0, node)
        if node.id in root_ids:
            break
        node = node.parent
    return region, chain


def _link(pool, database, model, domain, name):
    ModelAccess = pool.get('ir.model.access')
    if not in_pool(pool, model):
        return None
    if not ModelAccess.check(model, 'read', raise_exception=False):
        return None
    return '/#%s/model/%s;%s' % (
        urllib.parse.quote(database), model, urllib.parse.urlencode({
                'domain': json.dumps(domain, ensure_ascii=False),
                'name': json.dumps(name, ensure_ascii=False)},
            quote_via=urllib.parse.quote))


def _selection(pool, model, field):
    if not in_pool(pool, model):
        return {}
    Model = pool.get(model)
    definition = Model.fields_get([field]).get(field, {})
    selection = definition.get('selection')
    return dict(selection) if isinstance(selection, list) else {}


def _names(pool, model, ids):
    if not in_pool(pool, model) or not ids:
        return {}
    Model = pool.get(model)
    with Transaction().set_context(_check_access=False):
        return {r.id: r.rec_name for r in Model.browse(
                [i for i in ids if i])}


def dashboard_data(pool, region, chain, database):
    "The figures of a region with labels, links and the sync health"
    Configuration = pool.get('bi.configuration')
    Health = pool.get('bi.sync.table')
    store = Configuration.get_store()
    data = figures(store, {'id': region.id, 'path': region.path})
    categories = _names(pool, 'elder.category',
        [c for c, _ in data['elders_by_category']])
    data['elders_by_category'] = [[categories.get(c, str(c)), n]
        for c, n in data['elders_by_category']]
    levels = _selection(pool, 'elder.assessment', 'level')
    data['elders_by_level'] = [[levels.get(lv, lv or '-'), n]
        for lv, n in data['elders_by_level']]
    types = _names(pool, 'elder.service.type',
        [t for t, _ in data['orders_by_type']])
    data['orders_by_type'] = [[types.get(t, str(t)), n]
        for t, n in data['orders_by_type']]
    kinds = _selection(pool, 'device.alarm', 'kind')
    data['alarms_by_kind'] = [[kinds.get(k, k), n, o]
        for k, n, o in data['alarms_by_kind']]
    scope = ['region', 'child_of', [region.id], 'parent']
    by_elder = ['elder.region', 'child_of', [region.id], 'parent']
    name = region.name
    links = {
        'elders': _link(pool, database, 'elder.elder', [scope], name),
        'orders': _link(pool, database, 'service.order', [by_elder], name),
        'flagged_orders': _link(pool, database, 'service.order',
            [by_elder, ['flagged', '=', True]], name),
        'devices': _link(pool, database, 'device.device', [scope], name),
        'alarms': _link(pool, database, 'device.alarm', [scope], name),
        'calls': _link(pool, database, 'call.call', [scope], name),
        'alarm_handlings': _link(
            pool, database, 'call.alarm.handling', [scope], name),
        'spend': _link(pool, database, 'settlement.line', [scope], name),
        'meals': _link(pool, database, 'meal.order', [scope], name),
        'beds': _link(pool, database, 'bed.bed', [scope], name),
        'assessments': _link(pool, database, 'elder.assessment',
            [by_elder], name),
        }
    for provider in data['providers']:
        provider['link'] = _link(pool, database, 'elder.provider',
            [['id', '=', provider['id']]], provider['name'] or '')
    data['links'] = links
    data['region'] = {'id': region.id, 'name': region.name,
        'code': region.code, 'level': region.level}
    data['chain'] = [{'id': r.id, 'name': r.name} for r in chain]
    config = Configuration(1)
    with Transaction().set_context(_check_access=False):
        tables = Health.search([('state', '!=', 'unavailable')])
        lags = [t.lag for t in tables if t.lag is not None]
        data['sync'] = {
            'service': config.service_state,
            'lag': max(lags) if lags else None,
            'errors': [t.name for t in tables if t.state == 'error'],
            'alert': config.lag_alert,
            }
    return data


@app.route('/<database_name>/bi/screen/data', methods={'GET'})
@app.auth_required
@with_pool
@with_transaction(user='request', context={
        '_check_access': True, 'language': 'zh_CN'})
def screen_data(request, pool):
    user_id = Transaction().user
    if not _is_viewer(pool, user_id):
        abort(HTTPStatus.FORBIDDEN)
    region_id = request.args.get('region')
    try:
        region_id = int(region_id) if region_id else None
    except ValueError:
        abort(HTTPStatus.BAD_REQUEST)
    region, chain = resolve_region(pool, user_id, region_id)
    if region is None:
        abort(HTTPStatus.FORBIDDEN)
    try:
        data = dashboard_data(pool, region, chain, pool.database_name)
    except StoreError as error:
        return _json({'error': str(error)},
            status=HTTPStatus.SERVICE_UNAVAILABLE)
    return _json(data)
