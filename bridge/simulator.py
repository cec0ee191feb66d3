"""Simulated devices for load and smoke tests against a running platform:

    python -m bridge simulate --devices N --protocol mqtt|watch|http \\
        --rate R --duration S [--register DATABASE]

N devices send R messages per second in all (round robin) for S seconds:
heartbeats with a slowly falling battery, vital signs, positions and, with
probability --sos-ratio, an SOS. Each message has a unique id / content, so
every one that arrives is stored once.

- mqtt: generic JSON on eldercare/<id>/event, QoS 1 (MQTT 5), to the broker
  the bridge listens to (--host, --port 1883); counted when the broker
  acknowledges.
- watch: one TCP connection per watch to `python -m bridge watch` (--port
  8001), "3G" frames LK / UD / AL; LK and AL answers are counted.
- http: POST <--url>/device/http/<id>/events with X-Device-Token (--token)
  to trytond (e.g. --url http://127.0.0.1:8000/eldercare); counted on 200.

--register DATABASE creates the simulated devices (type WATCH, in stock,
the HTTP token set) through the Tryton ORM first (trytond configured as for
the bridge), skipping those already there; in stock they store telemetry
and raise no alarm. The identifiers are <--prefix><index> (watches: 10
digits). Prints the counters as JSON at the end."""
import datetime as dt
import http.client
import json
import logging
import random
import socket
import threading
import time
import urllib.parse

logger = logging.getLogger(__name__)

PROTOCOLS = {'mqtt': 'mqtt', 'watch': 'tcp_watch', 'http': 'http'}
# Around Hohhot
BASE_POSITION = (40.8424, 111.7490)


def identifiers(protocol, count, prefix=None):
    if protocol == 'watch':
        prefix = prefix if prefix is not None else '99'
        width = 10 - len(prefix)
        return ['%s%0*d' % (prefix, width, i) for i in range(1, count + 1)]
    prefix = prefix if prefix is not None else 'SIM'
    return ['%s%05d' % (prefix, i) for i in range(1, count + 1)]


class Simulator:
    "Deterministic (by seed) stream of device messages"

    def __init__(self, devices, sos_ratio=0.01, seed=None, start=None):
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
            kind, values = 'alarm', {'sos': True, 'battery': battery}
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
        status = 0x00010000 if values.get('sos') else 0
        command = 'AL' if message['kind'] == 'alarm' else 'UD'
        content = '%s,%s,%s,A,%.6f,N,%.6f,E,0.00,0,1000,8,100,%d,0,0,%08X' % (
            command, ts.strftime('%d%m%y'), ts.strftime('%H%M%S'),
            lat, lon, battery, status)
    data = content.encode('ascii')
    return b'[%s*%s*%04X*%s]' % (
        vendor.encode(), device.encode(), len(data), data)


def http_body(message):
    return json.dumps([message])


# --- senders -----------------------------------------------------------

class MQTTSender:
    def __init__(self, host, port, client_id='simulator'):
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
        topic, payload = mqtt_message(device, message)
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


class HTTPSender:
    def __init__(self, url, token, timeout=30):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {'http', 'https'}:
            raise ValueError('--url must be http(s)://host:port/<database>')
        connection = (http.client.HTTPSConnection if parts.scheme == 'https'
            else http.client.HTTPConnection)
        self.connection = connection(parts.netloc, timeout=timeout)
        self.path = parts.path.rstrip('/')
        self.token = token
        self.status = {}

    def send(self, device, message):
        self.connection.request('POST',
            '%s/device/http/%s/events' % (
                self.path, urllib.parse.quote(device, safe='')),
            body=http_body(message), headers={
                'Content-Type': 'application/json',
                'X-Device-Token': self.token or ''})
        response = self.connection.getresponse()
        response.read()
        self.status[response.status] = self.status.get(
            response.status, 0) + 1
        return response.status == 200

    def close(self):
        self.connection.close()
        return {'http_status': {str(k): v for k, v in self.status.items()}}


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
        help='identifier prefix (SIM; watches: 99)')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=None,
        help='broker (1883) or watch server (8001) port')
    parser.add_argument('--url', default=env('SIMULATOR_URL'),
        help='http: the platform with the database, '
        'e.g. http://127.0.0.1:8000/eldercare')
    parser.add_argument('--token', default=env('SIMULATOR_TOKEN'),
        help='http: X-Device-Token of the simulated devices')
    parser.add_argument('--sos-ratio', type=float, default=0.01)
    parser.add_argument('--seed', type=int, default=None)
    parser.add_argument('--register', metavar='DATABASE', default=None,
        help='create the simulated devices in this database first')
    parser.add_argument('--config', '-c', default=env('TRYTOND_CONFIG'))
    parser.add_argument('--log-level', default=env('BRIDGE_LOG_LEVEL', 'INFO'))


def main(args):
    devices = identifiers(args.protocol, args.devices, args.prefix)
    if args.register:
        created = register(args.register, PROTOCOLS[args.protocol], devices,
            token=args.token, config_file=args.config)
        logger.info('%s simulated devices registered', created)
    if args.protocol == 'mqtt':
        sender = MQTTSender(args.host, args.port or 1883)
    elif args.protocol == 'watch':
        sender = WatchSender(args.host, args.port or 8001)
    else:
        if not args.url:
            raise SystemExit('--url is required for http')
        sender = HTTPSender(args.url, args.token)
    stats = run(sender, Simulator(devices, args.sos_ratio, args.seed),
        args.rate, args.duration)
    stats['protocol'] = args.protocol
    stats['devices'] = len(devices)
    print(json.dumps(stats))
    return 0 if not stats['failed'] else 1
