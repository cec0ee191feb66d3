# This file is part of the eldercare platform. See LICENSE.
"""Renovation plan (居家适老化改造方案) and acceptance certificate
(居家适老化改造验收合格证明) as PDF with a verification QR code, and the
programme's Excel export.

Font, masked name and public base URL come from elder_assess (one font
setting and one public address for every printed document); the QR drawing
and the workbook writer are the same few lines as elder_bed's, kept here so
that neither programme depends on the other (see README: candidates for a
shared documents helper)."""
import datetime as dt
import io

from trytond import config
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction

from trytond.modules.elder_assess.report import _register_font
from trytond.modules.elder_security.masking import mask_value

STATES_ZH = {
    'draft': '草稿', 'applied': '已申请', 'approved': '资格审核通过',
    'designed': '已出具改造方案', 'confirmed': '老年人已确认',
    'construction': '施工中', 'constructed': '施工完成待验收',
    'accepted': '验收合格', 'rejected': '不予改造', 'cancelled': '已取消',
    }
SATISFACTION_ZH = {'5': '非常满意', '4': '满意', '3': '一般', '2': '不满意',
    '1': '非常不满意'}


def public_url(path):
    pool = Pool()
    Configuration = pool.get('elder.assessment.configuration')
    base = (Configuration(1).verify_url or config.get(
            'web', 'hostname', default='') or '').rstrip('/')
    if base and '://' not in base:
        base = 'https://' + base
    return '%s/%s/%s' % (base, Transaction().database.name, path)


def draw_qr(pdf, url, x, y, size):
    from reportlab.lib.utils import ImageReader
    import qrcode
    qr = qrcode.QRCode(border=1)
    qr.add_data(url)
    qr.make(fit=True)
    raw = io.BytesIO()
    qr.make_image().save(raw, 'PNG')
    raw.seek(0)
    pdf.drawImage(ImageReader(raw), x, y, width=size, height=size)


def date_text(value):
    return '%d年%d月%d日' % (value.year, value.month, value.day) if value \
        else '—'


def document_data(project):
    "The values printed on both documents (plain Python, for tests too)"
    return {
        'number': project.number,
        'state': STATES_ZH.get(project.state, project.state),
        'elder': project.elder.name,
        'id_number': mask_value('citizen_id', project.elder.id_number),
        'region': project.region.name if project.region else '',
        'designer': project.designer.name if project.designer else '',
        'constructor': project.constructor.name
        if project.constructor else '',
        'acceptor': project.acceptor.name if project.acceptor else '',
        'findings': project.findings or '',
        'lines': [(l.item.name, l.location or '', str(l.quantity),
                l.item.unit_string, str(l.unit_price), str(l.amount))
            for l in project.lines],
        'total': project.total_amount,
        'cap': project.subsidy_cap,
        'design_date': project.design_date,
        'confirmed_by': project.confirmed_by_name or '',
        'confirmed_date': project.confirmed_date,
        'construction': (project.construction_start,
            project.construction_end),
        'checks': [(c.line.item.name if c.line else '', c.passed)
            for c in project.checks],
        'satisfaction': SATISFACTION_ZH.get(project.satisfaction or '', ''),
        'accepted_date': project.accepted_date,
        'warranty_end': project.warranty_end,
        'subsidy': project.subsidy_amount,
        'url': public_url('renovation/verify/%s' % project.verify_token)
        if project.verify_token else None,
        }


def _header(pdf, font, title, data, width, height, left):
    from reportlab.lib.units import mm
    y = height - 22 * mm
    pdf.setFont(font, 18)
    pdf.drawCentredString(width / 2, y, title)
    y -= 12 * mm
    pdf.setFont(font, 10.5)
    rows = [
        ('编号', data['number'], '状态', data['state']),
        ('老年人', data['elder'], '身份证号', data['id_number'] or ''),
        ('居住地', data['region'], '评估设计机构', data['designer']),
        ('施工机构', data['constructor'], '验收机构', data['acceptor']),
        ]
    for l1, v1, l2, v2 in rows:
        pdf.drawString(left, y, '%s：%s' % (l1, v1))
        pdf.drawString(left + 88 * mm, y, '%s：%s' % (l2, v2))
        y -= 7 * mm
    return y - 3 * mm


def _lines_table(pdf, font, data, y, left):
    from reportlab.lib.units import mm
    pdf.setFont(font, 10)
    cols = [0, 62, 100, 118, 134, 152]
    header = ('改造项目', '位置', '数量', '单位', '单价(元)', '金额(元)')
    for i, text in enumerate(header):
        pdf.drawString(left + cols[i] * mm, y, text)
    y -= 6 * mm
    for row in data['lines']:
        for i, text in enumerate(row):
            pdf.drawString(left + cols[i] * mm, y, str(text)[:28])
        y -= 6 * mm
    pdf.drawString(left, y, '合计：%s元    每户补贴上限：%s元' % (
            data['total'], data['cap'] if data['cap'] is not None else '—'))
    return y - 8 * mm


def _footer(pdf, font, data, width, left, label):
    from reportlab.lib.units import mm
    qr_size = 32 * mm
    if data['url']:
        draw_qr(pdf, data['url'], width - 20 * mm - qr_size, 18 * mm,
            qr_size)
        pdf.setFont(font, 9)
        pdf.drawString(left, 38 * mm, '扫描右侧二维码在线核验本%s：' % label)
        pdf.setFont(font, 7.5)
        pdf.drawString(left, 32 * mm, data['url'])
    pdf.setFont(font, 8)
    pdf.drawString(left, 10 * mm, '打印时间：%s'
        % dt.datetime.now().strftime('%Y-%m-%d %H:%M'))


def render_plan(pages):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas
    font = _register_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle('居家适老化改造方案')
    width, height = A4
    left = 20 * mm
    for data in pages:
        y = _header(pdf, font, '居家适老化改造方案', data, width, height, left)
        pdf.setFont(font, 12)
        pdf.drawString(left, y, '一、入户评估情况')
        y -= 7 * mm
        pdf.setFont(font, 10)
        for i in range(0, min(len(data['findings']), 44 * 6), 44):
            pdf.drawString(left + 4 * mm, y, data['findings'][i:i + 44])
            y -= 6 * mm
        pdf.setFont(font, 12)
        pdf.drawString(left, y - 2 * mm, '二、改造项目清单')
        y = _lines_table(pdf, font, data, y - 10 * mm, left)
        pdf.setFont(font, 10.5)
        pdf.drawString(left, y, '方案日期：%s' % date_text(data['design_date']))
        y -= 8 * mm
        pdf.drawString(left, y, '老年人（监护人）确认：%s    确认日期：%s' % (
                data['confirmed_by'] or '________',
                date_text(data['confirmed_date'])))
        _footer(pdf, font, data, width, left, '方案')
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def render_certificate(pages):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas
    font = _register_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle('居家适老化改造验收合格证明')
    width, height = A4
    left = 20 * mm
    for data in pages:
        y = _header(pdf, font, '居家适老化改造验收合格证明', data, width,
            height, left)
        y = _lines_table(pdf, font, data, y, left)
        pdf.setFont(font, 12)
        pdf.drawString(left, y, '验收检查')
        y -= 7 * mm
        pdf.setFont(font, 10)
        for name, passed in data['checks']:
            pdf.drawString(left + 4 * mm, y, ('■ ' if passed else '□ ')
                + name + ('  合格' if passed else '  不合格'))
            y -= 6 * mm
        y -= 2 * mm
        pdf.setFont(font, 10.5)
        start, end = data['construction']
        for text in [
                '施工日期：%s 至 %s' % (date_text(start), date_text(end)),
                '老年人满意度：%s' % data['satisfaction'],
                '验收日期：%s' % date_text(data['accepted_date']),
                '质保期至：%s' % date_text(data['warranty_end']),
                '补贴金额：%s元' % (data['subsidy']
                    if data['subsidy'] is not None else '—'),
                ]:
            pdf.drawString(left, y, text)
            y -= 7 * mm
        pdf.drawString(left, y - 4 * mm, '验收机构（盖章）：%s'
            % data['acceptor'])
        _footer(pdf, font, data, width, left, '证明')
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class _Pdf(Report):
    __slots__ = ()
    render = None

    @classmethod
    def _execute(cls, records, header, data, action):
        Event = Pool().get('security.audit.event')
        content = cls.render([document_data(r) for r in records])
        for record in records:
            Event.log('download', object=record, details={
                    'report': cls.__name__, 'number': record.number})
        return 'pdf', content


class PlanReport(_Pdf):
    "Renovation plan (居家适老化改造方案)"
    __name__ = 'renovation.project.plan_report'
    render = staticmethod(render_plan)


class CertificateReport(_Pdf):
    "Acceptance certificate (居家适老化改造验收合格证明)"
    __name__ = 'renovation.project.certificate'
    render = staticmethod(render_certificate)

    @classmethod
    def _execute(cls, records, header, data, action):
        from trytond.i18n import gettext
        from .exceptions import RenovationError
        for record in records:
            if record.state != 'accepted':
                raise RenovationError(gettext(
                        'elder_renovation.msg_certificate_not_accepted',
                        project=record.rec_name))
        return super()._execute(records, header, data, action)


EXPORT_COLUMNS = [
    ('改造编号', lambda p: p.number),
    ('老年人', lambda p: p.elder.name),
    ('身份证号', lambda p: mask_value('citizen_id', p.elder.id_number)),
    ('所在区划', lambda p: p.region.rec_name if p.region else ''),
    ('申请渠道', lambda p: p.channel_string),
    ('评估设计机构', lambda p: p.designer.name if p.designer else ''),
    ('施工机构', lambda p: p.constructor.name if p.constructor else ''),
    ('验收机构', lambda p: p.acceptor.name if p.acceptor else ''),
    ('状态', lambda p: STATES_ZH.get(p.state, p.state)),
    ('改造项目数', lambda p: len(p.lines)),
    ('方案金额(元)', lambda p: p.total_amount),
    ('补贴上限(元)', lambda p: p.subsidy_cap),
    ('补贴金额(元)', lambda p: p.subsidy_amount),
    ('申请日期', lambda p: p.applied_date),
    ('验收日期', lambda p: p.accepted_date),
    ('满意度', lambda p: SATISFACTION_ZH.get(p.satisfaction or '', '')),
    ('质保期至', lambda p: p.warranty_end),
    ('质保报修数', lambda p: len(p.defects)),
    ('是否超期', lambda p: '是' if p.overdue else '否'),
    ]


def render_xlsx(title, columns, rows):
    from openpyxl import Workbook
    from openpyxl.styles import Font
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append([c for c, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([float(v) if hasattr(v, 'as_tuple') else v
                for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


class ProjectExport(Report):
    "Home renovations (Excel)"
    __name__ = 'renovation.project.export'

    @classmethod
    def _execute(cls, records, header, data, action):
        Event = Pool().get('security.audit.event')
        content = render_xlsx('居家适老化改造', EXPORT_COLUMNS,
            [[f(r) for _, f in EXPORT_COLUMNS] for r in records])
        Event.log('export', object='renovation.project', details={
                'report': cls.__name__, 'count': len(records)})
        return 'xlsx', content
