"""Bridge adapters on the recorded payloads (bridge/tests/payloads): each
message gives one normalised event, or none (ignored), or MalformedMessage."""
import datetime as dt
import json
from pathlib import Path

import pytest

from bridge import adapters

PAYLOADS = Path(__file__).resolve().parent.parent / 'bridge' / 'tests' / 'payloads'


class Props:
    def __init__(self, **user):
        self.UserProperty = list(user.items())


def load(name):
    item = json.loads((PAYLOADS / name).read_text())
    raw = item.get('raw') or json.dumps(item['payload'])
    props = Props(**item['user_properties']) if 'user_properties' in item else None
    return item['topic'], raw.encode(), props


def one(name):
    events = adapters.parse(*load(name))
    assert len(events) == 1
    return events[0]


def test_generic_json():
    event = one('generic_sos.json')
    assert (event['protocol'], event['device_key'], event['kind']) == (
        'mqtt', 'WATCH001', 'alarm')
    assert event['message_id'] == 'w001-000123'  # the MQTT 5 user property
    assert event['values']['sos'] is True
    assert event['time'] == dt.datetime(2026, 3, 1, 0, 15, 30,
        tzinfo=dt.timezone.utc)
    vitals = one('generic_vitals.json')
    assert vitals['kind'] == 'vitals' and vitals['values']['heart_rate'] == 134
    assert vitals['time'].tzinfo is not None


def test_zigbee2mqtt():
    leak = one('z2m_water_leak.json')
    assert (leak['protocol'], leak['device_key']) == ('zigbee', '0x00158d0001a2b3c4')
    assert leak['kind'] == 'alarm' and leak['values']['water_leak'] is True
    assert leak['message_id'].startswith('h:')
    # the same message gives the same id (redelivery), another one not
    assert one('z2m_water_leak.json')['message_id'] == leak['message_id']
    assert one('z2m_occupancy.json')['message_id'] != leak['message_id']
    occupancy = one('z2m_occupancy.json')
    assert occupancy['time'] == dt.datetime(2026, 3, 1, 0, 21, 40, 123000,
        tzinfo=dt.timezone.utc)  # last_seen in epoch milliseconds
    availability = one('z2m_availability.json')
    assert availability['kind'] == 'availability'
    assert availability['values'] == {'online': False}
    assert availability['device_key'] == '0x00158d0003c4d5e6'
    assert adapters.parse('zigbee2mqtt/0xabc/availability', b'online')[0][
        'values'] == {'online': True}
    assert adapters.parse(*load('z2m_bridge_state.json')) == []
    assert adapters.parse('zigbee2mqtt/0xabc/set', b'{"state":"ON"}') == []
    sos = adapters.parse('zigbee2mqtt/button', b'{"action":"emergency"}')[0]
    assert sos['kind'] == 'alarm' and sos['values']['sos'] is True


def test_chirpstack():
    up = one('chirpstack_up.json')
    assert (up['protocol'], up['device_key']) == ('lora', 'a840414d5e8b1c2d')
    assert up['message_id'] == '3ac7e3c4-4401-4b8d-9386-a5c902f9202d'
    assert up['values']['smoke'] is True and up['values']['rssi'] == -57
    assert up['kind'] == 'alarm'
    assert up['time'].microsecond == 123456  # nanoseconds cut
    raw = one('chirpstack_up_raw.json')
    assert raw['device_key'] == 'a840414d5e8b1c2d'  # devEui lower-cased
    assert raw['values']['data_hex'] == '010064'
    assert adapters.parse('application/a/device/a840414d5e8b1c2d/event/join',
        b'{}') == []


def test_malformed():
    items = json.loads((PAYLOADS / 'malformed.json').read_text())
    malformed = 0
    for item in items:
        raw = item.get('raw') or json.dumps(item['payload'])
        try:
            adapters.parse(item['topic'], raw.encode())
        except adapters.MalformedMessage:
            malformed += 1
    # the unknown device is well-formed: the module rejects it
    assert malformed == len(items) - 1
    with pytest.raises(adapters.MalformedMessage):
        adapters.parse('eldercare/W/event', b'\xff\xfe')
    with pytest.raises(adapters.MalformedMessage):
        adapters.parse('other/topic', b'{}')
    with pytest.raises(adapters.MalformedMessage):
        adapters.parse('eldercare/W/event', b'{"ts": "yesterday"}')


def test_shared_subscriptions():
    assert adapters.subscriptions('bridge') == [
        '$share/bridge/eldercare/+/event', '$share/bridge/zigbee2mqtt/#',
        '$share/bridge/application/+/device/+/event/+']
