# This file is part of the eldercare platform. See LICENSE.
"""GB/T 42195-2022 老年人能力评估规范: the 26 items of part B, their options
and scores, the level table and the adjustments of part C.

This module is pure Python (no pool) so that the scoring can be tested and
used by the report and the demo loader alike. ``ITEMS`` is the single source
of the option texts: the model's Selection fields are built from the English
texts and ``locale/zh_CN.po`` carries the exact Chinese of the standard
(``tools/fill_po.py`` writes those entries from ``zh`` below).
"""
import re

DIMENSIONS = [
    # code, English, Chinese, maximum
    ('b1', "Self-care", "自理能力", 32),
    ('b2', "Basic mobility", "基础运动能力", 15),
    ('b3', "Mental state", "精神状态", 28),
    ('b4', "Perception and social participation", "感知觉与社会参与", 15),
    ]

_ASSIST = [
    (4, "Completes it alone, needs no help", "独立完成，不需要协助"),
    (3, "Completes it with guidance or prompting",
        "在他人指导或提示下完成"),
    (2, "Needs help but does most of it",
        "需要他人协助，但以自身完成为主"),
    (1, "Relies mainly on help, can cooperate",
        "主要依靠他人协助，自身能给予配合"),
    (0, "Fully dependent on help and cannot cooperate",
        "完全依赖他人协助，且不能给予配合"),
    ]


def _item(field, number, en, zh, options):
    return {
        'field': field, 'number': number, 'dimension': field[:2],
        'en': en, 'zh': zh, 'options': options,
        'max': max(o[0] for o in options),
        }


ITEMS = [
    _item('b1_eating', 'B.1.1', "Eating", "进食", [
        (4, "Uses utensils alone to bring food to the mouth and swallow, "
            "no choking",
            "独立使用器具将食物送进口中并咽下，没有呛咳"),
        (3, "Completes it with guidance or prompting, or alone with aids, "
            "no choking",
            "在他人指导或提示下完成，或独立使用辅具，没有呛咳"),
        (2, "Needs a little hands-on help, occasional choking (monthly or "
            "more)",
            "进食中需要少量接触式协助，偶尔（每月一次及以上）呛咳"),
        (1, "Needs much hands-on help, frequent choking (weekly or more)",
            "在进食中需要大量接触式协助，经常（每周一次及以上）呛咳"),
        (0, "Fully dependent, or swallowing difficulty, or feeding tube",
            "完全依赖他人协助进食，或吞咽困难，或留置营养管"),
        ]),
    _item('b1_grooming', 'B.1.2', "Grooming", "修饰", _ASSIST),
    _item('b1_bathing', 'B.1.3', "Bathing", "洗澡", _ASSIST),
    _item('b1_dressing_upper', 'B.1.4', "Dressing/undressing upper body",
        "穿/脱上衣", _ASSIST),
    _item('b1_dressing_lower', 'B.1.5',
        "Dressing/undressing trousers, shoes and socks",
        "穿/脱裤子和鞋袜", _ASSIST),
    _item('b1_urination', 'B.1.6', "Urinary control", "小便控制", [
        (4, "Controls urination; frequency and control are normal",
            "可自行控制排尿，排尿次数、排尿控制均正常"),
        (3, "Controls it by day; more frequent or poorer control at night, "
            "or uses diapers or pads alone",
            "白天可自行控制排尿次数，夜间出现排尿次数增多、排尿控制较差，"
            "或自行使用尿布、尿垫等辅助用物"),
        (2, "Controls it most of the day, occasional incontinence (less "
            "than daily, more than weekly), poor control at night, or a "
            "little help with diapers or pads",
            "白天大部分时间可自行控制排尿，偶出现（每天<1次，但每周>1次）"
            "尿失禁，夜间控制排尿较差，或他人少量协助使用尿布、尿垫等辅助用物"),
        (1, "Cannot control it most of the day (daily or more, not yet "
            "total), incontinence at night, or much help with diapers or "
            "pads",
            "白天大部分时间不能控制排尿（每天≥1次，但尚非完全失控），"
            "夜间出现尿失禁，或他人大量协助使用尿布、尿垫等辅助用物"),
        (0, "Incontinent, no control at all, or indwelling catheter",
            "小便失禁，完全不能控制排尿，或留置导尿管"),
        ]),
    _item('b1_defecation', 'B.1.7', "Bowel control", "大便控制", [
        (4, "Controls bowel movements normally", "可正常自行控制大便排出"),
        (3, "Occasional (less than daily) constipation or incontinence, or "
            "uses laxative suppositories or pads alone",
            "有时出现（每天<1次）便秘或大便失禁，或自行使用开塞露、尿垫等"
            "辅助用物"),
        (2, "Frequent (less than daily, more than weekly) constipation or "
            "incontinence, or a little help with suppositories or pads",
            "经常出现（每天<1次，但每周>1次）便秘或大便失禁，或他人少量协助"
            "使用开塞露、尿垫等辅助用物"),
        (1, "Constipation or incontinence most of the time (daily or more), "
            "not yet total, or much help with suppositories or pads",
            "大部分时间均出现（每天≥1次）便秘或大便失禁，但尚非完全失控，"
            "或他人大量协助使用开塞露、尿垫等辅助用物"),
        (0, "Severe constipation or total incontinence, depends on help to "
            "defecate or clean the skin",
            "严重便秘或者完全大便失禁，需要依赖他人协助排便或清洁皮肤"),
        ]),
    _item('b1_toileting', 'B.1.8', "Toileting", "如厕", _ASSIST),
    _item('b2_bed_mobility', 'B.2.1', "Moving in bed", "床上体位转移",
        _ASSIST),
    _item('b2_transfer', 'B.2.2', "Bed-chair transfer", "床椅转移", _ASSIST),
    _item('b2_walking', 'B.2.3', "Walking on level ground", "平地行走", [
        (4, "Walks about 50 m alone on level ground, no help, no risk of "
            "falling",
            "独立平地行走50m左右，不需要协助，无摔倒风险"),
        (3, "Walks about 50 m with a risk of falling, needs supervision or "
            "guidance, or a cane or walker",
            "能平地行走50m左右，存在摔倒风险，需要他人监护或指导，或使用"
            "拐杖、助行器等辅助工具"),
        (2, "Needs a little support from others when walking",
            "在步行时需要他人少量扶持协助"),
        (1, "Needs much support from others when walking",
            "在步行时需要他人大量扶持协助"),
        (0, "Cannot walk at all", "完全不能步行"),
        ]),
    _item('b2_stairs', 'B.2.4', "Going up and down stairs", "上下楼梯", [
        (3, "Goes up and down stairs alone (10 to 15 steps in a row), no "
            "help",
            "可独立上下楼梯（连续上下10个～15个台阶），不需要协助"),
        (2, "Completes it with guidance or prompting",
            "在他人指导或提示下完成"),
        (1, "Needs help but does most of it",
            "需要他人协助，但以自身完成为主"),
        (0, "Relies mainly on help and can cooperate, or fully dependent "
            "and cannot cooperate",
            "主要依靠他人协助，自身能给予配合；或者完全依赖他人协助，"
            "且不能给予配合"),
        ]),
    _item('b3_time', 'B.3.1', "Orientation in time", "时间定向", [
        (4, "Clear sense of time (year, month); the date or weekday may be "
            "one day off",
            "时间观念（年、月）清楚，日期（或星期几）可相差一天"),
        (3, "Sense of time somewhat reduced; cannot tell year, month, day "
            "(or weekday) apart (two days or more off)",
            "时间观念有些下降，年、月、日（或星期几）不能全部分清（相差两天"
            "或以上）"),
        (2, "Poor sense of time; knows the half of the year or the season",
            "时间观念较差，年、月、日不清楚，可知上半年或下半年或季节"),
        (1, "Very poor sense of time; knows morning/afternoon or day/night",
            "时间观念很差，年、月、日不清楚，可知上午、下午或白天、夜间"),
        (0, "No sense of time", "无时间观念"),
        ]),
    _item('b3_place', 'B.3.2', "Orientation in place", "空间定向", [
        (4, "Goes out alone within the daily area, e.g. shopping in the "
            "neighbourhood",
            "能在日常生活范围内单独外出，如在日常居住小区内独自外出购物等"),
        (3, "Cannot go out alone but knows the address of where they live",
            "不能单独外出，但能准确知道自己日常生活所在地的地址信息"),
        (2, "Cannot go out alone, knows much about the places of daily "
            "life",
            "不能单独外出，但知道较多有关自己日常生活的地址信息"),
        (1, "Cannot go out alone, knows little about where they live",
            "不能单独外出，但知道较少自己居住或生活所在地的地址信息"),
        (0, "Cannot go out alone, no sense of place",
            "不能单独外出，无空间观念"),
        ]),
    _item('b3_person', 'B.3.3', "Orientation to persons", "人物定向", [
        (4, "Knows the people they have long lived with, names them and "
            "knows the relationship",
            "认识长期共同一起生活的人，能称呼并知道关系"),
        (3, "Knows most people living with them, names them or knows the "
            "relationship",
            "能认识大部分共同生活居住的人，能称呼或知道关系"),
        (2, "Knows some relatives or carers living with them, names them or "
            "knows the relationship",
            "能认识部分日常同住的亲人或照护者等，能称呼或知道关系等"),
        (1, "Knows only themselves or very few relatives or carers",
            "只认识自己或极少数日常同住的亲人或照护者等"),
        (0, "Knows nobody (themselves included)",
            "不认识任何人（包括自己）"),
        ]),
    _item('b3_memory', 'B.3.4', "Memory", "记忆", [
        (4, "Memory suited to society and age, recalls completely",
            "总能保持与社会、年龄所适应的记忆能力，能完整的回忆"),
        (3, "Mild memory disorder (of 3 words recalls 0 to 1 after 5 "
            "minutes)",
            "出现轻度的记忆紊乱或回忆不能（不能回忆即时信息，3个词语经过5分钟"
            "后仅能回忆0个～1个）"),
        (2, "Moderate memory disorder (cannot recall recent events, e.g. "
            "the last meal)",
            "出现中度的记忆紊乱或回忆不能（不能回忆近期记忆，不记得上一顿饭"
            "吃了什么）"),
        (1, "Severe memory disorder (cannot recall the distant past, e.g. "
            "old friends)",
            "出现重度的记忆紊乱或回忆不能（不能回忆远期记忆，不记得自己的老"
            "朋友）"),
        (0, "Memory completely disordered, cannot recall the past "
            "correctly",
            "记忆完全紊乱或者完全不能对既往事物进行正确的回忆"),
        ]),
    _item('b3_understanding', 'B.3.5', "Understanding", "理解能力", [
        (4, "Understands others normally", "能正常理解他人的话"),
        (3, "Understands others but needs more time",
            "能理解他人的话，但需要增加时间"),
        (2, "Difficulty understanding, needs frequent repetition or "
            "simpler speech",
            "理解有困难，需频繁重复或简化口头表达"),
        (1, "Severe difficulty understanding, needs much help",
            "理解有严重困难，需要大量他人帮助"),
        (0, "Cannot understand others at all", "完全不能理解他人的话"),
        ]),
    _item('b3_expression', 'B.3.6', "Expression", "表达能力", [
        (4, "Expresses their thoughts normally", "能正常表达自己的想法"),
        (3, "Expresses their needs but needs more time",
            "能表达自己的需要，但需要增加时间"),
        (2, "Difficulty expressing needs, needs frequent repetition or "
            "simpler speech",
            "表达需要有困难，需频繁重复或简化口头表达"),
        (1, "Severe difficulty expressing, needs much help",
            "表达有严重困难，需要大量他人帮助"),
        (0, "Cannot express needs at all", "完全不能表达需要"),
        ]),
    _item('b3_aggression', 'B.3.7', "Aggressive behaviour", "攻击行为", [
        (1, "None", "未出现"),
        (0, "Aggressive behaviour in the last month",
            "近一个月内出现过攻击行为"),
        ]),
    _item('b3_depression', 'B.3.8', "Depressive symptoms", "抑郁症状", [
        (1, "None", "未出现"),
        (0, "Negative mood in the last month", "近一个月内出现过负性情绪"),
        ]),
    _item('b3_consciousness', 'B.3.9', "Level of consciousness", "意识水平", [
        (2, "Awake, responds correctly to the surroundings",
            "神志清醒，对周围环境能做出正确反应"),
        (1, "Drowsy (wakes when called or touched, answers correctly, falls "
            "asleep again) or clouded consciousness",
            "嗜睡，表现为睡眠状态过度延长，当呼唤或推动老年人的肢体时可唤醒，"
            "并能进行正确的交谈或执行指令，停止刺激后又继续入睡；意识模糊，"
            "注意力涣散，对外界刺激不能清晰的认识，空间和时间定向力障碍，"
            "理解力迟钝，记忆力模糊和不连贯"),
        (0, "Stupor (wakes briefly only under strong stimulus) or coma",
            "昏睡，一般的外界刺激不能使其觉醒，给予较强烈的刺激时可有短时的"
            "意识清醒，醒后可简短回答提问，当刺激减弱后又很快进入睡眠状态；"
            "或者昏迷：意识丧失，随意运动丧失，对一般刺激全无反应"),
        ]),
    _item('b4_vision', 'B.4.1', "Vision", "视力", [
        (2, "Normal vision", "视力正常"),
        (1, "Sees large print but not the standard print of newspapers; "
            "limited sight, recognises objects",
            "能看清楚大字体，但看不清书报上的标准字体；视力有限，看不清报纸"
            "大标题，但能辨认物体"),
        (0, "Sees only light, colours and shapes; blind",
            "只能看到光、颜色和形状；完全失明"),
        ]),
    _item('b4_hearing', 'B.4.2', "Hearing", "听力", [
        (2, "Normal hearing", "听力正常"),
        (1, "Does not hear soft speech or speech beyond two metres; needs a "
            "quiet place or a loud voice",
            "在轻声说话或说话距离超过2m时听不清；正常交流有些困难，需在安静"
            "的环境或大声说话才能听到"),
        (0, "Hears partly only when the speaker is loud or slow; deaf",
            "讲话者大声说话或说话很慢，才能部分听见；完全失聪"),
        ]),
    _item('b4_daily_affairs', 'B.4.3', "Managing daily affairs",
        "执行日常事务", [
            (4, "Plans, arranges and completes daily affairs alone",
                "能完全独立计划、安排和完成日常事务，无需协助"),
            (3, "Needs supervision or guidance",
                "在计划、安排和完成日常事务时需要他人监护或指导"),
            (2, "Needs a little help", "在计划、安排和完成日常事务时需要少量协助"),
            (1, "Needs much help", "在计划、安排和完成日常事务时需要大量协助"),
            (0, "Fully dependent on others for daily affairs",
                "完全依赖他人进行日常事务"),
            ]),
    _item('b4_transport', 'B.4.4', "Going out by transport",
        "使用交通工具外出", [
            (3, "Rides a bicycle or takes public transport alone",
                "能自己骑车或搭乘公共交通工具外出"),
            (2, "Takes a taxi alone but no other transport",
                "能自己搭乘出租车，但不会搭乘其他公共交通工具外出"),
            (1, "Takes public transport when helped or accompanied",
                "当有人协助或陪伴，可搭乘公共交通工具外出"),
            (0, "Goes out only by taxi or car with help; cannot go out, or "
                "needs full help to go out",
                "只能在他人协助下搭乘出租车或私家车外出；完全不能出门，或者"
                "外出完全需要协助"),
            ]),
    _item('b4_social', 'B.4.5', "Social interaction", "社会交往能力", [
        (4, "Takes part in society, adapts to it, behaves appropriately",
            "参与社会，在社会环境有一定的适应能力，待人接物恰当"),
        (3, "Adapts to simple settings, approaches others; an intellectual "
            "problem is hard to notice at first; does not get metaphors",
            "能适应单纯环境，主动接触他人，初见面时难让人发现智力问题，"
            "不能理解隐喻语"),
        (2, "Withdrawn, can be approached, does not approach others; many "
            "inappropriate words; easily deceived",
            "脱离社会，可被动接触，不会主动待人，谈话中很多不适词句，"
            "容易上当受骗"),
        (1, "Barely able to interact; unclear speech, inappropriate "
            "expression",
            "勉强可与他人接触，谈吐内容不清楚，表情不恰当"),
        (0, "Cannot interact with others", "不能与人交往"),
        ]),
    ]
ITEM_BY_FIELD = {i['field']: i for i in ITEMS}
ITEM_FIELDS = [i['field'] for i in ITEMS]

# Levels of part C: code, English, Chinese, lowest total
LEVELS = [
    ('0', "Intact ability", "能力完好", 90),
    ('1', "Mildly impaired ability (mild disability)",
        "能力轻度受损（轻度失能）", 66),
    ('2', "Moderately impaired ability (moderate disability)",
        "能力中度受损（中度失能）", 46),
    ('3', "Severely impaired ability (severe disability)",
        "能力重度受损（重度失能）", 30),
    ('4', "Complete loss of ability (complete disability)",
        "能力完全丧失（完全失能）", 0),
    ]
LEVEL_ZH = {c: zh for c, _, zh, _ in LEVELS}
WORST = 4

ADJUSTMENTS = [
    # code, English, Chinese (part C, basis for changing the level)
    ('coma', "In a coma: rated complete loss of ability directly",
        "处于昏迷状态者，直接评定为能力完全丧失"),
    ('dementia',
        "Diagnosed dementia (F00–F03): one level worse",
        "确诊为痴呆（F00～F03），在原有能力级别上提高一个等级"),
    ('mental',
        "Other mental and behavioural disorder diagnosed by a psychiatrist "
        "(F04–F99): one level worse",
        "精神科专科医生诊断的其他精神和行为障碍疾病（F04～F99），在原有"
        "能力级别上提高一个等级"),
    ('risk_events',
        "Two or more care-risk events in the last 30 days (fall, choking, "
        "suicide, self-harm, wandering …): one level worse",
        "近30天内发生过2次及以上照护风险事件（如跌倒、噎食、自杀、自伤、"
        "走失等），在原有能力级别上提高一个等级"),
    ]
ADJUSTMENT_ZH = {c: zh for c, _, zh in ADJUSTMENTS}

ICD10 = re.compile(r'^([A-Z])(\d{2})(?:\.(\d{1,2}))?$')


class InvalidOption(ValueError):
    "An answer that is not an option of its item"

    def __init__(self, field, value):
        super().__init__(field, value)
        self.field = field
        self.value = value


def normalize_icd10(code):
    "Return the ICD-10 code in upper case without spaces, or raise ValueError"
    code = (code or '').strip().upper().replace(' ', '')
    if not ICD10.match(code):
        raise ValueError(code)
    return code


def icd10_group(code):
    """Return 'dementia' for F00–F03, 'mental' for F04–F99, None otherwise
    (code must be normalised)"""
    match = ICD10.match(code)
    if not match or match.group(1) != 'F':
        return None
    return 'dementia' if int(match.group(2)) <= 3 else 'mental'


def check_answer(field, value):
    "Return the score of value for the item or raise InvalidOption"
    item = ITEM_BY_FIELD[field]
    scores = {o[0] for o in item['options']}
    try:
        score = int(value)
    except (TypeError, ValueError):
        raise InvalidOption(field, value)
    if str(score) != str(value).strip() or score not in scores:
        raise InvalidOption(field, value)
    return score


def level_of(total):
    "Preliminary level (as int) of a total score"
    for code, _, _, minimum in LEVELS:
        if total >= minimum:
            return int(code)
    raise ValueError(total)


def score(answers, coma=False, diagnoses=(), risk_events=0):
    """Score an assessment.

    answers: {field: score or str score} for the 26 items (all required);
    diagnoses: ICD-10 codes; risk_events: number of care-risk events in
    the last 30 days. Returns a dict: dimensions {b1..b4: score}, total,
    preliminary (int), adjustments (list of codes in the order applied),
    final (int)."""
    missing = [f for f in ITEM_FIELDS if answers.get(f) in (None, '')]
    if missing:
        raise KeyError(missing)
    dimensions = {d[0]: 0 for d in DIMENSIONS}
    for field in ITEM_FIELDS:
        dimensions[ITEM_BY_FIELD[field]['dimension']] += check_answer(
            field, answers[field])
    total = sum(dimensions.values())
    preliminary = level_of(total)
    level = preliminary
    adjustments = []
    if coma:
        adjustments.append('coma')
        level = WORST
    else:
        groups = {icd10_group(normalize_icd10(c)) for c in diagnoses if c}
        # One step for the mental-health clause, whichever of its two
        # branches applies (dementia first when both).
        for code in ('dementia', 'mental'):
            if code in groups:
                adjustments.append(code)
                level = min(WORST, level + 1)
                break
        if (risk_events or 0) >= 2:
            adjustments.append('risk_events')
            level = min(WORST, level + 1)
    return {
        'dimensions': dimensions,
        'total': total,
        'preliminary': preliminary,
        'adjustments': adjustments,
        'final': level,
        }
