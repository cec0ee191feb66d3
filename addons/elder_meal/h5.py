# This file is part of the eldercare platform. See LICENSE.
"""The canteen counter terminal (H5): ``GET /<db>/meal/h5/counter/``.

Static HTML, CSS and vanilla JavaScript from the module's ``h5/counter``
folder (no build step, nothing from another site), for the staff of a meal
point at the counter, on a tablet or a PC with a camera and a QR scanner
(scanners type the code like a keyboard). Big buttons and large text
(ageing-friendly rules of CODES.md: main text ≥ 18 px, the amounts ≥ 30 px,
tap targets ≥ 60 × 60 px, contrast ≥ 4.5:1, results said in words).

Login as elder_service's worker app: JSON-RPC ``common.db.login``, then the
routes with ``Authorization: Session base64(login:user_id:session)``:

- ``GET /<db>/meal/counter/points``: the user's meal points with the meal
  period open now and today's published offers (this file);
- ``POST /<db>/meal/checkin`` (routes.py): face photo (base64), ID card
  number or meal-card QR → ``meal.checkin.check_in`` → accepted with the
  price, subsidy and self-pay, or refused with the reason in words.

Texts: ir.message ``elder_meal.msg_h5_c_*`` (English source, Chinese in
locale/zh_CN.po) in the language of the browser's Accept-Language (Chinese
by default); the page embeds the script's catalogue as JSON.
"""
import datetime as dt
import html
import json
import re
from pathlib import Path

from trytond.i18n import gettext
from trytond.modules.elder_service.family import _language
from trytond.modules.elder_service.h5 import HTML_LANG, _static
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, with_pool, with_transaction)
from trytond.transaction import Transaction, without_check_access
from trytond.wsgi import app

COUNTER = Path(__file__).resolve().parent / 'h5' / 'counter'
COUNTER_FILES = {'index.html', 'app.js', 'app.css'}
# The counter's texts: ir.message elder_meal.msg_h5_c_<key>
COUNTER_TEXTS = (
    'app_title', 'logout', 'login_title', 'login_name', 'password',
    'login_button', 'login_missing', 'logging_in', 'bad_login', 'continue',
    'extra_prompt', 'fill_in', 'noscript', 'network_error', 'logged_out',
    'server_error', 'http_400', 'http_401', 'http_403', 'http_404',
    'http_413', 'no_point', 'point', 'period', 'period_breakfast',
    'period_lunch', 'period_dinner', 'period_closed', 'offer', 'no_offer',
    'payment', 'payment_cash', 'payment_card', 'payment_wechat',
    'payment_reference', 'method_face', 'method_id_card', 'method_qr',
    'take_photo', 'photo_hint', 'id_number', 'id_hint', 'qr_code',
    'qr_hint', 'confirm', 'checking', 'accepted', 'rejected', 'person',
    'dish', 'price', 'subsidy', 'self_pay', 'basis', 'reason', 'next',
    'choose_period', 'yuan')


def _t(key, **variables):
    return gettext('elder_meal.msg_h5_c_' + key, **variables)


def counter_catalogue():
    "The counter page's texts in the transaction's language"
    return {key: _t(key) for key in COUNTER_TEXTS}


def _render(template):
    texts = counter_catalogue()
    language = Transaction().language
    # JSON inside <script>: no '</' can close the element early.
    catalogue = json.dumps(texts, ensure_ascii=False, sort_keys=True
        ).replace('<', '\\u003c')

    def fill(match):
        key = match.group(1)
        if key == 'catalogue':
            return catalogue
        if key == 'lang':
            return HTML_LANG.get(language, 'zh-CN')
        return html.escape(texts[key])
    return re.sub(r'\{\{(\w+)\}\}', fill, template)


@app.route('/<database_name>/meal/h5/counter/', methods={'GET'})
@with_pool
@with_transaction()
def counter_index(request, pool):
    "The counter page, in the language of the browser"
    with Transaction().set_context(language=_language(request)):
        return _static_counter('index.html', request, _render)


@app.route('/<database_name>/meal/h5/counter/<name>', methods={'GET'})
def counter_asset(request, database_name, name):
    "The counter page's script and style sheet (a fixed list of files)"
    if name not in COUNTER_FILES:
        abort(HTTPStatus.NOT_FOUND)
    return _static_counter(name, request)


def _static_counter(name, request, render=None):
    # elder_service's _static serves <its h5 folder>/<folder>/<name>; an
    # absolute folder replaces that base (pathlib joins so), which makes
    # it serve this module's files with the same headers (CSP, ETag, cache).
    return _static(str(COUNTER), name, request, render)


@app.route('/<database_name>/meal/counter/points', methods={'GET'})
@app.auth_required
@with_pool
@with_transaction(user='request', context=dict(_check_access=True))
def counter_points(request, pool):
    """The meal points of the user (counter staff) with the meal period
    open now and today's published offers (menu lines)"""
    Point = pool.get('meal.point')
    Menu = pool.get('meal.menu')
    User = pool.get('res.user')
    ids = User.get_meal_points()
    # the clock of meal.checkin.check_in (its default `when`), so that the
    # period and the offers are those the check-in will look up
    now = dt.datetime.now()
    today = now.date()
    result = []
    with without_check_access():
        points = Point.search([('id', 'in', ids), ('active', '=', True)],
            order=[('name', 'ASC')])
        for point in points:
            result.append({
                    'code': point.code, 'name': point.name,
                    'period_now': point.period_at(now.time()),
                    'periods': [p.meal_period for p in point.periods],
                    'offers': [l.as_json()
                        for l in Menu.offers(point, today)],
                    })
    return Response(json.dumps({'date': today.isoformat(),
                'points': result}, ensure_ascii=False),
        status=HTTPStatus.OK, content_type='application/json')
