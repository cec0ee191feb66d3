"""The UDP server (`python -m bridge udp`) as its own process, with devices
sending datagrams over a real socket, on the elder_device database of
test_bridge_mqtt.py (plus UDP devices): acks only after the commit, a
resent datagram stored once, malformed datagrams counted and dropped."""
import json
import os
import socket
import subprocess
import sys

import pytest

from bridge import udp, watch
from test_bridge_mqtt import (  # noqa: F401 (the fixture `database`)
    ROOT, database, elderctl, query, telemetry_count, wait_for)

UDP_ID = 'UDP0001'
WATCH_ID = '1234567890'  # a tcp_watch device of test_bridge_mqtt.DEVICES


@pytest.fixture(scope='module')
def devices(database):
    "A device speaking UDP (the ORM of this process, as _create_data)"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool(database)
    with Transaction().start(database, 0) as transaction:
        Device = pool.get('device.device')
        Type = pool.get('device.type')
        watch_type, = Type.search([('code', '=', 'WATCH')])
        other, = Device.search([('identifier', '=', WATCH_ID)])
        device, = Device.create([{
                    'identifier': UDP_ID, 'protocol': 'udp',
                    'type': watch_type.id, 'elder': other.elder.id}])
        Device.install([device])
        Device.activate([device])
        transaction.commit()
    return database


@pytest.fixture
def server(devices, tmp_path):
    port = elderctl.free_port()
    log = tmp_path / 'udp.log'
    stats = tmp_path / 'stats.json'
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop('DB_NAME', None)
    process = subprocess.Popen([sys.executable, '-m', 'bridge', 'udp',  # noqa: S603 (fixed argument list, no shell)
            '--database', devices, '--host', '127.0.0.1',
            '--port', str(port), '--stats-file', str(stats)], cwd=ROOT,
        env=env, stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: process.poll() is not None
            or 'UDP server on' in log.read_text(), 60, 'the UDP server')
        assert process.poll() is None, log.read_text()
        yield port, stats, process, devices
    finally:
        process.terminate()
        process.wait(30)


def client(timeout=30):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    return sock


def send(sock, port, message):
    data = message if isinstance(message, bytes) else json.dumps(
        message).encode()
    sock.sendto(data, ('127.0.0.1', port))


def receive(sock):
    data, _ = sock.recvfrom(65535)
    return data


def read_stats(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def test_to_event():
    event, ack = udp.to_event(json.dumps({'id': 'D1', 'msg_id': 7,
                'time': 1772325002, 'values': {'sos': True}}).encode())
    assert (event['protocol'], event['device_key'], event['kind'],
        event['message_id'], ack) == ('udp', 'D1', 'alarm', '7', 7)
    event, ack = udp.to_event(b'{"id": "D1", "values": {"heart_rate": 80}}')
    assert event['kind'] == 'vitals' and ack.startswith('h:')
    for bad in [b'{bad', b'[]', b'{"values": {}}', b'{"id": "D1", "values": 3}',
            b'{"id": "D1", "time": "soon"}', b'\xff\xfe']:
        with pytest.raises(udp.MalformedMessage):
            udp.to_event(bad)


def test_ack_after_commit_and_resend(server):
    "The ack comes after the commit; the resent datagram is stored once"
    port, stats, _, database = server
    where = "d.identifier = '%s'" % UDP_ID
    message = {'id': UDP_ID, 'msg_id': 'u-1', 'time': '2026-03-01T00:40:00Z',
        'kind': 'alarm', 'values': {'sos': True, 'battery': 77}}
    with client() as sock:
        send(sock, port, message)
        assert json.loads(receive(sock)) == {'ack': 'u-1', 'status': 'new'}
        # acknowledged → already committed, seen by another connection
        assert telemetry_count(database, where) == 1
        # the device did not get the ack and resends
        send(sock, port, message)
        assert json.loads(receive(sock)) == {
            'ack': 'u-1', 'status': 'duplicate'}
        send(sock, port, {'id': UDP_ID, 'msg_id': 'u-2',
                'values': {'heart_rate': 71}})
        assert json.loads(receive(sock))['status'] == 'new'
        # unknown devices are answered too (they would resend forever)
        send(sock, port, {'id': 'NOBODY', 'msg_id': 'x'})
        assert json.loads(receive(sock)) == {
            'ack': 'x', 'status': 'unknown_device'}
    assert telemetry_count(database, where) == 2
    (kind, count), = query(database,
        "SELECT a.kind, a.repeat_count FROM device_alarm a JOIN device_device"
        " d ON d.id = a.device WHERE d.identifier = %s", [UDP_ID])
    assert (kind, count) == ('sos', 1)
    (battery,), = query(database,
        "SELECT battery FROM device_device WHERE identifier = %s", [UDP_ID])
    assert battery == 77
    expected = {'new': 2, 'duplicate': 1, 'unknown_device': 1, 'acked': 4}
    wait_for(lambda: all(read_stats(stats).get(k) == v
            for k, v in expected.items()), 10, 'stats %s' % expected)


def test_malformed_counted(server):
    "Bad datagrams are counted and dropped; the server goes on"
    port, stats, process, _ = server
    bad = [b'{not json', b'[1, 2]', b'"text"', b'{"values": {}}',
        b'{"id": "UDP0001", "values": []}', b'\xff\xfe\x00', b'',
        b'[3G*123']
    with client() as sock:
        for data in bad:
            send(sock, port, data)
        send(sock, port, {'id': UDP_ID, 'msg_id': 'after-bad'})
        assert json.loads(receive(sock)) == {
            'ack': 'after-bad', 'status': 'new'}
    counts = wait_for(
        lambda: (s := read_stats(stats)).get('malformed') == len(bad) and s,
        10, 'malformed counted')
    assert counts['received'] == len(bad) + 1
    assert process.poll() is None


def test_watch_frames_over_udp(server):
    "The 3G watch framing over UDP: LK answered after the commit"
    port, _, _, database = server
    where = "d.identifier = '%s'" % WATCH_ID
    before = telemetry_count(database, where)
    with client() as sock:
        send(sock, port, watch.frame('3G', WATCH_ID, 'LK,100,0,66'))
        assert receive(sock) == b'[3G*1234567890*0002*LK]'
        assert telemetry_count(database, where) == before + 1

