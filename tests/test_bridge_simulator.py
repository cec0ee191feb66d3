"""bridge/simulator.py: its messages read back by the bridge's own parsers,
and a short run of simulated watches against the real TCP watch server
(`python -m bridge watch`) on the database of test_bridge_mqtt.py: every
message sent is stored once."""
import json

from bridge import adapters, simulator, watch
from test_bridge_mqtt import (  # noqa: F401 (the fixture `database`)
    database, query, telemetry_count, wait_for)
from test_bridge_watch import server  # noqa: F401 (fixture)


def test_messages_parse_back():
    devices = simulator.identifiers('watch', 3)
    assert devices == ['9900000001', '9900000002', '9900000003']
    assert simulator.identifiers('mqtt', 2, 'LOAD') == ['LOAD00001',
        'LOAD00002']
    first = simulator.Simulator(devices, sos_ratio=0.2, seed=7)
    again = simulator.Simulator(devices, sos_ratio=0.2, seed=7,
        start=first.start)
    messages = [first.next() for _ in range(60)]
    assert messages == [again.next() for _ in range(60)]
    assert len({m['id'] for _, m in messages}) == 60
    assert {m['kind'] for _, m in messages} >= {'alarm', 'heartbeat'}
    for device, message in messages:
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


def test_simulated_watches(database, server):  # noqa: F811 (fixtures)
    devices = simulator.identifiers('watch', 3)
    assert simulator.register(database, 'tcp_watch', devices) == 3
    assert simulator.register(database, 'tcp_watch', devices) == 0
    sender = simulator.WatchSender('127.0.0.1', server)
    stats = simulator.run(sender, simulator.Simulator(devices, seed=1),
        rate=40, duration=1.0)
    assert stats['failed'] == 0 and stats['sent'] >= 10, stats
    assert stats['answered'] == stats['expected_answers'], stats
    where = "d.identifier LIKE '99%'"
    wait_for(lambda: telemetry_count(database, where) == stats['sent'],
        message='%s rows' % stats['sent'], timeout=30)
