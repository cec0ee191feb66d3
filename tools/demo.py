#!/usr/bin/env python3
"""Load demonstration data into an eldercare database.

    TRYTOND_CONFIG=trytond.conf TRYTOND_DATABASE__URI=postgresql://... \\
        python tools/demo.py --database eldercare [--seed 2026]

The database must exist with the addons modules activated and zh_CN loaded
(./elder.sh run does that, then calls this script). Everything made here is
fictional: people, ID numbers, phone numbers, providers and credit codes are
generated (valid to their standards' check characters, nothing more), and the
sub-district and community regions are marked "（示例）" with codes that the
official statistical division codes do not use (9xx after the parent code).

The same seed gives the same data. When the demo users already exist the
script only prints the table of demo logins, so it can be run again safely.
The table goes to stdout; progress goes to stderr.
"""
import argparse
import importlib
import datetime as dt
import random
import sys
import time
import unicodedata
from decimal import Decimal

from stdnum.cn import uscc

DEMO_PASSWORD = 'Demo@2026!elder'  # noqa: S105 (demo password, documented, demo data only)
COMPANY_NAME = '呼和浩特市民政局'
DEMO = '（示例）'

# --- users -------------------------------------------------------------------
# login, display name, role (Chinese), groups (module, xml id),
# region code of the scope, index in PROVIDERS of the provider scope,
# landing actions (module, xml id) opened at login.
USERS = [
    ('supervisor', '李红梅', '区域监管员（市级）',
        [('elder_base', 'group_supervisor')], '150100', None,
        [('elder_base', 'act_elder')]),
    ('supervisor_xc', '赵志刚', '区域监管员（区级）',
        [('elder_base', 'group_supervisor')], '150102', None,
        [('elder_base', 'act_elder')]),
    ('supervisor_hm', '马玉兰', '区域监管员（区级）',
        [('elder_base', 'group_supervisor')], '150103', None,
        [('elder_base', 'act_elder')]),
    ('operator', '王建华', '平台运营人员',
        [('elder_base', 'group_operator')], '150100', None,
        [('elder_base', 'act_elder')]),
    ('provider_admin', '刘晓燕', '服务机构管理员',
        [('elder_base', 'group_provider_admin')], None, 0,
        [('elder_base', 'act_practitioner')]),
    ('provider_admin2', '宝音', '服务机构管理员',
        [('elder_base', 'group_provider_admin')], None, 1,
        [('elder_base', 'act_practitioner')]),
    ('caregiver', None, '护理员',
        [('elder_base', 'group_caregiver')], None, 0,
        [('elder_base', 'act_practitioner')]),
    ('agent', '其其格', '呼叫中心坐席',
        [('elder_base', 'group_agent')], '150100', None,
        [('elder_base', 'act_elder')]),
    ('finance', '张丽娜', '财务人员',
        [('elder_base', 'group_finance')], '150100', None,
        [('elder_base', 'act_elder')]),
    ('auditor', '孙海波', '审计管理员',
        [('elder_security', 'group_audit_admin')], None, None, []),
    ('secadmin', '高文斌', '安全管理员',
        [('elder_security', 'group_security_admin')], None, None, []),
    ('sysadmin', '额尔敦', '系统管理员',
        [('elder_security', 'group_system_admin')], None, None, []),
    ]

# --- regions -------------------------------------------------------------------
# GB/T 2260 districts, banners and counties of Hohhot (region_data.xml has
# them) with demo sub-districts/towns and communities/villages below. Real
# sub-district names for recognisability, but every record is suffixed
# "（示例）" and coded parent + 9xx, a range the statistical codes leave unused.
DISTRICTS = {
    # code: (name, elders, city?, (lat range), (lon range),
    #        [(sub-district/town, [(community/village, [compounds])])])
    '150102': ('新城区', 60, True, (40.830, 40.880), (111.660, 111.760), [
        ('海拉尔东路街道', [
            ('如意社区', ['如意小区', '兴安小区']),
            ('东站社区', ['铁路东小区', '东站花园'])]),
        ('锡林路街道', [('锡林南路社区', ['青城花园', '电力小区'])]),
        ('东风路街道', [('东风社区', ['东风小区', '团结小区'])]),
        ]),
    '150103': ('回民区', 45, True, (40.810, 40.860), (111.580, 111.660), [
        ('中山西路街道', [('光明社区', ['光明小区', '民族家园'])]),
        ('海拉尔西路街道', [('西乌素社区', ['西乌素小区', '园丁小区'])]),
        ('新华西路街道', [('新华社区', ['新华小区', '丁香家园'])]),
        ]),
    '150104': ('玉泉区', 40, True, (40.750, 40.810), (111.620, 111.700), [
        ('小召前街街道', [('大召社区', ['大召东小区', '石头巷小区'])]),
        ('昭君路街道', [('昭君社区', ['昭君花园', '锦绣园'])]),
        ]),
    '150105': ('赛罕区', 65, True, (40.760, 40.830), (111.680, 111.800), [
        ('人民路街道', [('人民路社区', ['金桥小区', '阳光花园'])]),
        ('大学西路街道', [('大学路社区', ['师大家属院', '农大小区'])]),
        ('敕勒川路街道', [('敕勒川社区', ['敕勒川家园', '乌兰小区'])]),
        ]),
    '150121': ('土默特左旗', 25, False, (40.670, 40.710), (111.120, 111.180), [
        ('察素齐镇', [
            ('团结社区', ['团结小区', '新华园']),
            ('兵州亥村', [])]),
        ]),
    '150122': ('托克托县', 15, False, (40.260, 40.300), (111.160, 111.220), [
        ('双河镇', [('新坪社区', ['新坪小区']), ('河口村', [])]),
        ]),
    '150123': ('和林格尔县', 18, False, (40.360, 40.400), (111.800, 111.850), [
        ('盛乐镇', [('盛乐社区', ['盛乐家园']), ('上土城村', [])]),
        ]),
    '150124': ('清水河县', 12, False, (39.900, 39.940), (111.660, 111.700), [
        ('城关镇', [('城关社区', ['城关小区']), ('北堡村', [])]),
        ]),
    '150125': ('武川县', 20, False, (41.080, 41.120), (111.430, 111.480), [
        ('可可以力更镇', [('可镇社区', ['可镇小区']), ('东土城村', [])]),
        ]),
    }

# --- people --------------------------------------------------------------------
HAN_SURNAMES = (
    '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许'
    '傅沈彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭邹熊金陆'
    '郝孔白崔康毛邱秦江史顾侯邵孟段雷钱汤尹常武乔贺温牛樊云乌')
OLD_MALE = ['建国', '建华', '国庆', '振华', '玉山', '德明', '文祥', '志刚',
    '福海', '长林', '树林', '宝山', '永祥', '明亮', '广才', '殿臣', '占元',
    '占山', '凤山', '金贵', '有福', '富贵', '玉成', '世杰', '守义', '保国',
    '跃进', '卫东', '援朝', '胜利', '满仓', '二虎', '根柱', '银锁']
OLD_FEMALE = ['桂兰', '秀英', '玉兰', '淑珍', '秀兰', '凤英', '桂英', '玉梅',
    '淑芬', '翠花', '金凤', '素芳', '桂芳', '秀珍', '玉珍', '凤兰', '美英',
    '春梅', '秀梅', '兰英', '桂香', '玉华', '淑英', '俊英', '二女', '改兰',
    '引弟', '爱华', '红英', '丽华']
YOUNG_GIVEN = ['伟', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳',
    '杰', '娟', '涛', '明', '超', '秀梅', '海燕', '建军', '晓东', '丽娜',
    '红霞', '志强', '立新', '春燕', '海波', '晓燕', '俊峰', '亚楠', '文斌',
    '海军', '晓红', '利平', '云霞', '永刚', '慧敏', '鹏飞', '佳琪', '宇航']
MONGOL_MALE = ['巴特尔', '额尔敦', '巴图', '朝鲁', '孟和', '宝音', '那顺',
    '苏和', '阿拉坦仓', '哈斯巴根', '吉日格勒', '敖其尔', '布和', '达来',
    '图门', '宝力道', '乌力吉', '满都拉', '额尔德尼', '巴雅尔', '特木尔',
    '毕力格', '扎那', '格日勒图']
MONGOL_FEMALE = ['其其格', '乌云', '萨仁', '娜仁', '斯琴', '高娃', '塔娜',
    '托娅', '乌兰', '图雅', '苏日娜', '阿拉坦其其格', '萨仁高娃',
    '乌云格日勒', '斯琴高娃', '额尔敦其其格', '娜仁花', '其木格', '吉雅',
    '格日乐']
MONGOL_YOUNG = ['苏日娜', '阿如汗', '乌日汗', '额尔德木图', '萨日娜', '呼和',
    '巴雅尔', '那日苏', '包钢', '敖登', '其勒木格', '塔拉', '阿拉腾', '乌日娜',
    '满都呼', '宝力格']
MONGOL_SURNAMES = '包鲍白韩吴敖宝那云奇'
HUI_SURNAMES = '马丁白穆海杨金哈沙'
MANCHU_SURNAMES = '关佟那金赵富傅'
DAUR_SURNAMES = '敖郭何孟苏沃'
EVENKI_SURNAMES = '杜涂何吴'
# ethnicity code (GB/T 3304): count among the 300 older people
ETHNICITY_COUNTS = [('01', 221), ('02', 60), ('03', 9), ('11', 6), ('31', 2),
    ('45', 2)]

LIVING_WEIGHTS = {  # (under 80, 80 and over)
    'alone': (12, 25), 'spouse': (45, 20), 'children': (35, 40),
    'relatives': (3, 5), 'carer': (2, 7), 'institution': (0, 3),
    'other': (3, 0),
    }
CHRONIC = ['高血压', '2型糖尿病', '冠心病', '慢性阻塞性肺疾病', '骨关节炎',
    '脑卒中后遗症', '白内障', '骨质疏松', '慢性胃炎', '高脂血症',
    '前列腺增生', '帕金森病']
HEALTH = ['生活基本自理，行动稍缓。', '行走需拐杖，上下楼梯困难。',
    '视力下降，需协助阅读。', '听力下降，交流需大声。',
    '长期服药，需提醒按时用药。', '卧床为主，需协助翻身。',
    '身体状况良好，参加社区活动。', '记忆力减退，偶有走失风险。']
MOBILE_PREFIXES = ['130', '131', '132', '133', '134', '135', '136', '137',
    '138', '139', '150', '151', '152', '155', '156', '157', '158', '159',
    '176', '177', '178', '180', '181', '182', '183', '185', '186', '187',
    '188', '189', '198', '199']
# Birth regions of practitioners' IDs (GB/T 2260, Inner Mongolia).
WORKER_ID_REGIONS = ['150102', '150103', '150104', '150105', '150121',
    '150122', '150123', '150124', '150125', '150202', '150203', '150902',
    '150921', '150402', '150602']

# --- providers -------------------------------------------------------------------
# name, organisation type, registered district, service-area districts,
# service type codes, capacity, target state, practitioners
PROVIDERS = [
    ('呼和浩特市青城居家养老服务中心', 'private_non_enterprise', '150102',
        ['150102', '150103'], ['01', '02', '03', '04', '05', '06'], 120,
        'active', 14),
    ('赛罕区康乐养老服务有限公司', 'enterprise', '150105',
        ['150105', '150104'], ['01', '02', '04', '05'], 90, 'active', 12),
    ('新城区颐康居家养老服务站', 'private_non_enterprise', '150102',
        ['150102'], ['01', '03', '05', '06'], 40, 'active', 8),
    ('回民区乐龄社区养老服务中心', 'private_non_enterprise', '150103',
        ['150103'], ['01', '02', '03', '06'], 50, 'active', 8),
    ('玉泉区福寿康居家养老服务有限公司', 'enterprise', '150104',
        ['150104'], ['01', '02', '04'], 35, 'suspended', 5),
    ('土默特左旗敕勒川养老服务中心', 'private_non_enterprise', '150121',
        ['150121'], ['01', '03', '05'], 30, 'training', 4),
    ('和林格尔县盛乐居家养老服务站', 'private_non_enterprise', '150123',
        ['150123'], ['01', '03'], 20, 'reviewing', 2),
    ('武川县安康养老服务有限公司', 'enterprise', '150125',
        ['150125'], ['01', '02'], 20, 'applied', 1),
    ]
PROVIDER_LANDLINE = '0471'

# kind: (weight, certificate names)
WORKER_KINDS = [
    ('caregiver', 70), ('nurse', 12), ('social_worker', 8), ('manager', 4),
    ('dietitian', 3), ('therapist', 3),
    ]
TRAININGS = [
    ('岗前培训：居家养老上门服务规范（GB/T 43153）', 8),
    ('失能老年人照护技能提升培训', 16),
    ('消防安全与应急救护培训', 4),
    ('平台操作培训：工单、定位签到与服务记录', 4),
    ('老年人能力评估（GB/T 42195）基础培训', 12),
    ('认知障碍老年人照护培训', 8),
    ]


# Demo loaders of the subsystem modules, in dependency order: each is
# tools/<script>.py with load(pool, seed), run when its module is activated.
MODULE_LOADERS = [
    ('elder_service', 'demo_service'),
    ('elder_device', 'demo_device'),
    ('elder_assess', 'demo_assess'),
    ('elder_wechat', 'demo_wechat'),
    ('elder_face', 'demo_face'),
    ('elder_meal', 'demo_meal'),
    ('elder_callcenter', 'demo_callcenter'),
    ('elder_community', 'demo_community'),
    ('elder_settlement', 'demo_settlement'),
    ('elder_bed', 'demo_bed'),
    ('elder_renovation', 'demo_renovation'),
    ('elder_bi', 'demo_bi'),
    ]
# Logins the module loaders create (login, role as printed), for the table
MODULE_USERS = [
    ('assess_op', '评估业务员'),
    ('assessor', '评估员'),
    ('assess_reviewer', '评估审核员'),
    ('canteen', '助餐点终端/工作人员'),
    ('community_staff', '社区服务人员'),
    ('social_worker', '社会工作者'),
    ('coordinator', '志愿者协调员'),
    ('bed_designer', '家庭养老床位评估设计机构'),
    ('bed_acceptor', '家庭养老床位验收机构'),
    ('ren_designer', '适老化改造评估设计机构'),
    ('ren_builder', '适老化改造施工机构'),
    ('ren_acceptor', '适老化改造验收机构'),
    ]


def log(message):
    print(f'[demo] {message}', file=sys.stderr, flush=True)


# --- generators ------------------------------------------------------------------

def ric(region_code, birth, male, rng, used):
    "Return a new GB 11643 ID number for a region, birth date and sex."
    from trytond.modules.elder_base.identity import ric_check_character
    while True:
        seq = rng.randrange(0, 1000)
        if (seq % 2 == 1) != male:
            seq = (seq + 1) % 1000
        body = '%s%s%03d' % (region_code, birth.strftime('%Y%m%d'), seq)
        number = body + ric_check_character(body)
        if number not in used:
            used.add(number)
            return number


def random_date(rng, start, end):
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def mobile(rng, used):
    from trytond.modules.elder_base.identity import normalize_phone
    while True:
        number = rng.choice(MOBILE_PREFIXES) + '%08d' % rng.randrange(10 ** 8)
        if number in used:
            continue
        try:
            normalize_phone(number)
        except ValueError:
            continue
        used.add(number)
        return number


def landline(rng, used):
    from trytond.modules.elder_base.identity import normalize_phone
    while True:
        number = '%s-%s%06d' % (PROVIDER_LANDLINE, rng.choice('3456'),
            rng.randrange(10 ** 6))
        if number in used:
            continue
        try:
            normalize_phone(number)
        except ValueError:
            continue
        used.add(number)
        return number


_ORG_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'  # GB 32100 characters


def organisation_code(prefix, rng):
    "9 characters of a GB 11714 organisation code with its check character."
    body = prefix + ''.join(
        rng.choice(_ORG_ALPHABET) for _ in range(8 - len(prefix)))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w
        for c, w in zip(body, weights))
    check = 11 - total % 11
    return body + {10: 'X', 11: '0'}.get(check, str(check))


def credit_code(organisation_type, region_code, rng, used):
    "A GB 32100 code: 52 (civil affairs, private non-enterprise) or 91."
    while True:
        if organisation_type == 'private_non_enterprise':
            body = '52' + region_code + organisation_code('MJ', rng)
        else:
            body = '91' + region_code + organisation_code('MA', rng)
        code = body + uscc.calc_check_digit(body)
        if code not in used:
            used.add(code)
            return code


def han_name(rng, male, young=False, surname=None):
    surname = surname or rng.choice(HAN_SURNAMES)
    if young:
        return surname + rng.choice(YOUNG_GIVEN)
    return surname + rng.choice(OLD_MALE if male else OLD_FEMALE)


def elder_name(rng, ethnicity, male):
    if ethnicity == '02':
        given = rng.choice(MONGOL_MALE if male else MONGOL_FEMALE)
        # Many Mongolian people use the given name alone, some a surname.
        if rng.random() < 0.3:
            return rng.choice(MONGOL_SURNAMES) + given
        return given
    surnames = {'03': HUI_SURNAMES, '11': MANCHU_SURNAMES,
        '31': DAUR_SURNAMES, '45': EVENKI_SURNAMES}.get(ethnicity)
    if surnames:
        return han_name(rng, male, surname=rng.choice(surnames))
    return han_name(rng, male)


def child_name(rng, ethnicity, parent_name, male_parent):
    if ethnicity == '02':
        return rng.choice(MONGOL_YOUNG)
    surname = parent_name[0] if male_parent else rng.choice(HAN_SURNAMES)
    return han_name(rng, None, young=True, surname=surname)


def birth_year(rng):
    years = list(range(1926, 1967))
    weights = [10 if y >= 1956 else 7 if y >= 1946 else 3 if y >= 1936
        else 0.6 for y in years]
    return rng.choices(years, weights)[0]


def age_on(birth, day):
    return day.year - birth.year - (
        (day.month, day.day) < (birth.month, birth.day))


def display_width(text):
    return sum(2 if unicodedata.east_asian_width(c) in 'WF' else 1
        for c in text)


def pad(text, width):
    return text + ' ' * max(0, width - display_width(text))


# --- the loader ------------------------------------------------------------------

class Loader:

    def __init__(self, rng):
        from trytond.pool import Pool
        self.rng = rng
        self.pool = Pool()
        self.used_ids = set()
        self.used_phones = set()
        self.used_codes = set()
        Date = self.pool.get('ir.date')
        self.today = Date.today()

    def ref(self, module, fs_id):
        return self.pool.get('ir.model.data').get_id(module, fs_id)

    def region(self, code):
        Region = self.pool.get('elder.region')
        record, = Region.search([('code', '=', code)], limit=1)
        return record

    # -- company --------------------------------------------------------------
    def company(self):
        pool = self.pool
        Company = pool.get('company.company')
        Currency = pool.get('currency.currency')
        Party = pool.get('party.party')
        User = pool.get('res.user')
        companies = Company.search([('party.name', '=', COMPANY_NAME)])
        if companies:
            company = companies[0]
        else:
            currencies = Currency.search([('code', '=', 'CNY')])
            if currencies:
                currency = currencies[0]
            else:
                currency, = Currency.create([{
                            'name': '人民币', 'code': 'CNY', 'symbol': '¥',
                            'numeric_code': '156',
                            'rounding': Decimal('0.01'), 'digits': 2}])
            party, = Party.create([{'name': COMPANY_NAME}])
            company, = Company.create([{
                        'party': party.id, 'currency': currency.id,
                        'timezone': 'Asia/Shanghai'}])
        admin, = User.search([('login', '=', 'admin')])
        User.write([admin], {
                'companies': [('add', [company.id])],
                'company': company.id})
        return company

    # -- regions --------------------------------------------------------------
    def regions(self):
        "Create the demo sub-districts and communities; return per district"
        Region = self.pool.get('elder.region')
        towns, communities = [], []
        for code, (name, _, city, _, _, subs) in DISTRICTS.items():
            district = self.region(code)
            for i, (town_name, _) in enumerate(subs, 1):
                towns.append({
                        'code': '%s9%02d' % (code, i),
                        'name': town_name + DEMO,
                        'level': 'town',
                        'parent': district.id,
                        })
        existing = {r.code: r for r in Region.search(
                [('code', 'in', [t['code'] for t in towns])])}
        created = Region.create(
            [t for t in towns if t['code'] not in existing])
        town_by_code = dict(existing, **{r.code: r for r in created})
        for code, (name, _, city, _, _, subs) in DISTRICTS.items():
            for i, (town_name, comms) in enumerate(subs, 1):
                town = town_by_code['%s9%02d' % (code, i)]
                for j, (comm_name, _) in enumerate(comms, 1):
                    communities.append({
                            'code': '%s9%02d' % (town.code, j),
                            'name': comm_name + DEMO,
                            'level': 'community',
                            'parent': town.id,
                            })
        existing = {r.code: r for r in Region.search(
                [('code', 'in', [c['code'] for c in communities])])}
        created = Region.create(
            [c for c in communities if c['code'] not in existing])
        comm_by_code = dict(existing, **{r.code: r for r in created})
        # district code -> [(town name, community name, community, compounds)]
        places = {}
        for code, (name, _, city, _, _, subs) in DISTRICTS.items():
            for i, (town_name, comms) in enumerate(subs, 1):
                for j, (comm_name, compounds) in enumerate(comms, 1):
                    community = comm_by_code['%s9%02d9%02d' % (code, i, j)]
                    places.setdefault(code, []).append(
                        (town_name, comm_name, community, compounds))
        log(f'{len(town_by_code)} demo sub-districts/towns, '
            f'{len(comm_by_code)} communities/villages')
        return places

    # -- older people ------------------------------------------------------------
    def address(self, district_name, town_name, comm_name, compounds):
        rng = self.rng
        if compounds:
            return '%s%s%s%d号楼%d单元%d%02d' % (
                district_name, town_name, rng.choice(compounds),
                rng.randint(1, 18), rng.randint(1, 4), rng.randint(1, 7),
                rng.randint(1, 4))
        return '%s%s%s%d组%d号' % (district_name, town_name, comm_name,
            rng.randint(1, 6), rng.randint(1, 80))

    def elders(self, places):
        pool = self.pool
        rng = self.rng
        Elder = pool.get('elder.elder')
        Ethnicity = pool.get('elder.ethnicity')
        Category = pool.get('elder.category')
        Party = pool.get('party.party')
        ethnicities = {e.code: e.id for e in Ethnicity.search([])}
        categories = {c.code: c.id for c in Category.search([])}

        pool_of_ethnicities = [code for code, n in ETHNICITY_COUNTS
            for _ in range(n)]
        rng.shuffle(pool_of_ethnicities)
        values = []
        for code, (d_name, count, city, lat, lon, _) in DISTRICTS.items():
            for _ in range(count):
                ethnicity = pool_of_ethnicities.pop()
                male = rng.random() < 0.46
                year = birth_year(rng)
                birth = random_date(rng, dt.date(year, 1, 1),
                    dt.date(year, 12, 31))
                age = age_on(birth, self.today)
                old = age >= 80
                name = elder_name(rng, ethnicity, male)
                town_name, comm_name, community, compounds = rng.choice(
                    places[code])
                living = rng.choices(list(LIVING_WEIGHTS),
                    [w[old] for w in LIVING_WEIGHTS.values()])[0]
                marital = {
                    'alone': lambda: rng.choices(
                        ['30', '40', '10'], [75, 17, 8])[0],
                    'spouse': lambda: '20',
                    'children': lambda: rng.choices(['20', '30'],
                        [35, 65] if old else [60, 40])[0],
                    'relatives': lambda: rng.choice(['30', '10']),
                    'carer': lambda: rng.choice(['30', '20']),
                    'institution': lambda: '30',
                    'other': lambda: rng.choice(['20', '30', '90']),
                    }[living]()
                cats = set()
                if living == 'alone':
                    cats |= {'alone', 'empty_nest'}
                elif living == 'spouse':
                    cats.add('empty_nest')
                if old:
                    cats.add('advanced_age')
                if rng.random() < (0.20 if old else 0.05):
                    cats.add('disabled')
                    if rng.random() < 0.5:
                        cats.add('disability_cert')
                if rng.random() < (0.08 if old else 0.015):
                    cats.add('dementia')
                if rng.random() < 0.06:
                    cats.add('low_income')
                elif living == 'alone' and rng.random() < 0.06:
                    cats.add('extreme_poverty')
                if rng.random() < 0.03:
                    cats.add('family_planning')
                if rng.random() < 0.03:
                    cats.add('priority_care')
                if (not city and living in {'alone', 'spouse'}
                        and rng.random() < 0.4):
                    cats.add('left_behind')
                address = self.address(d_name, town_name, comm_name,
                    compounds)
                latitude = rng.uniform(*lat)
                longitude = rng.uniform(*lon)
                phone = None
                roll = rng.random()
                if roll < 0.35:
                    phone = mobile(rng, self.used_phones)
                elif roll < 0.6:
                    phone = landline(rng, self.used_phones)
                diseases = rng.sample(CHRONIC, rng.choices(
                        [0, 1, 2, 3], [20, 40, 28, 12])[0])
                health = rng.choice(HEALTH)
                if 'disabled' in cats:
                    health = rng.choice(['卧床为主，需协助翻身。',
                        '依靠轮椅活动，需协助如厕和洗澡。'])
                if 'dementia' in cats:
                    diseases.append('阿尔茨海默病')
                id_number = ric(code, birth, male, rng, self.used_ids)
                values.append({
                        'name': name,
                        'id_number': id_number,
                        'ethnicity': ethnicities[ethnicity],
                        'marital_status': marital,
                        'phone': phone,
                        'hukou_region': community.id,
                        'hukou_address': address,
                        'region': community.id,
                        'address': address,
                        'latitude': Decimal('%.6f' % latitude),
                        'longitude': Decimal('%.6f' % longitude),
                        'living_situation': living,
                        'categories': [('add',
                                sorted(categories[c] for c in cats))],
                        'health_summary': health,
                        'chronic_diseases': '、'.join(diseases) or None,
                        'contacts': [('create', self.contacts(
                                    name, ethnicity, male, marital, living,
                                    address))],
                        })
        parties = Party.create([{'name': v['name']} for v in values])
        for value, party in zip(values, parties):
            value['party'] = party.id
        elders = Elder.create(values)

        # A few moved away and a few died (the workflow's own methods).
        sample = rng.sample(elders, 15)
        moved, deceased = sample[:8], sample[8:]
        Elder.move_away(moved)
        for elder in moved:
            elder.moved_date = self.today - dt.timedelta(
                days=rng.randint(10, 300))
        Elder.save(moved)
        for elder in deceased:
            Elder.deceased([elder], self.today - dt.timedelta(
                    days=rng.randint(5, 330)))
        log(f'{len(elders)} older people ({len(moved)} moved away, '
            f'{len(deceased)} deceased), '
            f'{sum(len(v["contacts"][0][1]) for v in values)} contacts')
        return elders

    def contacts(self, name, ethnicity, male, marital, living, address):
        rng = self.rng
        contacts = []
        if marital == '20' and rng.random() < 0.5:
            contacts.append({
                    'name': elder_name(rng, ethnicity, not male),
                    'relationship': 'spouse',
                    'address': address,
                    })
        childless = marital == '10' or rng.random() < 0.05
        if childless:
            contacts.append({
                    'name': han_name(rng, rng.random() < 0.5),
                    'relationship': rng.choice(['sibling', 'relative']),
                    })
            if rng.random() < 0.6:
                contacts.append({
                        'name': han_name(rng, False, young=True),
                        'relationship': 'community',
                        'note': '社区网格员',
                        })
        else:
            for _ in range(rng.choices([1, 2, 3], [35, 45, 20])[0]):
                relationship = rng.choices(
                    ['son', 'daughter', 'daughter_in_law', 'son_in_law',
                        'grandchild'], [38, 38, 10, 6, 8])[0]
                if relationship in {'son', 'daughter'}:
                    cname = child_name(rng, ethnicity, name, male)
                else:
                    cname = han_name(rng, None, young=True)
                contacts.append({'name': cname, 'relationship': relationship})
            if living == 'alone' and rng.random() < 0.3:
                contacts.append({
                        'name': han_name(rng, rng.random() < 0.5),
                        'relationship': 'neighbour',
                        'is_emergency': True,
                        })
        contacts = contacts[:3]
        # One guardian: a child or relative before a spouse of the same age.
        guardian = next((c for c in contacts
                if c['relationship'] not in {'spouse', 'neighbour',
                    'community'}), contacts[0])
        for sequence, contact in enumerate(contacts, 1):
            contact['sequence'] = sequence
            contact['phone'] = mobile(rng, self.used_phones)
            contact['is_guardian'] = contact is guardian
        return contacts

    # -- providers --------------------------------------------------------------
    def providers(self):
        pool = self.pool
        rng = self.rng
        Provider = pool.get('elder.provider')
        ServiceType = pool.get('elder.service.type')
        Party = pool.get('party.party')
        types = {t.code: t.id for t in ServiceType.search([])}
        today = self.today
        values = []
        for i, (name, org_type, region_code, areas, type_codes, capacity,
                state, _) in enumerate(PROVIDERS):
            d_name, _, _, lat, lon, subs = DISTRICTS[region_code]
            code = credit_code(org_type, region_code, rng, self.used_codes)
            licences = [{
                    'kind': ('registration' if org_type ==
                        'private_non_enterprise' else 'business'),
                    'number': code,
                    'issuer': (f'{d_name}民政局' if org_type ==
                        'private_non_enterprise'
                        else f'{d_name}市场监督管理局'),
                    'valid_from': dt.date(2018 + i % 5, 3 + i, 10),
                    'valid_to': None if org_type == 'enterprise' else
                    dt.date(2029 + i % 3, 3 + i, 9),
                    }]
            if i in {0, 2}:
                # 颐康 (index 2): the food licence expires within the warning
                # period; 青城 (index 0) has a long one.
                valid_to = (today + dt.timedelta(days=25) if i == 2
                    else dt.date(2028, 6, 30))
                licences.append({
                        'kind': 'food',
                        'number': 'JY3%s%06d%d' % (region_code,
                            rng.randrange(10 ** 6), rng.randrange(10)),
                        'issuer': f'{d_name}市场监督管理局',
                        'valid_from': valid_to.replace(
                            year=valid_to.year - 5),
                        'valid_to': valid_to,
                        })
            if i in {1, 4}:
                # 福寿康 (index 4): the fire safety inspection has expired.
                valid_to = (today - dt.timedelta(days=40) if i == 4
                    else dt.date(2027, 9, 30))
                licences.append({
                        'kind': 'fire',
                        'number': '呼消安检字〔%d〕第%04d号' % (
                            valid_to.year - 1, rng.randrange(1, 2000)),
                        'issuer': '呼和浩特市消防救援支队',
                        'valid_from': valid_to.replace(
                            year=valid_to.year - 1),
                        'valid_to': valid_to,
                        })
            contacts = [{
                    'sequence': 1,
                    'name': han_name(rng, rng.random() < 0.4),
                    'position': '负责人',
                    'phone': mobile(rng, self.used_phones),
                    }, {
                    'sequence': 2,
                    'name': han_name(rng, False),
                    'position': '服务主管',
                    'phone': mobile(rng, self.used_phones),
                    }]
            area_ids = []
            for area in areas:
                area_ids.append(self.region(area).id)
            values.append({
                    'name': name,
                    'credit_code': code,
                    'organisation_type': org_type,
                    'legal_representative': han_name(rng, rng.random() < 0.5),
                    'phone': landline(rng, self.used_phones),
                    'region': self.region(region_code).id,
                    'address': '%s%s%s' % (d_name, subs[0][0],
                        '%s%d号' % (rng.choice(['综合楼', '服务楼', '商业楼']),
                            rng.randint(1, 30))),
                    'latitude': Decimal('%.6f' % rng.uniform(*lat)),
                    'longitude': Decimal('%.6f' % rng.uniform(*lon)),
                    'service_areas': [('add', area_ids)],
                    'service_types': [('add',
                            [types[c] for c in type_codes])],
                    'capacity': capacity,
                    'licences': [('create', licences)],
                    'contacts': [('create', contacts)],
                    'agreement_number': (
                        'HSMZ-YL-2025-%03d' % (i + 1)
                        if state in {'agreed', 'training', 'active',
                            'suspended'} else None),
                    'agreement_start': (dt.date(2025, 1, 1) if state in {
                            'training', 'active', 'suspended'} else None),
                    'agreement_end': (dt.date(2027, 12, 31) if state in {
                            'training', 'active', 'suspended'} else None),
                    'training_date': (dt.date(2025, 2, 20 + i % 5) if state
                        in {'active', 'suspended'} else None),
                    })
        parties = Party.create([{'name': v['name']} for v in values])
        for value, party in zip(values, parties):
            value['party'] = party.id
        providers = Provider.create(values)

        # Onboarding through the workflow (the standard's §6 steps).
        def at(*states):
            return [p for p, spec in zip(providers, PROVIDERS)
                if spec[6] in states]
        later = ('reviewing', 'training', 'active', 'suspended')
        Provider.review(at(*later))
        Provider.agree(at('training', 'active', 'suspended'))
        Provider.train(at('training', 'active', 'suspended'))
        Provider.enable(at('active', 'suspended'))
        Provider.suspend(at('suspended'))
        log(f'{len(providers)} providers: ' + ', '.join(
                f'{s} {sum(1 for p in PROVIDERS if p[6] == s)}'
                for s in ['active', 'suspended', 'training', 'reviewing',
                    'applied']))
        return providers

    # -- practitioners ------------------------------------------------------------
    def practitioners(self, providers):
        pool = self.pool
        rng = self.rng
        Practitioner = pool.get('elder.practitioner')
        Party = pool.get('party.party')
        today = self.today
        values = []
        for provider, spec in zip(providers, PROVIDERS):
            count = spec[7]
            d_name = DISTRICTS[spec[2]][0]
            for n in range(count):
                kind = 'manager' if n == 0 and count > 3 else rng.choices(
                    [k for k, _ in WORKER_KINDS],
                    [w for _, w in WORKER_KINDS])[0]
                female = rng.random() < (0.85 if kind in {
                        'caregiver', 'nurse'} else 0.55)
                mongol = rng.random() < 0.18
                if mongol:
                    name = rng.choice(MONGOL_FEMALE if female
                        else MONGOL_MALE)
                else:
                    name = han_name(rng, not female, young=True)
                year = rng.randint(1966, 1999)
                birth = random_date(rng, dt.date(year, 1, 1),
                    dt.date(year, 12, 31))
                hire = random_date(rng, dt.date(2016, 3, 1),
                    today - dt.timedelta(days=30))
                certificates = self.certificates(kind, hire, d_name)
                trainings = []
                for course, hours in rng.sample(TRAININGS,
                        rng.randint(1, 3)):
                    day = random_date(rng, hire, today)
                    trainings.append({
                            'date': day,
                            'course': course,
                            'hours': Decimal(hours),
                            'organiser': rng.choice(
                                ['呼和浩特市民政局', spec[0]]),
                            'passed': rng.random() < 0.93,
                            })
                values.append({
                        'provider': provider.id,
                        'name': name,
                        'id_number': ric(rng.choice(WORKER_ID_REGIONS),
                            birth, not female, rng, self.used_ids),
                        'phone': mobile(rng, self.used_phones),
                        'kind': kind,
                        'skill_level': rng.choices(['5', '4', '3', '2'],
                            [40, 35, 20, 5])[0]
                        if kind == 'caregiver' else None,
                        'hire_date': hire,
                        'certificates': [('create', certificates)],
                        'trainings': [('create', trainings)],
                        })
        parties = Party.create([{'name': v['name']} for v in values])
        for value, party in zip(values, parties):
            value['party'] = party.id
        practitioners = Practitioner.create(values)
        # One left, one suspended (not among the first provider's
        # caregivers, one of which gets the caregiver login).
        others = [p for p in practitioners if p.provider != providers[0]]
        Practitioner.leave([others[3]])
        Practitioner.suspend([others[10]])
        log(f'{len(practitioners)} practitioners, '
            f'{sum(len(v["certificates"][0][1]) for v in values)} '
            'certificates')
        return practitioners

    def certificates(self, kind, hire, d_name):
        rng = self.rng
        today = self.today
        certificates = []

        def health_certificate():
            # 健康证明: one year; some expiring soon or expired.
            roll = rng.random()
            if roll < 0.1:
                issued = today - dt.timedelta(days=365 + rng.randint(5, 60))
            elif roll < 0.25:
                issued = today - dt.timedelta(days=365 - rng.randint(5, 50))
            else:
                issued = today - dt.timedelta(days=rng.randint(20, 290))
            return {
                'name': '健康证明',
                'number': '%s%d%06d' % (today.year % 100, rng.randint(1, 9),
                    rng.randrange(10 ** 6)),
                'issuer': f'{d_name}疾病预防控制中心',
                'issue_date': issued,
                'expiry_date': issued + dt.timedelta(days=365),
                }

        if kind in {'caregiver', 'manager'}:
            level = rng.choice(['五级/初级工', '四级/中级工', '三级/高级工'])
            certificates.append({
                    'name': '养老护理员职业技能等级证书',
                    'number': 'S%012d' % rng.randrange(10 ** 12),
                    'issuer': '内蒙古自治区职业技能等级认定机构',
                    'level': level,
                    'issue_date': random_date(rng, hire - dt.timedelta(
                            days=400), hire + dt.timedelta(days=200)),
                    })
        if kind == 'nurse':
            issued = random_date(rng, dt.date(2017, 1, 1), dt.date(2024, 6, 1))
            if rng.random() < 0.3:
                issued = today - dt.timedelta(days=5 * 365 - rng.randint(
                        10, 50))
            certificates.append({
                    'name': '护士执业证书',
                    'number': '%d15%08d' % (issued.year,
                        rng.randrange(10 ** 8)),
                    'issuer': '内蒙古自治区卫生健康委员会',
                    'issue_date': issued,
                    'expiry_date': issued + dt.timedelta(days=5 * 365),
                    })
        if kind == 'social_worker':
            certificates.append({
                    'name': '社会工作者职业水平证书',
                    'number': '%d%010d' % (rng.randint(2015, 2024),
                        rng.randrange(10 ** 10)),
                    'issuer': '人力资源和社会保障部、民政部',
                    'level': rng.choice(['助理社会工作师', '社会工作师']),
                    'issue_date': random_date(rng, dt.date(2015, 12, 1),
                        dt.date(2024, 12, 1)),
                    })
        if kind == 'therapist':
            certificates.append({
                    'name': '康复医学治疗技术资格证书',
                    'number': '%d%010d' % (rng.randint(2012, 2023),
                        rng.randrange(10 ** 10)),
                    'issuer': '国家卫生健康委员会人才交流服务中心',
                    'level': '初级（士）',
                    'issue_date': random_date(rng, dt.date(2012, 6, 1),
                        dt.date(2023, 6, 1)),
                    })
        if kind == 'dietitian':
            certificates.append({
                    'name': '中式烹调师职业技能等级证书',
                    'number': 'S%012d' % rng.randrange(10 ** 12),
                    'issuer': '内蒙古自治区职业技能等级认定机构',
                    'level': '四级/中级工',
                    'issue_date': random_date(rng, dt.date(2015, 1, 1),
                        dt.date(2024, 1, 1)),
                    })
        if kind in {'caregiver', 'dietitian', 'nurse'}:
            certificates.append(health_certificate())
        return certificates

    # -- users ----------------------------------------------------------------------
    def users(self, company, providers, practitioners):
        pool = self.pool
        User = pool.get('res.user')
        Lang = pool.get('ir.lang')
        Practitioner = pool.get('elder.practitioner')
        lang, = Lang.search([('code', '=', 'zh_CN')])
        menu = self.ref('ir', 'act_menu_tree')
        caregiver = next(p for p in practitioners
            if p.provider == providers[0] and p.kind == 'caregiver')
        values = []
        for (login, name, role, groups, region, provider, actions) in USERS:
            value = {
                'login': login,
                'name': name or caregiver.name,
                'password': DEMO_PASSWORD,
                'language': lang.id,
                'menu': menu,
                'groups': [('add', [self.ref(*g) for g in groups])],
                }
            if actions:
                value['actions'] = [('add', [self.ref(*a) for a in actions])]
            if region:
                value['elder_region'] = self.region(region).id
            if provider is not None:
                value['elder_provider'] = providers[provider].id
            else:
                # Staff of the civil-affairs bureau work for the company.
                value['companies'] = [('add', [company.id])]
                value['company'] = company.id
            values.append(value)
        users = User.create(values)
        by_login = {u.login: u for u in users}
        Practitioner.write([caregiver], {'user': by_login['caregiver'].id})
        log(f'{len(users)} users')


def table(database):
    "The demo logins as printed for the README and `./elder.sh run`."
    from trytond.pool import Pool
    User = Pool().get('res.user')
    logins = [(u[0], u[2]) for u in USERS] + MODULE_USERS
    users = {u.login: u for u in User.search(
            [('login', 'in', [login for login, _ in logins])])}
    rows = [('登录名', '角色', '数据范围', '密码')]
    for login, role in logins:
        user = users.get(login)
        if not user:
            continue
        if user.elder_provider:
            scope = user.elder_provider.name
        elif user.elder_region:
            scope = f'{user.elder_region.name}（{user.elder_region.code}）'
        else:
            scope = '全平台（三权分立）'
        rows.append((login, role, scope, DEMO_PASSWORD))
    try:
        WebUser = Pool().get('web.user')
    except KeyError:  # web_user not activated
        WebUser = None
    if WebUser:
        import demo_service
        for web_user in WebUser.search(
                [('email', '=', demo_service.FAMILY_EMAIL)]):
            rows.append((web_user.email, '家属（家属服务接口）',
                    '其家人的档案', DEMO_PASSWORD))
    widths = [max(display_width(r[i]) for r in rows) for i in range(4)]
    lines = [f'  演示账号（数据库 {database}，所有账号密码相同）']
    for n, row in enumerate(rows):
        lines.append('  ' + '  '.join(
                pad(c, w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            lines.append('  ' + '  '.join('-' * w for w in widths))
    return '\n'.join(lines) + '\n'


def load(args, extras):
    "Load the demo data in one transaction; return the table of logins"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(args.database, 0,
            context={'language': 'zh_CN'}, **extras) as transaction:
        User = Pool().get('res.user')
        if User.search([('login', '=', USERS[0][0])]):
            log('demo data already present: nothing to do')
        else:
            loader = Loader(random.Random(args.seed))  # noqa: S311 (seeded demo data, not cryptography)
            company = loader.company()
            places = loader.regions()
            loader.elders(places)
            providers = loader.providers()
            practitioners = loader.practitioners(providers)
            loader.users(company, providers, practitioners)
            Module = Pool().get('ir.module')
            activated = {m.name for m in Module.search([
                        ('name', 'in', [m for m, _ in MODULE_LOADERS]),
                        ('state', '=', 'activated')])}
            for module, script in MODULE_LOADERS:
                if module in activated:
                    log(f'demo data of {module} ...')
                    # tools/ is on sys.path
                    importlib.import_module(script).load(Pool(), args.seed)
            # The company and users are set up: the admin's first login
            # need not open the module configuration wizard.
            ConfigItem = Pool().get('ir.module.config_wizard.item')
            ConfigItem.write(ConfigItem.search([]), {'state': 'done'})
            transaction.commit()
        return table(args.database)


def lock_tables(database):
    """The tables the demo must lock: every singleton's (its first read
    creates the record under a table lock) and the LOCK_TABLES of the
    activated modules' loaders. Locked from the start, the one transaction
    is never started again (each restart replays the whole demo)."""
    from trytond.model import ModelSingleton, ModelSQL
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(database, 0, readonly=True):
        pool = Pool()
        Module = pool.get('ir.module')
        activated = {m.name for m in Module.search([
                    ('name', 'in', [m for m, _ in MODULE_LOADERS]),
                    ('state', '=', 'activated')])}
        tables = sorted({Model._table for _, Model in pool.iterobject()
                if issubclass(Model, ModelSingleton)
                and issubclass(Model, ModelSQL) and not Model._is_table_query()})
    for module, script in MODULE_LOADERS:
        if module in activated:
            tables += getattr(importlib.import_module(script),
                'LOCK_TABLES', [])
    return list(dict.fromkeys(tables))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', '-d', required=True)
    parser.add_argument('--seed', type=int, default=2026)
    args = parser.parse_args()

    from trytond import config
    config.update_etc()  # TRYTOND_CONFIG; TRYTOND_* variables are read too
    from trytond.transaction import TransactionError
    from trytond.pool import Pool

    start = time.monotonic()
    Pool(args.database).init()
    # Tables the loaders lock, locked from the start: no restart per table
    extras = {'_lock_tables': lock_tables(args.database)}
    while True:
        # Like trytond's with_transaction: a transaction that needs a table
        # lock (creating a singleton, for instance) is started again with it.
        try:
            output = load(args, extras)
        except TransactionError as error:
            error.fix(extras)
            log(f'starting again with the locks {extras}')
            continue
        break
    log('done in %.1f s' % (time.monotonic() - start))
    sys.stdout.write(output)
    return 0


if __name__ == '__main__':
    sys.exit(main())
