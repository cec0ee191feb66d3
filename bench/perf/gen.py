#!/usr/bin/env python3
"""Seeded bulk generator of a league/city's data for the load benchmark.

    .venv/bin/python bench/perf/gen.py --database perf_city [--scale 1.0]
        [--seed 2026] [--template test_web] [--drop]

At --scale 1: 200,000 older people, 1,000 providers, 20,000 practitioners,
2,000,000 service orders over 3 years, 50,000 devices (plus open alarms,
family accounts and caregiver logins). --scale 0.1 gives a tenth of each.

The database is created from a template that has the modules activated
and the demo data (tools/demo.py: regions, items, device types, demo
users); default `test_web` (the browser tests' template: every module).
Rows are written with COPY, not the ORM. Encrypted fields hold real
SM4-GCM ciphertexts made with elder_security's Keyring (key file of
[elder_security] key_file, default var/elder_security.keys, the one the
template was built with) and the same AAD (`<model>.<field>:<id>`), blind
indexes with Keyring.blind_index on the normalised value: the platform
reads and searches them as its own. Not encrypted/filled: the check-in /
check-out positions of past orders (left empty), health summaries.
"""
import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
URI = os.environ.get('TRYTOND_DATABASE__URI',
    'postgresql://postgres@127.0.0.1:5432/')

SURNAMES = ('王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧'
    '程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭'
    '廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文'
    '包乌其斯巴图')
GIVEN = ('秀英 桂英 秀兰 玉兰 桂兰 凤英 淑珍 玉珍 建国 建华 国华 志强 文华 德明 '
    '桂芝 秀珍 玉梅 淑兰 明 伟 芳 军 华 平 刚 英 红 敏 静 丽 强 磊 洋 勇 艳 杰 '
    '娟 涛 超 霞 宝音 其其格 乌云 萨仁 巴特尔 额尔敦 图雅 那仁 格日勒 孟和').split()
STREETS = '新华大街 中山路 锡林郭勒南路 大学西街 成吉思汗大街 呼伦贝尔北路 ' \
    '昭乌达路 兴安南路 鄂尔多斯大街 海拉尔东路'
STREETS = STREETS.split()

DONE = ['closed'] * 70 + ['confirmed'] * 10 + ['completed'] * 8 + \
    ['cancelled'] * 12
FUTURE = ['submitted'] * 3 + ['dispatched'] * 3 + ['accepted'] * 4
TODAY = ['accepted'] * 4 + ['on_the_way', 'in_service'] + ['completed'] * 4
CHANNELS = ['call_center'] * 5 + ['family'] * 2 + ['provider'] + ['plan'] * 2
ALARM_KINDS = [('sos', '1'), ('fall', '1'), ('smoke', '1'), ('vitals', '2'),
    ('low_battery', '4'), ('offline', '3'), ('inactivity', '2')]


def log(msg):
    print(f'[gen] {msg}', file=sys.stderr, flush=True)


def connect(dbname, **kw):
    return psycopg.connect(URI, dbname=dbname, **kw)


def ric(rng, region_code, birth, serial):
    from trytond.modules.elder_base.identity import ric_check_character
    body = '%s%s%03d' % (region_code[:6], birth.strftime('%Y%m%d'), serial)
    return body + ric_check_character(body)


def name(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


class Generator:
    def __init__(self, conn, scale, seed):
        from trytond.modules.elder_security.crypto import Keyring
        self.conn = conn
        self.scale = scale
        self.rng = random.Random(seed)  # noqa: S311 (seeded test data)
        self.keyring = Keyring.get()
        self.now = dt.datetime.now().replace(microsecond=0)
        self.today = self.now.date()
        self.cursor = conn.cursor()

    def n(self, full):
        return max(1, int(full * self.scale))

    def q(self, query, params=None):
        self.cursor.execute(query, params)
        return self.cursor.fetchall() if self.cursor.description else None

    def reserve(self, table, count):
        "Reserve count ids of table's sequence; return the first"
        seq = f'"{table}_id_seq"'
        first, = self.q(sql.SQL(
                "SELECT setval(%s, nextval(%s) + %s - 1) - %s + 1").format(),
            [seq, seq, count, count])[0]
        return first

    def enc(self, model, field, id_, value):
        if value is None:
            return None
        return self.keyring.encrypt(str(value), f'{model}.{field}:{id_}')

    def bidx(self, kind, value):
        return self.keyring.blind_index(kind, value)

    def copy(self, table, columns, rows):
        stmt = sql.SQL('COPY {} ({}) FROM STDIN').format(
            sql.Identifier(table),
            sql.SQL(', ').join(map(sql.Identifier, columns)))
        count = 0
        with self.cursor.copy(stmt) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    # --- reference data -------------------------------------------------------
    def load_reference(self):
        self.communities = self.q(
            "SELECT c.id, c.code, p.id FROM elder_region c "
            "JOIN elder_region t ON t.id = c.parent "
            "JOIN elder_region p ON p.id = t.parent "
            "WHERE c.level = 'community' AND c.active")
        self.counties = self.q(
            "SELECT id, code FROM elder_region WHERE level = 'county'")
        self.items = self.q(
            "SELECT id, price, duration, photo_before OR photo_after "
            "OR signature FROM service_item WHERE active")
        self.plain_items = [i for i in self.items if not i[3]] or self.items
        self.device_types = self.q(
            "SELECT t.id, t.category FROM device_type t")
        self.ethnicities = [r[0] for r in self.q(
                "SELECT id FROM elder_ethnicity")] or [None]
        self.admin = 1
        # citizen ids already used (demo data): birth dates are random, the
        # generated numbers must not collide with them
        self.taken = {r[0] for r in self.q(
                "SELECT id_number_bidx FROM elder_elder UNION "
                "SELECT id_number_bidx FROM elder_practitioner")}
        log(f'reference: {len(self.communities)} communities, '
            f'{len(self.items)} items, {len(self.device_types)} device types')

    def parties(self, names):
        first = self.reserve('party_party', len(names))
        rows = ((first + i, 'PF%08d' % (first + i), n, True, self.now, 1)
            for i, n in enumerate(names))
        self.copy('party_party',
            ['id', 'code', 'name', 'active', 'create_date', 'create_uid'],
            rows)
        return first

    # --- older people ----------------------------------------------------------
    def elders(self):
        from trytond.modules.elder_base.identity import normalize_phone
        count = self.n(200_000)
        rng = self.rng
        names = [name(rng) for _ in range(count)]
        party0 = self.parties(names)
        first = self.reserve('elder_elder', count)
        self.elder_ids = list(range(first, first + count))
        self.elder_region = {}
        self.elder_county = {}
        self.elder_pos = {}
        serial = {}
        model = 'elder.elder'

        def rows():
            for i in range(count):
                id_ = first + i
                community, code, county = rng.choice(self.communities)
                birth = dt.date(rng.randint(1930, 1965), rng.randint(1, 12),
                    rng.randint(1, 28))
                key = (code[:6], birth)
                while True:
                    serial[key] = serial.get(key, 0) + 1
                    number = ric(rng, code, birth, serial[key])
                    index = self.bidx('citizen_id', number)
                    if index not in self.taken:
                        break
                sex = '1' if serial[key] % 2 else '2'
                phone = normalize_phone('13%09d' % (100_000_000 + id_))
                lat = round(40.80 + rng.random() * 0.1, 6)
                lon = round(111.60 + rng.random() * 0.15, 6)
                self.elder_region[id_] = community
                self.elder_county[id_] = county
                self.elder_pos[id_] = (lat, lon)
                address = '呼和浩特市%s%d号%d栋%d室' % (
                    rng.choice(STREETS), rng.randint(1, 300),
                    rng.randint(1, 30), rng.randint(101, 2405))
                state = 'active' if rng.random() < 0.95 else rng.choice(
                    ['moved', 'deceased'])
                yield (id_, party0 + i, 'LR%08d' % id_, names[i],
                    self.enc(model, 'id_number', id_, number),
                    index, birth, sex,
                    self.enc(model, 'phone', id_, phone),
                    self.bidx('phone', phone), community, community,
                    self.enc(model, 'address', id_, address),
                    self.enc(model, 'latitude', id_, lat),
                    self.enc(model, 'longitude', id_, lon),
                    state, rng.choice(['alone', 'spouse', 'children']),
                    rng.choice(['20', '30', '20', '40']),
                    rng.choice(self.ethnicities), self.now, 1)
        self.copy('elder_elder', ['id', 'party', 'code', 'name',
                'id_number_enc', 'id_number_bidx', 'birth_date', 'sex',
                'phone_enc', 'phone_bidx', 'region', 'hukou_region',
                'address_enc', 'latitude_enc', 'longitude_enc', 'state',
                'living_situation', 'marital_status', 'ethnicity',
                'create_date', 'create_uid'], rows())
        log(f'{count} older people')

    # --- providers and practitioners -----------------------------------------------
    def providers(self):
        from stdnum.cn import uscc
        count = self.n(1_000)
        rng = self.rng
        names = ['%s%s居家养老服务%s' % (rng.choice(['青城', '康乐', '福寿',
                        '颐和', '安康', '草原', '幸福']), i,
                rng.choice(['中心', '有限公司', '站'])) for i in range(count)]
        party0 = self.parties(names)
        first = self.reserve('elder_provider', count)
        self.provider_ids = list(range(first, first + count))
        self.provider_county = {}

        def rows():
            for i in range(count):
                id_ = first + i
                county, code = rng.choice(self.counties)
                self.provider_county[id_] = county
                body = '52%s%09d' % (code, 700_000_000 + id_)
                body = body[:17]
                credit = body + uscc.calc_check_digit(body)
                yield (id_, party0 + i, 'PRV%06d' % id_, names[i], credit,
                    'private_non_enterprise', county, 'active', 200,
                    self.now, 1)
        self.copy('elder_provider', ['id', 'party', 'code', 'name',
                'credit_code', 'organisation_type', 'region', 'state',
                'capacity', 'create_date', 'create_uid'], rows())
        # service areas: the provider's county
        first_area = self.reserve('elder_provider-elder_region', count)
        self.copy('elder_provider-elder_region',
            ['id', 'provider', 'region', 'create_date', 'create_uid'],
            ((first_area + i, p, self.provider_county[p], self.now, 1)
                for i, p in enumerate(self.provider_ids)))
        self.county_providers = {}
        for p, c in self.provider_county.items():
            self.county_providers.setdefault(c, []).append(p)
        log(f'{count} providers')

    def practitioners(self):
        from trytond.modules.elder_base.identity import normalize_phone
        count = self.n(20_000)
        rng = self.rng
        names = [name(rng) for _ in range(count)]
        party0 = self.parties(names)
        first = self.reserve('elder_practitioner', count)
        self.practitioner_ids = list(range(first, first + count))
        self.provider_practitioners = {}
        model = 'elder.practitioner'
        serial = {}

        def rows():
            for i in range(count):
                id_ = first + i
                provider = self.provider_ids[i % len(self.provider_ids)]
                self.provider_practitioners.setdefault(provider, []).append(
                    id_)
                birth = dt.date(rng.randint(1965, 2000), rng.randint(1, 12),
                    rng.randint(1, 28))
                county = self.counties[i % len(self.counties)][1]
                while True:
                    serial[(county, birth)] = serial.get(
                        (county, birth), 0) + 1
                    number = ric(rng, county, birth, serial[(county, birth)])
                    index = self.bidx('citizen_id', number)
                    if index not in self.taken:
                        break
                phone = normalize_phone('15%09d' % (100_000_000 + id_))
                yield (id_, party0 + i, provider, names[i],
                    self.enc(model, 'id_number', id_, number),
                    index, self.enc(model, 'phone', id_, phone),
                    self.bidx('phone', phone), 'caregiver',
                    rng.choice(['5', '4', '3']), 'active', birth,
                    self.today - dt.timedelta(days=rng.randint(30, 2000)),
                    self.now, 1)
        self.copy('elder_practitioner', ['id', 'party', 'provider', 'name',
                'id_number_enc', 'id_number_bidx', 'phone_enc', 'phone_bidx',
                'kind', 'skill_level', 'state', 'birth_date', 'hire_date',
                'create_date', 'create_uid'], rows())
        log(f'{count} practitioners')

    def caregiver_logins(self, count):
        """count res.user caregivers cloned from the demo `caregiver` (its
        groups and password hash), each linked to a generated practitioner"""
        template, = self.q(
            "SELECT id FROM res_user WHERE login = 'caregiver'")[0]
        columns = [r[0] for r in self.q(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'res_user' AND column_name NOT IN "
                "('id', 'login', 'name')")]
        first = self.reserve('res_user', count)
        cols = sql.SQL(', ').join(map(sql.Identifier, columns))
        self.q(sql.SQL(
                "INSERT INTO res_user (id, login, name, {cols}) "
                "SELECT %s + g, 'perf_cg' || lpad(g::text, 4, '0'), "
                "'护理员' || g, {cols} FROM res_user, "
                "generate_series(0, %s - 1) g WHERE res_user.id = %s").format(
                cols=cols), [first, count, template])
        self.q('INSERT INTO "res_user-res_group" ("user", "group", '
            'create_date, create_uid) SELECT u.id, g."group", now(), 1 '
            'FROM res_user u, "res_user-res_group" g '
            'WHERE g."user" = %s AND u.login LIKE %s', [template, 'perf_cg%'])
        self.caregivers = []
        for i in range(count):
            practitioner = self.practitioner_ids[i * 7 % len(
                    self.practitioner_ids)]
            self.q('UPDATE elder_practitioner SET "user" = %s WHERE id = %s',
                [first + i, practitioner])
            self.caregivers.append((first + i, practitioner))
        log(f'{count} caregiver logins perf_cg0000.. (demo password)')

    # --- orders ---------------------------------------------------------------------
    def orders(self):
        count = self.n(2_000_000)
        rng = self.rng
        first = self.reserve('service_order', count)
        start = self.today - dt.timedelta(days=3 * 365)
        span = (self.today + dt.timedelta(days=7) - start).days
        prac_provider = {}
        for p, ps in self.provider_practitioners.items():
            for x in ps:
                prac_provider[x] = p
        model = 'service.order'
        elders = self.elder_ids

        def rows():
            for i in range(count):
                id_ = first + i
                elder = rng.choice(elders)
                day = start + dt.timedelta(days=int(span * rng.random() ** 0.8))
                item, price, duration, _ = rng.choice(self.items)
                # a provider serving the older person's county
                provider = rng.choice(self.county_providers.get(
                        self.elder_county[elder]) or self.provider_ids)
                practitioner = rng.choice(
                    self.provider_practitioners[provider])
                if day < self.today:
                    state = rng.choice(DONE)
                elif day == self.today:
                    state = rng.choice(TODAY)
                else:
                    state = rng.choice(FUTURE)
                if state == 'submitted':
                    provider = practitioner = None
                elif state == 'dispatched':
                    practitioner = None
                hour = rng.randint(8, 17)
                checkin = checkout = dur = rating = None
                if state in ('completed', 'confirmed', 'closed',
                        'in_service'):
                    checkin = dt.datetime.combine(day, dt.time(hour,
                            rng.randint(0, 50)))
                    if state != 'in_service':
                        dur = max(10, int(duration * (0.8 + rng.random()
                                    * 0.4)))
                        checkout = checkin + dt.timedelta(minutes=dur)
                        if state != 'completed':
                            rating = rng.choice([5, 5, 4, 4, 3])
                lat, lon = self.elder_pos[elder]
                address = '呼和浩特市%s%d号' % (rng.choice(STREETS),
                    elder % 300)
                yield (id_, 'SO%09d' % id_, elder, item,
                    rng.choice(CHANNELS), day, dt.time(hour, 0),
                    dt.time(min(hour + 2, 23), 0),
                    self.enc(model, 'address', id_, address), 1, price,
                    provider, practitioner, state, checkin, checkout, dur,
                    rating, False, self.now, 1, self.elder_region[elder])
                if i and i % 200_000 == 0:
                    log(f'  {i} orders ...')
        self.copy('service_order', ['id', 'number', 'elder', 'item',
                'channel', 'requested_date', 'time_from', 'time_to',
                'address_enc', 'quantity', 'price', 'provider',
                'practitioner', 'state', 'checkin_time', 'checkout_time',
                'duration', 'rating', 'flagged', 'create_date',
                'create_uid', 'region'], rows())
        log(f'{count} service orders')

    def caregiver_tasks(self, per_caregiver=40):
        """Today's accepted orders of each caregiver login, marked
        note='perf-task' (bench/perf/run.py resets them before a run)"""
        rng = self.rng
        count = per_caregiver * len(self.caregivers)
        first = self.reserve('service_order', count)
        prac_provider = {x: p for p, ps in self.provider_practitioners.items()
            for x in ps}
        model = 'service.order'
        # older people of the county the caregiver's provider serves: a
        # district supervisor reads these orders with their caregiver
        county_elders = {}
        for elder, county in self.elder_county.items():
            county_elders.setdefault(county, []).append(elder)

        def rows():
            i = 0
            for user, practitioner in self.caregivers:
                elders = county_elders.get(self.provider_county[
                        prac_provider[practitioner]]) or self.elder_ids
                for k in range(per_caregiver):
                    id_ = first + i
                    i += 1
                    elder = rng.choice(elders)
                    item, price, duration, _ = rng.choice(self.plain_items)
                    yield (id_, 'SO%09d' % id_, elder, item, 'call_center',
                        self.today, dt.time(8 + k % 10, 0), None,
                        self.enc(model, 'address', id_, '呼和浩特市测试路%d号'
                            % k), 1, price, prac_provider[practitioner],
                        practitioner, 'accepted', 'perf-task', False,
                        self.now, 1, self.elder_region[elder])
        self.copy('service_order', ['id', 'number', 'elder', 'item',
                'channel', 'requested_date', 'time_from', 'time_to',
                'address_enc', 'quantity', 'price', 'provider',
                'practitioner', 'state', 'note', 'flagged', 'create_date',
                'create_uid', 'region'], rows())
        log(f'{count} caregiver task orders for today')

    # --- devices and alarms ------------------------------------------------------------
    def devices(self):
        count = self.n(50_000)
        rng = self.rng
        first = self.reserve('device_device', count)
        self.device_rows = []

        def rows():
            for i in range(count):
                id_ = first + i
                type_, category = rng.choice(self.device_types)
                elder = self.elder_ids[i * 4 % len(self.elder_ids)]
                region = self.elder_region[elder]
                provider = rng.choice(self.provider_ids)
                self.device_rows.append((id_, elder, region, provider))
                yield (id_, 'PERF%010d' % id_, rng.choice(
                        ['mqtt', 'tcp_watch', 'zigbee', 'nbiot_ctwing']),
                    type_, 'active', elder, region, provider,
                    self.now - dt.timedelta(seconds=rng.randint(0, 3600)),
                    rng.randint(10, 100), False, False, self.now, 1)
        self.copy('device_device', ['id', 'identifier', 'protocol', 'type',
                'state', 'elder', 'region', 'provider', 'last_seen',
                'battery', 'offline_alarmed', 'inactivity_alarmed',
                'create_date', 'create_uid'], rows())
        # alarms: 2 per device over time (closed), 4 % open / acknowledged
        n_alarms = count * 2
        first = self.reserve('device_alarm', n_alarms)

        def alarm_rows():
            for i in range(n_alarms):
                device, elder, region, provider = rng.choice(self.device_rows)
                kind, priority = rng.choice(ALARM_KINDS)
                when = self.now - dt.timedelta(
                    minutes=rng.randint(1, 3 * 365 * 24 * 60))
                state = 'closed'
                if rng.random() < 0.04:
                    state = rng.choice(['open', 'open', 'acknowledged'])
                    when = self.now - dt.timedelta(
                        minutes=rng.randint(1, 600))
                yield (first + i, device, elder, region, provider, kind,
                    priority, state, when, when, 1,
                    when + dt.timedelta(minutes=5) if state == 'closed'
                    else None, self.now, 1)
        self.copy('device_alarm', ['id', 'device', 'elder', 'region',
                'provider', 'kind', 'priority', 'state', 'first_occurrence',
                'last_occurrence', 'repeat_count', 'closed_at',
                'create_date', 'create_uid'], alarm_rows())
        log(f'{count} devices, {n_alarms} alarms')

    # --- family accounts ---------------------------------------------------------------
    def families(self, count):
        "Web users cloned from the demo family account, each a contact of 2"
        rng = self.rng
        template = self.q("SELECT password_hash FROM web_user "
            "WHERE email = 'family.demo@example.com'")
        if not template:
            log('no demo family account: no family users')
            self.family = []
            return
        pw_hash = template[0][0]
        party0 = self.parties(['家属%d' % i for i in range(count)])
        first = self.reserve('web_user', count)
        self.copy('web_user', ['id', 'email', 'party', 'password_hash',
                'active', 'email_valid', 'create_date', 'create_uid'],
            ((first + i, 'perf.family%04d@example.com' % i, party0 + i,
                    pw_hash, True, True, self.now, 1)
                for i in range(count)))
        first_c = self.reserve('elder_contact', 2 * count)
        self.family = []

        def rows():
            for i in range(count):
                for k in range(2):
                    elder = rng.choice(self.elder_ids)
                    self.family.append((first + i, elder))
                    yield (first_c + 2 * i + k, elder, '家属%d' % i,
                        party0 + i, rng.choice(['son', 'daughter']),
                        k == 0, True, 10, self.now, 1)
        self.copy('elder_contact', ['id', 'elder', 'name', 'party',
                'relationship', 'is_guardian', 'is_emergency', 'sequence',
                'create_date', 'create_uid'], rows())
        log(f'{count} family accounts perf.family0000@example.com..')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', default='perf_city')
    parser.add_argument('--template', default='test_web')
    parser.add_argument('--scale', type=float, default=1.0)
    parser.add_argument('--seed', type=int, default=2026)
    parser.add_argument('--caregivers', type=int, default=400)
    parser.add_argument('--families', type=int, default=300)
    parser.add_argument('--drop', action='store_true',
        help='drop the database and exit')
    args = parser.parse_args()
    if not args.database.startswith('perf_'):
        parser.error('the database name must start with perf_')
    os.chdir(ROOT)
    os.environ.setdefault('TRYTOND_CONFIG', str(ROOT / 'trytond.conf'))
    from trytond import config
    config.update_etc()

    with connect('postgres', autocommit=True) as admin:
        admin.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)')
            .format(sql.Identifier(args.database)))
        if args.drop:
            return 0
        admin.execute(sql.SQL('CREATE DATABASE {} TEMPLATE {}').format(
                sql.Identifier(args.database), sql.Identifier(args.template)))
    start = time.monotonic()
    with connect(args.database) as conn:
        gen = Generator(conn, args.scale, args.seed)
        gen.load_reference()
        gen.elders()
        gen.providers()
        gen.practitioners()
        gen.caregiver_logins(min(args.caregivers, len(gen.practitioner_ids)))
        gen.orders()
        gen.caregiver_tasks()
        gen.devices()
        gen.families(args.families)
        conn.commit()
    with connect(args.database, autocommit=True) as conn:
        conn.execute('VACUUM ANALYZE')
        # as in production (README "Production"): JIT compilation costs
        # more CPU than it saves on the platform's short queries
        conn.execute(sql.SQL('ALTER DATABASE {} SET jit = off').format(
                sql.Identifier(args.database)))
    log(f'done in {time.monotonic() - start:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
