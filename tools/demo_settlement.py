#!/usr/bin/env python3
"""Load the demonstration settlement of a month of home services
(elder_settlement) into an eldercare database.

Called by tools/demo.py after the service and assessment loaders
(``load(pool, seed)`` inside its transaction), or on its own:

    TRYTOND_CONFIG=trytond.conf python tools/demo_settlement.py -d eldercare

The demo orders of elder_service are the last two weeks, and the
entitlements of elder_assess start today, so the last complete month has
neither. This loader gives that month its own story, through the real
workflows:

- accounting of the civil-affairs bureau (``accounting_setup.py``): the
  subsidy chart of accounts, the fiscal year(s) with monthly periods, the
  treasury payment method, the year's budget appropriation and the district
  budgets;
- the transitional home-service subsidy list (过渡期名单) of 呼和浩特市 that
  was in force until the end of that month (200 yuan a month), as an ended
  policy with ended entitlements, before the assessment-based policy;
- a month of visits by two providers (青城 in 新城区, 康乐 in 赛罕区),
  checked in and out, confirmed with ratings; one visit far too short,
  flagged and held out;
- the settlement run of the month (priced against the quotas: subsidised,
  partly subsidised, over quota, not entitled), the 新城区 statement sent,
  accepted by ``provider_admin``, approved by ``supervisor_xc`` and by
  ``finance`` (two people) into a posted supplier invoice, and paid from the
  treasury account; the 赛罕区 statement awaits ``provider_admin2``'s review;
- an evaluation campaign of the month for 呼和浩特市, computed (ranking and
  grades); the supervisor applies it (dispatch penalties, rectifications).

The ``finance`` login gets the accounting group (account.group_account) to
open the invoices and moves. A database that already has settlement lines
is left alone.
"""
import argparse
import datetime as dt
import random
import sys
from decimal import Decimal

COMPANY_NAME = '呼和浩特市民政局'
QUOTA = Decimal('200.00')
# The year's subsidy budget of the districts (yuan); their sum is the
# appropriation booked on 1 January.
BUDGETS = [
    ('150102', Decimal('360000.00')),
    ('150103', Decimal('240000.00')),
    ('150104', Decimal('180000.00')),
    ('150105', Decimal('420000.00')),
    ]
# The month of an older person: (day, item code); patterns by position.
PATTERNS = [
    [(2, 'SC0201'), (9, 'SC0103'), (16, 'SC0201'), (23, 'SC0103')],
    [(4, 'SC0301'), (11, 'SC0301'), (18, 'SC0301'), (25, 'SC0301')],
    [(3, 'SC0101'), (17, 'SC0101'), (24, 'SC0301')],
    [(6, 'SC0103'), (13, 'SC0201'), (20, 'SC0103'), (27, 'SC0301')],
    ]
# Per provider: the login of its administrator, the district served, the
# older people served, how many of them are on the subsidy list.
PROVIDERS = [
    ('provider_admin', '150102', 6, 4),
    ('provider_admin2', '150105', 4, 3),
    ]
SLOTS = [8, 10, 14, 16]
# Instead of an item of a type that the provider does not offer
SUBSTITUTE = 'SC0202'
# Tables the loader locks (singletons created, the settlement run): a
# transaction started with them need not be restarted (tools/demo.py).
LOCK_TABLES = ['account_configuration', 'account_fiscalyear', 'account_period',
    'account_journal_period', 'settlement_configuration', 'settlement_line']


def log(message):
    print(message, file=sys.stderr)


def previous_month(today):
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def load(pool, seed=2026):
    """Create the demo settlement with the records of the pool's database.

    Runs inside the caller's transaction (as root); returns a dict of
    counts and figures."""
    from trytond.transaction import Transaction
    Line = pool.get('settlement.line')
    Company = pool.get('company.company')
    Date = pool.get('ir.date')

    if Line.search([], limit=1):
        log('settlement lines already present: nothing to do')
        return {}
    companies = Company.search([('party.name', '=', COMPANY_NAME)])
    if not companies:
        log(f'no company {COMPANY_NAME}: no settlement')
        return {}
    company, = companies
    with Transaction().set_context(company=company.id):
        today = Date.today()
        return _load(pool, random.Random(seed), company, today)  # noqa: S311 (seeded demo data, not cryptography)


def _load(pool, rng, company, today):
    from trytond.modules.elder_settlement import accounting_setup
    from trytond.modules.elder_settlement.line import month_end
    from trytond.transaction import Transaction
    User = pool.get('res.user')
    Group = pool.get('res.group')
    ModelData = pool.get('ir.model.data')
    Region = pool.get('elder.region')
    Budget = pool.get('settlement.budget')
    Statement = pool.get('settlement.statement')
    Run = pool.get('settlement.run')
    Campaign = pool.get('provider.evaluation.campaign')

    period = previous_month(today)
    end = month_end(period)
    users = {u.login: u for u in User.search([('login', 'in', [
                        'supervisor', 'supervisor_xc', 'provider_admin',
                        'provider_admin2', 'finance'])])}
    if len(users) < 5:
        log('demo users missing: no settlement')
        return {}
    counts = {}

    # Accounting of the bureau; the appropriation is the districts' budgets
    appropriation = sum(a for _, a in BUDGETS)
    for year in sorted({period.year, today.year}):
        accounting_setup.setup(company, year,
            appropriation=appropriation if year == period.year else None)
    regions = {r.code: r for r in Region.search([
                ('code', 'in', [c for c, _ in BUDGETS] + ['150100'])])}
    Budget.create([{
                'year': period.year, 'region': regions[code].id,
                'amount': amount,
                'note': '%s年居家养老服务补贴预算' % period.year,
                } for code, amount in BUDGETS if code in regions])
    User.write([users['finance']], {'groups': [('add', [
                        Group(ModelData.get_id('account',
                                'group_account')).id])]})

    # The transitional subsidy list in force until the end of the month
    entitled = _services(pool, rng, users, period, regions, counts)

    # The settlement run of the month (the monthly cron does the same)
    run, = Run.create([{'period': period}])
    Run.write([run], {'state': 'queued', 'started_by': users['supervisor'].id})
    Run.process([run])
    run = Run(run.id)
    counts['lines_priced'] = run.priced
    counts['alerts'] = run.alerts
    statements = {(s.provider.id, s.district.code): s
        for s in run.statements}
    transaction = Transaction()
    paid = awaiting = None
    for login, code, _, _ in PROVIDERS:
        statement = statements.get((users[login].elder_provider.id, code))
        if not statement:
            continue
        with transaction.set_user(users['supervisor'].id):
            Statement.send([statement])
        if paid is None:
            # Through to the payment, by the people of each step
            with transaction.set_user(users[login].id):
                Statement.accept([statement])
            with transaction.set_user(users['supervisor_xc'].id):
                Statement.check([statement])
            with transaction.set_user(users['finance'].id):
                Statement.approve([statement])
                Statement.pay([statement])
            paid = Statement(statement.id)
        else:
            awaiting = Statement(statement.id)
    for name, statement in [('paid', paid), ('review', awaiting)]:
        if statement:
            counts[f'statement_{name}'] = '%s %s %s: subsidy %s, self-pay %s' % (
                statement.number, statement.provider.name,
                statement.district.name, statement.subsidy_amount,
                statement.self_pay_amount)
    if paid and paid.invoice:
        counts['invoice'] = '%s %s %s' % (
            paid.invoice.number, paid.invoice.total_amount,
            paid.invoice.state)

    # The provider evaluation of the month (applied by the supervisor)
    campaign, = Campaign.create([{
                'name': '%s年%d月服务机构考核评价' % (period.year, period.month),
                'start_date': period,
                'end_date': end,
                'region': regions['150100'].id,
                }])
    with transaction.set_user(users['supervisor'].id):
        Campaign.compute([campaign])
    counts['evaluations'] = ', '.join(
        '%s %s %s' % (e.provider.name, e.score, e.grade.code if e.grade
            else '-') for e in Campaign(campaign.id).evaluations)
    counts['entitled'] = entitled
    log('settlement: ' + '; '.join(
            f'{k} {v}' for k, v in sorted(counts.items())))
    return counts


def _services(pool, rng, users, period, regions, counts):
    """The subsidy list of the month and the month's visits; return the
    number of older people on the list"""
    Order = pool.get('service.order')
    Item = pool.get('service.item')
    Elder = pool.get('elder.elder')
    Practitioner = pool.get('elder.practitioner')
    Policy = pool.get('elder.entitlement.policy')
    Entitlement = pool.get('elder.entitlement')
    from trytond.modules.elder_settlement.line import month_end

    end = month_end(period)
    items = {i.code: i for i in Item.search([])}
    policy, = Policy.create([{
                'name': '呼和浩特市居家上门服务补贴（过渡期名单）',
                'region': regions['150100'].id,
                'start_date': period.replace(month=1, day=1),
                'end_date': end,
                'benefit': 'home_service_subsidy',
                'monthly_amount': QUOTA,
                'description': '能力评估上线前沿用的补贴名单，'
                '每人每月居家上门服务补贴200元，%s起由评估认定政策替代。'
                % (end + dt.timedelta(days=1)).strftime('%Y-%m-%d'),
                }])
    busy = set()  # (practitioner, day, hour)
    entitlements = []
    flagged = False
    for login, code, served, on_list in PROVIDERS:
        provider = users[login].elder_provider
        elders = Elder.search([
                ('state', '=', 'active'),
                ('region', 'child_of', [regions[code].id], 'parent'),
                ], order=[('id', 'ASC')])
        # Coordinates are encrypted: filter them here
        elders = [e for e in elders if e.latitude is not None][:served]
        staff = Practitioner.search([
                ('provider', '=', provider.id),
                ('state', '=', 'active'),
                ], order=[('id', 'ASC')])
        for n, elder in enumerate(elders):
            if n < on_list:
                entitlements.append({
                        'elder': elder.id,
                        'policy': policy.id,
                        'benefit': 'home_service_subsidy',
                        'start_date': policy.start_date,
                        'end_date': end,
                        'state': 'ended',
                        'end_reason': 'policy_ended',
                        'monthly_amount': QUOTA,
                        'facts': '{"source": "过渡期补贴名单"}',
                        })
            visits = list(PATTERNS[n % len(PATTERNS)])
            if not flagged:
                visits.append((26, 'SC0301'))
            for day, item_code in visits:
                item = items[item_code]
                if item.service_type not in provider.service_types:
                    item = items[SUBSTITUTE]
                date = period.replace(day=day)
                qualified = [p for p in staff if item.qualifies(p)]
                choice = None
                for hour in SLOTS:
                    free = [p for p in qualified
                        if (p.id, day, hour) not in busy]
                    if free:
                        choice = (rng.choice(free), hour)
                        break
                if not choice:
                    counts['no_practitioner'] = counts.get(
                        'no_practitioner', 0) + 1
                    continue
                practitioner, hour = choice
                busy.add((practitioner.id, day, hour))
                minutes = item.duration + rng.randint(0, 10)
                if day == 26 and not flagged:
                    minutes, flagged = 5, True  # far too short: held
                order = _visit(Order, elder, item, practitioner, date, hour,
                    minutes, rng)
                counts[order.state] = counts.get(order.state, 0) + 1
    Entitlement.create(entitlements)
    return len(entitlements)


def _visit(Order, elder, item, practitioner, date, hour, minutes, rng):
    "An order of the day served by the practitioner and confirmed"
    order, = Order.create([{
                'elder': elder.id,
                'item': item.id,
                'requested_date': date,
                'time_from': dt.time(hour),
                'time_to': dt.time(hour + 2),
                'channel': 'call_center',
                }])
    Order.submit([order])
    order.provider = practitioner.provider
    order.save()
    Order.dispatch([order])
    Order.accept([order])
    order.practitioner = practitioner
    order.save()
    Order.assign([order])
    Order.depart([order])
    start = dt.datetime.combine(date, dt.time(hour, rng.randint(0, 20)))
    Order.checkin(order, elder.latitude, elder.longitude, 10.0, start,
        b'demo-photo-before' if item.photo_before else None)
    Order.checkout(order, elder.latitude, elder.longitude, 10.0,
        start + dt.timedelta(minutes=minutes),
        b'demo-photo-after' if item.photo_after else None,
        b'demo-signature' if item.signature else None)
    order = Order(order.id)
    if order.state == 'completed':
        Order.confirm_service(order, rng.choice([5, 5, 5, 4, 4, 3]), None,
            by=rng.choice(['elder', 'family']))
        order = Order(order.id)
        if not order.flagged:
            Order.close([order])
    return Order(order.id)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', '-d', required=True)
    parser.add_argument('--seed', type=int, default=2026)
    args = parser.parse_args()

    from trytond import config
    config.update_etc()
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from trytond.transaction import TransactionError

    Pool(args.database).init()
    extras = {'_lock_tables': list(LOCK_TABLES)}
    while True:
        # Like tools/demo.py: restart with the table lock a step asks for
        try:
            with Transaction().start(args.database, 0,
                    context={'language': 'zh_CN'}, **extras) as transaction:
                load(Pool(), args.seed)
                transaction.commit()
        except TransactionError as error:
            error.fix(extras)
            log(f'restarting with the locks {extras}')
            continue
        break
    return 0


if __name__ == '__main__':
    sys.exit(main())
