# This file is part of the eldercare platform. See LICENSE.
"""The assessment report of GB/T 42195-2022 part C (老年人能力评估报告) as
PDF, drawn with reportlab and the embedded TrueType font WenQuanYi Zen Hei
(Debian fonts-wqy-zenhei; another CJK TrueType font can be configured with
``[elder_assess] report_font = /path/to/font.ttf[c]``).

The report shows the scores of the four dimensions, the total, the
preliminary level, the basis for changing it and the final level, signed by
the two assessors (name, date and the signature image when there is one) and
the reviewer, with a QR code leading to the public verification page
(``routes.py``). The citizen ID is masked; no diagnosis is printed. Every
print is written to the audit trail (``download``).
"""
import datetime as dt
import io
import logging

from trytond import config
from trytond.modules.elder_security.masking import mask_value
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction

from . import scoring

logger = logging.getLogger(__name__)
FONT_NAME = 'ElderCJK'
DEFAULT_FONT = '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc'
REASONS_ZH = {
    'first': '首次评估', 'routine': '常规评估', 'immediate': '即时评估',
    'reassessment': '复评', 'other': '其他',
    }
SEXES_ZH = {'1': '男', '2': '女', '0': '未知', '9': '未说明'}
STATES_ZH = {
    'requested': '已申请', 'scheduled': '已排期', 'assessed': '已评估',
    'reviewed': '已审核', 'published': '公示中', 'effective': '已生效',
    'objected': '有异议（复评）', 'superseded': '已被新评估取代',
    'cancelled': '已取消',
    }


def _register_font():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    path = config.get('elder_assess', 'report_font', default=DEFAULT_FONT)
    if path.lower().endswith('.ttc'):
        font = TTFont(FONT_NAME, path, subfontIndex=0)
    else:
        font = TTFont(FONT_NAME, path)
    pdfmetrics.registerFont(font)
    return FONT_NAME


def verify_url(assessment):
    "The address of the public verification page of the assessment"
    pool = Pool()
    Configuration = pool.get('elder.assessment.configuration')
    if not assessment.verify_token:
        return None
    base = (Configuration(1).verify_url or config.get(
            'web', 'hostname', default='') or '').rstrip('/')
    if base and '://' not in base:
        base = 'https://' + base
    database = Transaction().database.name
    return '%s/%s/assess/verify/%s' % (base, database, assessment.verify_token)


def masked_name(name):
    "张三丰 → 张*丰, 巴特尔 → 巴*尔, 李四 → 李*"
    if not name:
        return ''
    if len(name) <= 2:
        return name[0] + '*'
    return name[0] + '*' * (len(name) - 2) + name[-1]


def report_data(assessment):
    "The values printed on the report (plain Python, for tests too)"
    result = assessment.compute_result()
    elder = assessment.elder
    applied = set(result['adjustments'])
    reviewer = assessment.reviewed_by
    return {
        'number': assessment.number,
        'reason': REASONS_ZH.get(assessment.reason, ''),
        'date': assessment.assessment_date,
        'state': STATES_ZH.get(assessment.state, assessment.state),
        'draft': assessment.state not in {
            'reviewed', 'published', 'effective', 'superseded'},
        'elder': elder.name,
        'sex': SEXES_ZH.get(elder.sex or '', ''),
        'age': elder.age,
        'id_number': mask_value('citizen_id', elder.id_number),
        'region': elder.region.name if elder.region else '',
        'dimensions': [
            (zh, result['dimensions'][code], maximum)
            for code, _, zh, maximum in scoring.DIMENSIONS],
        'total': result['total'],
        'preliminary': result['preliminary'],
        'adjustments': [
            (code, zh, code in applied) for code, _, zh in scoring.ADJUSTMENTS],
        'final': result['final'],
        'risk_events': assessment.on_change_with_risk_events(),
        'assessors': [
            (a.name if a else '', assessment.assessment_date, signature)
            for a, signature in [
                (assessment.assessor1, assessment.assessor1_signature),
                (assessment.assessor2, assessment.assessor2_signature)]],
        'reviewer': reviewer.name if reviewer else '',
        'reviewed_date': assessment.reviewed_date,
        'effective_on': assessment.effective_on,
        'url': verify_url(assessment),
        }


def _level_text(level):
    if level is None:
        return '—'
    return '%s级 %s' % (level, scoring.LEVEL_ZH[str(level)])


def _date(value):
    return '%d年%d月%d日' % (value.year, value.month, value.day) if value \
        else '____年__月__日'


def render_pdf(pages):
    "Return the PDF bytes of the report of each data dict in pages"
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    font = _register_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle('老年人能力评估报告')
    pdf.setAuthor('智慧居家社区养老服务信息平台')
    width, height = A4
    left, right = 20 * mm, width - 20 * mm

    for data in pages:
        y = height - 22 * mm
        pdf.setFont(font, 18)
        pdf.drawCentredString(width / 2, y, '老年人能力评估报告')
        y -= 7 * mm
        pdf.setFont(font, 9)
        pdf.drawCentredString(
            width / 2, y, '（依据 GB/T 42195—2022《老年人能力评估规范》附录C）')
        if data['draft']:
            pdf.saveState()
            pdf.setFillColor(colors.Color(0.85, 0.85, 0.85))
            pdf.setFont(font, 60)
            pdf.translate(width / 2, height / 2)
            pdf.rotate(35)
            pdf.drawCentredString(0, 0, '草稿 未审核')
            pdf.restoreState()
        y -= 10 * mm
        pdf.setFont(font, 10.5)
        rows = [
            ('评估编号', data['number'] or '', '评估原因', data['reason']),
            ('评估基准日期', _date(data['date']), '状态', data['state']),
            ('姓名', data['elder'], '性别', data['sex']),
            ('年龄', '' if data['age'] is None else '%s岁' % data['age'],
                '身份证号', data['id_number'] or ''),
            ('居住地', data['region'], '近30天照护风险事件',
                '%s次' % data['risk_events']),
            ]
        for label1, value1, label2, value2 in rows:
            pdf.drawString(left, y, '%s：%s' % (label1, value1))
            pdf.drawString(left + 88 * mm, y, '%s：%s' % (label2, value2))
            y -= 7 * mm

        y -= 3 * mm
        pdf.setFont(font, 12)
        pdf.drawString(left, y, '一、一级指标得分')
        y -= 3 * mm
        col = [left, left + 90 * mm, left + 130 * mm, right]
        table = [('一级指标', '得分', '满分')] + [
            (zh, '—' if s is None else str(s), str(m))
            for zh, s, m in data['dimensions']] + [
            ('老年人能力总得分', '—' if data['total'] is None
                else str(data['total']), '90')]
        pdf.setFont(font, 10.5)
        row_h = 7 * mm
        for i, row in enumerate(table):
            top = y - i * row_h
            pdf.rect(left, top - row_h, right - left, row_h)
            for j, text in enumerate(row):
                pdf.drawString(col[j] + 2 * mm, top - row_h + 2.2 * mm, text)
        for x in col[1:3]:
            pdf.line(x, y, x, y - len(table) * row_h)
        y -= len(table) * row_h + 9 * mm

        pdf.setFont(font, 12)
        pdf.drawString(left, y, '二、老年人能力初步等级：%s'
            % _level_text(data['preliminary']))
        y -= 8 * mm
        pdf.drawString(left, y, '三、能力等级变更依据')
        y -= 7 * mm
        pdf.setFont(font, 9.5)
        for _, zh, applied in data['adjustments']:
            pdf.drawString(left + 4 * mm, y, ('■ ' if applied else '□ ') + zh)
            y -= 6 * mm
        y -= 2 * mm
        pdf.setFont(font, 12)
        pdf.drawString(left, y, '四、老年人能力最终等级：%s'
            % _level_text(data['final']))
        y -= 12 * mm

        pdf.setFont(font, 10.5)
        for n, (name, date, signature) in enumerate(data['assessors'], 1):
            pdf.drawString(left, y, '评估员%s签名：' % n)
            if signature:
                try:
                    image = ImageReader(io.BytesIO(bytes(signature)))
                    pdf.drawImage(
                        image, left + 26 * mm, y - 3 * mm, width=30 * mm,
                        height=11 * mm, preserveAspectRatio=True, mask='auto')
                except Exception:  # noqa: BLE001 (an unreadable image: print the name only)
                    logger.warning(
                        'unreadable signature image on %s', data['number'])
            pdf.drawString(left + 60 * mm, y, '姓名：%s' % name)
            pdf.drawString(left + 105 * mm, y, '日期：%s' % _date(date))
            y -= 13 * mm
        pdf.drawString(left, y, '审核人：%s' % (data['reviewer'] or ''))
        pdf.drawString(left + 105 * mm, y, '日期：%s'
            % _date(data['reviewed_date']))
        y -= 8 * mm
        if data['effective_on']:
            pdf.drawString(left, y, '公示期满生效日期：%s'
                % _date(data['effective_on']))
        # QR code to verify the report online
        qr_size = 32 * mm
        qr_y = 18 * mm
        pdf.setFont(font, 9)
        if data['url']:
            import qrcode
            qr = qrcode.QRCode(border=1)
            qr.add_data(data['url'])
            qr.make(fit=True)
            image = qr.make_image()
            raw = io.BytesIO()
            image.save(raw, 'PNG')
            raw.seek(0)
            pdf.drawImage(ImageReader(raw), right - qr_size, qr_y,
                width=qr_size, height=qr_size)
            pdf.drawString(left, qr_y + 20 * mm, '扫描右侧二维码在线核验本报告的真实性：')
            pdf.setFont(font, 7.5)
            pdf.drawString(left, qr_y + 14 * mm, data['url'])
        else:
            pdf.drawString(left, qr_y + 20 * mm, '本报告尚未发布，不能在线核验。')
        pdf.setFont(font, 8)
        pdf.drawString(left, 10 * mm, '打印时间：%s'
            % dt.datetime.now().strftime('%Y-%m-%d %H:%M'))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class AssessmentReport(Report):
    "Assessment report (老年人能力评估报告)"
    __name__ = 'elder.assessment.report'

    @classmethod
    def _execute(cls, records, header, data, action):
        pool = Pool()
        Event = pool.get('security.audit.event')
        content = render_pdf([report_data(r) for r in records])
        for record in records:
            Event.log('download', object=record, details={
                    'report': cls.__name__, 'number': record.number})
        return 'pdf', content
