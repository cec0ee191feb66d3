"""The TCP watch server (`python -m bridge watch`) with a simulated watch
speaking the 3G protocol over a real socket, on the elder_device database
of test_bridge_mqtt.py."""
import os
import socket
import subprocess
import sys

import pytest

from bridge import watch
from test_bridge_mqtt import (  # noqa: F401 (the fixture `database`)
    ROOT, database, elderctl, query, telemetry_count, wait_for)

WATCH_ID = '1234567890'
AL = ('AL,250326,081530,A,40.842400,N,111.749000,E,0.00,0,1000,8,100,50,1200,'
    '0,00010000')  # SOS bit
UD = ('UD,250326,082000,A,40.842500,N,111.749100,E,0.00,0,1000,8,100,49,1300,'
    '0,00000000')


def test_split_frames():
    data = (b'noise' + watch.frame('3G', WATCH_ID, 'LK,1,2,80')
        + watch.frame('SG', WATCH_ID, UD) + b'[3G*123')
    frames, rest, garbage = watch.split_frames(data)
    assert [f[2].split(',')[0] for f in frames] == ['LK', 'UD']
    assert frames[1][0] == 'SG'
    assert rest == b'[3G*123' and garbage == 5
    _, values = watch.parse_position(AL.split(',')[1:])
    assert values['sos'] is True and values['battery'] == 50
    assert 'fall' not in values


@pytest.fixture
def server(database, tmp_path):
    port = elderctl.free_port()
    log = tmp_path / 'watch.log'
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop('DB_NAME', None)
    process = subprocess.Popen([sys.executable, '-m', 'bridge', 'watch',  # noqa: S603 (fixed argument list, no shell)
            '--database', database, '--host', '127.0.0.1',
            '--port', str(port)], cwd=ROOT, env=env,
        stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    try:
        elderctl.wait_listening('127.0.0.1', port, process, 60)
        yield port
    finally:
        process.terminate()
        process.wait(30)


def exchange(sock, data, expect=None):
    sock.sendall(data)
    if expect is None:
        return None
    received = b''
    while not received.endswith(b']'):
        chunk = sock.recv(100)
        assert chunk, 'connection closed'
        received += chunk
    assert received == expect
    return received


def test_watch_session(database, server):
    "LK and AL answered after the commit; UD stored; AL repeats stored once"
    with socket.create_connection(('127.0.0.1', server), timeout=30) as sock:
        exchange(sock, watch.frame('3G', WATCH_ID, 'LK,100,0,80'),
            b'[3G*1234567890*0002*LK]')
        exchange(sock, b'garbage' + watch.frame('3G', WATCH_ID, AL),
            b'[3G*1234567890*0002*AL]')
        # the watch did not get the answer in time and sends it again
        exchange(sock, watch.frame('3G', WATCH_ID, AL),
            b'[3G*1234567890*0002*AL]')
        exchange(sock, watch.frame('3G', WATCH_ID, UD))  # not answered
        exchange(sock, watch.frame('3G', WATCH_ID, 'LK,100,0,79'),
            b'[3G*1234567890*0002*LK]')
    where = "d.identifier = '%s'" % WATCH_ID
    wait_for(lambda: telemetry_count(database, where) == 4, message='rows')
    kinds = dict(query(database,
        "SELECT t.kind, count(*) FROM device_telemetry t JOIN device_device d"
        " ON d.id = t.device WHERE d.identifier = %s GROUP BY t.kind",
        [WATCH_ID]))
    assert kinds == {'heartbeat': 2, 'alarm': 1, 'position': 1}
    (kind, count), = query(database,
        "SELECT a.kind, a.repeat_count FROM device_alarm a JOIN device_device"
        " d ON d.id = a.device WHERE d.identifier = %s", [WATCH_ID])
    assert (kind, count) == ('sos', 1)
    (battery,), = query(database,
        "SELECT battery FROM device_device WHERE identifier = %s", [WATCH_ID])
    assert battery == 79


def test_unknown_watch_answered(database, server):
    "An unregistered watch still gets its answers (it would retry forever)"
    with socket.create_connection(('127.0.0.1', server), timeout=30) as sock:
        exchange(sock, watch.frame('3G', '9999999999', 'LK,0,0,50'),
            b'[3G*9999999999*0002*LK]')
