"""Protocol adapters: one incoming message → normalised events.

A normalised event is a dict:

    protocol    device protocol as in device.device (mqtt, zigbee, lora, …)
    device_key  the device's identifier for that protocol
    time        aware datetime of the measurement (receive time if unknown)
    kind        alarm, vitals, state, heartbeat, position, availability …
    values      flat dict of platform value names (see elder_device/rules.py)
    raw         the payload as text
    message_id  stable id of the message: stored once per device

An adapter returns a list: empty for messages it deliberately ignores
(Zigbee2MQTT bridge topics, ChirpStack join events …), and raises
MalformedMessage for input it cannot read. Adapters do no I/O.
"""
import hashlib
import json
import re

from . import event

# The shared pieces of elder_device's event module (see bridge/__init__.py)
MalformedMessage = event.Malformed
ALARM_FLAGS, VITALS = event.ALARM_FLAGS, event.VITALS
content_hash, kind_of, load_json, now, parse_time, payload_text = (
    event.content_hash, event.kind_of, event.load_json, event.now,
    event.parse_time, event.payload_text)


def user_property(properties, *names):
    "Value of an MQTT 5 user property"
    for key, value in getattr(properties, 'UserProperty', None) or []:
        if key in names:
            return value
    return None


class Adapter:
    name = None
    protocol = None
    topics = ()  # subscription filters (without $share)

    def match(self, topic):
        raise NotImplementedError

    def parse(self, topic, payload, properties=None):
        raise NotImplementedError


class GenericJSON(Adapter):
    """eldercare/<device_key>/event with
    {"id": "...", "ts": "...", "kind": "vitals", "values": {...}}"""
    name = 'generic'
    protocol = 'mqtt'
    topics = ('eldercare/+/event',)
    pattern = re.compile(r'^eldercare/([^/]+)/event$')

    def match(self, topic):
        return bool(self.pattern.match(topic))

    def parse(self, topic, payload, properties=None):
        key = self.pattern.match(topic).group(1)
        data = load_json(payload)
        if not isinstance(data, dict):
            raise MalformedMessage('payload is not a JSON object')
        result = event.from_object(
            data.get('protocol') or self.protocol, key, data,
            payload_text(payload),
            message_id=user_property(properties, 'message_id', 'msg_id'),
            hash_parts=(topic, payload))
        return [result]


class Zigbee2MQTT(Adapter):
    """zigbee2mqtt/<friendly_name> JSON state and
    zigbee2mqtt/<friendly_name>/availability; the friendly name is the
    device identifier (Zigbee2MQTT's default is the IEEE address)."""
    name = 'zigbee2mqtt'
    protocol = 'zigbee'
    base = 'zigbee2mqtt'
    topics = ('zigbee2mqtt/#',)
    ignored_suffixes = ('/set', '/get')
    sos_actions = {'sos', 'emergency', 'panic'}
    value_names = {
        'water_leak': 'water_leak', 'smoke': 'smoke', 'gas': 'gas',
        'occupancy': 'occupancy', 'presence': 'occupancy',
        'contact': 'contact', 'battery': 'battery', 'fall': 'fall',
        'heart_rate': 'heart_rate', 'temperature': 'temperature',
        'humidity': 'humidity', 'linkquality': 'linkquality',
        'tamper': 'tamper', 'battery_low': 'battery_low',
        }

    def match(self, topic):
        return topic.startswith(self.base + '/')

    def parse(self, topic, payload, properties=None):
        name = topic[len(self.base) + 1:]
        if not name or name.startswith('bridge/') or name == 'bridge' \
                or any(name.endswith(s) or (s + '/') in name
                    for s in self.ignored_suffixes):
            return []
        message_id = (user_property(properties, 'message_id', 'msg_id')
            or content_hash(topic, payload))
        if name.endswith('/availability'):
            name = name[:-len('/availability')]
            text = payload_text(payload).strip()
            if text.startswith('{'):
                data = load_json(payload)
                state = data.get('state') if isinstance(data, dict) else None
            else:
                state = text
            if state not in {'online', 'offline'}:
                raise MalformedMessage('invalid availability %r' % text)
            return [{
                    'protocol': self.protocol, 'device_key': name,
                    'time': now(), 'kind': 'availability',
                    'values': {'online': state == 'online'},
                    'raw': payload_text(payload), 'message_id': message_id,
                    }]
        data = load_json(payload)
        if not isinstance(data, dict):
            raise MalformedMessage('payload is not a JSON object')
        values = {}
        for key, value in data.items():
            if key in self.value_names and not isinstance(
                    value, (dict, list)):
                values[self.value_names[key]] = value
        action = data.get('action')
        if isinstance(action, str) and action.lower() in self.sos_actions:
            values['sos'] = True
        if data.get('alarm') is True and 'sos' not in values:
            values['sos'] = True
        return [{
                'protocol': self.protocol, 'device_key': name,
                'time': parse_time(data.get('last_seen')),
                'kind': kind_of(values, 'state'),
                'values': values,
                'raw': payload_text(payload), 'message_id': message_id,
                }]


class ChirpStack(Adapter):
    """ChirpStack v4 integration events:
    application/<app>/device/<devEui>/event/up (and status)."""
    name = 'chirpstack'
    protocol = 'lora'
    topics = ('application/+/device/+/event/+',)
    pattern = re.compile(
        r'^application/([^/]+)/device/([0-9A-Fa-f]{16})/event/([a-z]+)$')

    def match(self, topic):
        return topic.startswith('application/')

    def parse(self, topic, payload, properties=None):
        match = self.pattern.match(topic)
        if not match:
            raise MalformedMessage('unexpected ChirpStack topic')
        _, dev_eui, event_type = match.groups()
        if event_type not in {'up', 'status'}:
            return []  # join, ack, txack, log, location, integration
        data = load_json(payload)
        if not isinstance(data, dict):
            raise MalformedMessage('payload is not a JSON object')
        info = data.get('deviceInfo') or {}
        dev_eui = (info.get('devEui') or dev_eui).lower()
        values = {}
        if event_type == 'status':
            if data.get('batteryLevel') is not None:
                values['battery'] = data['batteryLevel']
            kind = 'heartbeat'
            message_id = data.get('deduplicationId') or content_hash(
                topic, payload)
        else:
            message_id = data.get('deduplicationId')
            if not message_id:
                raise MalformedMessage('uplink without deduplicationId')
            obj = data.get('object')
            if isinstance(obj, dict):
                values.update(
                    (k, v) for k, v in obj.items()
                    if not isinstance(v, (dict, list)))
            elif data.get('data'):
                values['data_hex'] = event.base64_hex(data['data'])
            for name in ('fCnt', 'fPort'):
                if data.get(name) is not None:
                    values[name] = data[name]
            rx = data.get('rxInfo') or []
            if rx and isinstance(rx[0], dict):
                for name in ('rssi', 'snr'):
                    if rx[0].get(name) is not None:
                        values[name] = rx[0][name]
            kind = kind_of(values, 'state')
        return [{
                'protocol': self.protocol, 'device_key': dev_eui,
                'time': parse_time(data.get('time')),
                'kind': kind, 'values': values,
                'raw': payload_text(payload), 'message_id': str(message_id),
                }]


class BLEGateway(Adapter):
    """BLE gateways (Minew, April Brother, Ingics style) publishing to
    ble/<gateway>/adv a JSON array of advertisements (or one object):

        {"timestamp": "…"|epoch, "type": "Unknown", "mac": "AC233FA1B2C3",
         "bleName": "…", "rssi": -63, "rawData": "0201061AFF…"}

    Each advertisement of a device (not the gateway's own "Gateway" entry)
    gives one event; the device identifier is its MAC, upper case without
    separators, protocol ble. Values: rssi, the gateway, and what can be
    decoded: fields the gateway already decoded (platform names at the top
    level or under "decoded"), the Battery Service data (UUID 0x180F) and
    the manufacturer data layout of MANUFACTURER_ID (see decode_raw).
    kind is vitals/alarm when such values are present, else heartbeat.
    Unreadable advertisements are skipped; a message with none readable
    is malformed. The message id is the advertisement's (MAC + timestamp + raw data):
    a redelivered message is stored once."""
    name = 'ble_gateway'
    protocol = 'ble'
    topics = ('ble/+/adv',)
    pattern = re.compile(r'^ble/([^/]+)/adv$')
    mac_pattern = re.compile(r'^[0-9A-F]{12}$')
    decoded_names = (ALARM_FLAGS + VITALS
        + ('battery', 'temperature', 'steps', 'button'))

    def match(self, topic):
        return bool(self.pattern.match(topic))

    def parse(self, topic, payload, properties=None):
        gateway = self.pattern.match(topic).group(1)
        data = load_json(payload)
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise MalformedMessage('payload is not a JSON array')
        events, errors = [], []
        for item in data:
            try:
                if not isinstance(item, dict):
                    raise MalformedMessage('advertisement is not an object')
                if str(item.get('type', '')).lower() == 'gateway':
                    continue  # the gateway's own status
                events.append(self.advertisement(gateway, item))
            except MalformedMessage as error:
                # a stranger's odd advertisement must not drop the others
                errors.append(error)
        if errors and not events:
            raise errors[0]
        return events

    def advertisement(self, gateway, item):
        mac = item.get('mac')
        if not isinstance(mac, str):
            raise MalformedMessage('advertisement without mac')
        mac = re.sub(r'[:\-]', '', mac).upper()
        if not self.mac_pattern.match(mac):
            raise MalformedMessage('invalid mac %r' % item.get('mac'))
        raw_hex = item.get('rawData') or ''
        if not isinstance(raw_hex, str):
            raise MalformedMessage('rawData is not a string')
        values = decode_raw(raw_hex)
        decoded = item.get('decoded')
        if decoded is not None and not isinstance(decoded, dict):
            raise MalformedMessage('"decoded" is not an object')
        for source in (item, decoded or {}):
            for name in self.decoded_names:
                value = source.get(name)
                if value is not None and not isinstance(value, (dict, list)):
                    values[name] = value
        if values.get('button') in {'sos', 'SOS'}:
            values['sos'] = True
        rssi = item.get('rssi')
        if rssi is not None:
            if isinstance(rssi, bool) or not isinstance(rssi, (int, float)):
                raise MalformedMessage('invalid rssi %r' % rssi)
            values['rssi'] = rssi
        values['gateway'] = gateway
        timestamp = item.get('timestamp')
        digest = hashlib.sha256(('%s\0%s\0%s' % (
                    mac, timestamp, raw_hex.upper())).encode()).hexdigest()
        return {
            'protocol': self.protocol, 'device_key': mac,
            'time': parse_time(timestamp),
            'kind': kind_of(values, 'heartbeat'),
            'values': values,
            'raw': json.dumps(item, ensure_ascii=False, sort_keys=True),
            'message_id': 'ble:%s:%s' % (mac, digest[:24]),
            }


# Manufacturer data (AD type 0xFF) of the platform's BLE devices, company
# identifier 0xFFFF (Bluetooth SIG: "for tests and internal use"), then a
# record type byte and little-endian fields:
#   0x01 blood pressure: systolic u16, diastolic u16, heart rate u8 (mmHg, bpm)
#   0x02 pulse oximeter: spo2 u8 (%), heart rate u8
#   0x03 button: flags u8 (bit 0 SOS, bit 1 fall)
MANUFACTURER_ID = 0xFFFF


def decode_raw(raw_hex):
    "Values of a raw advertisement (hex AD structures); MalformedMessage"
    try:
        raw = bytes.fromhex(raw_hex)
    except ValueError as error:
        raise MalformedMessage('rawData is not hexadecimal') from error
    values = {}
    i = 0
    while i < len(raw):
        length = raw[i]
        if length == 0:
            break  # padding
        if i + 1 + length > len(raw):
            raise MalformedMessage('truncated advertisement')
        ad_type, body = raw[i + 1], raw[i + 2:i + 1 + length]
        i += 1 + length
        if ad_type == 0x16 and len(body) >= 3 and body[:2] == b'\x0f\x18':
            values['battery'] = body[2]  # Battery Service data
        elif ad_type == 0xFF and len(body) >= 3 and int.from_bytes(
                body[:2], 'little') == MANUFACTURER_ID:
            record, fields = body[2], body[3:]
            if record == 0x01 and len(fields) >= 5:
                values['systolic'] = int.from_bytes(fields[0:2], 'little')
                values['diastolic'] = int.from_bytes(fields[2:4], 'little')
                values['heart_rate'] = fields[4]
            elif record == 0x02 and len(fields) >= 2:
                values['spo2'], values['heart_rate'] = fields[0], fields[1]
            elif record == 0x03 and len(fields) >= 1:
                if fields[0] & 1:
                    values['sos'] = True
                if fields[0] & 2:
                    values['fall'] = True
    return values


ADAPTERS = [GenericJSON(), Zigbee2MQTT(), ChirpStack(), BLEGateway()]


def parse(topic, payload, properties=None, adapters=ADAPTERS):
    """Return the events of one MQTT message (may be empty: ignored);
    raise MalformedMessage"""
    for adapter in adapters:
        if adapter.match(topic):
            return adapter.parse(topic, payload, properties)
    raise MalformedMessage('no adapter for topic %r' % topic)


def subscriptions(group='bridge', adapters=ADAPTERS):
    "The shared subscriptions of the adapters"
    return [f'$share/{group}/{t}' if group else t
        for a in adapters for t in a.topics]
