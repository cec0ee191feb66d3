# This file is part of the eldercare platform. See LICENSE.
"""The bed plan (家庭养老床位建床方案) as PDF with a verification QR code,
and the programme's Excel export.

The font registration, the masked name and the public base URL are
elder_assess's (``report._register_font``, ``report.masked_name``, the
assessment configuration's verification URL): one CJK font setting and one
public address for every printed document of the platform."""
import datetime as dt
import io

from trytond import config
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction

from trytond.modules.elder_assess import scoring
from trytond.modules.elder_assess.report import _register_font
from trytond.modules.elder_security.masking import mask_value

STATES_ZH = {
    'draft': '草稿', 'applied': '已申请', 'approved': '资格审核通过',
    'planned': '已制定床位方案', 'setup': '建床中', 'installed': '建床完成待验收',
    'live': '运行中', 'suspended': '暂停服务', 'terminated': '已终止',
    'rejected': '不予建床',
    }
WEEKDAYS_ZH = ['一', '二', '三', '四', '五', '六', '日']
WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday',
    'saturday', 'sunday']


def public_url(path):
    """<base>/<database>/<path>: the base is the one printed on assessment
    reports (elder_assess configuration, else [web] hostname)"""
    pool = Pool()
    Configuration = pool.get('elder.assessment.configuration')
    base = (Configuration(1).verify_url or config.get(
            'web', 'hostname', default='') or '').rstrip('/')
    if base and '://' not in base:
        base = 'https://' + base
    return '%s/%s/%s' % (base, Transaction().database.name, path)


def level_text(level):
    if level is None:
        return '—'
    return '%s级 %s' % (level, scoring.LEVEL_ZH[str(level)])


def date_text(value):
    return '%d年%d月%d日' % (value.year, value.month, value.day) if value \
        else '—'


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


def plan_data(bed):
    "The values printed on the bed plan (plain Python, for tests too)"
    return {
        'number': bed.number,
        'state': STATES_ZH.get(bed.state, bed.state),
        'elder': bed.elder.name,
        'id_number': mask_value('citizen_id', bed.elder.id_number),
        'region': bed.region.name if bed.region else '',
        'level': level_text(bed.level),
        'care_level': level_text(bed.care_level),
        'designer': bed.designer.name if bed.designer else '',
        'provider': bed.provider.name if bed.provider else '',
        'acceptor': bed.acceptor.name if bed.acceptor else '',
        'plan_date': bed.plan_date,
        'home_assessment': bed.home_assessment or '',
        'adaptations': bed.adaptations or '无',
        'services': [(
                s.item.name,
                '、'.join('周' + WEEKDAYS_ZH[i]
                    for i, d in enumerate(WEEKDAYS) if getattr(s, d)),
                '%s–%s' % (s.time_from.strftime('%H:%M'),
                    s.time_to.strftime('%H:%M'))
                if s.time_from and s.time_to else '')
            for s in bed.services],
        'devices': [(d.category_string, d.place or '',
                d.device.identifier if d.device else '待安装')
            for d in bed.devices],
        'monthly_subsidy': bed.monthly_subsidy,
        'url': public_url('bed/verify/%s' % bed.verify_token)
        if bed.verify_token else None,
        }


def _wrap(text, width):
    lines = []
    for paragraph in (text or '').splitlines() or ['']:
        while len(paragraph) > width:
            lines.append(paragraph[:width])
            paragraph = paragraph[width:]
        lines.append(paragraph)
    return lines


def render_plan(pages):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    font = _register_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle('家庭养老床位建床方案')
    pdf.setAuthor('智慧居家社区养老服务信息平台')
    width, height = A4
    left = 20 * mm
    for data in pages:
        y = height - 22 * mm
        pdf.setFont(font, 18)
        pdf.drawCentredString(width / 2, y, '家庭养老床位建床方案')
        y -= 12 * mm
        pdf.setFont(font, 10.5)
        rows = [
            ('床位编号', data['number'], '状态', data['state']),
            ('老年人', data['elder'], '身份证号', data['id_number'] or ''),
            ('居住地', data['region'], '能力等级', data['level']),
            ('照护等级', data['care_level'], '方案日期',
                date_text(data['plan_date'])),
            ('评估设计机构', data['designer'], '服务机构', data['provider']),
            ('验收机构', data['acceptor'], '床位月补贴',
                '%s元' % data['monthly_subsidy']
                if data['monthly_subsidy'] is not None else '—'),
            ]
        for l1, v1, l2, v2 in rows:
            pdf.drawString(left, y, '%s：%s' % (l1, v1))
            pdf.drawString(left + 88 * mm, y, '%s：%s' % (l2, v2))
            y -= 7 * mm
        y -= 3 * mm
        for title, text in [('一、上门评估情况', data['home_assessment']),
                ('二、居家环境适老化改造需求', data['adaptations'])]:
            pdf.setFont(font, 12)
            pdf.drawString(left, y, title)
            y -= 7 * mm
            pdf.setFont(font, 10)
            for line in _wrap(text, 44)[:8]:
                pdf.drawString(left + 4 * mm, y, line)
                y -= 6 * mm
            y -= 2 * mm
        pdf.setFont(font, 12)
        pdf.drawString(left, y, '三、服务包（周期性上门服务）')
        y -= 7 * mm
        pdf.setFont(font, 10)
        for name, days, time in data['services']:
            pdf.drawString(left + 4 * mm, y, '%s  %s  %s' % (name, days, time))
            y -= 6 * mm
        y -= 2 * mm
        pdf.setFont(font, 12)
        pdf.drawString(left, y, '四、智能设备配置')
        y -= 7 * mm
        pdf.setFont(font, 10)
        for category, place, identifier in data['devices']:
            pdf.drawString(left + 4 * mm, y, '%s  %s  %s'
                % (category, place, identifier))
            y -= 6 * mm
        qr_size = 32 * mm
        if data['url']:
            draw_qr(pdf, data['url'], width - 20 * mm - qr_size, 18 * mm,
                qr_size)
            pdf.setFont(font, 9)
            pdf.drawString(left, 38 * mm, '扫描右侧二维码在线核验本方案：')
            pdf.setFont(font, 7.5)
            pdf.drawString(left, 32 * mm, data['url'])
        pdf.setFont(font, 8)
        pdf.drawString(left, 10 * mm, '打印时间：%s'
            % dt.datetime.now().strftime('%Y-%m-%d %H:%M'))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class BedPlanReport(Report):
    "Bed plan (家庭养老床位建床方案)"
    __name__ = 'bed.bed.plan_report'

    @classmethod
    def _execute(cls, records, header, data, action):
        Event = Pool().get('security.audit.event')
        content = render_plan([plan_data(r) for r in records])
        for record in records:
            Event.log('download', object=record, details={
                    'report': cls.__name__, 'number': record.number})
        return 'pdf', content


EXPORT_COLUMNS = [
    ('床位编号', lambda b: b.number),
    ('老年人', lambda b: b.elder.name),
    ('身份证号', lambda b: mask_value('citizen_id', b.elder.id_number)),
    ('所在区划', lambda b: b.region.rec_name if b.region else ''),
    ('申请渠道', lambda b: b.channel_string),
    ('能力等级', lambda b: b.level),
    ('照护等级', lambda b: b.care_level),
    ('评估设计机构', lambda b: b.designer.name if b.designer else ''),
    ('服务机构', lambda b: b.provider.name if b.provider else ''),
    ('验收机构', lambda b: b.acceptor.name if b.acceptor else ''),
    ('状态', lambda b: STATES_ZH.get(b.state, b.state)),
    ('申请日期', lambda b: b.applied_date),
    ('运行日期', lambda b: b.live_date),
    ('终止日期', lambda b: b.end_date),
    ('床位月补贴(元)', lambda b: b.monthly_subsidy),
    ('设备数', lambda b: len(b.devices)),
    ('告警数', lambda b: b.alarm_count),
    ('是否超期', lambda b: '是' if b.overdue else '否'),
    ]


def export_rows(beds):
    return [[f(b) for _, f in EXPORT_COLUMNS] for b in beds]


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
    for i, (name, _) in enumerate(columns, 1):
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(
            10, len(name) * 2 + 2)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


class BedExport(Report):
    "Family beds (Excel)"
    __name__ = 'bed.bed.export'

    @classmethod
    def _execute(cls, records, header, data, action):
        Event = Pool().get('security.audit.event')
        content = render_xlsx('家庭养老床位', EXPORT_COLUMNS,
            export_rows(records))
        Event.log('export', object='bed.bed', details={
                'report': cls.__name__, 'count': len(records)})
        return 'xlsx', content
