#!/usr/bin/env python3
# This file is part of the eldercare platform. See LICENSE.
"""Fill locale/zh_CN.po of elder_assess: the 26 items of GB/T 42195 (names,
options) from scoring.py, everything else from ZH below. Run from the module
folder after tools/export_po.py added new msgids; fails on a msgid left
without translation."""
import os
import sys

import polib

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
import scoring  # noqa: E402

ZH = {
    'Adjustments Applied': '已适用的等级变更依据',
    'Basis for Changing the Level': '能力等级变更依据',
    'Ineffective Airway Clearance': '清理呼吸道无效',
    'Completed By': '评估录入人',
    'Assessment Date': '评估基准日期',
    'First Assessor': '评估员一',
    'First Assessor Signature': '评估员一签名',
    'Second Assessor': '评估员二',
    'Second Assessor Signature': '评估员二签名',
    'Requested By': '申请渠道',
    'Coma': '昏迷',
    'Diagnoses (ICD-10)': '疾病诊断（ICD-10）',
    'Effective Date': '生效日期',
    'Takes Effect On': '公示期满生效日',
    'Older Person': '老年人',
    'Final Level': '老年人能力最终等级',
    'Other Health Conditions': '其他健康问题',
    'Other Health Conditions (Encrypted)': '其他健康问题（加密）',
    'Informant': '信息提供者',
    'Informant Phone': '信息提供者电话',
    'Informant Phone (Encrypted)': '信息提供者电话（加密）',
    'Relationship to the Older Person': '与老年人的关系',
    'Level': '能力等级',
    'Malnutrition (Low BMI)': '营养不良（体质指数低于正常值）',
    'Medication': '用药情况',
    'Next Assessment Due': '下次评估日期',
    'Note': '备注',
    'Number': '评估编号',
    'Objections': '异议',
    'Origin': '来源评估',
    'Pain': '疼痛感',
    'Preliminary Level': '老年人能力初步等级',
    'Pressure Injury': '压力性损伤',
    'Published On': '公示日期',
    'Reason': '评估原因',
    'Other Reason': '其他原因',
    'Re-assessments': '复评',
    'Region': '行政区划',
    'Request Date': '申请日期',
    'Review Note': '审核意见',
    'Reviewed By': '审核人',
    'Review Date': '审核日期',
    'Choking': '噎食',
    'Care-risk Events (30 days)': '近30天照护风险事件',
    'Falls': '跌倒',
    'Other Care-risk Events': '其他照护风险事件',
    'Suicide or Self-harm': '自杀、自伤',
    'Wandering': '走失',
    'Scheduled Date': '预约评估日期',
    'Self-care': '自理能力',
    'Basic Mobility': '基础运动能力',
    'Mental State': '精神状态',
    'Perception and Social Participation': '感知觉与社会参与',
    'Special Care': '特殊护理情况',
    'Special Care (Encrypted)': '特殊护理情况（加密）',
    'State': '状态',
    'Swallowing Difficulty': '吞咽困难',
    'Total': '总分',
    'Total Score': '老年人能力总得分',
    'Verification Token': '核验码',
    'Wounds': '伤口情况',
    'Wounds (Encrypted)': '伤口情况（加密）',
    'Request Lead Time': '提前生成申请天数',
    'Objection Period': '公示期（天）',
    'Re-assessment Interval': '常规复评间隔（月）',
    'Verification Base URL': '核验网址',
    'Assessment': '能力评估',
    'ICD-10 Code': 'ICD-10 编码',
    'ICD-10 Code (Index)': 'ICD-10 编码（索引）',
    'ICD-10 Code (Encrypted)': 'ICD-10 编码（加密）',
    'Adjustment Group': '等级变更类别',
    'Diagnosis': '疾病名称',
    'Diagnosis (Encrypted)': '疾病名称（加密）',
    'Dosage': '用量',
    'Dosage (Encrypted)': '用量（加密）',
    'Frequency': '用药频率',
    'Medicine': '药物名称',
    'Medicine (Index)': '药物名称（索引）',
    'Medicine (Encrypted)': '药物名称（加密）',
    'Route': '服药方法',
    'Answer': '答复',
    'Date': '日期',
    'Raised By': '提出人',
    'Assessment in Effect': '生效的能力评估',
    'Change of Condition Reported': '状况变化登记日期',
    'Re-assessment Due': '复评到期日',
    'Ability Level': '能力等级',
    'Assessments': '能力评估',
    'Entitlements': '享受待遇',
    'Benefit': '待遇项目',
    'End Date': '结束日期',
    'End Reason': '终止原因',
    'Facts': '认定依据',
    'Monthly Amount': '每月金额（元）',
    'Monthly Hours': '每月服务时长（小时）',
    'Policy': '待遇政策',
    'Start Date': '开始日期',
    'Categories': '老年人类别',
    'Description': '说明',
    'Kind': '认定方式',
    'Maximum Level': '最高能力等级',
    'Minimum Age': '最低年龄',
    'Minimum Level': '最低能力等级',
    'Name': '名称',
    'Category': '老年人类别',
    'A.1.2 评估基准日期; the day of the visit (today by default).':
        'A.1.2 评估基准日期：上门评估当天（默认今天）。',
    'Image of the handwritten signature (PNG or JPEG).':
        '手写签名图片（PNG 或 JPEG）。',
    'A person in a coma is rated complete loss of ability directly.':
        '处于昏迷状态者，直接评定为能力完全丧失。',
    'The end of the objection period: the result takes effect on this day '
    'unless an objection is upheld.':
        '公示期满之日：无异议成立时，评估结果于当日生效。',
    'The final level, stored when the assessment was completed.':
        '评估完成时保存的最终等级。',
    'Routine re-assessment date (effective date plus the configured '
    'interval).': '常规复评日期（生效日期加配置的间隔）。',
    'The assessment whose objection or due date led to this request.':
        '因其异议或到期而产生本申请的评估。',
    'A.1.3 评估原因.': 'A.1.3 评估原因。',
    'Feeding tube, catheter, tracheotomy, stoma, ventilator, dialysis …':
        '胃管、尿管、气管切开、造瘘、呼吸机、透析等',
    'Days before the due date on which the scheduler creates the '
    're-assessment request.': '到期日前多少天由系统自动生成复评申请。',
    'Days a reviewed result is published for objection before it takes '
    'effect.': '审核通过的评估结果公示的天数，公示期满后生效。',
    'Months after which an effective assessment is due again (routine '
    're-assessment, GB/T 42195: at least every 12 months).':
        '评估结果生效后多少个月需要常规复评（GB/T 42195：至少每12个月一次）。',
    'Public address of the platform printed in the QR code of the report, '
    'e.g. https://yl.example.gov.cn (the route '
    '/<database>/assess/verify/<token> is appended).':
        '打印在报告二维码中的平台公网地址，例如 https://yl.example.gov.cn'
        '（其后附加 /<数据库>/assess/verify/<核验码>）。',
    'For example F01.1 (vascular dementia) or I63.9.':
        '例如 F01.1（血管性痴呆）或 I63.9。',
    'Set by Report Change of Condition: the scheduler creates an immediate '
    'assessment request and clears it.':
        '由“登记状况变化”设置：系统自动生成即时评估申请后清空。',
    'The facts and the policy that produced the entitlement (JSON).':
        '产生该待遇的事实与政策（JSON）。',
    'Eligible with any of these categories (or by age above).':
        '属于其中任一类别即符合（或满足上面的年龄条件）。',
    'The strategy that decides eligibility.': '认定资格所用的规则。',
    'Highest ability level; empty: no upper bound. With neither bound, no '
    'assessment is needed.':
        '最高能力等级；为空表示不设上限。上下限都为空时不要求能力评估。',
    'Eligible from this age on (or by a category below).':
        '达到该年龄即符合（或属于下面的类别）。',
    'Lowest ability level (0 intact … 4 complete loss); empty: no lower '
    'bound.': '最低能力等级（0 能力完好 … 4 能力完全丧失）；为空表示不设下限。',
    'Yuan (CNY) per month.': '每月金额（元）。',
    'Hours of service per month.': '每月服务小时数。',
    'The policy applies to older people living in this region and the '
    'regions below it.': '政策适用于居住在该行政区划及其下级区划的老年人。',
    'Elder Assessment': '老年人能力评估',
    'Elder Assessment Configuration': '能力评估设置',
    'Elder Assessment Diagnosis': '能力评估疾病诊断',
    'Elder Assessment Medication': '能力评估用药情况',
    'Elder Assessment Objection': '能力评估异议',
    'Elder Entitlement': '享受待遇',
    'Elder Entitlement Policy': '待遇政策',
    'Elder Entitlement Policy - Elder Category': '待遇政策 - 老年人类别',
    'Assessment Configuration': '能力评估设置',
    'Entitlement Policies': '待遇政策',
    'Assessment Report': '老年人能力评估报告',
    'All': '全部',
    'Effective': '已生效',
    'In Progress': '办理中',
    'To Review': '待审核',
    'Active': '有效',
    'The information of assessment "%(assessment)s" cannot change after it '
    'was completed.': '评估“%(assessment)s”已完成，信息不能再修改。',
    'The assessment date of "%(assessment)s" is in the future.':
        '评估“%(assessment)s”的评估基准日期晚于今天。',
    'Assessment "%(assessment)s" can be deleted only while requested or '
    'cancelled.': '评估“%(assessment)s”只有在已申请或已取消状态下才能删除。',
    'The assessment number must be unique.': '评估编号不能重复。',
    'The verification token must be unique.': '核验码不能重复。',
    'In assessment "%(assessment)s", "%(assessor)s" is not an active '
    'assessor.': '评估“%(assessment)s”中，“%(assessor)s”不是在岗的评估员。',
    '"%(code)s" is not an ICD-10 code (a letter and two digits, optionally '
    'a dot and one or two digits, e.g. F01.1).':
        '“%(code)s”不是 ICD-10 编码（一个字母加两位数字，可带小数点和一至两位'
        '数字，例如 F01.1）。',
    '"%(value)s" is not an option of item %(number)s "%(item)s" of '
    'GB/T 42195 (options: %(options)s).':
        '“%(value)s”不是 GB/T 42195 评估项目 %(number)s“%(item)s”的选项'
        '（可选分值：%(options)s）。',
    'Assessment "%(assessment)s" cannot be completed: these items have no '
    'answer: %(items)s.': '评估“%(assessment)s”不能完成，以下项目尚未评分：%(items)s。',
    'Assessment "%(assessment)s" has no open objection to uphold.':
        '评估“%(assessment)s”没有待处理的异议。',
    'In assessment "%(assessment)s", neither assessor holds an assessor '
    'certificate valid on %(date)s.':
        '评估“%(assessment)s”的两名评估员在 %(date)s 均无有效的评估员证书，'
        '至少一名评估员须持有有效证书。',
    'A rejected objection needs an answer.': '驳回异议必须填写答复。',
    'The objection period ended on %(date)s.': '公示期已于 %(date)s 结束。',
    'Objections can be raised only while assessment "%(assessment)s" is '
    'published.': '只有在评估“%(assessment)s”公示期间才能提出异议。',
    'Assessment "%(assessment)s" has an open objection: uphold it or reject '
    'it with an answer first.':
        '评估“%(assessment)s”有待处理的异议：请先认定异议成立，或填写答复后驳回。',
    'Assessment "%(assessment)s" is published for objection until '
    '%(date)s.': '评估“%(assessment)s”正在公示，%(date)s 起方可生效。',
    'Policy "%(policy)s": no strategy is registered for the kind '
    '"%(kind)s".': '政策“%(policy)s”：认定方式“%(kind)s”没有对应的规则。',
    'In policy "%(policy)s" the minimum level is above the maximum level.':
        '政策“%(policy)s”的最低能力等级高于最高能力等级。',
    'The answers of assessment "%(assessment)s" changed after completion: '
    'send it back to the assessors.':
        '评估“%(assessment)s”完成后评分被改动，请退回评估员重新评估。',
    'You cannot review assessment "%(assessment)s": you took part in it '
    '(separation of duties).': '您参与了评估“%(assessment)s”，不能审核（职责分离）。',
    'Set the scheduled date of assessment "%(assessment)s" before '
    'scheduling it.': '请先填写评估“%(assessment)s”的预约评估日期。',
    'Assessment "%(assessment)s" needs two different assessors.':
        '评估“%(assessment)s”须由两名不同的评估员进行。',
    'A re-assessment will be requested and this result will not take '
    'effect.': '将生成复评申请，本次评估结果不生效。',
    'Cancel': '取消',
    'Complete Assessment': '完成评估',
    'Make Effective': '生效',
    'Publish': '公示',
    'Approve Review': '审核通过',
    'Schedule': '排期',
    'Send Back': '退回',
    'Uphold Objection': '异议成立',
    'Report Change of Condition': '登记状况变化',
    'Assessments in the user region or assigned to the user':
        '用户辖区内或指派给用户的评估',
    'Assessments in the user region': '用户辖区内的评估',
    'Older people in the user region or assessed by the user':
        '用户辖区内或由用户评估的老年人',
    'Older people in the user region': '用户辖区内的老年人',
    'Entitlements in the user region': '用户辖区内的待遇',
    'Practitioners in the user region or provider': '用户辖区或机构的从业人员',
    'Policies applying to the user region': '适用于用户辖区的政策',
    'Policies of the user region and below': '用户辖区及下级的政策',
    'Ability Assessment': '能力评估',
    'Assessment Operator': '评估受理人员',
    'Assessment Reviewer': '评估审核人员',
    'Assessor': '评估员',
    'Automatic (due)': '到期自动生成',
    'Community': '社区',
    'Hotline': '热线',
    'Older person or family': '老年人或家属',
    'Other': '其他',
    'Child': '子女',
    'Employed carer': '雇佣照顾者',
    'Other relative': '其他亲属',
    'Spouse': '配偶',
    'The older person': '老年人本人',
    'Mild pain': '轻度疼痛',
    'Moderate pain (bearable)': '中度疼痛（尚可忍受的程度）',
    'No pain': '无疼痛感',
    'Severe pain (unbearable)': '重度疼痛（无法忍受的程度）',
    'Unknown or cannot be judged': '不知道或无法判断',
    'None': '无',
    'Stage I': 'Ⅰ期',
    'Stage II': 'Ⅱ期',
    'Stage III': 'Ⅲ期',
    'Stage IV': 'Ⅳ期',
    'Unstageable': '不可分期',
    'First assessment': '首次评估',
    'Immediate assessment (change of condition)': '即时评估（状况发生变化）',
    'Re-assessment (result in doubt)': '复评（对评估结果有疑问）',
    'Routine assessment': '常规评估',
    'Assessed': '已评估',
    'Cancelled': '已取消',
    'Objected': '异议成立',
    'Published': '公示中',
    'Requested': '已申请',
    'Reviewed': '已审核',
    'Scheduled': '已排期',
    'Superseded': '已被取代',
    'Dementia (F00–F03)': '痴呆（F00～F03）',
    'Other mental or behavioural disorder (F04–F99)':
        '其他精神和行为障碍（F04～F99）',
    'Open': '待处理',
    'Rejected': '已驳回',
    'Upheld': '成立',
    'Advanced-age allowance': '高龄津贴',
    'Care allowance for disabled older people': '失能老年人护理补贴',
    'Emergency-call device': '紧急呼叫设备',
    'Family elderly-care bed': '家庭养老床位',
    'Home ageing-friendly renovation': '居家适老化改造',
    'Home-service subsidy': '居家上门服务补贴',
    'Meal-assistance subsidy': '助餐补贴',
    'Deceased': '已故',
    'Moved away': '已迁出',
    'No longer eligible': '不再符合条件',
    'Policy ended': '政策到期',
    'Replaced by a new entitlement': '已由新待遇替代',
    'Ended': '已终止',
    'Level, age or category': '能力等级、年龄或类别',
    'Create the requests of due re-assessments': '生成到期复评申请',
    'Evaluate the entitlements of older people': '认定老年人享受待遇',
    'Make assessments effective after the objection period':
        '公示期满的评估结果生效',
    'Basic Information (A)': '基本信息（A）',
    'Basic mobility': '基础运动能力',
    'Care-risk events in the last 30 days (A.2)': '近30天内照护风险事件（A.2）',
    'Health conditions (A.5)': '健康相关问题（A.5）',
    'Informant (A.3)': '信息提供者及联系人（A.3）',
    'Mental state': '精神状态',
    'Perception and social participation': '感知觉与社会参与',
    'Result (C)': '评估结果（C）',
    'Review and Publication': '审核与公示',
    'Assessment and Entitlements': '能力评估与待遇',
    'Conditions: level in range AND (age OR any category)':
        '条件：能力等级在范围内，并且（达到年龄或属于任一类别）',
}
for code, en, zh, _ in scoring.LEVELS:
    ZH[en] = zh
for code, en, zh in scoring.ADJUSTMENTS:
    ZH[en] = zh
for code, en, zh, _ in scoring.DIMENSIONS:
    ZH.setdefault(en, zh)


def item_translation(entry):
    "Translation of an item's field name, help or option"
    context = entry.msgctxt or ''
    kind, _, rest = context.partition(':')
    field = rest.split(':')[0].split(',')[-1] if ',' in rest else ''
    item = scoring.ITEM_BY_FIELD.get(field)
    if not item:
        return None
    if kind == 'field':
        return item['zh']
    if kind == 'help':
        return item['number']
    if kind == 'selection':
        for score, en, zh in item['options']:
            if entry.msgid == '%s points: %s' % (score, en):
                return '%s分：%s' % (score, zh)
    return None


def main():
    path = os.path.join(HERE, 'locale', 'zh_CN.po')
    po = polib.pofile(path)
    missing = []
    for entry in po:
        value = item_translation(entry) or ZH.get(entry.msgid)
        if value:
            entry.msgstr = value
            if 'fuzzy' in entry.flags:
                entry.flags.remove('fuzzy')
        elif not entry.msgstr:
            missing.append(entry.msgid)
    po.save(path)
    for msgid in missing:
        print('missing:', repr(msgid))
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
