#!/usr/bin/env python3
"""Benchmark of a monthly settlement run (elder_settlement) over many
service records.

    TRYTOND_DATABASE__URI=postgresql://postgres@127.0.0.1:5432/ \\
        .venv/bin/python bench/settlement.py [--records 100000] \\
        [--elders 10000] [--providers 20] [--staff 20] [--entitled 0.5]

A database copied from the elder_settlement DB_CACHE template (built by
the module tests, or here when missing; dropped at the end) gets the
accounting setup, ``--elders`` older people in 新城区, ``--providers``
enabled providers with ``--staff`` caregivers each (the defaults give
10 services per older person and 8 visits per caregiver and day for
100,000 records in a month), and half the older people a
home-service subsidy entitlement of 300 yuan a month (with every third
one 10 hours). Then ``--records`` confirmed service orders of the month
(visit items of the catalog at the catalog price, a check-in and check-out
each, 1 % flagged) are written with one INSERT … SELECT from
generate_series (the ORM path of an order — dispatch, visit, confirmation
— is not what is measured). Measured, each in its own transaction and
committed:

1. the settlement run of the month (``settlement.run`` process: pricing of
   every record in visit order against the quotas, statements per
   provider and district, fund-monitoring alerts);
2. the same run again (idempotence: nothing to do);
3. the finance approval of the largest statement (supplier invoice with a
   line per service type, posted).

Prints JSON and a summary line; keeps a copy in bench/results/.
"""
import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'tools'))
if not os.environ.get('TRYTOND_DATABASE__URI') and os.environ.get(
        'TRYTOND_DATABASE_URI'):
    os.environ['TRYTOND_DATABASE__URI'] = os.environ['TRYTOND_DATABASE_URI']
os.environ.setdefault('DB_CACHE', 'postgresql://')
os.environ.pop('TRYTOND_CONFIG', None)
os.environ.pop('DB_NAME', None)

import elderctl  # noqa: E402

MODULE = 'elder_settlement'
XINCHENG = '150102'
# Visit items (one price, one standard duration per visit)
ITEMS = ['SC0101', 'SC0103', 'SC0201', 'SC0202', 'SC0301']


def uri():
    value = os.environ.get('TRYTOND_DATABASE__URI', '')
    if not value.startswith('postgresql'):
        sys.exit('set TRYTOND_DATABASE__URI=postgresql://… '
            '(see bench/README.md)')
    return value


@contextlib.contextmanager
def database():
    "A copy of the elder_settlement DB_CACHE template; dropped at exit"
    from trytond.tests import test_tryton
    template = test_tryton._db_cache_file(
        test_tryton.DB_CACHE, MODULE).rsplit('/', 1)[1]
    if not elderctl.database_exists(uri(), template):
        test_tryton.drop_db()
        test_tryton.activate_module([MODULE])
    name = 'bench_settlement_%s' % os.getpid()
    elderctl.drop_database(uri(), name)
    elderctl.create_database_from(uri(), name, template)
    try:
        yield name
    finally:
        from trytond import backend
        from trytond.pool import Pool
        with contextlib.suppress(Exception):
            Pool.stop(name)
        with contextlib.suppress(Exception):
            backend.Database(name).close()
        elderctl.drop_database(uri(), name)


LOCKS = ['account_configuration', 'account_fiscalyear', 'account_period',
    'account_journal_period', 'settlement_configuration', 'settlement_line']


_STARTED = set()


@contextlib.contextmanager
def transaction(name, **extras):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    extras.setdefault('_lock_tables', LOCKS)
    pool = Pool(name)
    if name not in _STARTED:
        Pool.start()
        with Transaction().start(name, 0, readonly=True):
            pool.init()
        _STARTED.add(name)
    with Transaction().start(name, 0, **extras) as tx:
        yield pool
        tx.commit()


def previous_month():
    first = dt.date.today().replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def prepare(name, args, month):
    "Company, accounts, people and entitlements with the ORM"
    from trytond.modules.elder_base.tests.tools import (
        citizen_id, create_elder)
    from trytond.modules.elder_service.tests.tools import (
        active_provider, create_practitioner)
    from trytond.modules.elder_settlement import accounting_setup
    from trytond.transaction import Transaction
    with transaction(name) as pool:
        Currency = pool.get('currency.currency')
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        User = pool.get('res.user')
        Entitlement = pool.get('elder.entitlement')
        currency, = Currency.create([{'name': '人民币', 'code': 'CNY',
                    'symbol': '¥', 'rounding': Decimal('0.01'),
                    'digits': 2}])
        party, = Party.create([{'name': '呼和浩特市民政局'}])
        company, = Company.create([{'party': party.id,
                    'currency': currency.id}])
        User.write([User(0)], {'companies': [('add', [company.id])],
                'company': company.id})
        with Transaction().set_context(company=company.id):
            for year in sorted({month.year, dt.date.today().year}):
                accounting_setup.setup(company, year)
        providers = []
        for n in range(args.providers):
            provider = active_provider('测试服务机构%02d' % n, XINCHENG,
                [XINCHENG], capacity=10_000, credit_code=None)
            for k in range(args.staff):
                create_practitioner('护理员%02d%02d' % (n, k),
                    1 + n * args.staff + k, provider)
            providers.append(provider)
        elders = []
        for i in range(args.elders):
            day = 1 + i // 999
            elders.append(create_elder('测试老人%05d' % i,
                    citizen_id(XINCHENG, '194501%02d' % day, 1 + i % 999),
                    XINCHENG))
        entitled = elders[:int(len(elders) * args.entitled)]
        Entitlement.create([{
                    'elder': e.id,
                    'benefit': 'home_service_subsidy',
                    'start_date': month.replace(month=1),
                    'monthly_amount': Decimal('300'),
                    'monthly_hours': Decimal('10') if n % 3 == 0 else None,
                    } for n, e in enumerate(entitled)])
        return len(entitled)


def generate(name, records, month):
    """Confirmed orders of the month, spread over the elders, items,
    providers and their practitioners, in one INSERT … SELECT"""
    import psycopg
    days = (((month.replace(day=28) + dt.timedelta(days=4)).replace(day=1))
        - month).days
    sql = """
        WITH e AS (SELECT id, region, row_number() OVER (ORDER BY id) - 1 AS n
                FROM elder_elder),
            i AS (SELECT id, price, duration,
                    row_number() OVER (ORDER BY id) - 1 AS n
                FROM service_item WHERE code = ANY(%(items)s)),
            p AS (SELECT id, provider,
                    row_number() OVER (ORDER BY id) - 1 AS n
                FROM elder_practitioner),
            g AS (SELECT s,
                    %(month)s::date + (s %% %(days)s) AS day,
                    make_time(8 + (s / %(days)s) %% 9, 0, 0) AS t
                FROM generate_series(0, %(records)s - 1) AS s)
        INSERT INTO service_order (channel, elder, item, quantity,
            requested_date, time_from, time_to, state, provider,
            practitioner, price, checkin_time, checkout_time, duration,
            flagged, rating, number, create_uid, create_date, region)
        SELECT 'call_center', e.id, i.id, 1, g.day, g.t, g.t + '2 hours',
            'confirmed', p.provider, p.id, i.price,
            g.day + g.t + '5 minutes',
            g.day + g.t + '5 minutes' + make_interval(mins => i.duration),
            i.duration, (g.s %% 100 = 99), 5,
            'BENCH' || lpad(g.s::text, 7, '0'), 0, now(), e.region
        FROM g
        JOIN e ON e.n = g.s %% (SELECT count(*) FROM e)
        JOIN i ON i.n = g.s %% (SELECT count(*) FROM i)
        JOIN p ON p.n = (g.s / 7) %% (SELECT count(*) FROM p)
        """
    with psycopg.connect(uri(), dbname=name) as conn:
        start = time.perf_counter()
        conn.execute(sql, {'items': ITEMS, 'month': month, 'days': days,
                'records': records})
        conn.commit()
        elapsed = time.perf_counter() - start
        conn.execute('ANALYZE')
        count, = conn.execute(
            "SELECT count(*) FROM service_order WHERE state = 'confirmed'"
            ).fetchone()
    return count, elapsed


def timed(name, func):
    "Run func(pool) in a transaction, restarted with the locks it asks for"
    from trytond.transaction import TransactionError
    extras = {'_lock_tables': list(LOCKS)}
    while True:
        start = time.perf_counter()
        try:
            with transaction(name, **extras) as pool:
                result = func(pool)
        except TransactionError as error:
            error.fix(extras)
            continue
        return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--records', type=int, default=100_000)
    parser.add_argument('--elders', type=int, default=10_000)
    parser.add_argument('--providers', type=int, default=20)
    parser.add_argument('--staff', type=int, default=20,
        help="caregivers per provider")
    parser.add_argument('--entitled', type=float, default=0.5)
    args = parser.parse_args()
    uri()
    from trytond import config
    config.update_etc()
    month = previous_month()
    result = {'benchmark': 'settlement', 'month': str(month),
        'records': args.records, 'elders': args.elders,
        'providers': args.providers, 'staff': args.staff,
        'machine': f'{platform.machine()} {os.cpu_count()} cpu, '
        f'Python {platform.python_version()}'}
    with database() as name:
        start = time.perf_counter()
        result['entitled'] = prepare(name, args, month)
        result['prepare_s'] = round(time.perf_counter() - start, 1)
        result['orders'], insert = generate(name, args.records, month)
        result['insert_s'] = round(insert, 1)

        def run(pool):
            Run = pool.get('settlement.run')
            Line = pool.get('settlement.line')
            run, = Run.create([{'period': month}])
            Run.write([run], {'state': 'queued'})
            Run.process([run])
            run = Run(run.id)
            return (run.priced, len(run.statements), run.alerts,
                Line.search([('state', '=', 'held')], count=True))
        (priced, statements, alerts, held), elapsed = timed(name, run)
        result['run'] = {'seconds': round(elapsed, 1), 'priced': priced,
            'held': held, 'statements': statements, 'alerts': alerts,
            'records_per_s': round(priced / elapsed, 1)}
        (priced, statements, alerts, _), elapsed = timed(name, run)
        result['rerun'] = {'seconds': round(elapsed, 2), 'priced': priced,
            'statements': statements}

        def totals(pool):
            Statement = pool.get('settlement.statement')
            Line = pool.get('settlement.line')
            lines = Line.search([('state', '=', 'statement')])
            return (sum(l.amount for l in lines),
                sum(l.subsidy_amount for l in lines),
                sum(l.self_pay_amount for l in lines),
                sum(s.line_count for s in Statement.search([])))
        (amount, subsidy, self_pay, in_statements), _ = timed(name, totals)
        result['totals'] = {'amount': str(amount), 'subsidy': str(subsidy),
            'self_pay': str(self_pay), 'lines_in_statements': in_statements,
            'adds_up': amount == subsidy + self_pay}

        def approve(pool):
            from trytond.transaction import Transaction
            Statement = pool.get('settlement.statement')
            statement = max(Statement.search([]),
                key=lambda s: s.line_count)
            Statement.send([statement])
            Statement.accept([statement])
            Statement.check([statement])
            with Transaction().set_user(1):  # not the checker
                Statement.approve([statement])
            statement = Statement(statement.id)
            return (statement.line_count, str(statement.invoice.total_amount),
                statement.invoice.state)
        (lines, total, state), elapsed = timed(name, approve)
        result['approve'] = {'seconds': round(elapsed, 1),
            'statement_lines': lines, 'invoice_total': total,
            'invoice_state': state}
    print(json.dumps(result, ensure_ascii=False, indent=1))
    out = ROOT / 'bench' / 'results'
    out.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime('%Y%m%d-%H%M%S')
    (out / f'settlement-{stamp}.json').write_text(
        json.dumps(result, ensure_ascii=False, indent=1))
    r = result['run']
    print(f"settlement of {result['orders']} records: {r['seconds']} s "
        f"({r['records_per_s']}/s), {r['statements']} statements, "
        f"rerun {result['rerun']['seconds']} s, approval of "
        f"{result['approve']['statement_lines']} lines "
        f"{result['approve']['seconds']} s")
    return 0


if __name__ == '__main__':
    sys.exit(main())
