"""Simulated devices for load and smoke tests against a running platform:

    python -m bridge simulate --devices N --protocol PROTOCOL \\
        --rate R --duration S [--register DATABASE] [--alarm sos|smoke|…]

N devices send R messages per second in all (round robin) for S seconds:
heartbeats with a slowly falling battery, vital signs, positions and, with
probability --sos-ratio, an alarm (--alarm: sos by default, or smoke, gas,
water_leak, fall). Each message has a unique id / content, so every one
that arrives is stored once. PROTOCOL, in the formats of the field
(../shared/standards/CODES.md, bridge/tests/payloads):

- mqtt: generic JSON on eldercare/<id>/event, QoS 1 (MQTT 5), to the broker
  the bridge listens to (--host, --port 1883); counted when the broker
  acknowledges. The same for
- zigbee: Zigbee2MQTT state JSON on zigbee2mqtt/<friendly name> (with
  last_seen, as the bridge requires), SOS as action "sos";
- lora: ChirpStack v4 uplink events on
  application/<app>/device/<devEui>/event/up (deduplicationId, deviceInfo,
  fCnt, data base64 and the decoded object, rxInfo, txInfo);
- ble: a BLE gateway's JSON array of advertisements on ble/<gateway>/adv
  (manufacturer data 0xFFFF: pulse oximeter and button records, Battery
  Service data).
- watch: one TCP connection per watch to `python -m bridge watch` (--port
  8001), "3G" frames LK / UD / AL; LK and AL answers are counted.
- udp: JSON datagrams to `python -m bridge udp` (--port 8002); counted
  when the ack (sent after the commit) arrives; unacknowledged datagrams
  are resent, as devices do, before giving up.
- http: POST <--url>/device/http/<id>/events with X-Device-Token (--token)
  to trytond (e.g. --url http://127.0.0.1:8000/eldercare); counted on 200.
- onenet: OneNET Studio HTTP push (notify property / event) to
  <--url>/device/onenet, signed base64(md5(token + nonce + msg)) with the
  push token --token, after the URL verification handshake (GET with msg,
  nonce, signature: the answer must echo msg); counted on 200.
- ctwing: CTWing (AEP) dataReport / eventReport to
  <--url>/device/ctwing?token=<--token>; counted on 200 {"status": "ok"}.

--register DATABASE creates the simulated devices (type WATCH, or --type,
in stock, the HTTP token set) through the Tryton ORM first (trytond
configured as for the bridge), skipping those already there; in stock they
store telemetry and raise no alarm. The identifiers are <--prefix><index>
(watches and NB-IoT: digits; LoRa: a 16-digit devEUI; BLE: a 12-digit
MAC). Prints the counters as JSON at the end."""
import base64
import datetime as dt
import hashlib
import http.client
import json
import logging
import random
import socket
import threading
import time
import urllib.parse
import uuid

from . import event

logger = logging.getLogger(__name__)

# simulator protocol → device.device protocol
PROTOCOLS = {
    'mqtt': 'mqtt', 'zigbee': 'zigbee', 'lora': 'lora', 'ble': 'ble',
    'watch': 'tcp_watch', 'udp': 'udp', 'http': 'http',
    'onenet': 'nbiot_onenet', 'ctwing': 'nbiot_ctwing',
    }
MQTT_PROTOCOLS = {'mqtt', 'zigbee', 'lora', 'ble'}
HTTP_PROTOCOLS = {'http', 'onenet', 'ctwing'}
ALARMS = ('sos', 'fall', 'smoke', 'gas', 'water_leak')
# A fixed ChirpStack application and tenant of the simulated LoRa devices
LORA_APPLICATION = '0b5a7a9e-6a3b-4c11-9d2e-1f2a3b4c5d6e'
LORA_TENANT = '52f14cd4-c6f1-4fbd-8f87-4025e1d49242'
BLE_GATEWAY = 'AC233FC0FFEE'
BLE_COMPANY = b'\xff\xff'  # manufacturer data company id (bridge.adapters)
# Around Hohhot
BASE_POSITION = (40.8424, 111.7490)


def identifiers(protocol, count, prefix=None):
    if protocol in {'watch', 'onenet', 'ctwing'}:
        # watches: 10 digits; NB-IoT modules: their 15-digit IMEI
        default, width = {'watch': ('99', 10), 'onenet': ('8681203', 15),
            'ctwing': ('8699750', 15)}[protocol]
        prefix = prefix if prefix is not None else default
        return ['%s%0*d' % (prefix, width - len(prefix), i)
            for i in range(1, count + 1)]
    if protocol in {'lora', 'ble'}:
        # devEUI (16 hex digits, lower case as ChirpStack sends it) or MAC
        # (12, upper case without separators, as the BLE adapter keeps it)
        default, width = {'lora': ('a84041', 16), 'ble': ('AC233F', 12)}[
            protocol]
        prefix = prefix if prefix is not None else default
        ids = ['%s%0*X' % (prefix, width - len(prefix), i)
            for i in range(1, count + 1)]
        return [i.lower() for i in ids] if protocol == 'lora' else ids
    if protocol == 'zigbee':
        prefix = prefix if prefix is not None else 'sim_zb_'
    prefix = prefix if prefix is not None else 'SIM'
    return ['%s%05d' % (prefix, i) for i in range(1, count + 1)]


class Simulator:
    "Deterministic (by seed) stream of device messages"

    def __init__(self, devices, sos_ratio=0.01, seed=None, start=None,
            alarm='sos'):
        if alarm not in ALARMS:
            raise ValueError('alarm must be one of %s' % ', '.join(ALARMS))
        self.alarm = alarm
        self.devices = list(devices)
        self.random = random.Random(seed)  # noqa: S311 (simulated readings, not secrets)
        self.sos_ratio = sos_ratio
        self.start = start or dt.datetime.now(dt.timezone.utc).replace(
            microsecond=0)
        self.sequence = 0
        self.battery = {d: 100 for d in self.devices}

    def next(self):
        """(device, message dict): id, ts (one virtual second per message
        and device, so contents never repeat), kind, values"""
        index = self.sequence % len(self.devices)
        step = self.sequence // len(self.devices)
        device = self.devices[index]
        self.sequence += 1
        ts = self.start + dt.timedelta(seconds=step)
        rnd = self.random.random()
        if step % 50 == 0:
            self.battery[device] = max(5, self.battery[device] - 1)
        battery = self.battery[device]
        if rnd < self.sos_ratio:
            kind, values = 'alarm', {self.alarm: True, 'battery': battery}
        elif rnd < 0.4:
            kind, values = 'heartbeat', {'battery': battery}
        elif rnd < 0.7:
            kind, values = 'vitals', {
                'heart_rate': self.random.randint(55, 110),
                'spo2': self.random.randint(92, 99), 'battery': battery}
        else:
            kind, values = 'position', {
                'latitude': round(BASE_POSITION[0]
                    + self.random.uniform(-0.01, 0.01), 6),
                'longitude': round(BASE_POSITION[1]
                    + self.random.uniform(-0.01, 0.01), 6),
                'battery': battery}
        return device, {
            'id': 'sim-%s-%d' % (device, step), 'ts': ts.isoformat(),
            'kind': kind, 'values': values}


# --- encoders ----------------------------------------------------------

def mqtt_message(device, message):
    return 'eldercare/%s/event' % device, json.dumps(message)


def watch_frame(device, message, vendor='3G'):
    """A 3G frame: LK for heartbeats, AL for alarms, UD otherwise; UD/AL
    carry the message's time, so each is distinct."""
    values = message['values']
    battery = values.get('battery', 80)
    if message['kind'] == 'heartbeat':
        content = 'LK,0,0,%d' % battery
    else:
        ts = dt.datetime.fromisoformat(message['ts']).astimezone(
            dt.timezone.utc)
        lat = values.get('latitude', BASE_POSITION[0])
        lon = values.get('longitude', BASE_POSITION[1])
        status = (0x00010000 if values.get('sos') else 0) | (
            0x00200000 if values.get('fall') else 0)
        command = 'AL' if message['kind'] == 'alarm' else 'UD'
        content = '%s,%s,%s,A,%.6f,N,%.6f,E,0.00,0,1000,8,100,%d,0,0,%08X' % (
            command, ts.strftime('%d%m%y'), ts.strftime('%H%M%S'),
            lat, lon, battery, status)
    data = content.encode('ascii')
    return b'[%s*%s*%04X*%s]' % (
        vendor.encode(), device.encode(), len(data), data)


def http_body(message):
    return json.dumps([message])


def _epoch_ms(message):
    return int(dt.datetime.fromisoformat(message['ts']).timestamp() * 1000)


def zigbee_message(device, message):
    """Zigbee2MQTT state: the device's exposed values, battery, link
    quality and last_seen (ISO 8601: two identical states at different
    times are different messages); an SOS button's press is an action."""
    values = dict(message['values'])
    state = {'battery': values.pop('battery', 90), 'linkquality': 120,
        'last_seen': message['ts']}
    if values.pop('sos', False):
        state['action'] = 'sos'
    if message['kind'] == 'position':
        # no position in Zigbee: a presence sensor seeing someone
        values = {'occupancy': True}
    state.update(values)
    return 'zigbee2mqtt/%s' % device, json.dumps(state)


def chirpstack_message(device, message, fcnt=None):
    "A ChirpStack v4 uplink event of the device (devEUI)"
    values = message['values']
    # the device's frame: battery, then heart rate / spo2 / alarm flags
    flags = sum(1 << i for i, name in enumerate(ALARMS) if values.get(name))
    frame = bytes([values.get('battery', 90) & 0xFF, flags,
        values.get('heart_rate', 0) & 0xFF, values.get('spo2', 0) & 0xFF])
    dedup = uuid.uuid5(uuid.NAMESPACE_URL, 'lora:%s:%s' % (
            device, message['id']))
    payload = {
        'deduplicationId': str(dedup),
        'time': message['ts'],
        'deviceInfo': {
            'tenantId': LORA_TENANT, 'tenantName': 'ChirpStack',
            'applicationId': LORA_APPLICATION,
            'applicationName': 'eldercare',
            'deviceProfileId': 'e2f4c1a0-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
            'deviceProfileName': 'eldercare-sensor',
            'deviceName': 'sim-%s' % device[-4:], 'devEui': device,
            'tags': {}},
        'devAddr': device[-8:], 'adr': True, 'dr': 5,
        'fCnt': fcnt if fcnt is not None else int(
            message['id'].rsplit('-', 1)[-1]),
        'fPort': 2, 'confirmed': False,
        'data': base64.b64encode(frame).decode('ascii'),
        'object': {k: v for k, v in values.items()},
        'rxInfo': [{'gatewayId': '0016c001ff10a235',
                'uplinkId': dedup.int & 0xFFFFFFFF, 'rssi': -60, 'snr': 9.5,
                'context': 'EFwMtA==',
                'metadata': {'region_common_name': 'CN470'}}],
        'txInfo': {'frequency': 486300000, 'modulation': {'lora': {
                    'bandwidth': 125000, 'spreadingFactor': 7,
                    'codeRate': 'CR_4_5'}}},
        }
    return ('application/%s/device/%s/event/up' % (LORA_APPLICATION, device),
        json.dumps(payload))


def ble_raw(values):
    """Raw advertisement (hex AD structures): flags, Battery Service data,
    the manufacturer data records bridge.adapters.decode_raw reads"""
    ads = [b'\x01\x06']  # flags
    if 'battery' in values:
        ads.append(b'\x16\x0f\x18' + bytes([values['battery'] & 0xFF]))
    if values.get('sos') or values.get('fall'):
        ads.append(b'\xff' + BLE_COMPANY + b'\x03' + bytes([
                    (1 if values.get('sos') else 0)
                    | (2 if values.get('fall') else 0)]))
    elif 'spo2' in values:
        ads.append(b'\xff' + BLE_COMPANY + b'\x02' + bytes([
                    values['spo2'] & 0xFF, values.get('heart_rate', 0) & 0xFF]))
    return b''.join(bytes([len(ad)]) + ad for ad in ads).hex().upper()


def ble_message(device, message, gateway=BLE_GATEWAY):
    "A BLE gateway's upload: its own entry and the device's advertisement"
    mac = ':'.join(device[i:i + 2] for i in range(0, 12, 2))
    return 'ble/%s/adv' % gateway, json.dumps([
            {'timestamp': message['ts'], 'type': 'Gateway', 'mac': gateway,
                'gatewayFree': 95, 'gatewayLoad': 0.1},
            {'timestamp': message['ts'], 'type': 'Unknown', 'mac': mac,
                'bleName': 'SIM-%s' % device[-4:], 'rssi': -65,
                'rawData': ble_raw(message['values'])},
            ])


MQTT_ENCODERS = {
    'mqtt': mqtt_message, 'zigbee': zigbee_message,
    'lora': chirpstack_message, 'ble': ble_message,
    }


def udp_datagram(device, message):
    return json.dumps({'id': device, 'msg_id': message['id'],
            'time': message['ts'], 'kind': message['kind'],
            'values': message['values']}).encode()


def onenet_body(device, message, token, nonce=None):
    """OneNET Studio push: msg is the JSON text of a property notify (an
    event notify for alarms), signed with the push token"""
    ms = _epoch_ms(message)
    alarm = message['kind'] == 'alarm'
    params = {name: {'value': value, 'time': ms}
        for name, value in message['values'].items()}
    msg = json.dumps({
            'messageType': 'notify',
            'notifyType': 'event' if alarm else 'property',
            'productId': 'SimProduct', 'deviceName': device,
            'data': {'id': message['id'].rsplit('-', 1)[-1],
                'version': '1.0', 'params': params},
            }, separators=(',', ':'))
    nonce = nonce or uuid.uuid4().hex[:8]
    return json.dumps({
            'msg': msg, 'nonce': nonce,
            'signature': event.onenet_signature(token or '', nonce, msg),
            'time': ms,
            'id': hashlib.md5(  # noqa: S324 (an id like OneNET's, not security)
                ('%s:%s' % (device, message['id'])).encode()).hexdigest(),
            })


def ctwing_body(device, message):
    """CTWing (AEP) push: dataReport with the service data, eventReport
    for alarms"""
    sequence = int(message['id'].rsplit('-', 1)[-1])
    return json.dumps({
            'upPacketSN': sequence, 'upDataSN': sequence % 65536,
            'topic': 'v1/up/ad', 'timestamp': _epoch_ms(message),
            'tenantId': '2000011111', 'serviceId': '',
            'protocol': 'lwm2m', 'productId': '15099999',
            'messageType': 'eventReport' if message['kind'] == 'alarm'
            else 'dataReport',
            'deviceId': hashlib.md5(device.encode()).hexdigest(),  # noqa: S324 (an id like CTWing's, not security)
            'payload': {'serviceData': message['values']},
            'assocAssetId': '', 'IMSI': '46011%010d' % (sequence % 10**10),
            'IMEI': device, 'deviceType': '',
            })


# --- senders -----------------------------------------------------------

class MQTTSender:
    "Publishes with QoS 1; the encoder gives the topic and the payload"

    def __init__(self, host, port, client_id='simulator', encoder=None):
        self.encoder = encoder or mqtt_message
        import paho.mqtt.client as mqtt
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
            protocol=mqtt.MQTTv5)
        self.acked = 0
        self.client.on_publish = self._on_publish
        self.client.connect(host, port)
        self.client.loop_start()
        self.pending = []

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        self.acked += 1

    def send(self, device, message):
        topic, payload = self.encoder(device, message)
        self.pending.append(self.client.publish(topic, payload, qos=1))
        return True

    def close(self, timeout=30):
        deadline = time.monotonic() + timeout
        for info in self.pending:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        self.client.loop_stop()
        self.client.disconnect()
        return {'acked': self.acked}


class WatchSender:
    """One connection per watch; the answers (LK and AL, sent by the server
    after its commit) are read by a thread per connection, so sending does
    not wait for the database."""

    def __init__(self, host, port, timeout=30):
        self.host, self.port, self.timeout = host, port, timeout
        self.sockets = {}
        self.expected = 0
        self.answered = 0
        self.lock = threading.Lock()
        self.threads = []

    def _socket(self, device):
        sock = self.sockets.get(device)
        if sock is None:
            sock = socket.create_connection(
                (self.host, self.port), timeout=self.timeout)
            self.sockets[device] = sock
            thread = threading.Thread(
                target=self._read, args=(sock,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return sock

    def _read(self, sock):
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                with self.lock:
                    self.answered += chunk.count(b']')
        except OSError:
            return

    def send(self, device, message):
        data = watch_frame(device, message)
        self._socket(device).sendall(data)
        if data.split(b'*', 3)[3][:2] in {b'LK', b'AL'}:
            with self.lock:
                self.expected += 1
        return True

    def close(self):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.answered >= self.expected:
                    break
            time.sleep(0.05)
        for sock in self.sockets.values():
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        return {'expected_answers': self.expected, 'answered': self.answered}


class UDPSender:
    """JSON datagrams from one socket; a reader thread counts the acks
    (sent by the server after its commit). At the end, datagrams still
    without an ack are resent every --udp-resend seconds, as devices do,
    until acknowledged or the timeout."""

    def __init__(self, host, port, timeout=30, resend=2.0):
        self.address = (host, port)
        self.timeout, self.resend = timeout, resend
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(0.2)
        self.pending = {}
        self.status = {}
        self.resent = 0
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while not self.closing.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                answer = json.loads(data)
            except ValueError:
                continue
            with self.lock:
                if self.pending.pop(str(answer.get('ack')), None) is not None:
                    status = answer.get('status')
                    self.status[status] = self.status.get(status, 0) + 1

    def send(self, device, message):
        data = udp_datagram(device, message)
        with self.lock:
            self.pending[message['id']] = data
        self.sock.sendto(data, self.address)
        return True

    def close(self):
        deadline = time.monotonic() + self.timeout
        next_resend = time.monotonic() + self.resend
        while time.monotonic() < deadline:
            with self.lock:
                waiting = list(self.pending.values())
            if not waiting:
                break
            if time.monotonic() >= next_resend:
                for data in waiting:
                    self.sock.sendto(data, self.address)
                self.resent += len(waiting)
                next_resend = time.monotonic() + self.resend
            time.sleep(0.05)
        self.closing.set()
        self.reader.join(1)
        self.sock.close()
        with self.lock:
            return {'acked': sum(self.status.values()),
                'unacked': len(self.pending), 'resent': self.resent,
                'ack_status': dict(self.status)}


class HTTPSender:
    """POSTs to trytond's device routes: a device's own JSON (http), the
    OneNET push (onenet: after the URL verification handshake) or the
    CTWing push (ctwing). Counted ok on 200 with {"status": "ok"}."""

    def __init__(self, url, token, protocol='http', timeout=30):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {'http', 'https'}:
            raise ValueError('--url must be http(s)://host:port/<database>')
        connection = (http.client.HTTPSConnection if parts.scheme == 'https'
            else http.client.HTTPConnection)
        self.connection = connection(parts.netloc, timeout=timeout)
        self.path = parts.path.rstrip('/')
        self.token = token
        self.protocol = protocol
        self.status = {}
        self.handshake = None
        if protocol == 'onenet':
            self.handshake = self.verify_url()

    def _request(self, method, path, body=None, headers=None):
        self.connection.request(method, path, body=body,
            headers=headers or {})
        response = self.connection.getresponse()
        return response.status, response.read()

    def verify_url(self):
        """OneNET's URL verification: GET with msg, nonce and signature;
        the receiver must answer msg itself. Returns True when it did."""
        msg, nonce = uuid.uuid4().hex, uuid.uuid4().hex[:8]
        query = urllib.parse.urlencode({'msg': msg, 'nonce': nonce,
                'signature': event.onenet_signature(
                    self.token or '', nonce, msg)})
        status, body = self._request('GET',
            '%s/device/onenet?%s' % (self.path, query))
        ok = status == 200 and body.decode('utf-8', 'replace') == msg
        if not ok:
            logger.warning('OneNET URL verification failed: %s %.200r',
                status, body)
        return ok

    def request(self, device, message):
        headers = {'Content-Type': 'application/json'}
        if self.protocol == 'onenet':
            return ('%s/device/onenet' % self.path,
                onenet_body(device, message, self.token), headers)
        if self.protocol == 'ctwing':
            return ('%s/device/ctwing?%s' % (self.path,
                    urllib.parse.urlencode({'token': self.token or ''})),
                ctwing_body(device, message), headers)
        headers['X-Device-Token'] = self.token or ''
        return ('%s/device/http/%s/events' % (
                self.path, urllib.parse.quote(device, safe='')),
            http_body(message), headers)

    def send(self, device, message):
        path, body, headers = self.request(device, message)
        status, data = self._request('POST', path, body, headers)
        self.status[status] = self.status.get(status, 0) + 1
        if status != 200:
            return False
        try:
            return json.loads(data).get('status') == 'ok'
        except ValueError:
            return False

    def close(self):
        self.connection.close()
        result = {'http_status': {str(k): v for k, v in self.status.items()}}
        if self.handshake is not None:
            result['url_verified'] = self.handshake
        return result


# --- registration and run ----------------------------------------------

def register(database, protocol, devices, token=None, type_code='WATCH',
        config_file=None):
    "Create the simulated devices that are missing; return how many"
    from .store import TrytonStore
    store = TrytonStore(database, config_file)
    with store.Transaction().start(database, 0) as transaction:
        pool = store.Pool()
        Device = pool.get('device.device')
        Type = pool.get('device.type')
        type_, = Type.search([('code', '=', type_code)])
        existing = {d.identifier for d in Device.search([
                    ('protocol', '=', protocol),
                    ('identifier', 'in', devices)])}
        values = [{
                'type': type_.id, 'protocol': protocol, 'identifier': d,
                'note': 'simulated (python -m bridge simulate)',
                } for d in devices if d not in existing]
        if token and protocol == 'http':
            for value in values:
                value['http_token'] = token
        if values:
            Device.create(values)
        transaction.commit()
    return len(values)


def run(sender, simulator, rate, duration, clock=time.monotonic,
        sleep=time.sleep):
    "Send at `rate` messages per second for `duration` seconds"
    stats = {'sent': 0, 'ok': 0, 'failed': 0}
    interval = 1.0 / rate if rate > 0 else 0
    start = clock()
    next_at = start
    while clock() - start < duration:
        device, message = simulator.next()
        try:
            ok = sender.send(device, message)
        except OSError as error:
            logger.warning('%s: %s', device, error)
            ok = False
        stats['sent'] += 1
        stats['ok' if ok else 'failed'] += 1
        next_at += interval
        delay = next_at - clock()
        if delay > 0:
            sleep(delay)
    stats['seconds'] = round(clock() - start, 3)
    stats.update(sender.close())
    return stats


def add_arguments(parser, env):
    parser.add_argument('--protocol', choices=sorted(PROTOCOLS),
        default='mqtt')
    parser.add_argument('--devices', type=int, default=10)
    parser.add_argument('--rate', type=float, default=10.0,
        help='messages per second, all devices together')
    parser.add_argument('--duration', type=float, default=10.0,
        help='seconds')
    parser.add_argument('--prefix', default=None,
        help='identifier prefix (SIM; zigbee: sim_zb_; watches: 99; '
        'lora: a84041; ble: AC233F; onenet: 8681203; ctwing: 8699750)')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=None,
        help='broker (1883), watch server (8001) or UDP server (8002) port')
    parser.add_argument('--url', default=env('SIMULATOR_URL'),
        help='http, onenet, ctwing: the platform with the database, '
        'e.g. http://127.0.0.1:8000/eldercare')
    parser.add_argument('--token', default=env('SIMULATOR_TOKEN'),
        help='http: X-Device-Token of the simulated devices; onenet, '
        'ctwing: the push token configured in the platform')
    parser.add_argument('--sos-ratio', type=float, default=0.01,
        help='share of the messages that are alarms')
    parser.add_argument('--alarm', choices=ALARMS, default='sos',
        help='the alarm flag the alarms carry (e.g. smoke for a smoke '
        'sensor)')
    parser.add_argument('--type', default='WATCH', dest='type_code',
        help='--register: device type code (WATCH, SOS, SMOKE …)')
    parser.add_argument('--seed', type=int, default=None)
    parser.add_argument('--register', metavar='DATABASE', default=None,
        help='create the simulated devices in this database first')
    parser.add_argument('--config', '-c', default=env('TRYTOND_CONFIG'))
    parser.add_argument('--log-level', default=env('BRIDGE_LOG_LEVEL', 'INFO'))


def make_sender(args):
    protocol = args.protocol
    if protocol in MQTT_PROTOCOLS:
        return MQTTSender(args.host, args.port or 1883,
            client_id='simulator-%s-%s' % (protocol, uuid.uuid4().hex[:6]),
            encoder=MQTT_ENCODERS[protocol])
    if protocol == 'watch':
        return WatchSender(args.host, args.port or 8001)
    if protocol == 'udp':
        return UDPSender(args.host, args.port or 8002)
    if not args.url:
        raise SystemExit('--url is required for %s' % protocol)
    return HTTPSender(args.url, args.token, protocol=protocol)


def main(args):
    devices = identifiers(args.protocol, args.devices, args.prefix)
    if args.register:
        created = register(args.register, PROTOCOLS[args.protocol], devices,
            token=args.token, type_code=args.type_code,
            config_file=args.config)
        logger.info('%s simulated devices registered', created)
    sender = make_sender(args)
    stats = run(sender, Simulator(devices, args.sos_ratio, args.seed,
            alarm=args.alarm), args.rate, args.duration)
    stats['protocol'] = args.protocol
    stats['devices'] = len(devices)
    print(json.dumps(stats))
    ok = not stats['failed'] and not stats.get('unacked') \
        and stats.get('url_verified', True)
    return 0 if ok else 1
