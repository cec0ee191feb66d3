#!/usr/bin/env python3
"""Load demonstration community-care data into an eldercare database.

Called by tools/demo.py after the demo of elder_service
(``load(pool, seed)`` inside its transaction, as root), or on its own:

    TRYTOND_CONFIG=trytond.conf python tools/demo_community.py -d eldercare

It walks real records through the workflows of elder_community:
- a day-care centre of 新城区 run by an enabled provider, older people
  enrolled with cards, a week of attendance (card, QR and manual check-ins,
  meals), today's visitors still present, an activity with sign-ups and an
  inspection with its rating;
- the platform training of §6.3 for the provider's caregivers, a staffing
  plan against the orders, certificate alerts, an appraisal;
- a social-work case of an older person living alone run to closure
  (assessment, plan, visits, a referral) and a second one open;
- a provider whose credit drops after an upheld complaint, and the next
  dispatch that carries the penalty in its explanation;
- a volunteer who visits an older person living alone, earns hours,
  transfers some to his mother, who redeems them for a service;
- feedback from the website, WeChat and the service telephone, and a
  dispute mediated to an outcome.

Demo logins for the new roles (password of tools/demo.py): community_staff
(社区工作人员), social_worker (社会工作者), coordinator (志愿者协调员), all
with the scope 新城区 150102. The same seed gives the same data; a database
that already has a facility is left alone.
"""
import argparse
import datetime as dt
import random
import sys
from decimal import Decimal

USERS = [
    ('community_staff', '韩雪梅', 'group_community_staff'),
    ('social_worker', '陈思远', 'group_social_worker'),
    ('coordinator', '苏日娜', 'group_volunteer_coordinator'),
    ]
REGION = '150102'  # 新城区


def log(message):
    print(message, file=sys.stderr)


def _users(pool):
    "The demo users of the new roles, created when missing"
    User = pool.get('res.user')
    Region = pool.get('elder.region')
    ModelData = pool.get('ir.model.data')
    Lang = pool.get('ir.lang')
    try:
        from demo import DEMO_PASSWORD
    except ImportError:  # run on its own from another directory
        DEMO_PASSWORD = None
    region, = Region.search([('code', '=', REGION)])
    langs = Lang.search([('code', '=', 'zh_CN')])
    users = {}
    for login, name, group in USERS:
        existing = User.search([('login', '=', login)])
        if existing:
            users[login] = existing[0]
            continue
        values = {
            'login': login,
            'name': name,
            'elder_region': region.id,
            'groups': [('add', [
                        ModelData.get_id('elder_community', group)])],
            }
        if DEMO_PASSWORD:
            values['password'] = DEMO_PASSWORD
        if langs:
            values['language'] = langs[0].id
        users[login], = User.create([values])
    return users


def load(pool, seed=2026):
    """Create the demo records; runs inside the caller's transaction (as
    root). Returns a dict of counts."""
    from trytond.transaction import Transaction

    Facility = pool.get('community.facility')
    if Facility.search([], limit=1):
        log('community facilities already present: nothing to do')
        return {}
    rng = random.Random(seed)  # noqa: S311 (seeded demo data, not cryptography)
    Date = pool.get('ir.date')
    today = Date.today()
    now = dt.datetime.now().replace(microsecond=0)
    Region = pool.get('elder.region')
    Elder = pool.get('elder.elder')
    Provider = pool.get('elder.provider')
    region, = Region.search([('code', '=', REGION)])
    providers = Provider.search([
            ('state', '=', 'active'),
            ('service_areas', 'in', [region.id, region.parent.id]),
            ], order=[('id', 'ASC')])
    elders = Elder.search([
            ('state', '=', 'active'),
            ('region', 'child_of', [region.id], 'parent'),
            ], order=[('id', 'ASC')])
    if not providers or len(elders) < 12:
        log('no enabled provider or too few older people in 新城区: '
            'no community demo')
        return {}
    counts = {}
    users = _users(pool)
    provider = providers[0]
    with Transaction().set_context(_check_access=False):
        _day_care(pool, rng, provider, region, elders, today, now, counts)
        _practitioners(pool, provider, today, counts)
        cases = _social_work(pool, users, elders, today, now, counts)
        _credit(pool, providers, elders, counts)
        _volunteers(pool, rng, region, elders, cases, today, now, counts)
        _customer_service(pool, region, provider, elders, counts)
    log('community: ' + ', '.join(
            f'{k} {v}' for k, v in sorted(counts.items())))
    return counts


def _day_care(pool, rng, provider, region, elders, today, now, counts):
    Facility = pool.get('community.facility')
    Member = pool.get('community.facility.member')
    Attendance = pool.get('community.attendance')
    Activity = pool.get('community.activity')
    Inspection = pool.get('community.inspection')
    centre, station = Facility.create([{
                'name': '海拉尔东路街道日间照料中心（示例）',
                'kind': 'day_care',
                'region': region.id,
                'address': '海拉尔东路如意小区东侧（示例）',
                'latitude': Decimal('40.852000'),
                'longitude': Decimal('111.705000'),
                'area': Decimal('680'),
                'beds': 10,
                'seats': 40,
                'opening_hours': '周一至周五 8:00-17:30',
                'phone': '0471-6960001',
                'operator': provider.id,
                'meal_service': True,
                'equipment': '休息室、康复训练室、阅览室、助浴间、老年食堂、棋牌室',
                'licences': [('create', [
                            {'kind': 'fire', 'number': 'XF2025-0117',
                                'issuer': '新城区消防救援大队',
                                'valid_to': today + dt.timedelta(days=300)},
                            {'kind': 'food', 'number': 'JY11501020012345',
                                'issuer': '新城区市场监督管理局',
                                'valid_to': today + dt.timedelta(days=40)},
                            ])],
                },
            {'name': '东风社区养老服务站（示例）',
                'kind': 'station',
                'region': region.id,
                'address': '东风路东风小区（示例）',
                'seats': 15,
                'opening_hours': '每日 8:30-17:00',
                'operator': provider.id,
                }])
    Facility.open([centre, station])
    members = Member.create([{
                'facility': centre.id,
                'elder': elder.id,
                'card_number': 'RY%05d' % (i + 1),
                'meals': i % 3 != 2,
                } for i, elder in enumerate(elders[:10])])
    counts['facilities'] = 2
    counts['enrolled'] = len(members)
    # A week of attendance; today's visitors are still there.
    for days_ago in range(6, -1, -1):
        day = today - dt.timedelta(days=days_ago)
        if day.weekday() >= 5:
            continue
        for member in members:
            if rng.random() < 0.3:
                continue
            start = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(
                minutes=rng.randint(0, 75))
            if start > now:
                continue
            method = rng.choice(['card', 'card', 'qr', 'manual'])
            Attendance.check_in(centre, member.elder,
                method=method, card=member.card_number
                if method in {'card', 'qr'} else None, when=start)
            counts['attendance'] = counts.get('attendance', 0) + 1
            end = start + dt.timedelta(minutes=rng.randint(180, 480))
            if days_ago and end < now:
                Attendance.check_out(centre, member.elder, when=end)
    activity, = Activity.create([{
                'facility': centre.id,
                'name': '八段锦晨练',
                'kind': 'fitness',
                'capacity': 20,
                'start': dt.datetime.combine(today, dt.time(9, 30)),
                'end': dt.datetime.combine(today, dt.time(10, 30)),
                }])
    Activity.open([activity])
    for member in members[:6]:
        Activity.sign_up(activity, member.elder)
    inspection, = Inspection.create([{
                'facility': centre.id, 'kind': 'annual',
                'date': today - dt.timedelta(days=20),
                'safety_score': 23, 'service_score': 22,
                'management_score': 21, 'satisfaction_score': 24,
                'findings': '消防设施完好，膳食留样规范；活动记录齐全。',
                'rectification': '食品经营许可证即将到期，请及时换证。',
                'rectification_deadline': today + dt.timedelta(days=30),
                }])
    Inspection.do([inspection])


def _practitioners(pool, provider, today, counts):
    Plan = pool.get('practitioner.training.plan')
    Practitioner = pool.get('elder.practitioner')
    Level = pool.get('practitioner.qualification.level')
    Staffing = pool.get('practitioner.staffing')
    Certificate = pool.get('elder.practitioner.certificate')
    Appraisal = pool.get('practitioner.appraisal')
    staff = Practitioner.search([
            ('provider', '=', provider.id), ('state', '=', 'active')],
        order=[('id', 'ASC')])
    carers = [p for p in staff if p.kind == 'caregiver']
    levels = {lv.code: lv for lv in Level.search([])}
    for carer in carers:
        level = {'5': 'HL-C', '4': 'HL-B'}.get(carer.skill_level, 'HL-A')
        carer.qualification_level = levels.get(level)
    Practitioner.save(carers)
    plan, = Plan.create([{
                'name': '信息平台管理、使用操作与服务流程培训',
                'kind': 'platform',
                'organiser': '呼和浩特市智慧养老服务平台运营中心',
                'date': today - dt.timedelta(days=10),
                'hours': Decimal(8),
                'topics': '接收派单、上门签到签退、服务记录与评价反馈（规范6.3）',
                'providers': [('add', [provider.id])],
                'participants': [('create', [
                            {'practitioner': p.id} for p in staff])],
                }])
    Plan.plan([plan])
    Plan.do([plan])
    counts['trained'] = len(staff)
    Staffing.create([{
                'provider': provider.id,
                'date_from': today.replace(day=1),
                'date_to': today,
                'lines': [('create', [
                            {'kind': 'caregiver', 'planned': len(carers) + 2,
                                'reserve': 2},
                            {'kind': 'nurse', 'planned': 2, 'reserve': 1},
                            ])],
                }])
    counts['certificate_alerts'] = len(Certificate.cron_alert_expiring())
    if carers:
        appraisal, = Appraisal.create([{
                    'practitioner': carers[0].id,
                    'date_from': today - dt.timedelta(days=30),
                    'date_to': today}])
        Appraisal.compute([appraisal])


def _social_work(pool, users, elders, today, now, counts):
    Case = pool.get('social.case')
    Referral = pool.get('social.case.referral')
    alone = [e for e in elders if e.living_situation == 'alone'] or elders
    worker = users['social_worker']
    closed, open_ = Case.create([{
                'elder': alone[0].id,
                'case_type': 'shidu',
                'source': 'community',
                'social_worker': worker.id,
                'opened_date': today - dt.timedelta(days=60),
                'situation': '独子十年前病故，老伴去年去世，独居，'
                '社区网格员发现其情绪低落、很少出门。',
                'assessments': [('create', [{
                                'date': today - dt.timedelta(days=58),
                                'assessor': worker.id,
                                'physical': 3, 'mental': 1,
                                'social_support': 2, 'economic': 3,
                                'safety': 4,
                                'needs': '精神慰藉；建立社会支持网络；定期探访',
                                'findings': '抑郁倾向明显，睡眠差'}])],
                },
            {'elder': alone[1].id,
                'case_type': 'living_alone',
                'source': 'volunteer',
                'social_worker': worker.id,
                'situation': '志愿者探访时发现家中燃气灶老化，老人行动不便。',
                'next_visit': today + dt.timedelta(days=3),
                }])
    Case.assess([closed])
    Case.write([closed], {
            'plan_summary': '每周上门探访一次；链接心理咨询；'
            '安排志愿者每周陪伴两次；鼓励参加日间照料中心活动。',
            'goals': [('create', [
                        {'goal': '情绪稳定，睡眠改善', 'achieved': True},
                        {'goal': '每周至少参加一次社区活动', 'achieved': True},
                        ])],
            'referrals': [('create', [{
                            'date': today - dt.timedelta(days=50),
                            'department': 'health',
                            'organisation': '新城区精神卫生中心',
                            'reason': '心理评估与咨询'}])],
            })
    Case.plan([closed])
    Case.start([closed])
    Case.write([closed], {'interventions': [('create', [{
                        'date': now - dt.timedelta(days=d),
                        'kind': kind, 'performer': worker.id,
                        'minutes': minutes, 'note': note,
                        } for d, kind, minutes, note in [
                        (49, 'home_visit', 60, '首次上门，建立关系'),
                        (42, 'counselling', 45, '哀伤辅导'),
                        (28, 'resource', 30, '联系日间照料中心，安排参加活动'),
                        (14, 'home_visit', 60, '情绪明显好转'),
                        ]])]})
    referral, = closed.referrals
    Referral.accept([referral])
    Referral.write([referral], {'feedback': '已完成评估，每两周咨询一次，现状况稳定。'})
    Referral.complete([referral])
    Case.write([closed], {
            'closing_reason': 'achieved',
            'closing_summary': '服务目标达成：老人情绪稳定，每周到日间照料中心，'
            '有志愿者定期陪伴，转入常规探访。'})
    Case.close([closed])
    counts['cases_closed'] = 1
    counts['cases_open'] = 1
    return {'closed': closed, 'open': open_}


def _credit(pool, providers, elders, counts):
    Order = pool.get('service.order')
    Complaint = pool.get('service.complaint')
    Item = pool.get('service.item')
    Record = pool.get('credit.record')
    orders = Order.search([
            ('provider', 'in', [p.id for p in providers]),
            ('state', 'in', ['completed', 'confirmed', 'closed']),
            ('complaints', '=', None),
            ], order=[('id', 'ASC')], limit=1)
    if not orders:
        log('no served order to complain about: no credit demo')
        return
    order, = orders
    provider = order.provider
    before = provider.credit()
    complaint, = Complaint.create([{
                'order': order.id,
                'channel': 'hotline',
                'complainant': '家属',
                'description': '护理员未按约定时间上门，也未提前告知，老人等了一上午。',
                }])
    Complaint.process([complaint])
    Complaint.write([complaint], {
            'provider_response': '排班失误，已向家属致歉。',
            'resolution': '投诉属实：机构致歉并调整排班，对护理员进行再培训。',
            'substantiated': True,
            })
    Complaint.resolve([complaint])
    after = provider.credit()
    log('credit of %s: %s (%s) → %s (%s), dispatch penalty %s → %s' % (
            provider.name, before['score'], before['level'], after['score'],
            after['level'], before['penalty'], after['penalty']))
    counts['credit_records'] = Record.search_count([])
    # The next order in its area: the explanation carries the penalty.
    item, = Item.search([('code', '=', 'SC0301')], limit=1) or [None]
    if item is None:
        return
    area = [a.id for a in provider.service_areas]
    candidates = [e for e in elders
        if e.region.id in area or e.region.parent.id in area
        or (e.region.parent.parent and e.region.parent.parent.id in area)]
    for elder in candidates[:1]:
        probe, = Order.create([{
                    'elder': elder.id, 'item': item.id,
                    'requested_date': pool.get('ir.date').today(),
                    'channel': 'call_center'}])
        Order.submit([probe])
        Order.dispatch([probe])
        counts['dispatch_after_complaint'] = 1


def _volunteers(pool, rng, region, elders, cases, today, now, counts):
    from trytond.modules.elder_base.identity import ric_check_character
    Volunteer = pool.get('volunteer.volunteer')
    Skill = pool.get('volunteer.skill')
    Activity = pool.get('volunteer.activity')
    Signup = pool.get('volunteer.signup')
    Hours = pool.get('volunteer.hours')
    Transfer = pool.get('timebank.transfer')
    Redemption = pool.get('timebank.redemption')
    Account = pool.get('timebank.account')
    skills = Skill.search([])
    mother = elders[11]
    people = [('赵志强', '19880512', 11), ('王丽华', '19750930', 22),
        ('巴雅尔', '19921103', 31), ('刘芳', '19830218', 42)]
    values = []
    for name, birth, serial in people:
        body = '150102%s%03d' % (birth, serial)
        values.append({
                'name': name,
                'id_number': body + ric_check_character(body),
                'phone': '139%08d' % rng.randrange(10 ** 8),
                'region': region.id,
                'skills': [('add', [s.id for s in rng.sample(
                                skills, min(2, len(skills)))])],
                })
    volunteers = Volunteer.create(values)
    Volunteer.write([volunteers[0]], {'family_elders': [('add', [mother.id])]})
    Volunteer.activate(volunteers)
    counts['volunteers'] = len(volunteers)
    alone = cases['open'].elder
    start = dt.datetime.combine(today - dt.timedelta(days=2), dt.time(14))
    visit, = Activity.create([{
                'name': '探访独居老人：检查燃气灶、陪伴聊天',
                'kind': 'visit',
                'region': region.id,
                'elder': alone.id,
                'case': cases['open'].id,
                'start': start,
                'end': start + dt.timedelta(hours=3),
                'capacity': 2,
                }])
    Activity.open([visit])
    for volunteer in volunteers[:2]:
        signup = Activity.sign_up(visit, volunteer)
        Signup.check_in(signup, method='qr', when=start)
        Signup.check_out(signup, when=start + dt.timedelta(minutes=150))
    Activity.do([visit])
    Hours.approve(Hours.search([('state', '=', 'draft')]))
    counts['hours_approved'] = float(sum(
            h.hours for h in Hours.search([('state', '=', 'approved')])))
    transfer, = Transfer.create([{
                'volunteer': volunteers[0].id,
                'elder': mother.id,
                'hours': Decimal('2'),
                }])
    Transfer.do([transfer])
    redemption, = Redemption.create([{
                'account': Account.of(mother).id,
                'service': '助洁服务 1.5 小时（时间银行兑换）',
                'hours': Decimal('1.5'),
                }])
    Redemption.do([redemption])
    counts['redeemed_hours'] = 1.5


def _customer_service(pool, region, provider, elders, counts):
    Feedback = pool.get('cs.feedback')
    Dispute = pool.get('cs.dispute')
    items = [
        ('web', 'consultation', '如何申请日间照料', '母亲想白天去日间照料中心，需要什么手续？',
            None),
        ('wechat', 'praise', '护理员很细心', '上门助浴的护理员耐心细致，老人很满意。',
            provider),
        ('online', 'suggestion', '希望增加周末活动', '日间照料中心周末能否开放？', None),
        ('phone', 'dispute', '助洁时打碎花瓶', '助洁时护理员打碎家中花瓶，要求赔偿300元。',
            provider),
        ]
    records = Feedback.create([{
                'channel': channel, 'kind': kind, 'region': region.id,
                'subject': subject, 'description': text,
                'contact_name': '家属', 'contact_phone': '13912345678',
                'elder': elders[3].id,
                'provider': p.id if p else None,
                } for channel, kind, subject, text, p in items])
    question, praise, suggestion, claim = records
    Feedback.write([question], {
            'answer': '请携带老人身份证到所在街道日间照料中心登记，可现场办理。'})
    Feedback.answer_button([question])
    Feedback.close([question])
    Feedback.commend([praise])
    Feedback.assign([suggestion])
    Feedback.to_dispute([claim])
    dispute = Feedback(claim.id).dispute
    Dispute.mediate([dispute])
    Dispute.write([dispute], {
            'provider_position': '机构认可护理员操作不慎。',
            'amount_claimed': Decimal(300),
            'steps': [('create', [
                        {'kind': 'hear_client', 'note': '电话了解经过，家属提供照片。'},
                        {'kind': 'hear_provider', 'note': '机构确认护理员操作不慎。'},
                        {'kind': 'joint', 'note': '三方电话调解，机构同意赔偿。',
                            'participants': '家属、机构负责人、平台调解员'},
                        ])],
            'outcome': 'compensation',
            'compensation': Decimal(300),
            'provider_at_fault': True,
            'outcome_note': '机构赔偿300元，家属表示认可。',
            })
    Dispute.settle([dispute])
    Dispute.close([dispute])
    counts['feedback'] = len(records)
    counts['disputes'] = 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', '-d', required=True)
    parser.add_argument('--seed', type=int, default=2026)
    args = parser.parse_args()

    from trytond import config
    config.update_etc()
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool(args.database).init()
    with Transaction().start(args.database, 0,
            context={'language': 'zh_CN'}) as transaction:
        load(Pool(), args.seed)
        transaction.commit()
    return 0


if __name__ == '__main__':
    sys.exit(main())
