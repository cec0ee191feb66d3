"""bridge/simulator.py (`python -m bridge simulate`): its messages read back
by the bridge's and the receivers' own parsers, then every protocol driven
end to end against the real peers on loopback:

- mqtt (generic JSON), zigbee (Zigbee2MQTT), lora (ChirpStack v4 uplinks),
  ble (gateway JSON): a Mosquitto from the repository's config and the MQTT
  bridge (`python -m bridge run`) as its own process;
- watch: the TCP watch server (`python -m bridge watch`);
- udp: the UDP server (`python -m bridge udp`), acks after the commit;
- http, onenet (signed push after the URL handshake), ctwing: elder_device's
  routes served by gunicorn (trytond.application) on the test database.

The simulated devices are registered (`register`, as `--register` does),
then installed and activated for the test's older person, so their alarm
messages raise alarms. Each run is checked in PostgreSQL: one telemetry row
per message sent, none twice, and the alarms' occurrence counts equal the
alarm messages sent (SOS / smoke). Part of each run is sent a second time
(the same simulator seed): stored nothing new."""
import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from bridge import adapters, simulator, udp, watch
from test_bridge_mqtt import (  # noqa: F401 (fixtures `database`, `broker`, `bridges`)
    ROOT, bridges, broker, database, database_uri, elderctl, query,
    telemetry_count, wait_for)
from test_bridge_watch import server  # noqa: F401 (fixture)

from trytond.modules.elder_device import receiver

START = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
ONENET_TOKEN = 'sim-onenet-token'  # noqa: S105 (test data)
CTWING_TOKEN = 'sim-ctwing-token'  # noqa: S105 (test data)
HTTP_TOKEN = 'sim-http-token'  # noqa: S105 (test data)


def messages(devices, count, seed=1, sos_ratio=0.2, alarm='sos'):
    sim = simulator.Simulator(devices, sos_ratio=sos_ratio, seed=seed,
        start=START, alarm=alarm)
    return [sim.next() for _ in range(count)]


def test_messages_parse_back():
    devices = simulator.identifiers('watch', 3)
    assert devices == ['9900000001', '9900000002', '9900000003']
    assert simulator.identifiers('mqtt', 2, 'LOAD') == ['LOAD00001',
        'LOAD00002']
    assert simulator.identifiers('lora', 1) == ['a840410000000001']
    assert simulator.identifiers('ble', 1) == ['AC233F000001']
    assert simulator.identifiers('ctwing', 1) == ['869975000000001']
    first = simulator.Simulator(devices, sos_ratio=0.2, seed=7)
    again = simulator.Simulator(devices, sos_ratio=0.2, seed=7,
        start=first.start)
    sent = [first.next() for _ in range(60)]
    assert sent == [again.next() for _ in range(60)]
    assert len({m['id'] for _, m in sent}) == 60
    assert {m['kind'] for _, m in sent} >= {'alarm', 'heartbeat'}
    for device, message in sent:
        topic, payload = simulator.mqtt_message(device, message)
        event, = adapters.parse(topic, payload)
        assert (event['device_key'], event['message_id'], event['kind']) \
            == (device, message['id'], message['kind'])
        frames, rest, garbage = watch.split_frames(
            simulator.watch_frame(device, message))
        assert (len(frames), rest, garbage) == (1, b'', 0)
        vendor, ident, content = frames[0]
        event = watch.to_event(ident, content)
        assert ident == device
        assert event['values'].get('sos', False) == bool(
            message['values'].get('sos'))
        assert json.loads(simulator.http_body(message)) == [message]


@pytest.mark.parametrize('protocol', ['zigbee', 'lora', 'ble'])
@pytest.mark.parametrize('alarm', ['sos', 'smoke'])
def test_mqtt_formats_parse_back(protocol, alarm):
    "Each MQTT format is read by its adapter: one event, alarms kept"
    devices = simulator.identifiers(protocol, 3)
    ids = set()
    for device, message in messages(devices, 60, alarm=alarm):
        topic, payload = simulator.MQTT_ENCODERS[protocol](device, message)
        event, = adapters.parse(topic, payload.encode())
        assert event['protocol'] == simulator.PROTOCOLS[protocol]
        assert event['device_key'] == device
        ids.add(event['message_id'])
        flagged = any(message['values'].get(f) for f in simulator.ALARMS)
        if protocol == 'ble' and alarm == 'smoke':
            # a BLE button record has no smoke flag
            assert event['kind'] != 'alarm'
        else:
            assert (event['kind'] == 'alarm') == flagged, (message, event)
        if 'heart_rate' in message['values'] and protocol != 'zigbee':
            assert event['values']['heart_rate'] \
                == message['values']['heart_rate']
    assert len(ids) == 60  # every message is a message of its own


def test_push_formats_parse_back():
    "UDP datagrams, OneNET and CTWing pushes read by their receivers"
    for device, message in messages(simulator.identifiers('udp', 2), 20):
        event, ack = udp.to_event(simulator.udp_datagram(device, message))
        assert (event['device_key'], ack, event['kind']) == (
            device, message['id'], message['kind'])
    for device, message in messages(simulator.identifiers('onenet', 2), 20):
        body = simulator.onenet_body(device, message, ONENET_TOKEN)
        msg, nonce, signature, push_id = receiver.onenet_envelope(body)
        assert receiver.onenet_check(ONENET_TOKEN, nonce, msg, signature)
        assert not receiver.onenet_check('other', nonce, msg, signature)
        event, = receiver.parse_onenet(msg, push_id)
        assert event['device_key'] == device
        assert (event['kind'] == 'alarm') == (message['kind'] == 'alarm')
    for device, message in messages(simulator.identifiers('ctwing', 2), 20):
        (event,), keys = receiver.parse_ctwing(
            simulator.ctwing_body(device, message).encode())
        assert keys[0] == device
        assert (event['kind'] == 'alarm') == (message['kind'] == 'alarm')


# --- end to end ------------------------------------------------------------

def register(database, protocol, count, type_code='WATCH'):
    """Register the simulated devices, then install and activate them for
    the test's older person (so that they raise alarms)"""
    devices = simulator.identifiers(protocol, count)
    assert simulator.register(database, simulator.PROTOCOLS[protocol],
        devices, token=HTTP_TOKEN, type_code=type_code) == count
    assert simulator.register(database, simulator.PROTOCOLS[protocol],
        devices, token=HTTP_TOKEN, type_code=type_code) == 0
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(database, 0) as transaction:
        pool = Pool(database)
        Device = pool.get('device.device')
        Elder = pool.get('elder.elder')
        elder, = Elder.search([], limit=1)
        records = Device.search([
                ('protocol', '=', simulator.PROTOCOLS[protocol]),
                ('identifier', 'in', devices)])
        Device.write(records, {'elder': elder.id})
        Device.install(records)
        Device.activate(records)
        transaction.commit()
    return devices


def run_count(sender, devices, count, seed=1, alarm='sos'):
    "simulator.run for exactly `count` messages, all sent at once"
    sim = simulator.Simulator(devices, sos_ratio=0.2, seed=seed,
        start=START, alarm=alarm)
    stats = {'sent': 0, 'ok': 0, 'failed': 0}
    for _ in range(count):
        device, message = sim.next()
        ok = sender.send(device, message)
        stats['sent'] += 1
        stats['ok' if ok else 'failed'] += 1
    stats.update(sender.close())
    alarms = sum(1 for _, m in messages(devices, count, seed, alarm=alarm)
        if m['kind'] == 'alarm')
    return stats, alarms


def check_stored(database, protocol, devices, count, alarms, alarm='sos'):
    "count rows, none twice, alarm occurrences = alarm messages"
    where = "d.protocol = '%s' AND d.identifier IN (%s)" % (
        simulator.PROTOCOLS[protocol],
        ', '.join("'%s'" % d for d in devices))
    wait_for(lambda: telemetry_count(database, where) >= count,
        message='%s %s rows' % (count, protocol), timeout=60)
    rows, distinct = query(database,
        'SELECT count(*), count(DISTINCT (t.device, t.message_id)) '  # noqa: S608 (fixed SQL fragments written by the test)
        'FROM device_telemetry t JOIN device_device d ON d.id = t.device '
        f'WHERE {where}')[0]
    assert rows == distinct == count, (protocol, rows, distinct, count)
    occurrences, = query(database,
        'SELECT coalesce(sum(a.repeat_count), 0) FROM device_alarm a '  # noqa: S608 (fixed SQL fragments written by the test)
        'JOIN device_device d ON d.id = a.device '
        f'WHERE a.kind = %s AND {where}', [alarm])[0]
    assert alarms > 0 and occurrences == alarms, (
        protocol, occurrences, alarms)


@pytest.mark.parametrize('protocol,alarm,type_code', [
        ('mqtt', 'sos', 'SOS'), ('zigbee', 'smoke', 'SMOKE'),
        ('lora', 'smoke', 'SMOKE'), ('ble', 'sos', 'SOS')])
def test_simulated_mqtt_protocols(database, bridges, broker, protocol,
        alarm, type_code):
    "Simulated devices over MQTT → Mosquitto → the bridge → PostgreSQL"
    devices = register(database, protocol, 4, type_code)
    bridge = bridges(group='').start()
    count = 60
    stats, alarms = run_count(simulator.MQTTSender('127.0.0.1', broker.port,
            encoder=simulator.MQTT_ENCODERS[protocol]), devices, count,
        alarm=alarm)
    assert stats['failed'] == 0 and stats['acked'] == count, stats
    check_stored(database, protocol, devices, count, alarms, alarm)
    # the same messages again (a redelivery): nothing new
    stats, _ = run_count(simulator.MQTTSender('127.0.0.1', broker.port,
            encoder=simulator.MQTT_ENCODERS[protocol]), devices, 10,
        alarm=alarm)
    assert stats['acked'] == 10
    bridge.wait(lambda s: s.get('duplicate', 0) >= 10,
        'the redelivered messages counted duplicate')
    check_stored(database, protocol, devices, count, alarms, alarm)


def test_simulated_watches(database, server):  # noqa: F811 (fixtures)
    devices = register(database, 'watch', 3)
    count = 40
    stats, alarms = run_count(simulator.WatchSender('127.0.0.1', server),
        devices, count)
    assert stats['failed'] == 0, stats
    assert stats['answered'] == stats['expected_answers'], stats
    check_stored(database, 'watch', devices, count, alarms)


@pytest.fixture
def udp_server(database, tmp_path):
    port = elderctl.free_port()
    log = tmp_path / 'udp.log'
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop('DB_NAME', None)
    process = subprocess.Popen([sys.executable, '-m', 'bridge', 'udp',  # noqa: S603 (fixed argument list, no shell)
            '--database', database, '--host', '127.0.0.1',
            '--port', str(port)], cwd=ROOT, env=env,
        stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: process.poll() is not None
            or 'UDP server on' in log.read_text(), 60, 'the UDP server')
        assert process.poll() is None, log.read_text()
        yield port
    finally:
        process.terminate()
        process.wait(30)


def test_simulated_udp(database, udp_server):
    devices = register(database, 'udp', 3, 'SOS')
    count = 40
    stats, alarms = run_count(simulator.UDPSender('127.0.0.1', udp_server),
        devices, count)
    assert stats['acked'] == count and stats['unacked'] == 0, stats
    assert stats['ack_status'] == {'new': count}, stats
    check_stored(database, 'udp', devices, count, alarms)
    # the device resends (its ack lost): acknowledged as a duplicate
    stats, _ = run_count(simulator.UDPSender('127.0.0.1', udp_server),
        devices, 5)
    assert stats['ack_status'] == {'duplicate': 5}, stats
    check_stored(database, 'udp', devices, count, alarms)


@pytest.fixture(scope='module')
def platform(database):
    """trytond (gunicorn, trytond.application) serving the test database,
    with the OneNET and CTWing push tokens configured"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:  # the singleton's first save locks its table
        try:
            with Transaction().start(database, 0, **extras) as transaction:
                Configuration = Pool(database).get('device.configuration')
                configuration = Configuration(1)
                configuration.onenet_token = ONENET_TOKEN
                configuration.ctwing_token = CTWING_TOKEN
                configuration.save()
                transaction.commit()
        except TransactionError as error:
            error.fix(extras)
            continue
        break
    env = elderctl.tryton_env(database_uri())
    for name in ['DB_NAME', 'DB_CACHE']:
        env.pop(name, None)
    env['TRYTOND_LOGGING_LEVEL'] = '30'
    port = elderctl.free_port()
    log = ROOT / 'test-output' / f'gunicorn-simulator-{os.getpid()}.log'
    log.parent.mkdir(exist_ok=True)
    with open(log, 'w') as log_file:
        process = elderctl.start_gunicorn(database, '127.0.0.1', port, 1,
            env, stdout=log_file, stderr=log_file)
    try:
        elderctl.wait_listening('127.0.0.1', port, process)
        yield f'http://127.0.0.1:{port}/{database}'
    finally:
        elderctl.stop_process(process)


@pytest.mark.parametrize('protocol,token,alarm,type_code', [
        ('http', HTTP_TOKEN, 'sos', 'SOS'),
        ('onenet', ONENET_TOKEN, 'sos', 'WATCH'),
        ('ctwing', CTWING_TOKEN, 'smoke', 'SMOKE')])
def test_simulated_http_pushes(database, platform, protocol, token, alarm,
        type_code):
    "Devices and NB-IoT platforms posting to elder_device's receivers"
    devices = register(database, protocol, 3, type_code)
    count = 30
    sender = simulator.HTTPSender(platform, token, protocol=protocol)
    if protocol == 'onenet':
        assert sender.handshake is True  # the URL verification
    stats, alarms = run_count(sender, devices, count, alarm=alarm)
    assert stats['failed'] == 0 and stats['http_status'] == {
        '200': count}, stats
    check_stored(database, protocol, devices, count, alarms, alarm)
    # the platform retries (or the device resends): stored once
    stats, _ = run_count(simulator.HTTPSender(platform, token,
            protocol=protocol), devices, 5, alarm=alarm)
    assert stats['http_status'] == {'200': 5}, stats
    check_stored(database, protocol, devices, count, alarms, alarm)
    # a wrong token / signature is refused and stores nothing
    stats, _ = run_count(simulator.HTTPSender(platform, 'wrong',
            protocol=protocol), devices, 3, seed=99, alarm=alarm)
    assert stats['http_status'] == {'401': 3}, stats
    check_stored(database, protocol, devices, count, alarms, alarm)
