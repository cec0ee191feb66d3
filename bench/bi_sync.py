"""Sync of changed rows into the embedded store (issue 14, item 5).

    .venv/bin/python bench/bi_sync.py -d DATABASE [--rows 100000] [--stream 20]

DATABASE has elder_bi and elder_service activated (e.g. one made with
``trytond-admin -d DB -u elder_bi elder_service --activate-dependencies``);
it is copied to ``bench_bi_sync`` (CREATE DATABASE … TEMPLATE) and dropped
at the end. 20 older people are created with the ORM, then ``--rows``
service orders with SQL; the benchmark times (1) the first sync of those
rows, (2) the sync after an UPDATE of all of them (new state, write_date =
now: 100 k changed rows), (3) the sync after 10 % of them are deleted
(tombstones), each checked against PostgreSQL (same ids and states), with
the overlap window at 0 so that only changed rows are read. chdb in a
temporary folder under var/.

elder_bi is updated in the copy first (the copy may predate its schema).
``--stream N`` (DATABASE with elder_device too): the analytics service is started on the copy with a poll
interval of one hour, then N batches of 100 telemetry events are ingested
through ``Device.ingest``, each committed, and the time from the commit
to the rows in the store is measured (the streamed path: NOTIFY, 200 ms
debounce, sync of the telemetry table). ``--rows 0`` skips the orders.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPY = 'bench_bi_sync'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--rows', type=int, default=100000)
    parser.add_argument('--stream', type=int, default=0)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / 'tools'))
    import elderctl
    uri = os.environ.setdefault('TRYTOND_DATABASE__URI',
        'postgresql://postgres@127.0.0.1:5432/')
    elderctl.drop_database(uri, COPY)
    elderctl.create_database_from(uri, COPY, args.database)
    from trytond import config
    config.update_etc()
    from trytond.modules.elder_base.tests.tools import citizen_id, region
    from trytond.modules.elder_bi import store as store_module
    from trytond.modules.elder_bi.registry import TABLES
    from trytond.modules.elder_bi.sync import SyncEngine
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(COPY)
    pool.init(update=['elder_bi'])  # the copy may predate this elder_bi
    path = tempfile.mkdtemp(prefix='bench-bi-sync-', dir=str(ROOT / 'var'))
    store = store_module.Store('chdb://' + path, database='bench')
    store_module.set_local_store(store)
    results = {'rows': args.rows}
    try:
        if args.stream:
            results['stream'] = stream(pool, store, args.stream)
            print('stream', results['stream'], flush=True)
        if args.rows:
            with Transaction().start(COPY, 0) as transaction:
                Elder = pool.get('elder.elder')
                Item = pool.get('service.item')
                elders = Elder.create([{'name': '压测%s' % i,
                            'id_number': citizen_id('150102', '19450101', i),
                            'region': region('150102').id} for i in range(20)])
                item = Item.search([], limit=1)[0]
                cursor = transaction.connection.cursor()
                cursor.execute(
                    'INSERT INTO service_order (elder, item, channel, state, '
                    'quantity, price, requested_date, number, create_date, '
                    'create_uid, region) SELECT %s + n %% 20, %s, '
                    '\'provider\', \'submitted\', 1, 50, '
                    'CURRENT_DATE - (n %% 300)::int, \'B\' || n, '
                    'now() AT TIME ZONE \'UTC\', 0, %s '
                    'FROM generate_series(1, %s) n',
                    (min(e.id for e in elders), item.id,
                        elders[0].region.id, args.rows))
                transaction.commit()
            engine = SyncEngine(store, overlap=0)
            orders = TABLES['orders']

            def run(label):
                with Transaction().start(COPY, 0) as transaction:
                    engine.ensure_store()
                    reason = engine.available(orders)  # creates the trigger
                    if reason:
                        raise SystemExit('orders cannot be synced: %s' % reason)
                    start = time.perf_counter()
                    rows = engine.sync_table(orders)
                    tombs = engine.sync_tombstones()
                    seconds = time.perf_counter() - start
                    cursor = transaction.connection.cursor()
                    cursor.execute('SELECT id, state FROM service_order '
                        'ORDER BY id')
                    source = [tuple(r) for r in cursor.fetchall()]
                    transaction.commit()
                _, live = store.query(
                    'SELECT id, state FROM $db.orders FINAL ORDER BY id')
                results[label] = {'rows_read': rows, 'tombstones': tombs,
                    'seconds': round(seconds, 2),
                    'rows_per_s': round((rows + tombs) / seconds),
                    'agrees': [tuple(r) for r in live] == source}
                print(label, results[label], flush=True)

            run('initial')
            with Transaction().start(COPY, 0) as transaction:
                transaction.connection.cursor().execute(
                    "UPDATE service_order SET state = 'dispatched', "
                    "write_date = now() AT TIME ZONE 'UTC' + interval '1 second'")
                transaction.commit()
            run('update_all')
            with Transaction().start(COPY, 0) as transaction:
                transaction.connection.cursor().execute(
                    "DELETE FROM service_order WHERE id % 10 = 0 "
                    "AND number LIKE 'B%'")  # the benchmark's orders
                transaction.commit()
            run('delete_10pct')
    finally:
        store.close()
        shutil.rmtree(path, ignore_errors=True)
        from trytond.pool import Pool as P
        P.stop(COPY)
        elderctl.drop_database(uri, COPY)
    out = ROOT / 'bench' / 'results'
    out.mkdir(exist_ok=True)
    (out / ('bi_sync-%s.json' % time.strftime('%Y%m%d-%H%M%S'))).write_text(
        json.dumps(results, indent=1))
    if 'stream' in results:
        print('bi_sync stream: %(batches)s × %(rows_per_batch)s telemetry '
            'rows, commit to store: median %(median_s)ss, max %(max_s)ss '
            '(poll interval %(poll_interval_s)ss)' % results['stream'])
    if not args.rows:
        return
    print('bi_sync: %s changed rows synced in %.2fs (%s rows/s); store '
        'agrees: %s' % (results['update_all']['rows_read'],
            results['update_all']['seconds'],
            results['update_all']['rows_per_s'],
            all(r['agrees'] for k, r in results.items()
                if k not in ('rows', 'stream'))))


def stream(pool, store, batches, size=100):
    "Commit-to-store time of telemetry through the streamed path"
    import datetime as dt
    import statistics

    from trytond.modules.elder_bi.sync import Service
    from trytond.transaction import Transaction
    key = 'BENCH-STREAM'
    with Transaction().start(COPY, 0) as transaction:
        Device = pool.get('device.device')
        type_ = pool.get('device.type').search([], limit=1)[0]
        device, = Device.create([{'type': type_.id, 'protocol': 'mqtt',
                    'identifier': key}])
        device_id = device.id
        transaction.commit()
    service = Service(COPY, store, interval=3600)
    service.start()
    try:
        deadline = time.monotonic() + 600
        while not (service.last and service.listening.is_set()):
            if time.monotonic() > deadline:
                raise SystemExit('analytics service did not start')
            time.sleep(0.05)
        delays = []
        for i in range(batches):
            now = dt.datetime.utcnow()
            events = [{'protocol': 'mqtt', 'device_key': key,
                    'message_id': 'b%s-%s' % (i, j), 'kind': 'vitals',
                    'time': now, 'values': {'heart_rate': 60 + j % 40},
                    'raw': '{}'} for j in range(size)]
            with Transaction().start(COPY, 0) as transaction:
                pool.get('device.device').ingest(events)
                transaction.commit()
            committed = time.perf_counter()
            while True:
                _, rows = store.query('SELECT count() FROM $db.telemetry '
                    'WHERE device = {d:UInt32}', {'d': device_id})
                if rows[0][0] >= (i + 1) * size:
                    break
                if time.perf_counter() - committed > 60:
                    raise SystemExit('rows not streamed within 60 s')
                time.sleep(0.01)
            delays.append(time.perf_counter() - committed)
            time.sleep(0.3)
    finally:
        service.stop()
    return {'batches': batches, 'rows_per_batch': size,
        'median_s': round(statistics.median(delays), 3),
        'max_s': round(max(delays), 3), 'poll_interval_s': 3600,
        'last_delay_ms': service.last_stream.get('delay_ms')}


if __name__ == '__main__':
    main()
