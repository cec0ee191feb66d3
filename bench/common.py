"""Shared pieces of the benchmarks: PostgreSQL database copied from the
elder_device DB_CACHE template, Mosquitto from deploy/mosquitto/mosquitto.conf
on a free port, the bridge as its own process. The broker and bridge
helpers are those of tests/test_bridge_mqtt.py (imported, not copied).

Environment (as `./elder.sh test` sets it): TRYTOND_DATABASE__URI (or
TRYTOND_DATABASE_URI) = postgresql://…, DB_CACHE=postgresql:// ."""
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'tools'))

if not os.environ.get('TRYTOND_DATABASE__URI') and os.environ.get(
        'TRYTOND_DATABASE_URI'):
    os.environ['TRYTOND_DATABASE__URI'] = os.environ['TRYTOND_DATABASE_URI']
os.environ.setdefault('DB_CACHE', 'postgresql://')
os.environ.pop('TRYTOND_CONFIG', None)  # configured by environment, as tests
os.environ.pop('DB_NAME', None)

import elderctl  # noqa: E402
from tests.test_bridge_mqtt import (  # noqa: E402,F401
    Broker, BridgeProcess, wait_for)


def uri():
    value = os.environ.get('TRYTOND_DATABASE__URI', '')
    if not value.startswith('postgresql'):
        sys.exit('set TRYTOND_DATABASE__URI=postgresql://… (see bench/README.md)')
    return value


def query(database, sql, params=None):
    import psycopg
    with psycopg.connect(uri(), dbname=database, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


@contextlib.contextmanager
def database(prefix):
    "A fresh database copied from the elder_device template; dropped at exit"
    from trytond.tests import test_tryton
    template = test_tryton._db_cache_file(
        test_tryton.DB_CACHE, 'elder_device').rsplit('/', 1)[1]
    if not elderctl.database_exists(uri(), template):
        test_tryton.drop_db()
        test_tryton.activate_module(['elder_device'])
    name = '%s_%s' % (prefix, os.getpid())
    elderctl.drop_database(uri(), name)
    elderctl.create_database_from(uri(), name, template)
    try:
        yield name
    finally:
        from trytond.pool import Pool
        with contextlib.suppress(Exception):
            Pool.stop(name)
        from trytond import backend
        with contextlib.suppress(Exception):
            backend.Database(name).close()
        elderctl.drop_database(uri(), name)


@contextlib.contextmanager
def transaction(name):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(name)
    with Transaction().start(name, 0, readonly=True):
        pool.init()
    with Transaction().start(name, 0) as tx:
        yield pool
        tx.commit()


def create_devices(pool, identifiers, protocol, type_code='WATCH',
        elders=None, activate=True):
    """Devices (installed + active for elders[i % len(elders)] if elders,
    else in stock)"""
    Device = pool.get('device.device')
    Type = pool.get('device.type')
    type_, = Type.search([('code', '=', type_code)])
    values = []
    for i, identifier in enumerate(identifiers):
        value = {'identifier': identifier, 'protocol': protocol,
            'type': type_.id}
        if elders:
            value['elder'] = elders[i % len(elders)].id
        values.append(value)
    devices = Device.create(values)
    if elders and activate:
        Device.install(devices)
        Device.activate(devices)
    return devices


def create_elders(count, region_code='150102'):
    from trytond.modules.elder_base.tests.tools import (
        citizen_id, create_elder)
    elders = []
    for i in range(count):
        # serial 1..999 per birth date; vary the birth day beyond that
        day = 1 + i // 999
        elders.append(create_elder('测试老人%s' % chr(0x4e00 + i),
                citizen_id(region_code, '194501%02d' % day, 1 + i % 999),
                region_code))
    return elders


def bridge_env():
    return dict(os.environ, PYTHONPATH=str(ROOT))


def rss_kib(pid):
    with contextlib.suppress(OSError):
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return None


def machine():
    return {
        'cpus': os.cpu_count(),
        'python': platform.python_version(),
        'load_avg_at_start': [round(x, 2) for x in os.getloadavg()],
        'mosquitto': subprocess.run(  # noqa: S603
            [elderctl.mosquitto_binary() if hasattr(elderctl,
                    'mosquitto_binary') else 'mosquitto', '-h'],
            capture_output=True, text=True).stdout.splitlines()[0:1],
        }


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    f = int(k)
    c = min(f + 1, len(values) - 1)
    return values[f] + (values[c] - values[f]) * (k - f)


def report(name, result, summary):
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print('%s: %s' % (name, summary))
    out = ROOT / 'bench' / 'results'
    out.mkdir(exist_ok=True)
    (out / f'{name}-{time.strftime("%Y%m%dT%H%M%S")}.json').write_text(
        json.dumps(result, indent=2, ensure_ascii=False, default=str))


def raise_nofile(limit):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, limit), hard) if hard != resource.RLIM_INFINITY \
        else max(soft, limit)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def tempdir(prefix):
    return tempfile.TemporaryDirectory(prefix=prefix)
