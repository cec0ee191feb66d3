"""Supervision queries: the embedded store (chdb) against PostgreSQL, on the
same generated data (issue 14, item 5).

    .venv/bin/python bench/bi_queries.py [--orders 1000000] [--telemetry 50000000]

Generates in one run, with the same formulas from the row number (so both
engines must give the same answers, which is checked): regions (a city, 9
districts), 300 000 older people, 20 000 devices, ``--orders`` orders and
``--telemetry`` telemetry rows (JSON payload with ``heart_rate``, spread
over a year in id order), 200 000 alarms — in a scratch PostgreSQL database
``bench_bi`` (generate_series, then the indexes a supervision query would
use and ANALYZE) and in chdb (``numbers()`` into the registry's tables, with
the registry's DDL: ReplacingMergeTree, typed copies of the hot JSON paths
computed by the store on insert).

The tables read with FINAL are loaded as the sync writes them: one insert
(one part) per sync batch of the registry, and 10 % of the orders written a
second time with a newer version (what an update or the overlap re-read
does), so FINAL has work to do. The questions (same SQL shape as the big
screen: FINAL on every table that has updates) are timed twice: *as
synced* (unmerged parts), then after ``SyncEngine.optimize()`` — what the
analytics service runs every ``[elder_bi] optimize_interval`` (3600 s).
Best of 3 each; prints JSON and a summary line, a copy goes to
bench/results/. Drops both at the end (``--keep`` to keep them). Needs
TRYTOND_DATABASE__URI or a local PostgreSQL on 127.0.0.1:5432.
"""
import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


ELDERS, DEVICES, ALARMS, TYPES, PROVIDERS = 300000, 20000, 200000, 6, 40
BASE = '2026-01-01'
# region ids: 1 city, 2..10 districts; path '1/' and '1/<id>/'
QUESTIONS = {
    'orders_by_month (district)': (
        "SELECT date_trunc('month', requested_date)::date AS m, count(*), "
        "count(*) FILTER (WHERE o.state = 'completed') FROM orders o "
        "JOIN elders e ON e.id = o.elder WHERE e.region = 3 "
        "GROUP BY m ORDER BY m",
        "SELECT toStartOfMonth(requested_date) AS m, count(), "
        "countIf(state = 'completed') FROM $db.orders FINAL "
        "WHERE elder IN (SELECT id FROM $db.elders FINAL WHERE region = 3) "
        "GROUP BY m ORDER BY m"),
    'orders_by_type (city, 90 days)': (
        "SELECT service_type, count(*) FROM orders "  # noqa: S608 (benchmark constants)
        "WHERE requested_date >= DATE '%s' + 275 GROUP BY 1 ORDER BY 1" % BASE,
        "SELECT service_type, count() FROM $db.orders FINAL "  # noqa: S608 (benchmark constants)
        "WHERE requested_date >= toDate('%s') + 275 GROUP BY 1 ORDER BY 1"
        % BASE),
    'provider_ranking (city)': (
        "SELECT provider, count(*) AS n, round(avg(rating), 4) FROM orders "
        "WHERE state = 'completed' GROUP BY provider ORDER BY n DESC, "
        "provider LIMIT 10",
        "SELECT provider, count() AS n, round(avg(rating), 4) "
        "FROM $db.orders FINAL WHERE state = 'completed' GROUP BY provider "
        "ORDER BY n DESC, provider LIMIT 10"),
    'telemetry_by_day (district, 30 days)': (
        "SELECT t.ts::date, count(*) FROM telemetry t JOIN devices d "  # noqa: S608 (benchmark constants)
        "ON d.id = t.device WHERE d.region = 3 AND t.ts >= "
        "TIMESTAMP '%s' + interval '335 days' GROUP BY 1 ORDER BY 1" % BASE,
        "SELECT toDate(ts), count() FROM $db.telemetry WHERE device IN "  # noqa: S608 (benchmark constants)
        "(SELECT id FROM $db.devices FINAL WHERE region = 3) AND ts >= "
        "toDateTime64('%s', 6, 'UTC') + INTERVAL 335 DAY GROUP BY 1 ORDER BY 1"
        % BASE),
    'telemetry_by_kind (city, year)': (
        "SELECT kind, count(*), round(avg((payload->>'heart_rate')::int), 4) "
        "FROM telemetry GROUP BY kind ORDER BY kind",
        # heart_rate: the store's typed copy of payload.heart_rate
        "SELECT kind, count(), round(avg(heart_rate), 4) "
        "FROM $db.telemetry GROUP BY kind ORDER BY kind"),
    'alarms_by_hour (city)': (
        "SELECT extract(hour FROM first_occurrence)::int, count(*) "
        "FROM alarms GROUP BY 1 ORDER BY 1",
        "SELECT toHour(first_occurrence), count() FROM $db.alarms FINAL "
        "GROUP BY 1 ORDER BY 1"),
    }


# The same question read from the dynamic JSON path, as before the typed
# column (timed for comparison, answer checked too)
JSON_PATH = ("SELECT kind, count(), round(avg(payload.heart_rate::Int64), 4) "
    "FROM $db.telemetry GROUP BY kind ORDER BY kind")


def pg_uri(database):
    uri = os.environ.get('TRYTOND_DATABASE__URI',
        'postgresql://postgres@127.0.0.1:5432/')
    return uri.rstrip('/') + '/' + database


def generate_pg(orders, telemetry):
    with psycopg.connect(pg_uri('postgres'), autocommit=True) as admin:
        admin.execute('DROP DATABASE IF EXISTS bench_bi')
        admin.execute('CREATE DATABASE bench_bi TEMPLATE template0')
    connection = psycopg.connect(pg_uri('bench_bi'), autocommit=True)
    run = connection.execute
    run('CREATE TABLE elders (id int PRIMARY KEY, region int, state text)')
    run("INSERT INTO elders SELECT n, 2 + n %% 9, 'active' "  # noqa: S608 (benchmark constants)
        "FROM generate_series(1::bigint, %s) n" % ELDERS)
    run('CREATE TABLE devices (id int PRIMARY KEY, region int, elder int)')
    run('INSERT INTO devices SELECT n, 2 + (n * 7) %% 9, n * 13 %% %s + 1 '  # noqa: S608 (benchmark constants)
        'FROM generate_series(1::bigint, %s) n' % (ELDERS, DEVICES))
    run('CREATE TABLE orders (id int PRIMARY KEY, elder int, provider int, '
        'service_type int, state text, requested_date date, rating int)')
    run("INSERT INTO orders SELECT n, (n * 7919) %% %s + 1, n %% %s + 1, "  # noqa: S608 (benchmark constants)
        "n %% %s + 1, CASE WHEN n %% 10 < 7 THEN 'completed' WHEN n %% 10 < 9 "
        "THEN 'dispatched' ELSE 'cancelled' END, DATE '%s' + (n %% 365)::int, "
        "1 + n %% 5 FROM generate_series(1::bigint, %s) n" % (
            ELDERS, PROVIDERS, TYPES, BASE, orders))
    run('CREATE TABLE telemetry (id bigint PRIMARY KEY, device int, '
        'ts timestamp, kind text, payload jsonb)')
    step = 2000000
    for start in range(1, telemetry + 1, step):
        end = min(start + step - 1, telemetry)
        run("INSERT INTO telemetry SELECT n, n %% %s + 1, TIMESTAMP '%s' + "  # noqa: S608 (benchmark constants)
            "(n * 31536000 / %s) * interval '1 second', (ARRAY['heartbeat', "
            "'vitals', 'state'])[1 + n %% 3], jsonb_build_object("
            "'heart_rate', 60 + n %% 40) FROM generate_series(%s::bigint, "
            "%s) n" % (DEVICES, BASE, telemetry, start, end))
    run('CREATE TABLE alarms (id int PRIMARY KEY, region int, kind text, '
        'first_occurrence timestamp)')
    run("INSERT INTO alarms SELECT n, 2 + n %% 9, 'sos', TIMESTAMP '%s' + "  # noqa: S608 (benchmark constants)
        "(n * 7919 %% 31536000) * interval '1 second' "
        "FROM generate_series(1::bigint, %s) n" % (BASE, ALARMS))
    for statement in [
            'CREATE INDEX ON elders (region)',
            'CREATE INDEX ON devices (region)',
            'CREATE INDEX ON orders (elder)',
            'CREATE INDEX ON orders (requested_date)',
            'CREATE INDEX ON telemetry (device, ts)',
            'CREATE INDEX ON telemetry (ts)',
            'ANALYZE']:
        run(statement)
    return connection


def insert_batched(store, name, count, columns, select):
    """INSERT … SELECT in the sync's batches (one part per batch, as the
    sync engine writes them); select: the SELECT over n = 1..count"""
    from trytond.modules.elder_bi.registry import TABLES
    batch = TABLES[name].batch
    for start in range(0, count, batch):
        store.command('INSERT INTO $db.%s (%s) %s FROM (SELECT number + 1 '  # noqa: S608 (benchmark constants)
            'AS n FROM numbers(%s, %s))' % (name, columns, select, start,
                min(batch, count - start)))


def generate_ch(store, orders, telemetry):
    from trytond.modules.elder_bi.registry import TABLES
    for name in ['elders', 'devices', 'orders', 'telemetry', 'alarms']:
        store.ensure_table(TABLES[name])
    insert_batched(store, 'elders', ELDERS, 'id, region, state, _version',
        "SELECT n, 2 + n % 9, 'active', 1")
    insert_batched(store, 'devices', DEVICES, 'id, region, elder, _version',
        'SELECT n, 2 + (n * 7) %% 9, n * 13 %% %s + 1, 1' % ELDERS)
    order_columns = ('id, elder, provider, service_type, state, '
        'requested_date, rating, _version')
    order_values = ("(n * 7919) %% %s + 1, n %% %s + 1, n %% %s + 1, "
        "multiIf(n %% 10 < 7, 'completed', n %% 10 < 9, 'dispatched', "
        "'cancelled'), toDate('%s') + (n %% 365), 1 + n %% 5" % (
            ELDERS, PROVIDERS, TYPES, BASE))
    insert_batched(store, 'orders', orders, order_columns,
        'SELECT n, %s, 1' % order_values)
    # 10 % of the orders again, a newer version of the same values: FINAL
    # must collapse them (without it the counts would be 10 % too high)
    insert_batched(store, 'orders', orders // 10, order_columns,
        'SELECT n * 10, %s, 2' % order_values.replace('n ', '(n * 10) '))
    step = 10000000
    for start in range(0, telemetry, step):
        count = min(step, telemetry - start)
        store.command("INSERT INTO $db.telemetry (id, device, ts, kind, "  # noqa: S608 (benchmark constants)
            "payload, _version) SELECT n, n %% %s + 1, toDateTime64('%s', 6, "
            "'UTC') + toIntervalSecond(intDiv(n * 31536000, %s)), "
            "['heartbeat', 'vitals', 'state'][1 + n %% 3], "
            "toJSONString(map('heart_rate', 60 + n %% 40)), n FROM "
            "(SELECT number + 1 AS n FROM numbers(%s, %s))" % (
                DEVICES, BASE, telemetry, start, count))
    insert_batched(store, 'alarms', ALARMS,
        'id, region, kind, first_occurrence, _version',
        "SELECT n, 2 + n %% 9, 'sos', toDateTime64('%s', 6, 'UTC') + "
        "toIntervalSecond(n * 7919 %% 31536000), 1" % BASE)


def norm(rows):
    out = []
    for row in rows:
        out.append(tuple(str(v)[:10] if hasattr(v, 'isoformat') else
                (round(float(v), 3) if not isinstance(v, (int, str)) and
                    v is not None else v) for v in row))
    return out


def best(function, repeat=3):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--orders', type=int, default=1000000)
    parser.add_argument('--telemetry', type=int, default=50000000)
    parser.add_argument('--keep', action='store_true')
    args = parser.parse_args()
    from trytond.modules.elder_bi import store as store_module
    path = tempfile.mkdtemp(prefix='bench-bi-', dir=str(ROOT / 'var'))
    results = {'orders': args.orders, 'telemetry': args.telemetry}
    start = time.perf_counter()
    connection = generate_pg(args.orders, args.telemetry)
    results['generate_pg_s'] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    store = store_module.Store('chdb://' + path, database='bench')
    generate_ch(store, args.orders, args.telemetry)
    results['generate_chdb_s'] = round(time.perf_counter() - start, 1)
    from trytond.modules.elder_bi.sync import SyncEngine
    results['questions'] = {}
    unmerged = {}
    for name, (pg_sql, ch_sql) in QUESTIONS.items():
        unmerged[name] = best(lambda: store.query(ch_sql)[1])
    start = time.perf_counter()
    results['optimized'] = SyncEngine(store).optimize()
    results['optimize_s'] = round(time.perf_counter() - start, 2)
    for name, (pg_sql, ch_sql) in QUESTIONS.items():
        pg_time, pg_rows = best(lambda: connection.execute(pg_sql).fetchall())
        ch_time, ch_rows = best(lambda: store.query(ch_sql)[1])
        same = (norm(pg_rows) == norm(ch_rows)
            == norm(unmerged[name][1]))
        results['questions'][name] = {'postgresql_s': round(pg_time, 4),
            'chdb_s': round(ch_time, 4),
            'speedup': round(pg_time / ch_time, 1) if ch_time else None,
            'chdb_unmerged_s': round(unmerged[name][0], 4),
            'rows': len(pg_rows), 'same_answer': same}
        print(name, results['questions'][name], flush=True)
    name = 'telemetry_by_kind (city, year)'
    json_time, json_rows = best(lambda: store.query(JSON_PATH)[1])
    results['telemetry_by_kind_json_path'] = {
        'chdb_s': round(json_time, 4),
        'same_answer': norm(json_rows) == norm(
            connection.execute(QUESTIONS[name][0]).fetchall())}
    print('telemetry_by_kind from the JSON path',
        results['telemetry_by_kind_json_path'], flush=True)
    questions = results['questions'].values()
    total_pg = sum(q['postgresql_s'] for q in questions)
    total_ch = sum(q['chdb_s'] for q in questions)
    total_un = sum(q['chdb_unmerged_s'] for q in questions)
    results['total'] = {'postgresql_s': round(total_pg, 3),
        'chdb_s': round(total_ch, 3), 'speedup': round(total_pg / total_ch, 1),
        'chdb_unmerged_s': round(total_un, 3),
        'speedup_unmerged': round(total_pg / total_un, 1)}
    connection.close()
    store.close()
    if not args.keep:
        shutil.rmtree(path, ignore_errors=True)
        with psycopg.connect(pg_uri('postgres'), autocommit=True) as admin:
            admin.execute('DROP DATABASE IF EXISTS bench_bi')
    print(json.dumps(results, indent=1))
    out = ROOT / 'bench' / 'results'
    out.mkdir(exist_ok=True)
    (out / ('bi_queries-%s.json' % time.strftime('%Y%m%d-%H%M%S'))).write_text(
        json.dumps(results, indent=1))
    same = all(q['same_answer'] for q in results['questions'].values()) \
        and results['telemetry_by_kind_json_path']['same_answer']
    print('bi_queries: %s orders, %s telemetry rows: PostgreSQL %.2fs, chdb '
        '%.2fs, %sx (as synced, before the merge: %.2fs, %sx); all answers '
        'equal: %s' % (args.orders, args.telemetry, total_pg, total_ch,
            results['total']['speedup'], total_un,
            results['total']['speedup_unmerged'], same))
    return 0 if same else 1


if __name__ == '__main__':
    raise SystemExit(main())
