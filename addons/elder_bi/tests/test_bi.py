# This file is part of the eldercare platform. See LICENSE.
"""elder_bi against a real embedded store (chdb) and PostgreSQL: sync
correctness, record-rule scoping of the big screen, reports, imports and
uploads to a stand-in receiver on 127.0.0.1."""
import csv
import datetime as dt
import io
import json
import time

import gmssl_pyx

from trytond.modules.elder_base.tests.tools import citizen_id, region
from trytond.modules.elder_bi.routes import (
    _is_viewer, dashboard_data, resolve_region)
from trytond.modules.elder_bi.standin import StandIn
from trytond.modules.elder_bi.sync import Service, SyncEngine
from trytond.modules.elder_service.tests.tools import (
    create_order, create_user, home_elder)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, ModuleTestCase, with_transaction)
from trytond.transaction import Transaction

from .tools import drop, fresh_store

XINCHENG, HUIMIN, HOHHOT = '150102', '150103', '150100'
NOW = dt.datetime.utcnow().replace(microsecond=0)


def device(identifier, elder):
    pool = Pool()
    Device = pool.get('device.device')
    DeviceType = pool.get('device.type')
    type_, = DeviceType.search([('code', '=', 'WATCH')])
    record, = Device.create([{'type': type_.id, 'protocol': 'mqtt',
                'identifier': identifier, 'elder': elder.id}])
    Device.install([record])
    Device.activate([record])
    return record


def event(key, message_id, kind='state', **values):
    return {'protocol': 'mqtt', 'device_key': key, 'message_id': message_id,
        'kind': kind, 'time': NOW, 'values': values,
        'raw': json.dumps({'id': message_id, **values})}


class ElderBiStoreTestCase(ModuleTestCase):
    "Test elder_bi with the embedded store"
    module = 'elder_bi'
    extras = ['elder_service', 'elder_device']

    def setUp(self):
        super().setUp()
        self.store = fresh_store()
        self.addCleanup(drop, self.store)

    def world(self):
        "Older people in 新城区 and 回民区, orders, a watch with telemetry"
        pool = Pool()
        Order = pool.get('service.order')
        Device = pool.get('device.device')
        Category = pool.get('elder.category')
        alone, = Category.search([('code', '=', 'alone')])
        xc = [home_elder('新城%s' % i, serial=10 + i,
                categories=[('add', [alone.id])]) for i in range(3)]
        hm = [home_elder('回民%s' % i, serial=20 + i, region_code=HUIMIN)
            for i in range(2)]
        orders = [create_order(e) for e in xc + hm]
        Order.submit(orders[:4])
        watch = device('W1', xc[0])
        Device.ingest([event('W1', 'm1', heart_rate=70, battery=80),
                event('W1', 'm2', kind='heartbeat'),
                event('W1', 'm3', sos=True)])
        return xc, hm, orders, watch

    def sync(self):
        engine = SyncEngine(self.store)
        engine.ensure_store()
        return engine, engine.run()

    def live(self, table, columns='id'):
        _, rows = self.store.query(
            'SELECT %s FROM $db.%s FINAL ORDER BY id' % (columns, table))  # noqa: S608 (test table names)
        return [tuple(r) for r in rows]

    @with_transaction()
    def test_sync_inserts_updates_deletes(self):
        "The store agrees with PostgreSQL after inserts, updates, deletes"
        pool = Pool()
        Order = pool.get('service.order')
        Elder = pool.get('elder.elder')
        Telemetry = pool.get('device.telemetry')
        xc, hm, orders, watch = self.world()
        engine, results = self.sync()
        self.assertEqual(results['orders'][2], 'ok')
        self.assertEqual(results['meal_orders'][2], 'unavailable')

        def agree():
            self.assertEqual(self.live('orders', 'id, state, elder'), sorted(
                    (o.id, o.state, o.elder.id) for o in Order.search([])))
            self.assertEqual(self.live('elders', 'id, region, state'), sorted(
                    (e.id, e.region.id, e.state) for e in Elder.search([])))
            self.assertEqual(self.live('elder_categories', 'elder'), sorted(
                    (e.id,) for e in Elder.search([])
                    for _ in e.categories))
            for table in ['orders', 'elders', 'telemetry', 'alarms',
                    'devices', 'regions']:
                source, store = engine.counts(
                    __import__('trytond.modules.elder_bi.registry',
                        fromlist=['TABLES']).TABLES[table])
                self.assertEqual(source, store, table)
        agree()
        # semi-structured payloads kept as JSON
        _, rows = self.store.query("SELECT payload.heart_rate, raw "
            "FROM $db.telemetry WHERE message_id = 'm1'")
        self.assertEqual(rows[0][0], 70)
        self.assertEqual(json.loads(rows[0][1])['battery'], 80)
        # the hot paths as typed columns, computed by the store
        _, rows = self.store.query("SELECT heart_rate, battery, spo2 "
            "FROM $db.telemetry WHERE message_id = 'm1'")
        self.assertEqual(rows, [[70.0, 80.0, None]])
        # updates
        Order.cancel([orders[0]])
        Elder.write([xc[1]], {'categories': [('remove', [
                            xc[1].categories[0].id])]})
        Elder.deceased([xc[2]], dt.date.today())
        # deletes (a draft order; the category link removed above)
        Order.delete([orders[4]])
        Pool().get('device.device').ingest([event('W1', 'm4', heart_rate=72)])
        _, results = self.sync()
        self.assertEqual(results['_tombstones'][0], 2)
        agree()
        self.assertNotIn((orders[4].id,), self.live('orders'))
        self.assertEqual(Telemetry.search_count([]), 4)
        # a second run with nothing new changes nothing
        before = self.live('orders', 'id, state, _version')
        self.sync()
        self.assertEqual(self.live('orders', 'id, state, _version'), before)

    def test_stream_telemetry(self):
        "Telemetry reaches the store on the database's notice, not the poll"
        pool = Pool(DB_NAME)

        def committed(func):
            with Transaction().start(DB_NAME, 0) as transaction:
                result = func()
                transaction.commit()
                return result

        def create_device():
            Device = pool.get('device.device')
            type_, = pool.get('device.type').search([('code', '=', 'WATCH')])
            record, = Device.create([{'type': type_.id, 'protocol': 'mqtt',
                        'identifier': 'STREAM1'}])
            return record.id
        device_id = committed(create_device)

        def cleanup():
            def delete():
                cursor = Transaction().connection.cursor()
                cursor.execute('DELETE FROM device_telemetry '
                    'WHERE device = %s', (device_id,))
                cursor.execute('DELETE FROM device_device WHERE id = %s',
                    (device_id,))
                cursor.execute('DELETE FROM bi_sync_table')
            committed(delete)
        self.addCleanup(cleanup)

        # a poll interval that the test cannot wait for: only the notice
        # can bring the rows
        service = Service(DB_NAME, self.store, interval=3600)
        service.start()
        self.addCleanup(service.stop)
        deadline = time.monotonic() + 120
        while not (service.last and service.listening.is_set()):
            self.assertLess(time.monotonic(), deadline, 'service not started')
            time.sleep(0.05)
        self.assertEqual(
            service.last['tables']['telemetry']['state'], 'ok')

        def count():
            _, rows = self.store.query('SELECT count(), max(heart_rate) '
                'FROM $db.telemetry WHERE device = {d:UInt32}',
                {'d': device_id})
            return tuple(rows[0])
        self.assertEqual(count(), (0, None))
        committed(lambda: pool.get('device.device').ingest([
                    event('STREAM1', 's%s' % i, kind='vitals',
                        heart_rate=60 + i) for i in range(3)]))
        written = time.monotonic()
        while not service.last_stream and time.monotonic() - written < 30:
            time.sleep(0.05)
        # well before the poll: the streamed sync did it, and says so
        self.assertIn('telemetry', service.last_stream['tables'])
        self.assertEqual(
            service.last_stream['tables']['telemetry']['rows'], 3)
        self.assertEqual(count(), (3, 62))

        def health():
            record, = pool.get('bi.sync.table').search(
                [('name', '=', 'telemetry')])
            return (record.streamed, record.state,
                record.stream_delay is not None, bool(record.last_streamed))
        self.assertEqual(committed(health), (True, 'ok', True, True))
        # a second burst is picked up from the cached watermark
        committed(lambda: pool.get('device.device').ingest([
                    event('STREAM1', 's9', kind='vitals', heart_rate=90)]))
        first = service.last_stream
        written = time.monotonic()
        while (service.last_stream is first
                and time.monotonic() - written < 30):
            time.sleep(0.05)
        self.assertEqual(
            service.last_stream['tables']['telemetry']['rows'], 1)
        self.assertEqual(count(), (4, 90))

    def test_id_fence(self):
        "Telemetry committed out of id order is not skipped"
        import psycopg

        from trytond import backend
        pool = Pool(DB_NAME)

        def committed(func):
            with Transaction().start(DB_NAME, 0) as transaction:
                result = func()
                transaction.commit()
                return result

        def create_device():
            Device = pool.get('device.device')
            type_, = pool.get('device.type').search([('code', '=', 'WATCH')])
            record, = Device.create([{'type': type_.id, 'protocol': 'mqtt',
                        'identifier': 'FENCE1'}])
            return record.id
        device_id = committed(create_device)
        params = backend.Database._connection_params(DB_NAME)
        slow = psycopg.connect(**params)
        fast = psycopg.connect(autocommit=True, **params)

        def cleanup():
            slow.rollback()
            slow.close()
            fast.execute('DELETE FROM device_telemetry WHERE device = %s',
                (device_id,))
            fast.execute('DELETE FROM device_device WHERE id = %s',
                (device_id,))
            fast.execute('DELETE FROM bi_sync_table')
            fast.close()
        self.addCleanup(cleanup)
        service = Service(DB_NAME, self.store, interval=3600)
        self.addCleanup(service.stop)
        service.sync()
        insert = ('INSERT INTO device_telemetry (device, ts, kind, "values", '
            'message_id, create_uid, create_date) VALUES (%s, '
            "now() AT TIME ZONE 'UTC', 'vitals', %s, %s, 0, "
            "now() AT TIME ZONE 'UTC') RETURNING id")

        def write(conn, message):
            return conn.execute(insert, (device_id, json.dumps(
                        {'heart_rate': 70}), message)).fetchone()[0]

        def stored():
            _, rows = self.store.query('SELECT id FROM $db.telemetry '
                'WHERE device = {d:UInt32} ORDER BY id', {'d': device_id})
            return [r[0] for r in rows]
        first = write(slow, 'f1')  # drawn first, committed last
        second = write(fast, 'f2')
        self.assertLess(first, second)
        service.sync()
        self.assertEqual(stored(), [])  # held back behind the open write
        slow.commit()
        service.sync()
        self.assertEqual(stored(), [first, second])

    @with_transaction()
    def test_dashboard_scope(self):
        "A district sees its district; the city sees both, drilled down"
        pool = Pool()
        User = pool.get('res.user')
        xc, hm, orders, watch = self.world()
        self.sync()
        district = create_user('sup_xc', 'elder_base.group_supervisor',
            elder_region=region(XINCHENG).id)
        city = create_user('sup_city', 'elder_base.group_supervisor',
            elder_region=region(HOHHOT).id)
        unscoped = create_user('sup_none', 'elder_base.group_supervisor')
        manager = create_user('bi_mgr', 'elder_bi.group_bi_manager',
            elder_region=region(HOHHOT).id)
        caregiver = create_user('carer', 'elder_base.group_caregiver',
            elder_region=region(HOHHOT).id)
        User._get_elder_scope_cache.clear()
        database = Transaction().database.name

        def as_user(user, region_id=None):
            with Transaction().set_user(user.id), \
                    Transaction().set_context(_check_access=True):
                User._get_elder_scope_cache.clear()
                found, chain = resolve_region(pool, user.id, region_id)
                if found is None:
                    return None
                return dashboard_data(pool, found, chain, database)

        data = as_user(district)
        self.assertEqual(data['region']['name'], '新城区')
        self.assertEqual(data['elders'], 3)
        self.assertEqual(data['orders_month']['total'], 4 - 1)  # 3 xc submitted
        self.assertEqual(data['devices']['total'], 1)
        self.assertEqual(sum(data['alarms_by_hour']), 1)
        self.assertEqual(dict(data['elders_by_category']), {'Living alone': 3})
        # another district, or the city above, is refused
        self.assertIsNone(as_user(district, region(HUIMIN).id))
        self.assertIsNone(as_user(district, region(HOHHOT).id))
        # a role without a scope sees nothing
        self.assertIsNone(as_user(unscoped))
        # the city sees both districts and drills down
        data = as_user(city)
        self.assertEqual(data['elders'], 5)
        children = {c['name']: c for c in data['children']}
        self.assertEqual(children['新城区']['elders'], 3)
        self.assertEqual(children['回民区']['elders'], 2)
        self.assertEqual(children['回民区']['alarms'], 0)
        down = as_user(city, children['回民区']['id'])
        self.assertEqual(down['elders'], 2)
        self.assertEqual([c['name'] for c in down['chain']],
            ['呼和浩特市', '回民区'])
        # links only to records the user may read
        self.assertIn('/model/elder.elder;', data['links']['elders'])
        self.assertIn('child_of', data['links']['orders'])
        managed = as_user(manager)
        self.assertEqual(managed['elders'], 5)
        self.assertIsNone(managed['links']['elders'])
        # a caregiver may not open the screen
        self.assertFalse(_is_viewer(pool, caregiver.id))
        self.assertTrue(_is_viewer(pool, district.id))

    @with_transaction()
    def test_report(self):
        "A monthly report in PDF (CJK font) and Excel from the store"
        pool = Pool()
        Report = pool.get('bi.report')
        self.world()
        self.sync()
        today = dt.date.today()
        report, = Report.create([{'region': region(HOHHOT).id,
                    'start_date': today.replace(day=1),
                    'end_date': today}])
        Report.generate([report])
        self.assertEqual(report.state, 'done')
        self.assertTrue(bytes(report.pdf).startswith(b'%PDF'))
        self.assertIn(b'WenQuanYi', bytes(report.pdf))
        from openpyxl import load_workbook
        book = load_workbook(io.BytesIO(bytes(report.xlsx)))
        self.assertEqual(len(book.sheetnames), 5)
        summary = book[book.sheetnames[0]]
        self.assertEqual(summary['B2'].value, 5)  # older people
        self.assertIn('5', report.summary)

    def _csv(self, rows, header=('身份证号', '姓名', '死亡日期')):
        output = io.StringIO()
        writer = csv.writer(output)
        writer.writerow(header)
        writer.writerows(rows)
        return output.getvalue().encode('utf-8')

    @with_transaction()
    def test_import_deaths_and_dibao(self):
        "Bad files are refused whole; good ones report and apply changes"
        pool = Pool()
        Import = pool.get('bi.import')
        ModelData = pool.get('ir.model.data')
        Mapping = pool.get('bi.import.mapping')
        death = Mapping(ModelData.get_id('elder_bi', 'mapping_death'))
        dibao = Mapping(ModelData.get_id('elder_bi', 'mapping_dibao'))
        xc, hm, orders, watch = self.world()
        yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
        tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
        stranger = citizen_id('150102', '19400101', 99)
        bad_files = [
            ('bad.csv', self._csv([[xc[0].id_number, 'x', yesterday],
                        ['150102194001011234', 'y', yesterday]])),
            ('dup.csv', self._csv([[xc[0].id_number, 'x', yesterday],
                        [xc[0].id_number, 'x', yesterday]])),
            ('future.csv', self._csv([[xc[0].id_number, 'x', tomorrow]])),
            ('cols.csv', self._csv([[xc[0].id_number, 'x']],
                    header=('身份证号', '姓名'))),
            ('data.txt', b'hello'),
            ('empty.json', b'[]'),
            ('broken.json', b'{"records": [1, 2'),
            ]
        for name, data in bad_files:
            batch, = Import.create([{'mapping': death.id, 'file': data,
                        'filename': name}])
            Import.check([batch])
            self.assertEqual(batch.state, 'rejected', name)
            self.assertFalse(batch.lines, name)
            self.assertTrue(batch.report, name)
        self.assertEqual({e.state for e in xc}, {'active'})
        batch, = Import.create([{'mapping': death.id, 'filename': 'ok.csv',
                    'file': self._csv([
                            [xc[0].id_number.lower(), 'x', yesterday],
                            [stranger, 's', yesterday]])}])
        Import.check([batch])
        self.assertEqual(batch.state, 'checked')
        self.assertEqual(sorted(line.change for line in batch.lines),
            ['death', 'not_found'])
        self.assertEqual(xc[0].state, 'active')  # nothing before apply
        Import.apply([batch])
        self.assertEqual(xc[0].state, 'deceased')
        self.assertEqual(xc[0].death_date.isoformat(), yesterday)
        # 低保 from civil affairs, in JSON
        records = [{'身份证号': hm[0].id_number, '低保状态': '在保'},
            {'身份证号': hm[1].id_number, '低保状态': '停保'}]
        batch, = Import.create([{'mapping': dibao.id, 'filename': 'd.json',
                    'file': json.dumps({'records': records}).encode()}])
        Import.check([batch])
        self.assertEqual(sorted(line.change for line in batch.lines),
            ['dibao_on', 'unchanged'])
        Import.apply([batch])
        self.assertIn('low_income', [c.code for c in hm[0].categories])
        self.assertNotIn('low_income', [c.code for c in hm[1].categories])

    @with_transaction()
    def test_upload_retry_idempotence(self):
        "Signed, encrypted uploads: retries with backoff, same receipts"
        pool = Pool()
        Target = pool.get('bi.upload.target')
        Record = pool.get('bi.upload.record')
        Elder = pool.get('elder.elder')
        xc, hm, orders, watch = self.world()
        public, private = gmssl_pyx.sm2_key_generate()
        sm4 = gmssl_pyx.rand_bytes(16).hex()
        standin = StandIn(sm4, 'k1', public.hex(), fail_first=2).start()
        self.addCleanup(standin.stop)
        target, = Target.create([{'name': '自治区平台', 'url': standin.url,
                    'platform_code': HOHHOT, 'key_id': 'k1', 'sm4_key': sm4,
                    'sm2_private_key': private.hex(),
                    'sm2_public_key': public.hex(),
                    'receiver_public_key': standin.public_key_hex,
                    'retry_base': 30, 'max_attempts': 5}])
        # the keys are write-only through the API
        with Transaction().set_context(_check_access=True):
            self.assertEqual(
                Target.read([target.id], ['sm4_key'])[0]['sm4_key'],
                '********')
        queued = Record.queue(target, 'elder_basic', xc[:1])
        record, = queued
        self.assertEqual(record.record_id, '150100:elder_basic:%s' % xc[0].id)
        Record.send([record])
        self.assertEqual((record.state, record.attempts), ('pending', 1))
        wait = (record.next_attempt - dt.datetime.utcnow()).total_seconds()
        self.assertTrue(25 <= wait <= 30, wait)
        Record.send([record])  # not due yet: nothing sent
        self.assertEqual(record.attempts, 1)
        Record.send([record], force=True)
        wait = (record.next_attempt - dt.datetime.utcnow()).total_seconds()
        self.assertTrue(55 <= wait <= 60, wait)  # doubled
        Record.send([record], force=True)
        self.assertEqual(record.state, 'accepted', record.last_error)
        receipt = record.receipt_id
        self.assertTrue(receipt)
        self.assertEqual(standin.records[record.record_id]['data']['sfzh'],
            xc[0].id_number)
        # queued again unchanged: nothing to send
        self.assertEqual(Record.queue(target, 'elder_basic', xc[:1]), [])
        # sent again with the same content: the same receipt (idempotent)
        Record.write([record], {'state': 'pending'})
        Record.send([record], force=True)
        self.assertEqual(record.receipt_id, receipt)
        self.assertEqual(len(standin.records), 1)
        # a change makes a new version under the same record id
        Elder.write([xc[0]], {'living_situation': 'alone'})
        again, = Record.queue(target, 'elder_basic', xc[:1])
        self.assertEqual(again, record)
        Record.send([record], force=True)
        self.assertNotEqual(record.receipt_id, receipt)
        self.assertEqual(len(standin.records), 1)
        # reconciliation: what the receiver lost goes back to pending
        standin.records.clear()
        Target.reconcile([target])
        self.assertEqual(record.state, 'pending')
        # a bad signature is rejected, not retried
        other_public, other_private = gmssl_pyx.sm2_key_generate()
        Target.write([target], {'sm2_private_key': other_private.hex(),
                    'sm2_public_key': other_public.hex()})
        Record.send([record], force=True)
        self.assertEqual(record.state, 'rejected')


del ModuleTestCase
