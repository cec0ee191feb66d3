# This file is part of the eldercare platform. See LICENSE.
"""Public verification of a printed bed plan (the QR code).

``GET /<database>/bed/verify/<token>`` answers, without login, the bed
number, the masked name, the state, the provider and the plan date (HTML,
or JSON with ``Accept: application/json``); 404 for unknown tokens. Every
lookup is audited (``data_exchange``). Same shape as elder_assess's
``/assess/verify``."""
import html
import json

from trytond.protocols.wrappers import (
    HTTPStatus, Response, with_pool, with_transaction)
from trytond.wsgi import app

from trytond.modules.elder_assess.report import masked_name
from trytond.modules.elder_assess.routes import TOKEN_CHARS

from .report import STATES_ZH

PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-size:20px;line-height:1.6;margin:1.5em;color:#111}}
dt{{font-weight:bold}}dd{{margin:0 0 .6em 0}}
.ok{{color:#064}}.no{{color:#900}}</style></head>
<body><h1>{title}</h1>
<p class="{css}">{verdict}</p>
<dl>{rows}</dl></body></html>
"""


def render_page(title, valid, verdict, rows):
    esc = html.escape
    return PAGE.format(
        title=esc(title), css='ok' if valid else 'no', verdict=esc(verdict),
        rows=''.join('<dt>%s</dt><dd>%s</dd>' % (esc(k), esc(str(v or '—')))
            for k, v in rows))


def answer(request, info, page):
    if 'application/json' in (request.headers.get('Accept') or ''):
        return Response(json.dumps(info, ensure_ascii=False, default=str),
            content_type='application/json')
    return Response(page, content_type='text/html; charset=utf-8')


def not_found(text):
    return Response(text, status=HTTPStatus.NOT_FOUND,
        content_type='text/plain; charset=utf-8')


def valid_token(token):
    return 8 <= len(token) <= 64 and set(token) <= TOKEN_CHARS


@app.route('/<database_name>/bed/verify/<token>', methods={'GET'})
@with_pool
@with_transaction()
def verify(request, pool, token):
    Bed = pool.get('bed.bed')
    Event = pool.get('security.audit.event')
    beds = Bed.search([('verify_token', '=', token)], limit=1) \
        if valid_token(token) else []
    if not beds:
        Event.log('data_exchange', object='bed.bed', result='failure',
            details={'route': 'bed_verify'})
        return not_found('未找到该床位方案。')
    bed, = beds
    Event.log('data_exchange', object=bed, details={'route': 'bed_verify'})
    valid = bed.state in {'planned', 'setup', 'installed', 'live',
        'suspended'}
    info = {
        'number': bed.number,
        'elder': masked_name(bed.elder.name),
        'state': bed.state,
        'state_name': STATES_ZH.get(bed.state),
        'provider': bed.provider.name if bed.provider else None,
        'plan_date': bed.plan_date,
        'live_date': bed.live_date,
        'valid': valid,
        }
    page = render_page('家庭养老床位建床方案核验', valid,
        '本方案真实有效。' if valid else '本方案记录存在，但床位当前未在服务中。', [
            ('床位编号', info['number']), ('老年人', info['elder']),
            ('状态', info['state_name']), ('服务机构', info['provider']),
            ('方案日期', info['plan_date']), ('运行日期', info['live_date'])])
    return answer(request, info, page)
