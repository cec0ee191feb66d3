# This file is part of the eldercare platform. See LICENSE.
"""Public verification of a printed assessment report (the QR code).

``GET /<database>/assess/verify/<token>`` answers, without login, a small
HTML page (or JSON with ``Accept: application/json``) with what is needed to
check a paper report and nothing more: the report number, the masked name,
the final level, the state, and the dates of assessment and effect. The token
is random (``secrets.token_urlsafe``, 144 bits) and only printed on the
report. Unknown tokens answer 404. Every lookup is audited
(``data_exchange``).
"""
import html
import json

from trytond.protocols.wrappers import (
    HTTPStatus, Response, with_pool, with_transaction)
from trytond.wsgi import app

from . import scoring
from .report import STATES_ZH, masked_name

TOKEN_CHARS = set(
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')


def verification(assessment):
    "The public facts of the assessment"
    level = assessment.level
    return {
        'number': assessment.number,
        'elder': masked_name(assessment.elder.name),
        'level': level,
        'level_name': scoring.LEVEL_ZH.get(level) if level else None,
        'state': assessment.state,
        'state_name': STATES_ZH.get(assessment.state),
        'assessment_date': assessment.assessment_date,
        'effective_on': assessment.effective_on,
        'effective_date': assessment.effective_date,
        'valid': assessment.state in {'published', 'effective'},
        }


PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>老年人能力评估报告核验</title>
<style>body{{font-size:20px;line-height:1.6;margin:1.5em;color:#111}}
dt{{font-weight:bold}}dd{{margin:0 0 .6em 0}}
.ok{{color:#064}}.no{{color:#900}}</style></head>
<body><h1>老年人能力评估报告核验</h1>
<p class="{css}">{verdict}</p>
<dl>
<dt>评估编号</dt><dd>{number}</dd>
<dt>被评估人</dt><dd>{elder}</dd>
<dt>能力等级</dt><dd>{level}</dd>
<dt>状态</dt><dd>{state}</dd>
<dt>评估基准日期</dt><dd>{assessment_date}</dd>
<dt>生效日期</dt><dd>{effective}</dd>
</dl></body></html>
"""


def render_page(info):
    esc = html.escape
    level = ('%s级 %s' % (info['level'], info['level_name'])
        if info['level'] else '—')
    return PAGE.format(
        css='ok' if info['valid'] else 'no',
        verdict=esc('本报告真实有效。' if info['valid']
            else '本报告记录存在，但当前不是有效结果。'),
        number=esc(info['number'] or ''), elder=esc(info['elder']),
        level=esc(level), state=esc(info['state_name'] or ''),
        assessment_date=esc(str(info['assessment_date'] or '—')),
        effective=esc(str(info['effective_date'] or info['effective_on']
                or '—')))


@app.route('/<database_name>/assess/verify/<token>', methods={'GET'})
@with_pool
@with_transaction()
def verify(request, pool, token):
    Assessment = pool.get('elder.assessment')
    Event = pool.get('security.audit.event')
    assessments = []
    if 8 <= len(token) <= 64 and set(token) <= TOKEN_CHARS:
        assessments = Assessment.search([
                ('verify_token', '=', token),
                ('state', 'in', ['published', 'effective', 'superseded',
                        'objected']),
                ], limit=1)
    if not assessments:
        Event.log('data_exchange', object='elder.assessment',
            result='failure', details={'route': 'assess_verify'})
        return Response(
            '未找到该评估报告。', status=HTTPStatus.NOT_FOUND,
            content_type='text/plain; charset=utf-8')
    assessment, = assessments
    info = verification(assessment)
    Event.log('data_exchange', object=assessment,
        details={'route': 'assess_verify'})
    if 'application/json' in (request.headers.get('Accept') or ''):
        return Response(
            json.dumps(info, ensure_ascii=False, default=str),
            content_type='application/json')
    return Response(render_page(info), content_type='text/html; charset=utf-8')
