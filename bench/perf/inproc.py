#!/usr/bin/env python3
"""CPU cost per operation, measured in one process (no HTTP server).

    .venv/bin/python bench/perf/inproc.py --database perf_20k \\
        [--operations 400] [--seed 1] [--cprofile out.pstats] [--only work]

Drives trytond's WSGI application (trytond.application.app) in-process with
werkzeug's test client, through the whole request path (routing, session
check, JSON-RPC dispatch, record rules, masking, audit), with the same
operations as bench/perf/locustfile.py (a sao list = search + search_count
+ read of the page, forms, the worker's tasks and check-in/out, the family
API, the providers' report push), one after the other. It measures the CPU
time of this process (time.process_time) and of the database's PostgreSQL
backends per operation kind: on a shared machine, unlike wall times, CPU
time hardly depends on what the other processes do. --profile writes a
pyinstrument HTML (or .txt) profile of the run.

Sessions and credentials are made as bench/perf/run.py makes them
(run.prepare); it needs a database made by bench/perf/gen.py.
"""
import argparse
import base64
import collections
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path

import psutil
import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / 'tools'))


URI = os.environ.get('TRYTOND_DATABASE__URI',
    'postgresql://postgres@127.0.0.1:5432/')
PASSWORD = 'Demo@2026!elder'  # noqa: S105 (demo password of the demo accounts)

# The fields and search texts of locustfile.py (not imported: locust
# monkey-patches the standard library with gevent on import)
PAGE = 80
# as the loopback clients of run.py (its sessions are bound to this address)
ENV = {'REMOTE_ADDR': '127.0.0.1'}
SURNAMES = '王李张刘陈杨赵黄周吴'
GIVEN = ['秀英', '桂英', '建国', '玉兰', '淑珍', '志强', '宝音', '其其格']
ELDER_LIST = ['code', 'name', 'sex', 'age', 'id_number', 'region',
    'region.rec_name', 'living_situation', 'phone', 'state']
ELDER_FORM = ELDER_LIST + ['party', 'birth_date', 'ethnicity',
    'ethnicity.rec_name', 'marital_status', 'hukou_region',
    'hukou_region.rec_name', 'hukou_address', 'address', 'latitude',
    'longitude', 'categories', 'contacts', 'guardian', 'guardian.rec_name',
    'moved_date', 'death_date', 'note', 'health_summary', 'chronic_diseases']
ORDER_LIST = ['number', 'requested_date', 'time_from', 'elder',
    'elder.rec_name', 'item', 'item.rec_name', 'region', 'region.rec_name',
    'provider', 'provider.rec_name', 'practitioner',
    'practitioner.rec_name', 'channel', 'rating', 'flagged', 'state']
ALARM_LIST = ['priority', 'kind', 'elder', 'elder.rec_name', 'device',
    'device.rec_name', 'region', 'region.rec_name', 'description',
    'first_occurrence', 'last_occurrence', 'repeat_count', 'state']
STAT_LIST = ['provider', 'provider.rec_name', 'region', 'region.rec_name',
    'service_type', 'service_type.rec_name', 'orders', 'done', 'open',
    'cancelled', 'flagged', 'rating', 'minutes']


class Bench:
    def __init__(self, database, seed):
        from werkzeug.test import Client
        from trytond.application import app
        self.db = database
        self.client = Client(app)
        self.rng = random.Random(seed)  # noqa: S311 (benchmark choices)
        self.counter = 0
        self.conflicts = 0
        self.errors = collections.Counter()

    # -- transport -----------------------------------------------------
    def rpc(self, session, method, params):
        login, uid, key, ctx = session
        self.counter += 1
        auth = 'Session ' + base64.b64encode(
            f'{login}:{uid}:{key}'.encode()).decode() if key else None
        headers = {'Authorization': auth} if auth else {}
        response = self.client.post(f'/{self.db}/rpc/', json={
                'id': self.counter, 'method': method,
                'params': params + ([ctx] if ctx is not None else [])},
            headers=headers, environ_base=ENV)
        data = response.get_json(silent=True)
        if data is None:
            self.errors[f'{method}: HTTP {response.status_code}'] += 1
            return None
        if data.get('error'):
            if method == 'common.db.login':
                raise RuntimeError(f'{method}: {data["error"]}'[:300])
            # answered with an error (an access rule, for instance): counted
            # as locust counts it, the operation goes on like locust's
            self.errors[f'{method}: {str(data["error"])[:160]}'] += 1
            return None
        return data['result']

    def login(self, login):
        uid, key, *_ = self.rpc((None, None, None, None), 'common.db.login',
            [login, {'password': PASSWORD}, 'zh_CN'])
        session = (login, uid, key, {})
        ctx = self.rpc(session, 'model.res.user.get_preferences', [True])
        return (login, uid, key, ctx)

    def list_view(self, session, model, domain, fields, order=None):
        ids = self.rpc(session, f'model.{model}.search',
            [domain, 0, 1000, order])
        if ids is None:
            return []
        if len(ids) == 1000:
            self.rpc(session, f'model.{model}.search_count',
                [domain, 0, 100 * 1000])
        if ids:
            self.rpc(session, f'model.{model}.read', [ids[:PAGE],
                    fields + ['_timestamp', '_write', '_delete',
                        'rec_name']])
        return ids

    def get(self, path, headers):
        response = self.client.get(f'/{self.db}{path}', headers=headers,
            environ_base=ENV)
        if response.status_code != 200:
            raise RuntimeError(f'{path}: HTTP {response.status_code} '
                f'{response.get_data(as_text=True)[:200]}')
        return response.get_json()

    def post(self, path, body, headers):
        response = self.client.post(f'/{self.db}{path}', data=body,
            headers=headers, environ_base=ENV)
        if response.status_code == 409:
            # refused by the platform (the generated check-in times of the
            # visits in progress are local times, later than now in UTC):
            # answered, counted apart, as locust counts it as a failure
            self.conflicts += 1
        elif response.status_code not in (200, 201):
            raise RuntimeError(f'{path}: HTTP {response.status_code} '
                f'{response.get_data(as_text=True)[:200]}')
        return response.get_json()

    # -- operations (as in locustfile.py) ------------------------------
    def browse_elders(self, s):
        ids = self.list_view(s, 'elder.elder', [], ELDER_LIST)
        if ids:
            self.rpc(s, 'model.elder.elder.read',
                [[self.rng.choice(ids[:PAGE])], ELDER_FORM])

    def search_name(self, s):
        text = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        self.list_view(s, 'elder.elder',
            [['rec_name', 'ilike', f'%{text}%']], ELDER_LIST)

    def orders_by_state(self, s):
        state = self.rng.choice(['submitted', 'in_service', 'completed'])
        self.list_view(s, 'service.order', [['state', '=', state]],
            ORDER_LIST)

    def orders_filtered(self, s):
        since = dt.date.today() - dt.timedelta(days=self.rng.randint(1, 30))
        self.list_view(s, 'service.order', [
                ['requested_date', '>=', {'__class__': 'date',
                        'year': since.year, 'month': since.month,
                        'day': since.day}],
                ['flagged', '=', False]], ORDER_LIST)

    def order_graph(self, s):
        since = dt.date.today() - dt.timedelta(days=7)
        domain = [['requested_date', '>=', {'__class__': 'date',
                    'year': since.year, 'month': since.month,
                    'day': since.day}]]
        ids = self.rpc(s, 'model.service.order.search',
            [domain, 0, 1000, None])
        if ids:
            self.rpc(s, 'model.service.order.read',
                [ids, ['state_name', 'counter']])

    def statistics(self, s):
        import run
        # sao sends the context form's values (this month by default)
        login, uid, key, ctx = s
        self.list_view((login, uid, key, dict(ctx, **run.statistics_context())),
            'service.order.statistic', [], STAT_LIST)

    def handle_alarm(self, s):
        ids = self.list_view(s, 'device.alarm',
            [['state', 'in', ['open', 'acknowledged']]], ALARM_LIST)
        if not ids:
            return
        alarm = self.rng.choice(ids[:PAGE])
        values = self.rpc(s, 'model.device.alarm.read',
            [[alarm], ALARM_LIST + ['notes', 'elder']])
        if values and values[0].get('elder'):
            self.rpc(s, 'model.elder.elder.read',
                [[values[0]['elder']], ELDER_FORM])
        # sao shows the button on open alarms only
        if (values and values[0].get('state') == 'open'
                and self.rng.random() < 0.5):
            self.rpc(s, 'model.device.alarm.acknowledge', [[alarm]])

    def work(self, caregiver):
        login, uid, key = caregiver
        headers = {'Authorization': 'Session ' + base64.b64encode(
                f'{login}:{uid}:{key}'.encode()).decode(),
            'Content-Type': 'application/json'}
        tasks = self.get('/service/worker/tasks', headers)['tasks']
        todo = [t for t in tasks if t['state'] == 'in_service']
        step = 'checkout'
        if not todo:
            todo = [t for t in tasks if t['state'] in (
                    'accepted', 'on_the_way')]
            step = 'checkin'
        if not todo:
            return
        task = self.rng.choice(todo) if step == 'checkin' else todo[0]
        body = {'latitude': float(task['latitude'] or 40.84) + 0.0001,
            'longitude': float(task['longitude'] or 111.66) + 0.0001,
            'accuracy': 15}
        if step == 'checkout':
            body['steps'] = [s['id'] for s in task.get('steps', [])]
        self.post(f"/service/worker/{task['id']}/{step}", json.dumps(body),
            headers)

    def family(self, key):
        headers = {'Authorization': f'Bearer {key}'}
        kind = self.rng.random()
        base = '/service/family/v1'
        if kind < 0.3:
            self.get(f'{base}/elders', headers)
        elif kind < 0.8:
            data = self.get(f'{base}/orders', headers)
            if data and data['orders'] and self.rng.random() < 0.3:
                order = self.rng.choice(data['orders'])
                self.get(f"{base}/orders/{order['id']}", headers)
        else:
            data = self.get(f'{base}/elders', headers)
            if data and data['elders']:
                self.get(f"{base}/elders/{data['elders'][0]['id']}/items",
                    headers)

    def floor(self, s):
        "The cheapest call a list makes: the count of one older person"
        self.rpc(s, 'model.elder.elder.search_count',
            [[['id', '=', 1]], 0, None])

    def push(self, credential):
        from provider_report_client import build_request
        key_id, sm4_key, hmac_secret = credential
        path = f'/{self.db}/elder/provider/v1/reports'
        self.counter += 1
        record = {'record_id': 'R-inproc-%d-%d-%d' % (
                os.getpid(), self.counter, self.rng.randrange(10**9)),
            'kind': 'service.visit',
            'occurred_at': dt.datetime.now().astimezone().isoformat(
                timespec='seconds'),
            'data': {'minutes': self.rng.randint(20, 120)}}
        headers, body = build_request(path, key_id, sm4_key, record,
            hmac_secret=hmac_secret)
        response = self.client.post(path, data=body, headers=headers,
            environ_base=ENV)
        if response.status_code not in (200, 201):
            raise RuntimeError(f'push: HTTP {response.status_code} '
                f'{response.get_data(as_text=True)[:200]}')


# (name, weight) as locustfile.py's users × tasks: Supervisor 30 (tasks
# 3,3,3,2,1,1), Agent 10, Caregiver 35, Family 20, ProviderPush 5
MIX = [('browse_elders', 30 * 3 / 13), ('search_name', 30 * 3 / 13),
    ('orders_by_state', 30 * 3 / 13), ('orders_filtered', 30 * 2 / 13),
    ('order_graph', 30 / 13), ('statistics', 30 / 13),
    ('handle_alarm', 10), ('work', 35), ('family', 20), ('push', 5)]
# not in the mix; `--only floor`: the cost of one JSON-RPC call through
# trytond (routing, session check, transaction, access and rule checks)
EXTRA = [('floor', 1)]


class PgCpu:
    "CPU seconds of the database's backends (other than ours)"

    def __init__(self, database):
        self.conn = psycopg.connect(URI, dbname=database, autocommit=True)
        self.database = database
        self.seen = {}

    def total(self):
        pids = [r[0] for r in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND "
                "pid <> pg_backend_pid()", [self.database])]
        for pid in pids:
            try:
                t = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            self.seen[pid] = t.user + t.system
        return sum(self.seen.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', required=True)
    parser.add_argument('--operations', type=int, default=400)
    parser.add_argument('--warmup', type=int, default=40)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--only', default='',
        help='comma-separated operation names (default: the whole mix)')
    parser.add_argument('--profile', default='',
        help='pyinstrument output file (.html or .txt)')
    parser.add_argument('--cprofile', default='',
        help='cProfile statistics file (pstats) of the run')
    parser.add_argument('--json', default='', help='write the figures here')
    args = parser.parse_args()
    if not args.database.startswith('perf_'):
        parser.error('use a database made by bench/perf/gen.py (perf_*)')
    os.chdir(ROOT)
    os.environ.setdefault('TRYTOND_CONFIG', str(ROOT / 'trytond.conf'))
    os.environ['TRYTOND_DATABASE__URI'] = URI
    os.environ['TRYTOND_DATABASE_NAMES'] = args.database
    os.environ.setdefault('TRYTOND_LOGGING_LEVEL', '40')
    import logging
    logging.basicConfig(level=logging.ERROR)
    import run
    caregivers, families, credentials = run.prepare(args.database)
    bench = Bench(args.database, args.seed)
    sessions = {role: [bench.login(login) for login in logins]
        for role, logins in run.ROLES.items()}
    rng = random.Random(args.seed)  # noqa: S311 (benchmark choices)
    mix = [(n, w) for n, w in MIX + EXTRA
        if n in args.only.split(',') or (not args.only and (n, w) in MIX)]
    names, weights = zip(*mix)
    cg, fam, cred = (iter(rng.sample(caregivers, len(caregivers))),
        iter(rng.sample(families, len(families))),
        iter(credentials * 1000))

    def one(name):
        if name in ('work',):
            bench.work(next(cg))
        elif name == 'family':
            bench.family(next(fam))
        elif name == 'push':
            bench.push(next(cred))
        else:
            role = 'agent' if name == 'handle_alarm' else 'supervisor'
            getattr(bench, name)(rng.choice(sessions[role]))

    for _ in range(args.warmup):
        one(rng.choices(names, weights)[0])
    pg = PgCpu(args.database)
    cpu = collections.defaultdict(float)
    pg_cpu = collections.defaultdict(float)
    count = collections.Counter()
    requests_0 = bench.counter
    profiler = None
    if args.profile:
        from pyinstrument import Profiler
        profiler = Profiler(interval=0.0005)
        profiler.start()
    cprofiler = None
    if args.cprofile:
        import cProfile
        cprofiler = cProfile.Profile()
        cprofiler.enable()
    wall = time.perf_counter()
    for _ in range(args.operations):
        name = rng.choices(names, weights)[0]
        pg0, t0 = pg.total(), time.process_time()
        one(name)
        cpu[name] += time.process_time() - t0
        pg_cpu[name] += pg.total() - pg0
        count[name] += 1
    wall = time.perf_counter() - wall
    if cprofiler:
        cprofiler.disable()
        cprofiler.dump_stats(args.cprofile)
    if profiler:
        profiler.stop()
        out = Path(args.profile)
        out.write_text(profiler.output_html() if out.suffix == '.html'
            else profiler.output_text(unicode=True, show_all=False))
    total_cpu, total_pg = sum(cpu.values()), sum(pg_cpu.values())
    n = sum(count.values())
    result = {'database': args.database, 'operations': n,
        'calibration_loop_s': run.calibration(),
        'seed': args.seed, 'wall_s': round(wall, 1),
        'cpu_ms_per_operation': {
            'python': round(1000 * total_cpu / n, 2),
            'postgresql': round(1000 * total_pg / n, 2),
            'total': round(1000 * (total_cpu + total_pg) / n, 2)},
        'per_kind': {k: {'n': count[k],
                'python_ms': round(1000 * cpu[k] / count[k], 2),
                'pg_ms': round(1000 * pg_cpu[k] / count[k], 2)}
            for k in sorted(count)},
        'rpc_requests': bench.counter - requests_0,
        'worker_conflicts_409': bench.conflicts,
        'rpc_errors': dict(bench.errors)}
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
