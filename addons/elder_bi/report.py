# This file is part of the eldercare platform. See LICENSE.
"""Monthly and quarterly supervision reports (PDF with charts, and Excel)
drawn from the analytics store, with the provider evaluation of §7.8.2."""
import datetime as dt
import io

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .store import in_pool

from .dashboard import DONE, QUOTA_STATES, R

CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc'
E = '(SELECT id FROM $db.elders FINAL WHERE region IN %s)' % R  # noqa: S608 (constant store SQL, values bound as parameters)
PERIOD = '{start:Date} AND {end:Date}'
REPORT_QUERIES = {
    'elders': ("SELECT count() FROM $db.elders FINAL WHERE region IN %s "  # noqa: S608 (constant store SQL, values bound as parameters)
        "AND state = 'active'" % R),
    'orders': ("SELECT count(), countIf(state IN %s), countIf(flagged = 1), "  # noqa: S608 (constant store SQL, values bound as parameters)
        "avg(rating) FROM $db.orders FINAL WHERE elder IN %s "
        "AND state NOT IN ('draft', 'cancelled') "
        "AND requested_date BETWEEN %s" % (DONE, E, PERIOD)),
    'orders_by_type': ("SELECT service_type, count() AS n FROM $db.orders "  # noqa: S608 (constant store SQL, values bound as parameters)
        "FINAL WHERE elder IN %s AND state NOT IN ('draft', 'cancelled') "
        "AND requested_date BETWEEN %s GROUP BY service_type ORDER BY n DESC"
        % (E, PERIOD)),
    'spend': ("SELECT toStartOfMonth(service_month) AS m, "  # noqa: S608 (constant store SQL, values bound as parameters)
        "sum(subsidy_amount), sum(self_pay_amount) "
        "FROM $db.settlement_lines FINAL WHERE region IN %s AND state IN %s "
        "AND service_month BETWEEN toStartOfMonth({start:Date}) AND {end:Date} "
        "GROUP BY m ORDER BY m" % (R, QUOTA_STATES)),
    'budget': ("SELECT sum(amount) FROM $db.budgets FINAL "
        "WHERE region = {region:UInt32} AND year = toYear({start:Date})"),
    'alarms': ("SELECT kind, count(), countIf(state = 'closed') "  # noqa: S608 (constant store SQL, values bound as parameters)
        "FROM $db.alarms FINAL WHERE region IN %s "
        "AND toDate(first_occurrence, 'Asia/Shanghai') BETWEEN %s "
        "GROUP BY kind ORDER BY kind" % (R, PERIOD)),
    'calls': ("SELECT countIf(direction = 'inbound'), "  # noqa: S608 (constant store SQL, values bound as parameters)
        "countIf(direction = 'inbound' AND answer_at IS NOT NULL) "
        "FROM $db.calls FINAL WHERE region IN %s "
        "AND toDate(offered_at, 'Asia/Shanghai') BETWEEN %s" % (R, PERIOD)),
    'providers': ("SELECT o.provider, any(p.name), count() AS n, "  # noqa: S608 (constant store SQL, values bound as parameters)
        "avg(o.rating), countIf(o.flagged = 1), any(ev.score), any(ev.grade) "
        "FROM $db.orders AS o FINAL "
        "LEFT JOIN (SELECT id, name FROM $db.providers FINAL) AS p "
        "ON p.id = o.provider "
        "LEFT JOIN (SELECT provider, argMax(score, end_date) AS score, "
        "argMax(grade, end_date) AS grade FROM $db.evaluations FINAL "
        "WHERE end_date <= {end:Date} GROUP BY provider) AS ev "
        "ON ev.provider = o.provider "
        "WHERE o.elder IN %s AND o.state IN %s AND o.provider IS NOT NULL "
        "AND o.requested_date BETWEEN %s GROUP BY o.provider "
        "ORDER BY n DESC" % (E, DONE, PERIOD)),
    }


def month_bounds(date):
    start = date.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(1)
    return start, end


class Report(Workflow, ModelSQL, ModelView):
    "Supervision report (监管报表)"
    __name__ = 'bi.report'
    _states = {'readonly': Eval('state') != 'draft'}
    kind = fields.Selection([
            ('monthly', "Monthly"),
            ('quarterly', "Quarterly"),
            ], "Kind", required=True, states=_states)
    region = fields.Many2One('elder.region', "Region", required=True,
        states=_states, ondelete='RESTRICT')
    start_date = fields.Date("From", required=True, states=_states)
    end_date = fields.Date("To", required=True, states=_states,
        domain=[('end_date', '>=', Eval('start_date'))])
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Generated"),
            ], "State", readonly=True, required=True)
    generated_at = fields.Timestamp("Generated At", readonly=True)
    pdf = fields.Binary("PDF", filename='pdf_name', readonly=True,
        file_id='pdf_id')
    pdf_id = fields.Char("PDF ID", readonly=True)
    pdf_name = fields.Function(fields.Char("PDF Name"), 'get_file_name')
    xlsx = fields.Binary("Excel", filename='xlsx_name', readonly=True,
        file_id='xlsx_id')
    xlsx_id = fields.Char("Excel ID", readonly=True)
    xlsx_name = fields.Function(fields.Char("Excel Name"), 'get_file_name')
    summary = fields.Text("Summary", readonly=True)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'done'), ('done', 'draft')}
        cls._buttons.update({
                'generate': {'invisible': Eval('state') != 'draft',
                    'depends': ['state']},
                'reset': {'invisible': Eval('state') != 'done',
                    'depends': ['state']},
                })

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_kind():
        return 'monthly'

    def get_rec_name(self, name):
        return '%s %s–%s' % (self.region.rec_name if self.region else '',
            self.start_date, self.end_date)

    def get_file_name(self, name):
        code = self.region.code if self.region else ''
        ext = 'pdf' if name == 'pdf_name' else 'xlsx'
        return 'supervision-%s-%s-%s.%s' % (
            code, self.start_date, self.end_date, ext)

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def reset(cls, reports):
        cls.write(reports, {'pdf': None, 'xlsx': None, 'summary': None})

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def generate(cls, reports):
        pool = Pool()
        Configuration = pool.get('bi.configuration')
        store = Configuration.get_store()
        for report in reports:
            data = report.collect(store)
            report.pdf = report.render_pdf(data)
            report.xlsx = report.render_xlsx(data)
            report.summary = report.render_summary(data)
            report.generated_at = dt.datetime.utcnow()
        cls.save(reports)

    def collect(self, store):
        pool = Pool()
        params = {'path': self.region.path, 'region': self.region.id,
            'start': self.start_date, 'end': self.end_date}
        q = lambda n: store.query(REPORT_QUERIES[n], params)[1]  # noqa: E731

        def names(model, ids):
            if not in_pool(pool, model):
                return {}
            with Transaction().set_context(_check_access=False):
                return {r.id: r.rec_name
                    for r in pool.get(model).browse([i for i in ids if i])}
        data = {'elders': q('elders')[0][0]}
        total, done, flagged, rating = q('orders')[0]
        data['orders'] = {'total': total, 'done': done, 'flagged': flagged,
            'rating': float(rating) if rating == rating and rating else None}
        by_type = q('orders_by_type')
        types = names('elder.service.type', [t for t, _ in by_type])
        data['orders_by_type'] = [(types.get(t, str(t)), n)
            for t, n in by_type]
        data['spend'] = [(str(m)[:7], float(s or 0), float(p or 0))
            for m, s, p in q('spend')]
        data['budget'] = float(q('budget')[0][0] or 0)
        kinds = {}
        if in_pool(pool, 'device.alarm'):
            kinds = dict(pool.get('device.alarm').fields_get(
                    ['kind'])['kind']['selection'])
        data['alarms'] = [(kinds.get(k, k), n, c) for k, n, c in q('alarms')]
        inbound, answered = q('calls')[0]
        data['calls'] = {'inbound': inbound, 'answered': answered}
        data['providers'] = [{
                'name': name or str(p), 'orders': n,
                'rating': round(float(r), 2) if r == r and r else None,
                'flagged': f,
                'score': float(s) if s is not None else None, 'grade': g}
            for p, name, n, r, f, s, g in q('providers')]
        return data

    def title(self):
        return gettext('elder_bi.msg_report_title', region=self.region.name,
            start=self.start_date, end=self.end_date)

    def render_summary(self, data):
        return gettext('elder_bi.msg_report_summary',
            elders=data['elders'], orders=data['orders']['total'],
            done=data['orders']['done'],
            subsidy='%.2f' % sum(s for _, s, _ in data['spend']),
            alarms=sum(n for _, n, _ in data['alarms']),
            providers=len(data['providers']))

    def render_pdf(self, data):
        from reportlab.graphics.charts.barcharts import VerticalBarChart
        from reportlab.graphics.shapes import Drawing
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont
        from reportlab.platypus import (
            Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle)
        if 'WQY' not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont('WQY', CJK_FONT, subfontIndex=0))
        title_style = ParagraphStyle('t', fontName='WQY', fontSize=16,
            leading=22, spaceAfter=8)
        head = ParagraphStyle('h', fontName='WQY', fontSize=12, leading=18,
            spaceBefore=8, spaceAfter=4)
        body = ParagraphStyle('b', fontName='WQY', fontSize=10, leading=15)
        t = lambda k, **kw: gettext('elder_bi.msg_report_%s' % k, **kw)  # noqa: E731

        def table(rows):
            table = Table(rows, hAlign='LEFT')
            table.setStyle(TableStyle([
                        ('FONTNAME', (0, 0), (-1, -1), 'WQY'),
                        ('FONTSIZE', (0, 0), (-1, -1), 9),
                        ('GRID', (0, 0), (-1, -1), 0.4, colors.grey),
                        ('BACKGROUND', (0, 0), (-1, 0), colors.HexColor(
                                '#dde8f5')),
                        ]))
            return table

        def bars(labels, values):
            drawing = Drawing(460, 170)
            chart = VerticalBarChart()
            chart.x, chart.y, chart.width, chart.height = 40, 30, 400, 120
            chart.data = [values or [0]]
            chart.categoryAxis.categoryNames = labels or ['-']
            chart.categoryAxis.labels.fontName = 'WQY'
            chart.categoryAxis.labels.fontSize = 7
            chart.valueAxis.labels.fontName = 'WQY'
            chart.valueAxis.valueMin = 0
            chart.bars[0].fillColor = colors.HexColor('#2f6db3')
            drawing.add(chart)
            return drawing

        story = [Paragraph(self.title(), title_style),
            Paragraph(self.render_summary(data), body)]
        story.append(Paragraph(t('section_services'), head))
        o = data['orders']
        story.append(table([[t('orders'), t('done'), t('flagged'),
                        t('rating')], [o['total'], o['done'], o['flagged'],
                        '%.2f' % o['rating'] if o['rating'] else '-']]))
        story.append(bars([n for n, _ in data['orders_by_type']],
                [v for _, v in data['orders_by_type']]))
        story.append(Paragraph(t('section_funds'), head))
        rows = [[t('month'), t('subsidy'), t('self_pay')]] + [
            [m, '%.2f' % s, '%.2f' % p] for m, s, p in data['spend']]
        rows.append([t('budget'), '%.2f' % data['budget'], ''])
        story.append(table(rows))
        story.append(bars([m for m, _, _ in data['spend']],
                [s for _, s, _ in data['spend']]))
        story.append(Paragraph(t('section_alarms'), head))
        c = data['calls']
        story.append(table([[t('alarm_kind'), t('count'), t('closed')]]
                + [list(a) for a in data['alarms']]))
        story.append(Spacer(1, 6))
        story.append(table([[t('calls_inbound'), t('calls_answered'),
                        t('answer_rate')], [c['inbound'], c['answered'],
                        '%.1f%%' % (100 * c['answered'] / c['inbound'])
                        if c['inbound'] else '-']]))
        story.append(Paragraph(t('section_providers'), head))
        story.append(table([[t('rank'), t('provider'), t('orders'),
                        t('rating'), t('flagged'), t('score'), t('grade')]]
                + [[i + 1, p['name'], p['orders'], p['rating'] or '-',
                        p['flagged'], p['score'] if p['score'] is not None
                        else '-', p['grade'] or '-']
                    for i, p in enumerate(data['providers'])]))
        output = io.BytesIO()
        doc = SimpleDocTemplate(output, pagesize=A4, title=self.title(),
            leftMargin=40, rightMargin=40, topMargin=40, bottomMargin=40)
        doc.build(story)
        return output.getvalue()

    def render_xlsx(self, data):
        from openpyxl import Workbook
        t = lambda k, **kw: gettext('elder_bi.msg_report_%s' % k, **kw)  # noqa: E731
        book = Workbook()
        sheet = book.active
        sheet.title = t('sheet_summary')
        sheet.append([self.title()])
        sheet.append([t('elders'), data['elders']])
        o = data['orders']
        for key in ['total', 'done', 'flagged']:
            sheet.append([t({'total': 'orders'}.get(key, key)), o[key]])
        sheet.append([t('budget'), data['budget']])
        sheet.append([t('calls_inbound'), data['calls']['inbound']])
        sheet.append([t('calls_answered'), data['calls']['answered']])
        types = book.create_sheet(t('sheet_services'))
        types.append([t('service_type'), t('orders')])
        for row in data['orders_by_type']:
            types.append(list(row))
        funds = book.create_sheet(t('sheet_funds'))
        funds.append([t('month'), t('subsidy'), t('self_pay')])
        for row in data['spend']:
            funds.append(list(row))
        alarms = book.create_sheet(t('sheet_alarms'))
        alarms.append([t('alarm_kind'), t('count'), t('closed')])
        for row in data['alarms']:
            alarms.append(list(row))
        providers = book.create_sheet(t('sheet_providers'))
        providers.append([t('rank'), t('provider'), t('orders'), t('rating'),
                t('flagged'), t('score'), t('grade')])
        for i, p in enumerate(data['providers']):
            providers.append([i + 1, p['name'], p['orders'], p['rating'],
                    p['flagged'], p['score'], p['grade']])
        output = io.BytesIO()
        book.save(output)
        return output.getvalue()

    @classmethod
    def cron_monthly(cls):
        """Generate last month's report of the configured region, or of
        every league/city (run it on the 1st)"""
        pool = Pool()
        Configuration = pool.get('bi.configuration')
        Region = pool.get('elder.region')
        Date = pool.get('ir.date')
        config = Configuration(1)
        start, end = month_bounds(
            Date.today().replace(day=1) - dt.timedelta(days=1))
        regions = ([config.report_region] if config.report_region
            else Region.search([('level', '=', 'city')]))
        reports = []
        for region in regions:
            if cls.search([('region', '=', region.id), ('kind', '=', 'monthly'),
                        ('start_date', '=', start)]):
                continue
            reports.append(cls(kind='monthly', region=region,
                    start_date=start, end_date=end))
        cls.save(reports)
        if reports:
            cls.generate(reports)
        return reports
