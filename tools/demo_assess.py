#!/usr/bin/env python3
"""Load demonstration ability assessments, entitlement policies and the
resulting entitlements into an eldercare database (elder_assess).

Called by tools/demo.py once the older people and users exist
(``load(pool, seed)`` inside its transaction), or on its own:

    TRYTOND_CONFIG=trytond.conf python tools/demo_assess.py -d eldercare

It creates an assessment agency in 新城区 with two assessors (one holding an
assessor certificate), the logins ``assess_op`` (评估受理), ``assessor``
(评估员, linked to the certified assessor) and ``assess_reviewer`` (评估审核),
scoped to 呼和浩特市, three policies of 呼和浩特市 (home-service subsidy for
level 2–4 and 80+ or 低保/特困, family bed for level 3–4, advanced-age
allowance for 80+), and walks real assessments through the workflow: five
effective at levels 0 to 4 (one raised by a dementia diagnosis), one
published for objection (raised by two falls) and one scheduled. The entitlements then follow from
the engine (免申即享). A database that already has assessments is left alone.
"""
import argparse
import datetime as dt
import random
import sys
from decimal import Decimal

DEMO_PASSWORD = 'Demo@2026!elder'  # noqa: S105 (demo password, documented, demo data only)
HOHHOT, XINCHENG = '150100', '150102'


def log(message):
    print(message, file=sys.stderr)


def answers_for(total, scoring):
    "Answers of the 26 items adding up to total, filled item by item"
    answers, left = {}, total
    for item in scoring.ITEMS:
        score = min(item['max'], left)
        answers[item['field']] = str(score)
        left -= score
    return answers


def load(pool, seed=2026):
    """Create the demo assessments with the records of the pool's database.

    Runs inside the caller's transaction (as root); returns a dict of
    counts."""
    from trytond.modules.elder_assess import scoring
    from trytond.transaction import Transaction

    Assessment = pool.get('elder.assessment')
    Configuration = pool.get('elder.assessment.configuration')
    Elder = pool.get('elder.elder')
    Entitlement = pool.get('elder.entitlement')
    Policy = pool.get('elder.entitlement.policy')
    Category = pool.get('elder.category')
    Region = pool.get('elder.region')
    Provider = pool.get('elder.provider')
    Practitioner = pool.get('elder.practitioner')
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    Date = pool.get('ir.date')
    from trytond.modules.elder_base.identity import ric_check_character
    from stdnum.cn import uscc

    if Assessment.search([], limit=1):
        log('assessments already present: nothing to do')
        return {}
    rng = random.Random(seed)  # noqa: S311 (seeded demo data, not cryptography)
    today = Date.today()
    hohhot, = Region.search([('code', '=', HOHHOT)])
    xincheng, = Region.search([('code', '=', XINCHENG)])
    elders = Elder.search([
            ('state', '=', 'active'),
            ('region', 'child_of', [hohhot.id], 'parent'),
            ], order=[('id', 'ASC')])
    if len(elders) < 7:
        log('fewer than 7 older people in 呼和浩特市: no assessments')
        return {}
    rng.shuffle(elders)

    # The agency and its assessors
    body = '52150102MJ%07d' % rng.randrange(10 ** 7)
    agency, = Provider.create([{
                'name': '青城老年人能力评估中心（示例）',
                'credit_code': body + uscc.calc_check_digit(body),
                'region': xincheng.id,
                }])

    def group(name):
        return ModelData.get_id('elder_assess', name)

    users = User.create([{
                'login': login, 'name': name, 'password': DEMO_PASSWORD,
                'elder_region': hohhot.id,
                'groups': [('add', [group(g)])],
                } for login, name, g in [
                ('assess_op', '高丽娟', 'group_assess_operator'),
                ('assessor', '王建军', 'group_assessor'),
                ('assess_reviewer', '张慧', 'group_assess_reviewer'),
                ]])
    by_login = {u.login: u for u in users}

    def citizen(serial):
        body = '150102%s%03d' % ('19800101', 700 + serial)
        return body + ric_check_character(body)

    assessor1, assessor2 = Practitioner.create([{
                'name': '王建军', 'id_number': citizen(1),
                'phone': '13904710%03d' % rng.randrange(1000),
                'provider': agency.id, 'kind': 'assessor',
                'user': by_login['assessor'].id,
                'certificates': [('create', [{
                                'name': '老年人能力评估师',
                                'number': 'PGS2024%04d' % rng.randrange(10000),
                                'issuer': '内蒙古自治区民政厅',
                                'issue_date': dt.date(2024, 3, 1),
                                'expiry_date': dt.date(2029, 2, 28),
                                }])],
                }, {
                'name': '乌兰', 'id_number': citizen(2),
                'phone': '13904711%03d' % rng.randrange(1000),
                'provider': agency.id, 'kind': 'assessor',
                }])

    # The city's policies
    categories = Category.search(
        [('code', 'in', ['low_income', 'extreme_poverty'])])
    start = dt.date(today.year, 1, 1)
    Policy.create([{
                'name': '呼和浩特市居家上门服务补贴', 'region': hohhot.id,
                'start_date': start, 'sequence': 10,
                'benefit': 'home_service_subsidy', 'min_level': '2',
                'max_level': '4', 'min_age': 80,
                'categories': [('add', [c.id for c in categories])],
                'monthly_amount': Decimal('300'),
                'monthly_hours': Decimal('10'),
                'description': '中度及以上失能，且年满80周岁或属于低保、特困的老年人。',
                }, {
                'name': '呼和浩特市家庭养老床位', 'region': hohhot.id,
                'start_date': start, 'sequence': 20,
                'benefit': 'family_bed', 'min_level': '3',
                'monthly_amount': Decimal('500'),
                'monthly_hours': Decimal('20'),
                'description': '重度及以上失能老年人。',
                }, {
                'name': '呼和浩特市高龄津贴', 'region': hohhot.id,
                'start_date': start, 'sequence': 30,
                'benefit': 'age_allowance', 'min_age': 80,
                'monthly_amount': Decimal('100'),
                }])

    # Assessments: total, extra values, final state
    plans = [
        (90, {}, 'effective'),
        (75, {}, 'effective'),
        (70, {'diagnoses': [('create', [{
                            'code': 'F03', 'name': '痴呆'}])]}, 'effective'),
        (38, {}, 'effective'),
        (22, {'pressure_injury': '2'}, 'effective'),
        (55, {'risk_falls': 2}, 'published'),
        (None, {}, 'scheduled'),
        ]
    configuration = Configuration(1)
    period = configuration.objection_days
    transaction = Transaction()
    counts = {}
    for elder, (total, values, state) in zip(elders, plans):
        answers = answers_for(total, scoring) if total is not None else {}
        assessment, = Assessment.create([{
                    'elder': elder.id,
                    'reason': 'first',
                    'channel': rng.choice(['family', 'community', 'hotline']),
                    'request_date': today - dt.timedelta(days=20),
                    'scheduled_date': today - dt.timedelta(days=10)
                    if total is not None else today + dt.timedelta(days=3),
                    'assessment_date': today - dt.timedelta(days=10)
                    if total is not None else None,
                    'assessor1': assessor1.id, 'assessor2': assessor2.id,
                    'informant_name': '家属', 'informant_relationship': 'child',
                    **answers, **values}])
        Assessment.schedule([assessment])
        if state != 'scheduled':
            with transaction.set_user(by_login['assessor'].id):
                Assessment.complete([assessment])
            with transaction.set_user(by_login['assess_reviewer'].id):
                Assessment.review([assessment])
            configuration.objection_days = 0 if state == 'effective' else period
            configuration.save()
            Assessment.publish([assessment])
            if state == 'effective':
                Assessment.make_effective([assessment])
        counts[state] = counts.get(state, 0) + 1
    configuration.objection_days = period
    configuration.save()
    Entitlement.evaluate_all(today)
    counts['entitlements'] = Entitlement.search_count(
        [('state', '=', 'active')])
    log('assessments: %s' % ', '.join(
            '%s %s' % (v, k) for k, v in sorted(counts.items())))
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', '-d', required=True)
    parser.add_argument('--seed', type=int, default=2026)
    args = parser.parse_args()

    from trytond import config
    config.update_etc()
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    Pool(args.database).init()
    extras = {}
    while True:
        # a singleton created here needs a table lock: start again with it
        try:
            with Transaction().start(args.database, 0,
                    context={'language': 'zh_CN'}, **extras) as transaction:
                load(Pool(), args.seed)
                transaction.commit()
        except TransactionError as error:
            error.fix(extras)
            continue
        break
    return 0


if __name__ == '__main__':
    sys.exit(main())
