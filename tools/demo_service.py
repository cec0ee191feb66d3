#!/usr/bin/env python3
"""Load demonstration home-service orders into an eldercare database.

Called by tools/demo.py once the older people, providers, practitioners and
users exist (``load(pool, seed)`` inside its transaction), or on its own:

    TRYTOND_CONFIG=trytond.conf python tools/demo_service.py -d eldercare

It walks real orders through the workflow (so every order has its history,
dispatch explanation, visit times and anomalies): closed and rated visits of
the last two weeks, visits waiting for confirmation, a few flagged for review
(outside the geofence, too short), orders waiting for dispatch or acceptance,
overdue and cancelled ones, today's tasks of the demo caregiver (login
``caregiver``) for the worker app, running service plans and complaints, and
a family account for the family API (``web.user`` FAMILY_EMAIL with the demo
password, a registered contact of an older person with a visit to confirm).
The same seed gives the same data; a database that already has orders is
left alone.
"""
import argparse
import datetime as dt
import math
import random
import sys
from decimal import Decimal

FAMILY_EMAIL = 'family.demo@example.com'
COMMENTS = [
    '服务很细心，老人很满意', '准时上门，态度好', '做得很干净', '希望下次还是这位护理员',
    '比约定时间晚了一点', '服务时间有点短',
]
COMPLAINTS = [
    ('护理员迟到近一小时，也没有提前打电话。', '机构已致歉并调整排班，护理员接受培训。', True),
    ('助洁后厨房还有油污，老人不满意。', '机构安排返工并回访，老人表示认可。', True),
]


def log(message):
    print(message, file=sys.stderr)


def _moved(lat, lon, metres, rng):
    "A position about metres away from (lat, lon) in a random direction"
    angle = rng.uniform(0, 2 * math.pi)
    dlat = metres * math.cos(angle) / 111320
    dlon = metres * math.sin(angle) / (111320 * math.cos(math.radians(
                float(lat))))
    return (Decimal(str(round(float(lat) + dlat, 6))),
        Decimal(str(round(float(lon) + dlon, 6))))


def load(pool, seed=2026):
    """Create the demo orders with the records of the pool's database.

    Runs inside the caller's transaction (as root); returns a dict of
    counts."""
    Order = pool.get('service.order')
    Item = pool.get('service.item')
    Elder = pool.get('elder.elder')
    Provider = pool.get('elder.provider')
    Practitioner = pool.get('elder.practitioner')
    Plan = pool.get('service.plan')
    Complaint = pool.get('service.complaint')
    Date = pool.get('ir.date')

    if Order.search([], limit=1):
        log('service orders already present: nothing to do')
        return {}
    rng = random.Random(seed)  # noqa: S311 (seeded demo data, not cryptography)
    today = Date.today()
    now = dt.datetime.now().replace(microsecond=0)
    items = Item.search([])
    providers = Provider.search([('state', '=', 'active')])
    if not providers or not items:
        log('no enabled provider or no service item: no orders')
        return {}
    area_ids = [a.id for p in providers for a in p.service_areas]
    elders = Elder.search([
            ('state', '=', 'active'),
            ('region', 'child_of', area_ids, 'parent'),
            ], order=[('id', 'ASC')])
    # Coordinates are encrypted: filter them here, not in the database.
    elders = [e for e in elders if e.latitude is not None]
    if not elders:
        log('no older person in the providers\' areas: no orders')
        return {}
    rng.shuffle(elders)
    counts = {}

    def count(key, n=1):
        counts[key] = counts.get(key, 0) + n

    def new_order(elder, item, date, channel=None, **values):
        hour = rng.choice([8, 9, 10, 14, 15, 16])
        order, = Order.create([{
                    'elder': elder.id,
                    'item': item.id,
                    'requested_date': date,
                    'time_from': dt.time(hour),
                    'time_to': dt.time(hour + 2),
                    'channel': channel or rng.choice(
                        ['call_center', 'call_center', 'family',
                            'provider']),
                    **values}])
        Order.submit([order])
        return order

    def dispatched(order):
        Order.dispatch([order])
        return order.state == 'dispatched'

    def qualified(order):
        staff = Practitioner.search([
                ('provider', '=', order.provider.id),
                ('state', '=', 'active'),
                ], order=[('id', 'ASC')])
        staff = [p for p in staff if order.item.qualifies(p)]
        return rng.choice(staff) if staff else None

    def assigned(order, practitioner=None):
        Order.accept([order])
        practitioner = practitioner or qualified(order)
        if not practitioner:
            return False
        order.practitioner = practitioner
        order.save()
        Order.assign([order])
        return True

    def visit(order, start, minutes, off=30):
        "Check in and out from positions off metres from the home"
        elder = order.elder
        Order.depart([order])
        lat, lon = _moved(elder.latitude, elder.longitude, off, rng)
        Order.checkin(order, lat, lon, rng.choice([8.0, 12.0, 20.0]), start,
            b'demo-photo-before' if order.item.photo_before else None)
        lat, lon = _moved(elder.latitude, elder.longitude, off / 2, rng)
        Order.checkout(order, lat, lon, 10.0,
            start + dt.timedelta(minutes=minutes),
            b'demo-photo-after' if order.item.photo_after else None,
            b'demo-signature' if order.item.signature else None)

    elder_iter = iter(elders * 4)

    # Closed and rated visits of the last two weeks, some still to confirm,
    # some flagged for review.
    for n in range(36):
        elder = next(elder_iter)
        item = rng.choice(items)
        day = today - dt.timedelta(days=rng.randint(1, 14))
        order = new_order(elder, item, day)
        if not dispatched(order) or not assigned(order):
            count('submitted' if order.state == 'submitted' else 'accepted')
            continue
        start = dt.datetime.combine(
            day, order.time_from) + dt.timedelta(minutes=rng.randint(-10, 25))
        if n % 9 == 4:
            visit(order, start, item.duration, off=900)  # geofence
            count('flagged')
        elif n % 9 == 7:
            visit(order, start, max(5, item.duration // 4))  # too short
            count('flagged')
        else:
            visit(order, start, item.duration + rng.randint(-5, 20))
        if n % 6 == 5:
            count('completed')
            continue
        rating = rng.choice([5, 5, 5, 4, 4, 3])
        Order.confirm_service(order, rating, rng.choice(COMMENTS),
            by=rng.choice(['elder', 'family']))
        if n % 5:
            Order.close([order])
            count('closed')
        else:
            count('confirmed')

    # Today's tasks of the demo caregiver for the worker app.
    carer = Practitioner.search([('user.login', '=', 'caregiver')], limit=1)
    if carer:
        carer, = carer
        mine = [e for e in elders
            if carer.provider in Provider.search([
                    ('service_areas', 'in', _ancestors(e.region))])]
        for elder in mine[:3]:
            item = next((i for i in items if i.qualifies(carer)
                    and i.offered_in(elder.region)), None)
            if not item:
                break
            order = new_order(elder, item, today, provider=carer.provider.id)
            if dispatched(order):
                assigned(order, carer)
                count('caregiver_today')

    # Orders waiting for dispatch, acceptance or a visit; overdue; cancelled.
    for n in range(12):
        elder = next(elder_iter)
        item = rng.choice(items)
        day = today + dt.timedelta(days=rng.randint(0, 3))
        if n in {0, 1}:
            day = today - dt.timedelta(days=2)  # overdue
        order = new_order(elder, item, day)
        if n % 4 == 0:
            count('submitted')
            continue
        if not dispatched(order):
            count('submitted')
            continue
        if n % 4 == 1:
            Order.write([order], {
                    'dispatched_at': now - dt.timedelta(
                        minutes=rng.randint(3, 20))})
            count('dispatched')
        elif n % 4 == 2 and assigned(order):
            count('accepted')
        else:
            Order.write([order], {'cancel_reason': '老人住院，暂停服务'})
            Order.cancel([order])
            count('cancelled')

    # Running service plans: a weekly visit and cleaning twice a week.
    plan_values = []
    for elder, code, days in zip(elders[:3], ['SC0301', 'SC0102', 'SC0401'],
            [['monday'], ['tuesday', 'friday'], ['wednesday']]):
        item, = Item.search([('code', '=', code)]) or [None]
        if item is None or not item.offered_in(elder.region):
            continue
        plan_values.append({
                'elder': elder.id,
                'item': item.id,
                'start_date': today - dt.timedelta(days=30),
                'time_from': dt.time(9),
                'time_to': dt.time(10),
                **{d: True for d in days}})
    plans = Plan.create(plan_values)
    Plan.run(plans)
    generated = Plan.generate_orders(plans)
    count('plans', len(plans))
    count('plan_orders', len(generated))
    for order in generated:
        dispatched(order)

    # Complaints about two closed orders.
    closed = Order.search([('state', '=', 'closed')], limit=2,
        order=[('id', 'ASC')])
    for order, (text, resolution, substantiated) in zip(closed, COMPLAINTS):
        complaint, = Complaint.create([{
                    'order': order.id,
                    'channel': 'hotline',
                    'complainant': '家属',
                    'description': text,
                    }])
        Complaint.process([complaint])
        if substantiated and order.id % 2:
            complaint.resolution = resolution
            complaint.substantiated = True
            complaint.save()
            Complaint.resolve([complaint])
        count('complaints')
    if _family_account(pool):
        count('family_accounts')
    log('service orders: ' + ', '.join(
            f'{k} {v}' for k, v in sorted(counts.items())))
    return counts


def _family_account(pool):
    """A web.user for the first contact of an older person whose visit
    waits for confirmation: the demo family of the family API"""
    Order = pool.get('service.order')
    Party = pool.get('party.party')
    Contact = pool.get('elder.contact')
    WebUser = pool.get('web.user')
    from demo import DEMO_PASSWORD
    if WebUser.search([('email', '=', FAMILY_EMAIL)]):
        return None
    for order in Order.search([('state', '=', 'completed')],
            order=[('id', 'ASC')]):
        contacts = [c for c in order.elder.contacts if not c.party]
        if contacts:
            break
    else:
        return None
    contact = contacts[0]
    party, = Party.create([{'name': contact.name}])
    Contact.write([contact], {'party': party.id})
    user, = WebUser.create([{
                'email': FAMILY_EMAIL,
                'password': DEMO_PASSWORD,
                'party': party.id,
                }])
    log(f'family account {FAMILY_EMAIL}: {contact.name}, contact of '
        f'{order.elder.name} (order {order.number} to confirm)')
    return user


def _ancestors(region):
    ids = []
    while region:
        ids.append(region.id)
        region = region.parent
    return ids


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
