"""The device bridge against real peers: a Mosquitto started from
deploy/mosquitto/mosquitto.conf (own port and persistence directory),
the bridge as its own process (`python -m bridge run`), and a PostgreSQL
database with elder_device activated.

The database is a copy of trytond's DB_CACHE template for elder_device
(the one ModuleTestCase builds and restores, so usually already there):
CREATE DATABASE … TEMPLATE is a file copy, a second or two, where
activating the modules takes a minute. The data (an older person and
devices) is written with the ORM in this process.

Loss tests: bridge down while devices publish (persistent session), bridge
SIGKILLed in the middle of its batches (nothing lost, nothing twice: the
rows and the alarm repeat counts are exact), broker restarted."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = ROOT / 'bridge' / 'tests' / 'payloads'
BROKER_CONFIG = ROOT / 'deploy' / 'mosquitto' / 'mosquitto.conf'
MOSQUITTO = shutil.which('mosquitto') or '/usr/sbin/mosquitto'
TIMEOUT = 90

paho = pytest.importorskip('paho.mqtt.client')
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

sys.path.insert(0, str(ROOT / 'tools'))
import elderctl  # noqa: E402


def database_uri():
    from trytond import config
    config.update_etc()
    uri = config.get('database', 'uri') or ''
    if not uri.startswith('postgresql'):
        pytest.skip('the bridge tests need PostgreSQL (./elder.sh test)')
    return uri


def wait_for(predicate, timeout=TIMEOUT, message='condition', interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f'timeout waiting for {message}')


# --- database ------------------------------------------------------------------

DEVICES = [
    # identifier, protocol, type
    ('WATCH001', 'mqtt', 'WATCH'),
    ('0x00158d0001a2b3c4', 'zigbee', 'WATER'),
    ('0x00158d0003c4d5e6', 'zigbee', 'PRESENCE'),
    ('A840414D5E8B1C2D', 'lora', 'SMOKE'),
    ('1234567890', 'tcp_watch', 'WATCH'),
    ] + [('LOAD%02d' % i, 'mqtt', 'WATCH') for i in range(4)]


@pytest.fixture(scope='module')
def database():
    uri = database_uri()
    if not os.environ.get('DB_CACHE', '').startswith('postgresql'):
        pytest.skip('the bridge tests copy the DB_CACHE=postgresql:// template')
    from trytond.tests import test_tryton
    template = test_tryton._db_cache_file(
        test_tryton.DB_CACHE, 'elder_device').rsplit('/', 1)[1]
    if not elderctl.database_exists(uri, template):
        # as ModuleTestCase.setUpClass does, on this process's DB_NAME
        test_tryton.drop_db()
        test_tryton.activate_module(['elder_device'])
    name = 'bridge_%s_%s' % (
        os.environ.get('PYTEST_XDIST_WORKER', 'main'), os.getpid())
    elderctl.drop_database(uri, name)
    elderctl.create_database_from(uri, name, template)
    try:
        _create_data(name)
        yield name
    finally:
        from trytond.pool import Pool
        Pool.stop(name)
        elderctl.drop_database(uri, name)  # WITH (FORCE)


def _create_data(name):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from trytond.modules.elder_base.tests.tools import (
        citizen_id, create_elder)
    Pool.start()
    pool = Pool(name)
    with Transaction().start(name, 0, readonly=True):
        pool.init()
    with Transaction().start(name, 0) as transaction:
        Device = pool.get('device.device')
        Type = pool.get('device.type')
        types = {t.code: t for t in Type.search([])}
        elder = create_elder(
            '测试老人', citizen_id('150102', '19450101', 7), '150102')
        devices = Device.create([{
                    'identifier': identifier, 'protocol': protocol,
                    'type': types[code].id, 'elder': elder.id,
                    } for identifier, protocol, code in DEVICES])
        Device.install(devices)
        Device.activate(devices)
        transaction.commit()


def query(database, sql, params=None):
    import psycopg
    with psycopg.connect(database_uri(), dbname=database,
            autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def telemetry_count(database, where='TRUE'):
    return query(database,
        f'SELECT count(*) FROM device_telemetry t JOIN device_device d '  # noqa: S608 (fixed SQL fragments written by the tests)
        f'ON d.id = t.device WHERE {where}')[0][0]


# --- broker ------------------------------------------------------------------------

class Broker:
    def __init__(self, directory):
        self.directory = Path(directory)
        self.port = elderctl.free_port()
        self.config = self.directory / 'mosquitto.conf'
        self.log = self.directory / 'mosquitto.log'
        (self.directory / 'data').mkdir()
        lines = []
        for line in BROKER_CONFIG.read_text().splitlines():
            if line.startswith('listener '):
                line = f'listener {self.port} 127.0.0.1'
            elif line.startswith('persistence_location '):
                line = f"persistence_location {self.directory / 'data'}/"
            lines.append(line)
        if os.geteuid() == 0:
            lines.append('user root')  # else it drops to `mosquitto`
        self.config.write_text('\n'.join(lines) + '\n')
        self.process = None

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603 (fixed argument list, no shell)
            [MOSQUITTO, '-c', str(self.config)],
            stdout=open(self.log, 'a'), stderr=subprocess.STDOUT)
        elderctl.wait_listening('127.0.0.1', self.port, self.process, 30)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()  # saves the persistence file
            self.process.wait(30)


@pytest.fixture
def broker(tmp_path):
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


# --- bridge -----------------------------------------------------------------------

class BridgeProcess:
    def __init__(self, database, broker, directory, client_id=None, **options):
        self.database, self.broker = database, broker
        self.client_id = client_id or 'bridge-test-%s' % uuid.uuid4().hex[:8]
        self.stats_file = Path(directory) / f'{self.client_id}.stats'
        self.log = Path(directory) / f'{self.client_id}.log'
        self.options = options
        self.process = None

    def start(self, **extra_env):
        "Start; wait until subscribed unless extra_env (failpoints) is given"
        self.stats_file.unlink(missing_ok=True)
        cmd = [sys.executable, '-m', 'bridge', 'run',
            '--database', self.database, '--mqtt-port', str(self.broker.port),
            '--client-id', self.client_id, '--stats-file', str(self.stats_file)]
        for key, value in self.options.items():
            cmd += ['--' + key.replace('_', '-'), str(value)]
        env = dict(os.environ, PYTHONPATH=str(ROOT), **extra_env)
        env.pop('DB_NAME', None)
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env,  # noqa: S603 (fixed argument list, no shell)
            stdout=open(self.log, 'a'), stderr=subprocess.STDOUT)
        if not extra_env:
            self.wait(lambda s: s.get('subscribed'), 'the bridge to subscribe')
        return self

    def stats(self):
        try:
            return json.loads(self.stats_file.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def wait(self, predicate, message):
        def check():
            if self.process.poll() is not None:
                raise AssertionError('bridge exited:\n'
                    + self.log.read_text()[-3000:])
            stats = self.stats()
            return stats if predicate(stats) else None
        return wait_for(check, message=message)

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(30)


@pytest.fixture
def bridges(database, broker, tmp_path):
    started = []

    def make(**options):
        bridge = BridgeProcess(database, broker, tmp_path, **options)
        started.append(bridge)
        return bridge
    yield make
    for bridge in started:
        bridge.stop(signal.SIGKILL)


# --- devices ------------------------------------------------------------------------

def publisher(broker):
    client = paho.Client(paho.CallbackAPIVersion.VERSION2,
        client_id='device-sim-%s' % uuid.uuid4().hex[:6],
        protocol=paho.MQTTv5)
    client.connect('127.0.0.1', broker.port)
    client.loop_start()
    return client


def publish(client, topic, payload, message_id=None):
    properties = None
    if message_id:
        properties = Properties(PacketTypes.PUBLISH)
        properties.UserProperty = ('message_id', message_id)
    if not isinstance(payload, (bytes, str)):
        payload = json.dumps(payload)
    info = client.publish(topic, payload, qos=1, properties=properties)
    return info


def publish_all(client, messages):
    infos = [publish(client, *m) for m in messages]
    for info in infos:
        info.wait_for_publish(30)  # PUBACK from the broker: it has it
    client.loop_stop()
    client.disconnect()


def watch_messages(prefix, count, sos_every=10):
    "count messages spread over the LOAD devices, every 10th an SOS"
    messages = []
    for i in range(count):
        device = 'LOAD%02d' % (i % 4)
        values = {'heart_rate': 70 + i % 20, 'battery': 90}
        kind = 'vitals'
        if i % sos_every == 0:
            values, kind = {'sos': True}, 'alarm'
        messages.append((f'eldercare/{device}/event', {
                    'id': f'{prefix}-{i}', 'ts': 1772323200 + i,
                    'kind': kind, 'values': values}))
    return messages


def sos_repeats(database, prefix_like='LOAD%'):
    return query(database,
        "SELECT coalesce(sum(a.repeat_count), 0), count(*) FROM device_alarm a "
        "JOIN device_device d ON d.id = a.device "
        "WHERE a.kind = 'sos' AND d.identifier LIKE %s", [prefix_like])[0]


# --- tests --------------------------------------------------------------------------

def test_recorded_payloads(database, broker, bridges):
    "Every recorded format is stored and raises its alarm; bad ones counted"
    bridge = bridges().start()
    messages = []
    for name in ['generic_sos.json', 'generic_vitals.json',
            'z2m_water_leak.json', 'z2m_occupancy.json', 'z2m_availability.json',
            'z2m_bridge_state.json', 'chirpstack_up.json',
            'chirpstack_up_raw.json']:
        item = json.loads((PAYLOADS / name).read_text())
        messages.append((item['topic'], item['payload'],
                item.get('user_properties', {}).get('message_id')))
    malformed = json.loads((PAYLOADS / 'malformed.json').read_text())
    for item in malformed:
        messages.append((item['topic'],
                item['raw'].encode('utf-8') if 'raw' in item
                else item['payload']))
    messages.append(('eldercare/WATCH001/event', b'\xff\xfe\x00'))
    # the SOS again: redelivered by a device, stored once
    messages.append(messages[0])
    client = publisher(broker)
    publish_all(client, messages)

    stats = bridge.wait(lambda s: s.get('received', 0) >= len(messages),
        'all messages')
    assert stats['malformed'] == 6
    assert stats['unknown_device'] == 1
    assert stats['ignored'] == 1  # zigbee2mqtt/bridge/state
    assert stats['duplicate'] == 1
    assert stats['new'] == 7
    assert telemetry_count(database, "d.identifier = 'WATCH001'") == 2
    assert telemetry_count(database, "d.protocol = 'lora'") == 2
    alarms = dict(query(database,
        "SELECT d.identifier, string_agg(a.kind, ',' ORDER BY a.kind) "
        "FROM device_alarm a JOIN device_device d ON d.id = a.device "
        "GROUP BY d.identifier"))
    assert alarms == {
        'WATCH001': 'sos,vitals',
        '0x00158d0001a2b3c4': 'water',
        '0x00158d0003c4d5e6': 'offline',
        'a840414d5e8b1c2d': 'smoke',
        }
    # still working after the bad input
    client = publisher(broker)
    publish_all(client, [('eldercare/WATCH001/event',
                {'id': 'after-bad', 'kind': 'heartbeat'})])
    bridge.wait(lambda s: s.get('new', 0) == 8, 'a message after bad ones')
    (last_seen,), = query(database,
        "SELECT last_seen FROM device_device WHERE identifier = 'WATCH001'")
    assert last_seen is not None


@pytest.mark.parametrize('group', ['', 'bridge'])
def test_bridge_down_then_broker_restart(database, broker, bridges, group):
    """Messages published while the bridge is down are kept by the broker
    (persistent session, also across a broker restart) and all arrive.

    Plain subscriptions (--group '') also survive the broker's restart;
    Mosquitto 2.0.11 does not restore *shared* subscriptions from its
    persistence file, so with a share group the messages published between
    a broker restart and the bridges' reconnection have no subscriber (see
    bridge/README.md): only the first part is checked for it."""
    bridge = bridges(client_id=f'bridge-persist-{group or "plain"}',
        group=group)
    bridge.start()  # creates the session and its subscriptions
    bridge.stop()
    prefix = f'down{group}'
    # more than Mosquitto's default max_queued_messages (1000)
    publish_all(publisher(broker), watch_messages(prefix, 1200))
    broker.stop()
    broker.start()
    bridge.start()
    bridge.wait(lambda s: s.get('new', 0) >= 1200, 'the queued messages')
    assert telemetry_count(
        database, f"t.message_id LIKE '{prefix}-%%'") == 1200
    if group:
        return
    # the broker restarts under a running bridge, devices publish before
    # the bridge is back: the broker queues them in the restored session
    bridge.wait(lambda s: s.get('batches'), 'idle')
    broker.stop()
    broker.start()
    publish_all(publisher(broker), watch_messages('again', 50))
    bridge.wait(lambda s: s.get('new', 0) >= 1250, 'messages after restart')
    assert telemetry_count(database, "t.message_id LIKE 'again-%%'") == 50


def test_sigkill_mid_batch(database, broker, bridges):
    """A bridge killed between commit and PUBACK, or before the commit,
    loses nothing and stores nothing twice; alarms count each SOS once"""
    query(database, "DELETE FROM device_alarm")
    bridge = bridges(client_id='bridge-kill', batch_size=25,
        batch_interval=0.05)
    bridge.start()
    # Enough messages that the bridge is still busy when it is killed after
    # its first batches, however fast the machine and the ingest path are.
    total = 10000
    publish_all(publisher(broker), watch_messages('kill', total))
    where = "t.message_id LIKE 'kill-%%'"
    # the stats file is rewritten after each committed batch
    bridge.wait(lambda s: s.get('batches', 0) >= 2, 'the first batches')
    bridge.stop(signal.SIGKILL)
    stored = telemetry_count(database, where)
    assert stored < total, 'killed too late to test anything'
    bridge.start()
    wait_for(lambda: telemetry_count(database, where) == total,
        message='every message after the restart')
    bridge.wait(lambda s: s.get('received', 0) >= total - stored,
        'the redelivered messages')
    time.sleep(1)
    assert telemetry_count(database, where) == total
    (distinct,), = query(database,
        "SELECT count(DISTINCT (device, message_id)) FROM device_telemetry "
        "WHERE message_id LIKE 'kill-%%'")
    assert distinct == total
    # one SOS in ten, a few seconds apart: each device has one open SOS
    # alarm whose repeat count is exactly its number of SOS messages
    sos_devices = {i % 4 for i in range(0, total, 10)}  # LOAD00, LOAD02
    repeats, alarms = sos_repeats(database)
    assert (repeats, alarms) == (total // 10, len(sos_devices))


def test_crash_between_commit_and_ack(database, broker, bridges):
    """The worst moment: the batch is committed, the PUBACKs not sent. The
    broker redelivers the batch; stored once, alarms counted once."""
    query(database, "DELETE FROM device_alarm")
    bridge = bridges(client_id='bridge-crash', batch_size=100,
        batch_interval=0.5)
    bridge.start()  # session and subscriptions
    bridge.stop()
    total = 300
    publish_all(publisher(broker), watch_messages('crash', total))
    bridge.start(BRIDGE_FAILPOINT='exit_after_commit:1')
    assert bridge.process.wait(60) == 70
    where = "t.message_id LIKE 'crash-%%'"
    stored = telemetry_count(database, where)
    assert 0 < stored < total
    bridge.start()
    stats = bridge.wait(lambda s: s.get('new', 0) + s.get('duplicate', 0)
        >= total, 'the redelivered batch and the rest')
    assert stats['duplicate'] == stored  # committed before: no-ops now
    assert stats['new'] == total - stored
    assert telemetry_count(database, where) == total
    repeats, alarms = sos_repeats(database)
    assert repeats == total // 10


def test_shared_subscription(database, broker, bridges):
    "Two workers in the share group split the messages, none stored twice"
    first = bridges(client_id='bridge-share-1').start()
    second = bridges(client_id='bridge-share-2').start()
    publish_all(publisher(broker), watch_messages('share', 400))
    where = "t.message_id LIKE 'share-%%'"
    wait_for(lambda: telemetry_count(database, where) == 400,
        message='the shared messages')
    time.sleep(0.5)
    a, b = first.stats().get('received', 0), second.stats().get('received', 0)
    assert a + b == 400
    assert a > 0 and b > 0
