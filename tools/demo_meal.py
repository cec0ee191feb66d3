#!/usr/bin/env python3
"""Load the demonstration of meal assistance (elder_meal) into an eldercare
database: called by tools/demo.py (``load(pool, seed)`` inside its
transaction, after demo_face and before demo_settlement) or on its own:

    TRYTOND_CONFIG=trytond.conf python tools/demo_meal.py -d eldercare

- 新城区示例长者食堂 (code DEMO-XC01) of the provider of ``provider_admin``,
  open for breakfast, lunch and dinner, delivering within 3 km, with its
  licence, an inspection with a finding rectified, and a published weekly
  menu for last month's weeks and this week (low-salt, soft dishes);
- the meal-subsidy policies of 呼和浩特市 (age bands: 特困/低保 10 yuan,
  80+ 8 yuan with 12 a day and 200 a month, 60–79 3 yuan), in force from
  the first day of last month, evaluated for the registered older people;
- the older people enrolled by demo_face registered at the canteen, whose
  face gallery is used by the ``canteen`` login (now also 助餐点工作人员 of
  the canteen); a meal card for each;
- last month's lunches checked in by ID card at the counter (so that the
  settlement of demo_settlement takes them into the 新城区 statement and
  its supplier invoice, account 500107), one with a second meal at another
  point, and the anomalies detected;
- pre-orders of the demo family account (``family.demo@example.com`` of
  demo_service) for its older person at the nearest point serving them:
  tomorrow's lunch (dine-in) and the day after's dinner (pick-up), placed
  through the mini program, so the meal page of the mini program and the
  family meal API show them (and they can be cancelled).

Nothing is loaded when the canteen exists already.
"""
import argparse
import datetime as dt
import random
import sys
from decimal import Decimal

POINT_CODE = 'DEMO-XC01'
# the demo family account of demo_service (family API, mini program)
FAMILY_EMAIL = 'family.demo@example.com'
OTHER_CODE = 'DEMO-XC02'


def log(message):
    print(f'[demo] {message}', file=sys.stderr, flush=True)


def _monday(day):
    return day - dt.timedelta(days=day.weekday())


def load(pool, seed=2026):
    "Create the meal demo in the caller's transaction (as root)"
    rng = random.Random(seed)  # noqa: S311 (reproducible demo data, not security)
    Point = pool.get('meal.point')
    Provider = pool.get('elder.provider')
    Region = pool.get('elder.region')
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    Dish = pool.get('meal.dish')
    Menu = pool.get('meal.menu')
    Tag = pool.get('meal.tag')
    Policy = pool.get('elder.entitlement.policy')
    Category = pool.get('elder.category')
    Entitlement = pool.get('elder.entitlement')
    Gallery = pool.get('face.gallery')
    Elder = pool.get('elder.elder')
    Inspection = pool.get('meal.inspection')
    CheckIn = pool.get('meal.checkin')
    Anomaly = pool.get('meal.anomaly')
    Date = pool.get('ir.date')

    if Point.search([('code', '=', POINT_CODE)], limit=1):
        log('meal demo already present: nothing to do')
        return {}
    today = Date.today()
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    admins = User.search([('login', '=', 'provider_admin')], limit=1)
    provider = (admins[0].elder_provider if admins and admins[0].elder_provider
        else Provider.search([('state', '=', 'active')], limit=1)[0])
    xincheng, = Region.search([('code', '=', '150102')])
    hohhot, = Region.search([('code', '=', '150100')])
    staff = User.search([('login', '=', 'canteen')], limit=1)
    group = ModelData.get_id('elder_meal', 'group_meal_staff')
    if staff:
        User.write(staff, {'groups': [('add', [group])],
                'elder_provider': provider.id})
    periods = [('create', [
                {'meal_period': 'breakfast', 'start': dt.time(7),
                    'end': dt.time(9)},
                {'meal_period': 'lunch', 'start': dt.time(11),
                    'end': dt.time(13, 30)},
                {'meal_period': 'dinner', 'start': dt.time(17),
                    'end': dt.time(19)},
                ])]
    point, other = Point.create([{
                'name': '新城区示例长者食堂', 'code': POINT_CODE,
                'kind': 'canteen', 'provider': provider.id,
                'region': xincheng.id, 'address': '新华东街示例社区1号',
                'latitude': Decimal('40.842000'),
                'longitude': Decimal('111.680000'),
                'capacity': 80, 'delivery': True,
                'delivery_radius': Decimal('3'),
                'licence_number': 'JY11501020012345',
                'licence_expiry': today + dt.timedelta(days=400),
                'staff': [('add', [u.id for u in staff])],
                'periods': periods,
                }, {
                'name': '新城区示例合作餐厅', 'code': OTHER_CODE,
                'kind': 'restaurant', 'provider': provider.id,
                'region': xincheng.id, 'address': '新华东街示例社区8号',
                'capacity': 40,
                'licence_number': 'JY11501020054321',
                'licence_expiry': today + dt.timedelta(days=20),
                'periods': periods,
                }])
    inspection, = Inspection.create([{
                'point': point.id, 'date': today - dt.timedelta(days=20),
                'inspector': '新城区市场监督管理局（示例）', 'result': 'rectify',
                'findings': '食品留样记录不全',
                'deadline': today - dt.timedelta(days=10)}])
    Inspection.confirm([inspection])
    Inspection.write([inspection], {'rectification': '已配备留样柜，补全记录'})
    Inspection.rectify([inspection])

    tags = {t.code: t for t in Tag.search([])}
    offers = {}
    for record in (point, other):
        dishes = Dish.create([{
                    'point': record.id, 'name': name, 'price': Decimal(price),
                    'energy': energy,
                    'tags': [('add', [tags[c].id for c in codes])]}
                for name, price, energy, codes in [
                    ('小米粥、鸡蛋、花卷', '5.00', 380, ['soft', 'low_salt']),
                    ('清蒸鱼、炒时蔬、米饭', '15.00', 620,
                        ['low_salt', 'high_protein']),
                    ('羊肉萝卜汤、荞面', '12.00', 560, ['halal', 'soft']),
                    ]])
        monday = _monday(first)
        # up to next week: families see and pre-order the coming days
        while monday <= today + dt.timedelta(days=7):
            menu, = Menu.create([{
                        'point': record.id, 'kind': 'weekly',
                        'start_date': monday,
                        'lines': [('create', [
                                    {'meal_period': p, 'dish': d.id,
                                        'price': d.price}
                                    for p, d in zip(
                                        ['breakfast', 'lunch', 'dinner'],
                                        dishes)])]}])
            Menu.publish([menu])
            monday += dt.timedelta(days=7)
        offers[record.id] = dishes

    def categories(*codes):
        return [('add', [c.id for c in Category.search(
                            [('code', 'in', list(codes))])])]
    Policy.create([{
                'name': '呼和浩特市特困低保老人助餐补贴（示例）',
                'region': hohhot.id, 'start_date': first, 'kind': 'age_band',
                'benefit': 'meal_subsidy', 'meal_amount': Decimal('10.00'),
                'monthly_amount': Decimal('300.00'), 'min_age': 60,
                'categories': categories('extreme_poverty', 'low_income'),
                'sequence': 1,
                }, {
                'name': '呼和浩特市80岁以上老人助餐补贴（示例）',
                'region': hohhot.id, 'start_date': first, 'kind': 'age_band',
                'benefit': 'meal_subsidy', 'meal_amount': Decimal('8.00'),
                'meal_daily_cap': Decimal('12.00'),
                'monthly_amount': Decimal('200.00'), 'min_age': 80,
                'sequence': 2,
                }, {
                'name': '呼和浩特市60至79岁老人助餐补贴（示例）',
                'region': hohhot.id, 'start_date': first, 'kind': 'age_band',
                'benefit': 'meal_subsidy', 'meal_amount': Decimal('3.00'),
                'min_age': 60, 'max_age': 79, 'sequence': 3,
                }])
    # the enrolled older people of demo_face, and some neighbours
    galleries = Gallery.search([('code', '=', 'DEMO-XC')], limit=1)
    members = [e.elder for e in galleries[0].members
        if e.elder] if galleries else []
    members += Elder.search([
            ('state', '=', 'active'),
            ('region', 'child_of', [xincheng.id], 'parent'),
            ('id', 'not in', [m.id for m in members]),
            ], order=[('id', 'ASC')], limit=12 - len(members))
    Point.write([point], {'members': [('add', [m.id for m in members])]})
    Elder.issue_meal_card(members)
    Entitlement.evaluate(members, first)
    Point.sync_gallery([point])

    served = 0
    day = first
    while day < today.replace(day=1):
        if day.weekday() < 5:
            for elder in members[:8]:
                if rng.random() < 0.6:
                    CheckIn.check_in(point, 'id_card', elder.id_number,
                        when=dt.datetime.combine(day, dt.time(
                                11, rng.randrange(0, 60))),
                        payment_method='cash')
                    served += 1
        day += dt.timedelta(days=1)
    # a second meal of one person at the restaurant the same lunch
    if members:
        day = first + dt.timedelta(days=(7 - first.weekday()) % 7 + 1)
        for record in (point, other):
            CheckIn.check_in(record, 'id_card', members[0].id_number,
                when=dt.datetime.combine(day, dt.time(12)),
                payment_method='cash')
    anomalies = Anomaly.detect(first, today)
    pre_orders = _family_pre_orders(pool, today, first)
    log(f'meal demo: 2 points, {len(members)} registered, {served} lunches '
        f'last month, {len(anomalies)} anomalies, {len(pre_orders)} '
        f'pre-orders of the demo family')
    return {'point': point.id, 'served': served, 'pre_orders': pre_orders}


def _family_pre_orders(pool, today, first):
    """Pre-orders of the demo family account (demo_service) through the
    mini program for its older person, at the nearest point serving them"""
    from trytond.modules.elder_meal.family import CHANNEL, serving_points
    WebUser = pool.get('web.user')
    Contact = pool.get('elder.contact')
    Menu = pool.get('meal.menu')
    Order = pool.get('meal.order')
    Entitlement = pool.get('elder.entitlement')
    users = WebUser.search([('email', '=', FAMILY_EMAIL)], limit=1)
    if not users or not users[0].party:
        log(f'no family account {FAMILY_EMAIL}: no pre-orders')
        return []
    user, = users
    contacts = Contact.search([
            ('party', '=', user.party.id),
            ('elder.state', '=', 'active'),
            ], order=[('id', 'ASC')])
    for contact in contacts:
        elder = contact.elder
        points = serving_points(pool, elder)
        if points:
            break
    else:
        log(f'no meal point serves the older people of {FAMILY_EMAIL}')
        return []
    point = points[0]
    Entitlement.evaluate([elder], first)
    created = []
    for days, period, mode in [(1, 'lunch', 'dine_in'),
            (2, 'dinner', 'pickup')]:
        date = today + dt.timedelta(days=days)
        offers = Menu.offers(point, date, period)
        if not offers or Order.search([
                    ('elder', '=', elder.id), ('date', '=', date),
                    ('meal_period', '=', period),
                    ('state', '=', 'ordered')], limit=1):
            continue
        order, = Order.create([{
                    'point': point.id, 'elder': elder.id, 'date': date,
                    'meal_period': period, 'channel': CHANNEL,
                    'service_mode': mode, 'offer': offers[0].id,
                    'web_user': user.id,
                    'request_key': f'demo-meal-{date:%Y%m%d}-{period}',
                    }])
        created.append(order.id)
    log(f'{FAMILY_EMAIL}: {len(created)} meal pre-orders for {elder.name} '
        f'at {point.name}')
    return created


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--seed', type=int, default=2026)
    args = parser.parse_args()
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool(args.database).init()
    with Transaction().start(args.database, 0) as transaction:
        load(Pool(), args.seed)
        transaction.commit()


if __name__ == '__main__':
    main()
