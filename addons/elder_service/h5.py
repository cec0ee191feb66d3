# This file is part of the eldercare platform. See LICENSE.
"""H5 pages of elder_service: the worker app and the family confirmation.

Worker app (``GET /<db>/service/h5/worker/``): static HTML, CSS and vanilla
JavaScript from the module's ``h5/worker`` folder (no build step, nothing
loaded from another site). It logs in with JSON-RPC ``common.db.login``
(answering elder_security's extra rounds: new password, TOTP code) and calls
the worker JSON routes of ``routes.py`` with ``Authorization: Session
base64(login:user_id:session)``.

Texts: every string of both pages is an ir.message (``msg_h5_w_*`` for the
worker app, ``msg_h5_f_*`` for the family page, English source, translated in
``locale/zh_CN.po``), in the language of the browser's Accept-Language
(Chinese by default). The worker page is rendered with its texts and embeds
the catalogue of the script's texts as JSON (``<script type="application/
json" id="i18n">``, data only, allowed by the CSP).

Family confirmation (``GET/POST /<db>/service/h5/confirm/<token>``): a page
rendered by the server (works without JavaScript) showing the completed
visit, where the family confirms it with a rating (1–5) and a comment, which
calls ``service.order.confirm_service``. ``create_confirmation`` makes the
link: a random token (``secrets.token_urlsafe``) of which only the SHA-256
hash and the expiry are stored, in an ``ir.attachment`` of the order named
``family-confirmation-<hash>`` (no new table). The token is single use: the
attachment records when it was used, and the order leaves the completed state.
"""
import datetime as dt
import hashlib
import html
import json
import mimetypes
import re
import secrets
from pathlib import Path

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, with_pool, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app

from .family import _language

H5 = Path(__file__).resolve().parent / 'h5'
# The worker app's texts: ir.message elder_service.msg_h5_w_<key>
WORKER_TEXTS = ('app_title', 'back', 'logout', 'login_name', 'password', 'login_button', 'noscript', 'state_accepted', 'state_on_the_way', 'state_in_service', 'state_completed', 'state_confirmed', 'state_closed', 'anomaly_geofence', 'anomaly_no_reference', 'anomaly_double_checkin', 'anomaly_short_duration', 'anomaly_overlap', 'anomaly_travel', 'anomaly_missing_evidence', 'anomaly_steps_missing', 'anomaly_face', 'http_400', 'http_401', 'http_403', 'http_404', 'http_409', 'http_413', 'http_429', 'server_error', 'error', 'login_title', 'login_missing', 'fill_in', 'logging_in', 'bad_login', 'continue', 'extra_prompt', 'network_error', 'logged_out', 'tasks_title', 'tasks_count', 'no_tasks', 'refresh', 'elder_line', 'address_line', 'no_coordinates', 'nav_phone', 'nav_amap', 'home_of', 'photo_preview', 'photo_chosen', 'task_title', 'order_line', 'time_line', 'flagged', 'flagged_generic', 'list_separator', 'depart', 'checkin_title', 'checkin_hint', 'checkin_hint_photo', 'photo_before', 'checkin', 'step_required', 'steps_title', 'checkout', 'photo_after', 'sign_here', 'signature_area', 'sign_again', 'done', 'done_at', 'no_geolocation', 'position_denied', 'position_failed', 'submitting', 'locating', 'checking_in', 'checking_out', 'departed', 'checked_in', 'checked_out', 'with_flags', 'signature_first')
HTML_LANG = {'zh_CN': 'zh-CN', 'en': 'en'}
WORKER_FILES = {'index.html', 'app.js', 'app.css', 'icon.svg'}
CONFIRM_PREFIX = 'family-confirmation-'
CONFIRM_HOURS = 72
CSP = ("default-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _headers(response, cache):
    response.headers['Cache-Control'] = cache
    response.headers['X-Content-Type-Options'] = 'nosniff'
    # same-origin, not no-referrer: with no-referrer Chrome sends 'Origin:
    # null' on the form post, which trytond refuses (403).
    response.headers['Referrer-Policy'] = 'same-origin'
    response.headers['Content-Security-Policy'] = CSP
    return response


def _static(folder, name, request, render=None):
    path = H5 / folder / name
    if not path.is_file():
        abort(HTTPStatus.NOT_FOUND)
    data = path.read_bytes()
    if render:
        data = render(data.decode('utf-8')).encode('utf-8')
    etag = hashlib.sha256(data).hexdigest()[:32]
    content_type = mimetypes.guess_type(name)[0] or 'application/octet-stream'
    if content_type.startswith('text/') or content_type in {
            'application/javascript', 'image/svg+xml'}:
        content_type += '; charset=utf-8'
    # The page always revalidates (a new version shows at once); the assets
    # are small and revalidate after 5 minutes.
    cache = ('no-cache' if name.endswith('.html')
        else 'public, max-age=300, must-revalidate')
    if etag in request.if_none_match:
        response = Response(status=HTTPStatus.NOT_MODIFIED)
    else:
        response = Response(data, content_type=content_type)
    response.set_etag(etag)
    if render:
        response.vary.add('Accept-Language')
    return _headers(response, cache)


def _t(key, prefix='msg_h5_f_', **variables):
    return gettext('elder_service.' + prefix + key, **variables)


def worker_catalogue():
    "The worker app's texts in the transaction's language"
    return {key: _t(key, 'msg_h5_w_') for key in WORKER_TEXTS}


def _render_worker(template):
    texts = worker_catalogue()
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


@app.route('/<database_name>/service/h5/worker/', methods={'GET'})
@with_pool
@with_transaction()
def worker_index(request, pool):
    "The worker app's page, in the language of the browser"
    with Transaction().set_context(language=_language(request)):
        return _static('worker', 'index.html', request, _render_worker)


@app.route('/<database_name>/service/h5/worker/<name>', methods={'GET'})
def worker_asset(request, database_name, name):
    "The worker app's script, style sheet and icon (a fixed list of files)"
    if name not in WORKER_FILES:
        abort(HTTPStatus.NOT_FOUND)
    return _static('worker', name, request)


# --- family confirmation ---------------------------------------------------------

def _hash(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def create_confirmation(order, hours=CONFIRM_HOURS, base_url=''):
    """Create a family confirmation link for a completed order.

    Returns the URL (the path on the server, prefixed with base_url); the
    token itself is not stored, only its hash and expiry. Runs in the
    caller's transaction."""
    pool = Pool()
    Attachment = pool.get('ir.attachment')
    Order = pool.get('service.order')
    order = Order(int(order))
    if order.state != 'completed':
        raise UserError(_t('link_not_completed'))
    token = secrets.token_urlsafe(24)
    expires = dt.datetime.now().replace(microsecond=0) + dt.timedelta(
        hours=hours)
    Attachment.create([{
                'name': CONFIRM_PREFIX + _hash(token),
                'resource': str(order),
                'type': 'data',
                'data': json.dumps({
                        'expires': expires.isoformat(),
                        'used': None}).encode(),
                'description': _t('link_description',
                    expires=expires.strftime('%Y-%m-%d %H:%M')),
                }])
    database = Transaction().database.name
    return f'{base_url.rstrip("/")}/{database}/service/h5/confirm/{token}'


def _find_confirmation(pool, token):
    "The attachment, its state and the order for a token (or Nones)"
    Attachment = pool.get('ir.attachment')
    if not token or len(token) > 100:
        return None, None, None
    attachments = Attachment.search([
            ('name', '=', CONFIRM_PREFIX + _hash(token)),
            ('resource', 'like', 'service.order,%'),
            ], limit=1)
    if not attachments:
        return None, None, None
    attachment, = attachments
    try:
        state = json.loads(bytes(attachment.data).decode())
    except ValueError:
        return None, None, None
    return attachment, state, attachment.resource


def _mask_name(name):
    "王小明 → 王**: the family sees the caregiver's family name only"
    if not name:
        return '—'
    return name[0] + '*' * max(len(name) - 1, 1)


def _fmt(value):
    return value.strftime('%Y-%m-%d %H:%M') if value else '—'


STARS = range(1, 6)


def _star(n):
    return _t('star_%s' % n)


def _page(title, body, status=HTTPStatus.OK):
    lang = HTML_LANG.get(Transaction().language, 'zh-CN')
    text = f'''<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="../confirm.css">
</head>
<body>
<main class="page">
<h1>{html.escape(title)}</h1>
{body}
</main>
</body>
</html>
'''
    response = Response(text, status=status,
        content_type='text/html; charset=utf-8')
    return _headers(response, 'no-store')


def _message_page(title, message, status):
    return _page(title,
        f'<p class="notice" role="alert">{html.escape(message)}</p>'
        f'<p>{html.escape(_t("hotline"))}</p>', status)


def _invalid(state):
    "The translated reason why a confirmation link cannot be used, or None"
    if state.get('used'):
        return _t('used')
    if dt.datetime.fromisoformat(state['expires']) < dt.datetime.now():
        return _t('expired', hours=CONFIRM_HOURS)


def _summary(order):
    duration = _t('minutes', minutes=order.duration) \
        if order.duration is not None else '—'
    rows = [
        (_t('item'), order.item.name),
        (_t('date'), order.requested_date.strftime('%Y-%m-%d')),
        (_t('visit_time'), _t('time_range',
                start=_fmt(order.checkin_time),
                end=_fmt(order.checkout_time)[-5:])),
        (_t('duration'), duration),
        (_t('caregiver'), _mask_name(
                order.practitioner.name if order.practitioner else None)),
        (_t('provider'), order.provider.rec_name if order.provider else '—'),
        ]
    return '<dl class="summary">' + ''.join(
        f'<div><dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd></div>'
        for k, v in rows) + '</dl>'


def _form(order, error=None, rating=None, comment=''):
    stars = ''.join(
        f'<label class="star"><input type="radio" name="rating" value="{n}"'
        f'{" checked" if rating == n else ""} required>'
        f'<span class="star-box"><span class="star-n">{n}</span>'
        f'<span class="star-t">{html.escape(_star(n))}</span></span></label>'
        for n in range(5, 0, -1))
    alert = (f'<p class="error" role="alert">'
        f'{html.escape(_t("error", message=error))}</p>' if error else '')
    return f'''<p class="lead">{html.escape(_t('lead'))}</p>
{_summary(order)}
<form method="post" class="confirm">
{alert}
<fieldset>
<legend>{html.escape(_t('rating_legend'))}</legend>
<div class="stars">{stars}</div>
</fieldset>
<label class="comment" for="comment">{html.escape(_t('comment_label'))}</label>
<textarea id="comment" name="comment" rows="3" maxlength="500">{html.escape(comment or '')}</textarea>
<button type="submit" class="primary">{html.escape(_t('submit'))}</button>
</form>'''


@app.route('/<database_name>/service/h5/confirm/<token>',
    methods={'GET', 'POST'})
@with_pool
@with_transaction()
def family_confirm(request, pool, token):
    "The family's confirmation page of a completed visit"
    with Transaction().set_context(language=_language(request)):
        return _family_confirm(request, pool, token)


def _family_confirm(request, pool, token):
    attachment, state, order = _find_confirmation(pool, token)
    if not attachment or not order or order.__name__ != 'service.order':
        return _message_page(_t('invalid_title'), _t('not_found'),
            HTTPStatus.NOT_FOUND)
    reason = _invalid(state)
    if reason:
        return _message_page(_t('cannot_title'), reason, HTTPStatus.GONE)
    if order.state != 'completed':
        return _message_page(_t('cannot_title'), _t('not_completed'),
            HTTPStatus.GONE)
    if request.method == 'GET':
        return _page(_t('confirm_title'), _form(order))

    form = request.form
    comment = (form.get('comment') or '').strip()[:500] or None
    try:
        rating = int(form.get('rating', ''))
    except ValueError:
        rating = None
    if rating not in STARS:
        return _page(_t('confirm_title'), _form(order, _t('rating_missing'),
                comment=comment or ''), HTTPStatus.BAD_REQUEST)
    Order = pool.get('service.order')
    Attachment = pool.get('ir.attachment')
    try:
        Order.confirm_service(order, rating, comment, by=_t('confirmed_by'))
    except UserError:
        Transaction().rollback()
        return _message_page(_t('cannot_title'), _t('conflict'),
            HTTPStatus.CONFLICT)
    state['used'] = dt.datetime.now().replace(microsecond=0).isoformat()
    Attachment.write([attachment], {
            'data': json.dumps(state).encode(),
            'description': _t('used_description',
                date=state['used'].replace('T', ' '), rating=rating),
            })
    thanks = _t('thanks', rating=rating, label=_star(rating))
    return _page(_t('thanks_title'),
        f'<p class="thanks" role="status">{html.escape(thanks)}</p>'
        + _summary(order))


@app.route('/<database_name>/service/h5/confirm.css', methods={'GET'})
def family_css(request, database_name):
    return _static('family', 'confirm.css', request)
