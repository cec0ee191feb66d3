# This file is part of the eldercare platform. See LICENSE.
"""H5 pages of elder_service: the worker app and the family confirmation.

Worker app (``GET /<db>/service/h5/worker/``): static HTML, CSS and vanilla
JavaScript from the module's ``h5/worker`` folder (no build step, nothing
loaded from another site). It logs in with JSON-RPC ``common.db.login``
(answering elder_security's extra rounds: new password, TOTP code) and calls
the worker JSON routes of ``routes.py`` with ``Authorization: Session
base64(login:user_id:session)``.

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
import secrets
from pathlib import Path

from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, with_pool, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app

H5 = Path(__file__).resolve().parent / 'h5'
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


def _static(folder, name, request):
    path = H5 / folder / name
    if not path.is_file():
        abort(HTTPStatus.NOT_FOUND)
    data = path.read_bytes()
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
    return _headers(response, cache)


@app.route('/<database_name>/service/h5/worker/', methods={'GET'})
def worker_index(request, database_name):
    "The worker app's page"
    return _static('worker', 'index.html', request)


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
        raise UserError('工单尚未完成服务，不能发送确认链接。')
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
                'description': '家属服务确认链接（仅存哈希，%s 前有效）'
                % expires.strftime('%Y-%m-%d %H:%M'),
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


STARS = {1: '非常不满意', 2: '不满意', 3: '一般', 4: '满意', 5: '非常满意'}


def _page(title, body, status=HTTPStatus.OK):
    text = f'''<!DOCTYPE html>
<html lang="zh-CN">
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
        '<p>如有疑问，请拨打 12349 养老服务热线。</p>', status)


def _invalid(state):
    "The Chinese reason why a confirmation link cannot be used, or None"
    if state.get('used'):
        return '此确认链接已经使用过，服务已确认，感谢您的评价。'
    if dt.datetime.fromisoformat(state['expires']) < dt.datetime.now():
        return '此确认链接已过期（有效期 %s 小时）。' % CONFIRM_HOURS


def _summary(order):
    duration = ('%s 分钟' % order.duration) if order.duration is not None \
        else '—'
    rows = [
        ('服务项目', order.item.name),
        ('服务日期', order.requested_date.strftime('%Y-%m-%d')),
        ('上门时间', '%s 至 %s' % (
                _fmt(order.checkin_time), _fmt(order.checkout_time)[-5:])),
        ('服务时长', duration),
        ('护理员', _mask_name(
                order.practitioner.name if order.practitioner else None)),
        ('服务机构', order.provider.rec_name if order.provider else '—'),
        ]
    return '<dl class="summary">' + ''.join(
        f'<div><dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd></div>'
        for k, v in rows) + '</dl>'


def _form(order, error=None, rating=None, comment=''):
    stars = ''.join(
        f'<label class="star"><input type="radio" name="rating" value="{n}"'
        f'{" checked" if rating == n else ""} required>'
        f'<span class="star-box"><span class="star-n">{n}</span>'
        f'<span class="star-t">{STARS[n]}</span></span></label>'
        for n in range(5, 0, -1))
    alert = (f'<p class="error" role="alert">错误：{html.escape(error)}</p>'
        if error else '')
    return f'''<p class="lead">服务已完成，请您确认并评价。</p>
{_summary(order)}
<form method="post" class="confirm">
{alert}
<fieldset>
<legend>满意度评分（必选）</legend>
<div class="stars">{stars}</div>
</fieldset>
<label class="comment" for="comment">意见或建议（可不填）</label>
<textarea id="comment" name="comment" rows="3" maxlength="500">{html.escape(comment or '')}</textarea>
<button type="submit" class="primary">确认服务完成</button>
</form>'''


@app.route('/<database_name>/service/h5/confirm/<token>',
    methods={'GET', 'POST'})
@with_pool
@with_transaction()
def family_confirm(request, pool, token):
    "The family's confirmation page of a completed visit"
    attachment, state, order = _find_confirmation(pool, token)
    if not attachment or not order or order.__name__ != 'service.order':
        return _message_page('链接无效',
            '没有找到这条服务确认链接，请检查链接是否完整。',
            HTTPStatus.NOT_FOUND)
    reason = _invalid(state)
    if reason:
        return _message_page('无法确认', reason, HTTPStatus.GONE)
    if order.state != 'completed':
        return _message_page('无法确认',
            '这次服务已经确认过或已关闭，无需再次确认。', HTTPStatus.GONE)
    if request.method == 'GET':
        return _page('服务确认', _form(order))

    form = request.form
    comment = (form.get('comment') or '').strip()[:500] or None
    try:
        rating = int(form.get('rating', ''))
    except ValueError:
        rating = None
    if rating not in STARS:
        return _page('服务确认', _form(order, '请选择 1 到 5 分的满意度评分。',
                comment=comment or ''), HTTPStatus.BAD_REQUEST)
    Order = pool.get('service.order')
    Attachment = pool.get('ir.attachment')
    try:
        Order.confirm_service(order, rating, comment, by='家属（确认链接）')
    except UserError:
        Transaction().rollback()
        return _message_page('无法确认',
            '这次服务当前不能确认，请稍后再试或拨打 12349。',
            HTTPStatus.CONFLICT)
    state['used'] = dt.datetime.now().replace(microsecond=0).isoformat()
    Attachment.write([attachment], {
            'data': json.dumps(state).encode(),
            'description': '家属已于 %s 确认，评分 %s' % (
                state['used'].replace('T', ' '), rating),
            })
    return _page('感谢您的评价',
        f'<p class="thanks" role="status">已确认服务完成，评分 {rating} 分'
        f'（{STARS[rating]}）。感谢您的评价！</p>'
        + _summary(order))


@app.route('/<database_name>/service/h5/confirm.css', methods={'GET'})
def family_css(request, database_name):
    return _static('family', 'confirm.css', request)
