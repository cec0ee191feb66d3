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
        '$share/bridge/application/+/device/+/event/+',
        '$share/bridge/ble/+/adv']


def test_ble_gateway():
    "One gateway message → one event per device advertisement"
    events = adapters.parse(*load('ble_gateway.json'))
    # the gateway's own entry is not an event
    assert [e['device_key'] for e in events] == [
        'AC233FA1B2C3', 'AC233FA1B2C4', 'AC233FA1B2C5']  # MAC normalised
    meter, tag, oximeter = events
    assert {e['protocol'] for e in events} == {'ble'}
    # manufacturer data 0xFFFF record 0x01 + Battery Service data
    assert meter['kind'] == 'vitals'
    assert meter['values'] == {'systolic': 130, 'diastolic': 82,
        'heart_rate': 72, 'battery': 85, 'rssi': -63,
        'gateway': 'AC233FC0FFEE'}
    assert meter['time'] == dt.datetime(2026, 3, 1, 0, 30, 1, 250000,
        tzinfo=dt.timezone.utc)
    assert tag['kind'] == 'heartbeat' and tag['values']['rssi'] == -71
    # a field the gateway decoded itself
    assert oximeter['kind'] == 'vitals'
    assert (oximeter['values']['spo2'], oximeter['values']['heart_rate']) == (
        95, 80)
    assert oximeter['time'] == dt.datetime(2026, 3, 1, 0, 30, 2,
        tzinfo=dt.timezone.utc)  # epoch seconds
    # redelivery: the same ids; another advertisement: another id
    again = adapters.parse(*load('ble_gateway.json'))
    assert [e['message_id'] for e in again] == [
        e['message_id'] for e in events]
    assert len({e['message_id'] for e in events}) == 3
    assert all(e['message_id'].startswith('ble:') for e in events)
    topic, raw, _ = load('ble_gateway.json')
    later = json.loads(raw)
    later[1]['timestamp'] = '2026-03-01T00:31:01.250Z'
    assert adapters.parse(topic, json.dumps(later).encode())[0][
        'message_id'] != meter['message_id']
    # an SOS button record (0x03, bit 0) is an alarm
    sos = adapters.parse(topic, json.dumps([{'timestamp': 1, 'mac':
        'AC233FA1B2C6', 'rawData': '05FFFFFF0301'}]).encode())[0]
    assert sos['kind'] == 'alarm' and sos['values']['sos'] is True
    # a single advertisement object is accepted, an empty array ignored
    assert len(adapters.parse(topic, json.dumps(later[2]).encode())) == 1
    assert adapters.parse(topic, b'[]') == []


def test_ble_unknown_device():
    "A stranger's advertisement is well-formed: the module rejects it"
    event, = adapters.parse(*load('ble_unknown.json'))
    assert (event['device_key'], event['kind']) == (
        '5CF370001122', 'heartbeat')
    assert event['values'] == {'rssi': -88, 'gateway': 'AC233FC0FFEE'}


def test_ble_malformed():
    items = json.loads((PAYLOADS / 'ble_malformed.json').read_text())
    for item in items:
        raw = item.get('raw') or json.dumps(item['payload'])
        with pytest.raises(adapters.MalformedMessage):
            adapters.parse(item['topic'], raw.encode())
    # one bad advertisement does not drop the good ones of the message
    topic, raw, _ = load('ble_gateway.json')
    mixed = json.loads(raw) + [{'mac': 'nope'}, 'text']
    assert len(adapters.parse(topic, json.dumps(mixed).encode())) == 3
    with pytest.raises(adapters.MalformedMessage):
        adapters.decode_raw('0AFF')  # truncated AD structure
