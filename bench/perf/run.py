#!/usr/bin/env python3
"""Load benchmark of the platform: one command, bounded in time.

    .venv/bin/python bench/perf/run.py --database perf_20k \\
        [--scenario online,burst] [--users 1000] [--duration 120] \\
        [--burst 500] [--workers 3] [--threads 2] [--label before]

Needs a database made by bench/perf/gen.py (perf_*). It resets the
caregivers' task orders of today, creates the sessions (the role accounts
log in through JSON-RPC common.db.login; the 400 generated caregivers and
300 family accounts get their sessions written in ir_session /
web_user_session, as a login would, to spare 700 password hashes), and
HMAC-SM3 provider credentials; starts gunicorn (deploy/gunicorn.conf.py,
trytond.conf, on a free loopback port); runs locust headless
(bench/perf/locustfile.py) per scenario; samples the CPU time of the
gunicorn workers and of the database's PostgreSQL backends every 0.5 s;
writes JSON and Markdown to bench/results/perf-<time>-<label>.{json,md}.

Scenarios: online = --users users, spawned over --ramp s, each acting every
5-15 s (about every 10 s), for --duration s (statistics reset after the
ramp); burst = --burst users released together, each doing one operation
(a list view, a form, a worker call, a family call or a report push; a
JSON-RPC list is 2-3 requests), no think time.
"""
import argparse
import base64
import csv
import datetime as dt
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / 'bench' / 'results'
URI = os.environ.get('TRYTOND_DATABASE__URI',
    'postgresql://postgres@127.0.0.1:5432/')
PASSWORD = 'Demo@2026!elder'  # noqa: S105 (demo password of the demo accounts)
PY_SPY = 0  # --py-spy seconds
ROLES = {'supervisor': ['supervisor', 'supervisor_xc', 'supervisor_hm',
        'operator'], 'agent': ['agent']}



def statistics_context():
    "The statistics' context form as sao sends it: this month to today"
    today = dt.date.today()

    def date(d):
        return {'__class__': 'date', 'year': d.year, 'month': d.month,
            'day': d.day}
    return {'context_model': 'service.order.statistic.context',
        'from_date': date(today.replace(day=1)), 'to_date': date(today)}

def log(msg):
    print(f'[perf] {msg}', file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


def calibration():
    """CPU seconds of a fixed Python loop (10⁷ additions): this virtual
    machine's speed drifts by up to 40 % within an hour, so results are
    compared at a similar figure or scaled by it"""
    start = time.process_time()
    total = 0
    for i in range(10**7):
        total += i
    return round(time.process_time() - start, 3)


def rpc(url, method, params, auth=None):
    headers = {'Content-Type': 'application/json'}
    if auth:
        headers['Authorization'] = auth
    request = urllib.request.Request(url, data=json.dumps(  # noqa: S310 (loopback URL built here)
            {'id': 1, 'method': method, 'params': params}).encode(),
        headers=headers)
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback URL built here)
        data = json.loads(response.read())
    if data.get('error'):
        raise RuntimeError(f'{method}: {data["error"]}')
    return data['result']


def prepare(database):
    "Reset the task orders; sessions and credentials in the database"
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault('TRYTOND_CONFIG', str(ROOT / 'trytond.conf'))
    from trytond import config
    config.update_etc()
    from trytond.modules.elder_security.reporting import _seal_secret
    with psycopg.connect(URI, dbname=database) as conn:
        conn.execute("""UPDATE service_order SET state = 'accepted',
            checkin_time = NULL, checkin_latitude_enc = NULL,
            checkin_longitude_enc = NULL, checkin_distance = NULL,
            checkin_accuracy = NULL, checkout_time = NULL,
            checkout_latitude_enc = NULL, checkout_longitude_enc = NULL,
            checkout_distance = NULL, checkout_accuracy = NULL,
            duration = NULL, flagged = false
            WHERE note = 'perf-task' AND (state <> 'accepted'
                OR checkin_time IS NOT NULL OR flagged)""")
        # the alarms the agents of earlier runs acknowledged
        conn.execute("""UPDATE device_alarm SET state = 'open',
            acknowledged_by = NULL, acknowledged_at = NULL
            WHERE state = 'acknowledged' AND acknowledged_by IS NOT NULL
            AND device IN (SELECT id FROM device_device
                WHERE identifier LIKE 'PERF%%')""")
        conn.execute("""DELETE FROM service_order_anomaly WHERE "order" IN
            (SELECT id FROM service_order WHERE note = 'perf-task')""")
        conn.execute("DELETE FROM ir_session WHERE create_uid IN "
            "(SELECT id FROM res_user WHERE login LIKE 'perf_cg%%')")
        caregivers = []
        for uid, login in conn.execute("SELECT id, login FROM res_user "
                "WHERE login LIKE 'perf_cg%%' ORDER BY id").fetchall():
            key = secrets.token_hex(32)
            # as common.db.login from the loopback address would
            conn.execute("INSERT INTO ir_session (key, create_uid, "
                "create_date, ip_address) VALUES "
                "(%s, %s, now() AT TIME ZONE 'UTC', '127.0.0.1')",
                [key, uid])
            caregivers.append([login, uid, key])
        families = []
        for uid, in conn.execute("SELECT id FROM web_user WHERE email LIKE "
                "'perf.family%%' ORDER BY id").fetchall():
            key = secrets.token_hex(32)
            conn.execute("INSERT INTO web_user_session (key, \"user\", "
                "create_date) VALUES (%s, %s, now() AT TIME ZONE 'UTC')",
                [key, uid])
            families.append(key)
        credentials = []
        conn.execute("DELETE FROM security_provider_credential "
            "WHERE key_id LIKE 'pk_perf%%'")
        providers = [r[0] for r in conn.execute(
                "SELECT party FROM elder_provider WHERE state = 'active' "
                "ORDER BY id LIMIT 50")]
        for i, provider in enumerate(providers):
            sm4, secret = secrets.token_hex(16), secrets.token_hex(32)
            key_id = 'pk_perf%04d' % i
            conn.execute("INSERT INTO security_provider_credential "
                "(provider, key_id, signature_method, sm4_key, hmac_secret, "
                "active, create_date, create_uid) VALUES "
                "(%s, %s, 'hmac_sm3', %s, %s, true, now(), 0)",
                [provider, key_id, _seal_secret('sm4_key', sm4),
                    _seal_secret('hmac_secret', secret)])
            credentials.append([key_id, sm4, secret])
        conn.commit()
    # the reset's dead rows vacuumed now, not by an autovacuum worker
    # whose CPU would be counted in the measured operations
    with psycopg.connect(URI, dbname=database, autocommit=True) as conn:
        conn.execute('VACUUM (ANALYZE) service_order, '
            'service_order_anomaly, service_order_event, ir_session, '
            'web_user_session, device_alarm')
    return caregivers, families, credentials


def sao_sessions(url, per_login):
    sessions = {}
    for role, logins in ROLES.items():
        for login in logins:
            for _ in range(per_login):
                uid, key, *_ = rpc(url, 'common.db.login',
                    [login, {'password': PASSWORD}, 'zh_CN'])
                auth = 'Session ' + base64.b64encode(
                    f'{login}:{uid}:{key}'.encode()).decode()
                context = rpc(url, 'model.res.user.get_preferences',
                    [True, {}], auth)
                sessions.setdefault(role, []).append(
                    [login, uid, key, context])
    return sessions


class CpuSampler(threading.Thread):
    "CPU seconds of the gunicorn workers and the database's backends"

    def __init__(self, master_pid, database):
        super().__init__(daemon=True)
        self.master = psutil.Process(master_pid)
        self.database = database
        self.first, self.last = {}, {}
        self.stop_event = threading.Event()

    def sample(self, conn):
        pids = {('pg', r[0]) for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND "
                "pid <> pg_backend_pid()", [self.database])}
        pids |= {('web', p.pid) for p in self.master.children(
                recursive=True)}
        for kind, pid in pids:
            try:
                t = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            value = t.user + t.system
            self.first.setdefault((kind, pid), value)
            self.last[(kind, pid)] = value

    def run(self):
        with psycopg.connect(URI, dbname=self.database,
                autocommit=True) as conn:
            while not self.stop_event.is_set():
                self.sample(conn)
                self.stop_event.wait(0.5)
            self.sample(conn)

    def reset(self):
        self.first = dict(self.last)

    def totals(self):
        result = {'web': 0.0, 'pg': 0.0}
        for key, value in self.last.items():
            result[key[0]] += value - self.first.get(key, value)
        return result


def start_server(database, port, workers, threads):
    env = dict(os.environ, TRYTOND_CONFIG=str(ROOT / 'trytond.conf'),
        TRYTOND_DATABASE__URI=URI, TRYTOND_DATABASE_NAMES=database,
        WEB_CONCURRENCY=str(workers), ELDER_THREADS=str(threads),
        TRYTOND_LOGGING_LEVEL='40')
    env.pop('ELDER_ACCESS_LOG', None)
    log_file = open(RESULTS / f'gunicorn-{database}.log', 'w')
    process = subprocess.Popen(  # noqa: S603 (fixed argument list)
        [str(Path(sys.prefix) / 'bin' / 'gunicorn'), '-c',
            str(ROOT / 'deploy' / 'gunicorn.conf.py'), '--bind',
            f'127.0.0.1:{port}', '--workers', str(workers),
            'trytond.application:app'], cwd=ROOT, env=env,
        stdout=log_file, stderr=log_file)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError('gunicorn exited, see ' + log_file.name)
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    return process


def read_stats(prefix):
    rows = {}
    with open(f'{prefix}_stats.csv') as file:
        for row in csv.DictReader(file):
            def num(key):
                value = row.get(key)
                return float(value) if value not in (None, '', 'N/A') else None
            rows[row['Name']] = {
                'requests': int(row['Request Count']),
                'failures': int(row['Failure Count']),
                'rps': round(num('Requests/s') or 0, 2),
                'p50': num('50%'), 'p95': num('95%'), 'p99': num('99%'),
                'max': round(num('Max Response Time') or 0),
                'avg': round(num('Average Response Time') or 0, 1),
                }
    failures = []
    path = Path(f'{prefix}_failures.csv')
    if path.exists():
        with open(path) as file:
            failures = [dict(r) for r in csv.DictReader(file)][:20]
    return rows, failures


def run_locust(url, scenario, users, rate, duration, sessions_file, prefix,
        sampler, ramp):
    env = dict(os.environ, PERF_SCENARIO=scenario,
        PERF_SESSIONS=str(sessions_file))
    cmd = [str(Path(sys.prefix) / 'bin' / 'locust'), '-f',
        str(ROOT / 'bench' / 'perf' / 'locustfile.py'), '--headless',
        '--host', url, '-u', str(users), '-r', str(rate),
        '-t', f'{int(duration + ramp)}s', '--csv', prefix, '--only-summary',
        '--stop-timeout', '10', '--loglevel', 'WARNING']
    if scenario == 'online':
        cmd.append('--reset-stats')  # statistics after the ramp
    locust = subprocess.Popen(cmd, cwd=ROOT, env=env,  # noqa: S603 (fixed argument list)
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    locust_ps = psutil.Process(locust.pid)
    if scenario == 'online':
        time.sleep(ramp)
    sampler.reset()
    spies = []
    if PY_SPY and scenario == 'online':
        for worker in psutil.Process(sampler.master.pid).children():
            spies.append(subprocess.Popen([  # noqa: S603 (fixed argument list)
                        str(Path(sys.prefix) / 'bin' / 'py-spy'), 'record',
                        '--pid', str(worker.pid), '--duration',
                        str(PY_SPY), '--rate', '50', '--format', 'raw',
                        '--nonblocking', '--output',
                        f'{prefix}-py-spy-{worker.pid}.txt'],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    start = time.monotonic()
    load_before = loadavg()
    cpu_locust_0 = sum(locust_ps.cpu_times()[:2])
    output = []
    cpu_locust = 0
    for line in locust.stdout:
        output.append(line)
        try:
            cpu_locust = sum(locust_ps.cpu_times()[:2]) - cpu_locust_0
        except psutil.Error:
            pass
    locust.wait()
    for spy in spies:
        spy.wait()
    elapsed = time.monotonic() - start
    cpu = sampler.totals()
    return elapsed, cpu, cpu_locust, load_before, loadavg(), output


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', default='perf_20k')
    parser.add_argument('--scenario', default='online,burst')
    parser.add_argument('--users', type=int, default=1000)
    parser.add_argument('--ramp', type=int, default=30)
    parser.add_argument('--duration', type=int, default=120)
    parser.add_argument('--burst', type=int, default=500)
    parser.add_argument('--workers', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--logins', type=int, default=3,
        help='JSON-RPC logins per role account')
    parser.add_argument('--label', default='run')
    parser.add_argument('--py-spy', type=int, default=0, metavar='SECONDS',
        help='py-spy record the workers for SECONDS after the ramp '
        '(collapsed stacks in bench/results/)')
    args = parser.parse_args()
    global PY_SPY
    PY_SPY = args.py_spy
    if not args.database.startswith('perf_'):
        parser.error('use a database made by bench/perf/gen.py (perf_*)')
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime('%Y%m%d-%H%M%S')
    name = f'perf-{stamp}-{args.label}'
    with psycopg.connect(URI, dbname=args.database) as conn:
        counts = {t: conn.execute(f'SELECT count(*) FROM {t}').fetchone()[0]  # noqa: S608 (fixed table names)
            for t in ['elder_elder', 'elder_provider', 'elder_practitioner',
                'service_order', 'device_device', 'device_alarm']}
    log(f'{args.database}: {counts}')
    caregivers, families, credentials = prepare(args.database)
    port = free_port()
    url = f'http://127.0.0.1:{port}'
    log(f'gunicorn {args.workers} workers x {args.threads} threads on {url}')
    server = start_server(args.database, port, args.workers, args.threads)
    result = {'name': name, 'date': dt.datetime.now().isoformat(
            timespec='seconds'), 'database': args.database,
        'counts': counts, 'machine': {
            'cpus': os.cpu_count(), 'python': platform.python_version(),
            'memory_gb': round(psutil.virtual_memory().total / 2**30, 1),
            'calibration_loop_s': calibration()},
        'server': {'workers': args.workers, 'threads': args.threads,
            'config': 'deploy/gunicorn.conf.py'},
        'scenarios': {}}
    try:
        sessions = sao_sessions(url + f'/{args.database}/rpc/', args.logins)
        sessions_file = RESULTS / f'{name}-sessions.json'
        sessions_file.write_text(json.dumps({'database': args.database,
                    'sao': sessions, 'caregivers': caregivers,
                    'families': families, 'credentials': credentials}))
        sampler = CpuSampler(server.pid, args.database)
        sampler.start()
        for scenario in args.scenario.split(','):
            if scenario == 'online':
                users, rate, duration = (args.users,
                    max(1, args.users // max(args.ramp, 1)), args.duration)
                ramp = args.ramp
            else:
                users, rate, duration, ramp = args.burst, args.burst, 90, 0
            log(f'{scenario}: {users} users ...')
            prefix = str(RESULTS / f'{name}-{scenario}')
            elapsed, cpu, cpu_locust, load0, load1, output = run_locust(
                url, scenario, users, rate, duration, sessions_file, prefix,
                sampler, ramp)
            if not Path(f'{prefix}_stats.csv').exists():
                sys.stderr.write(''.join(output[-40:]))
                raise RuntimeError('locust wrote no statistics')
            stats, failures = read_stats(prefix)
            total = stats.get('Aggregated', {})
            requests = total.get('requests', 0)
            entry = {'users': users, 'seconds': round(elapsed, 1),
                'load_before': load0, 'load_after': load1,
                'cpu_seconds': {k: round(v, 2) for k, v in cpu.items()},
                'cpu_locust_seconds': round(cpu_locust, 2),
                'cpu_ms_per_request': round(
                    1000 * (cpu['web'] + cpu['pg']) / requests, 2)
                if requests else None,
                'stats': stats, 'failures': failures}
            ops = stats.get('OPERATION')
            if ops:
                entry['cpu_ms_per_operation'] = round(
                    1000 * (cpu['web'] + cpu['pg']) / ops['requests'], 2)
            result['scenarios'][scenario] = entry
            log(f"{scenario}: {requests} requests, {total.get('failures')} "
                f"failures, p95 {total.get('p95')} ms, max "
                f"{total.get('max')} ms, CPU {entry['cpu_ms_per_request']} "
                f"ms/request, load {load0} -> {load1}")
            if scenario == 'burst' and len(args.scenario.split(',')) > 1:
                time.sleep(5)
        sampler.stop_event.set()
        sampler.join()
    finally:
        # the session keys are credentials: not kept
        for path in RESULTS.glob(f'{name}-sessions.json'):
            path.unlink()
        server.terminate()
        try:
            server.wait(40)
        except subprocess.TimeoutExpired:
            server.kill()
    (RESULTS / f'{name}.json').write_text(json.dumps(result, indent=1,
            ensure_ascii=False))
    (RESULTS / f'{name}.md').write_text(markdown(result))
    print(markdown(result))
    return 0


def markdown(result):
    lines = [f"### {result['name']} ({result['date']}, {result['database']})",
        '', 'Data: ' + ', '.join(f'{k} {v:,}' for k, v in
            result['counts'].items()),
        f"Server: gunicorn {result['server']['workers']} workers × "
        f"{result['server']['threads']} threads (gthread); machine "
        f"{result['machine']['cpus']} CPUs, Python "
        f"{result['machine']['python']}, calibration loop "
        f"{result['machine'].get('calibration_loop_s')} s", '']
    for scenario, entry in result['scenarios'].items():
        total = entry['stats'].get('Aggregated', {})
        lines += [f"**{scenario}**: {entry['users']} users, "
            f"{entry['seconds']} s, load {entry['load_before']} → "
            f"{entry['load_after']}; {total.get('requests')} requests, "
            f"{total.get('failures')} failures, {total.get('rps')} req/s; "
            f"CPU web {entry['cpu_seconds']['web']} s + PostgreSQL "
            f"{entry['cpu_seconds']['pg']} s = "
            f"**{entry['cpu_ms_per_request']} ms per request**"
            + (f", {entry['cpu_ms_per_operation']} ms per operation"
                if entry.get('cpu_ms_per_operation') else '')
            + f" (locust itself {entry['cpu_locust_seconds']} s)", '',
            '| request | n | fail | req/s | p50 | p95 | p99 | max (ms) |',
            '| --- | --- | --- | --- | --- | --- | --- | --- |']
        for name, row in sorted(entry['stats'].items(),
                key=lambda kv: (kv[0] == 'Aggregated', kv[0])):
            lines.append(f"| {name} | {row['requests']} | {row['failures']} "
                f"| {row['rps']} | {row['p50']} | {row['p95']} | "
                f"{row['p99']} | {row['max']} |")
        if entry['failures']:
            lines += ['', 'Failures: ' + '; '.join(
                    f"{f.get('Name')}: {f.get('Error', '')[:120]} "
                    f"(×{f.get('Occurrences')})" for f in entry['failures'])]
        lines.append('')
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    sys.exit(main())
