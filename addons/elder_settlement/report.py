# This file is part of the eldercare platform. See LICENSE.
"""Evaluation report (考核评价报告, §7.8.2): a PDF per provider with the
measures, the weighted sub-scores, the score, the grade and the ranking of
the campaign, drawn with reportlab and an embedded CJK TrueType font."""
import io
import json
import os

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.report import Report

from .evaluation import CRITERIA

FONT_PATHS = [
    '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
    '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
    ]
FONT_NAME = 'ElderCJK'


def _font():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    path = os.environ.get('ELDER_CJK_FONT')
    candidates = [path] if path else FONT_PATHS
    for candidate in candidates:
        if candidate and os.path.exists(candidate):
            pdfmetrics.registerFont(
                TTFont(FONT_NAME, candidate, subfontIndex=0))
            return FONT_NAME
    raise RuntimeError(
        'No CJK TrueType font (Debian fonts-wqy-zenhei) found: %s'
        % ', '.join(candidates))


def _t(name, **kwargs):
    return gettext('elder_settlement.msg_report_' + name, **kwargs)


def render(evaluations):
    "Return the PDF of the evaluations, one provider per page"
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle)

    font = _font()
    title = ParagraphStyle('title', fontName=font, fontSize=18, leading=26,
        alignment=1)
    heading = ParagraphStyle('heading', fontName=font, fontSize=13,
        leading=20, spaceBefore=8)
    body = ParagraphStyle('body', fontName=font, fontSize=10.5, leading=16)
    style = TableStyle([
            ('FONTNAME', (0, 0), (-1, -1), font),
            ('FONTSIZE', (0, 0), (-1, -1), 10),
            ('GRID', (0, 0), (-1, -1), 0.5, colors.grey),
            ('BACKGROUND', (0, 0), (-1, 0), colors.whitesmoke),
            ('VALIGN', (0, 0), (-1, -1), 'MIDDLE'),
            ])
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm,
        rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
        title=_t('title'))
    story = []
    for index, evaluation in enumerate(evaluations):
        if index:
            story.append(PageBreak())
        campaign = evaluation.campaign
        story.append(Paragraph(_t('title'), title))
        story.append(Spacer(1, 4 * mm))
        info = [
            [_t('provider'), evaluation.provider.name],
            [_t('credit_code'), evaluation.provider.credit_code],
            [_t('campaign'), campaign.name],
            [_t('period'), '%s — %s' % (
                    campaign.start_date, campaign.end_date)],
            [_t('scheme'), campaign.scheme.name],
            [_t('score'), str(evaluation.score)],
            [_t('grade'), evaluation.grade.rec_name
                if evaluation.grade else ''],
            [_t('rank'), '%s / %s' % (
                    evaluation.rank or '', len(campaign.evaluations))],
            ]
        story.append(Table(info, colWidths=[45 * mm, 125 * mm],
                style=style))
        story.append(Paragraph(_t('measures'), heading))
        measures = [
            [_t('measure'), _t('value')],
            [_t('visits'), evaluation.visits],
            [_t('on_time'), evaluation.on_time],
            [_t('duration_ok'), evaluation.duration_ok],
            [_t('with_anomaly'), evaluation.with_anomaly],
            [_t('rating'), evaluation.rating if evaluation.rating is not None
                else '—'],
            [_t('complaints'), evaluation.complaints],
            [_t('substantiated'), evaluation.substantiated],
            [_t('resolved'), evaluation.resolved],
            [_t('practitioners'), evaluation.practitioners],
            [_t('certified'), evaluation.certified],
            ]
        story.append(Table([[str(c) for c in r] for r in measures],
                colWidths=[85 * mm, 85 * mm], style=style))
        story.append(Paragraph(_t('scores'), heading))
        details = json.loads(evaluation.details or '{}')
        rows = [[_t('criterion'), _t('sub_score'), _t('weight')]]
        for criterion, _ in CRITERIA:
            rows.append([
                    gettext('elder_settlement.msg_criterion_' + criterion),
                    details.get('sub_scores', {}).get(criterion, ''),
                    details.get('weights', {}).get(criterion, '')])
        story.append(Table(rows, colWidths=[70 * mm, 50 * mm, 50 * mm],
                style=style))
        if 'veto' in details.get('notes', []):
            story.append(Paragraph(
                    gettext('elder_settlement.msg_veto_applied'), body))
        story.append(Paragraph(_t('ranking'), heading))
        ranking = [[_t('rank'), _t('provider'), _t('score'), _t('grade')]]
        for other in sorted(campaign.evaluations,
                key=lambda e: (e.rank or 0, e.id)):
            ranking.append([str(other.rank or ''), other.provider.name,
                    str(other.score),
                    other.grade.code if other.grade else ''])
        story.append(Table(ranking,
                colWidths=[20 * mm, 100 * mm, 25 * mm, 25 * mm],
                style=style))
        story.append(Spacer(1, 10 * mm))
        story.append(Paragraph(_t('signature'), body))
    doc.build(story)
    return buffer.getvalue()


class EvaluationReport(Report):
    "Provider evaluation report (PDF)"
    __name__ = 'provider.evaluation.report'

    @classmethod
    def _execute(cls, records, header, data, action):
        Evaluation = Pool().get('provider.evaluation')
        # The records were read with the user's access rights (record
        # rules): a provider prints only its own evaluation.
        return 'pdf', render(Evaluation.browse(records))
