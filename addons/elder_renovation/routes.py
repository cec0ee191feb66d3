# This file is part of the eldercare platform. See LICENSE.
"""Public verification of a printed renovation plan or acceptance
certificate (the QR code): ``GET /<database>/renovation/verify/<token>``,
without login, answers the number, the masked name, the state, the
construction provider, the acceptance date and the subsidy (HTML, or JSON
with ``Accept: application/json``); 404 for unknown tokens; every lookup
audited (``data_exchange``). Same shape as elder_assess's
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
<title>居家适老化改造核验</title>
<style>body{{font-size:20px;line-height:1.6;margin:1.5em;color:#111}}
dt{{font-weight:bold}}dd{{margin:0 0 .6em 0}}
.ok{{color:#064}}.no{{color:#900}}</style></head>
<body><h1>居家适老化改造核验</h1>
<p class="{css}">{verdict}</p>
<dl>{rows}</dl></body></html>
"""


@app.route('/<database_name>/renovation/verify/<token>', methods={'GET'})
@with_pool
@with_transaction()
def verify(request, pool, token):
    Project = pool.get('renovation.project')
    Event = pool.get('security.audit.event')
    projects = []
    if 8 <= len(token) <= 64 and set(token) <= TOKEN_CHARS:
        projects = Project.search([('verify_token', '=', token)], limit=1)
    if not projects:
        Event.log('data_exchange', object='renovation.project',
            result='failure', details={'route': 'renovation_verify'})
        return Response('未找到该改造记录。', status=HTTPStatus.NOT_FOUND,
            content_type='text/plain; charset=utf-8')
    project, = projects
    Event.log('data_exchange', object=project,
        details={'route': 'renovation_verify'})
    accepted = project.state == 'accepted'
    info = {
        'number': project.number,
        'elder': masked_name(project.elder.name),
        'state': project.state,
        'state_name': STATES_ZH.get(project.state),
        'constructor': project.constructor.name
        if project.constructor else None,
        'accepted_date': project.accepted_date,
        'subsidy': project.subsidy_amount,
        'accepted': accepted,
        'valid': project.state not in {'rejected', 'cancelled'},
        }
    if 'application/json' in (request.headers.get('Accept') or ''):
        return Response(json.dumps(info, ensure_ascii=False, default=str),
            content_type='application/json')
    esc = html.escape
    rows = [('改造编号', info['number']), ('老年人', info['elder']),
        ('状态', info['state_name']), ('施工机构', info['constructor']),
        ('验收日期', info['accepted_date']), ('补贴金额（元）', info['subsidy'])]
    page = PAGE.format(
        css='ok' if info['valid'] else 'no',
        verdict=esc('验收合格，证明真实有效。' if accepted else (
                '改造方案真实有效，尚未验收。' if info['valid']
                else '该改造已取消或不予改造。')),
        rows=''.join('<dt>%s</dt><dd>%s</dd>' % (esc(k), esc(str(
                        v if v is not None else '—'))) for k, v in rows))
    return Response(page, content_type='text/html; charset=utf-8')
