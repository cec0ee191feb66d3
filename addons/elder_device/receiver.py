# This file is part of the eldercare platform. See LICENSE.
"""HTTP receivers of device messages (routes.py): NB-IoT platforms' push
(OneNET, CTWing) and devices that post JSON themselves.

Each turns the request into the normalised events of the bridge
(protocol, device_key, time, kind, values, raw, message_id; see
bridge/adapters.py) and stores them with Device.ingest, so storing is
idempotent on device + message id and the alarm rules are the same. The
parsers below do no I/O; ``Receiver`` checks signatures and tokens and
answers (status, JSON)."""
import hashlib
import hmac
import json
import logging
import secrets

from trytond.model import fields
from trytond.pool import Pool, PoolMeta

from .event import (
    ALARM_FLAGS, Malformed, base64_hex, content_hash, from_object, kind_of,
    load_json, onenet_signature, parse_time, scalar)

logger = logging.getLogger(__name__)

# Largest request body a receiver reads: one push or a device's batch
MAX_BODY = 256 * 1024
MAX_EVENTS = 100


# --- OneNET ------------------------------------------------------------

def onenet_check(token, nonce, msg, signature):
    if not (token and isinstance(nonce, str) and isinstance(msg, str)
            and isinstance(signature, str)):
        return False
    # A '+' of the base64 signature arrives as a space when OneNET does not
    # percent-encode the query string of the handshake
    signature = signature.replace(' ', '+')
    return hmac.compare_digest(
        onenet_signature(token, nonce, msg).encode('ascii'),
        signature.encode('ascii', 'replace'))


def onenet_envelope(body):
    """The push body {msg, nonce, signature, time, id} → (msg text, nonce,
    signature, id). msg may be a JSON text (OneNET Studio) or, in the older
    data push, an object or a list (signed over its compact JSON)."""
    data = load_json(body)
    if not isinstance(data, dict):
        raise Malformed('body is not a JSON object')
    if data.get('enc_msg') is not None:
        raise Malformed('encrypted (AES) push is not supported: '
            'turn encryption off for this push')
    msg = data.get('msg')
    if isinstance(msg, (dict, list)):
        msg = json.dumps(msg, separators=(',', ':'), ensure_ascii=False)
    if not isinstance(msg, str) or not msg:
        raise Malformed('"msg" missing')
    nonce = data.get('nonce')
    signature = data.get('signature') or data.get('msg_signature')
    if not isinstance(nonce, str) or not isinstance(signature, str):
        raise Malformed('"nonce" or "signature" missing')
    return msg, nonce, signature, data.get('id')


def _onenet_params(params):
    values, times = {}, []
    for name, item in (params or {}).items():
        if isinstance(item, dict) and 'value' in item:
            if item.get('time') is not None:
                times.append(parse_time(item['time']))
            item = item['value']
        if isinstance(item, dict) and name in ALARM_FLAGS:
            item = True  # an event with its output data
        if scalar(item):
            values[name] = item
    return values, (max(times) if times else None)


def parse_onenet(msg, push_id=None):
    """OneNET msg text → events. OneNET Studio: {messageType: notify,
    notifyType: property|event, deviceName, data: {id, params: {name:
    {value, time}}}} and lifeCycle (status online/offline); the older data
    push: {type: 1, dev_id, ds_id, at, value} and {type: 2, dev_id,
    status} (a list of them too)."""
    data = load_json(msg)
    items = data if isinstance(data, list) else [data]
    events = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise Malformed('msg is not a JSON object')
        base_id = str(push_id) if push_id else content_hash('onenet', msg)
        message_id = base_id if len(items) == 1 else '%s:%s' % (
            base_id, index)
        if 'messageType' in item:
            key = item.get('deviceName')
            mtype = item.get('messageType')
            if mtype == 'notify':
                payload = item.get('data') or {}
                if not isinstance(payload, dict) or not isinstance(
                        payload.get('params', {}), dict):
                    raise Malformed('"data.params" is not an object')
                values, time = _onenet_params(payload.get('params'))
                kind = 'alarm' if item.get('notifyType') == 'event' \
                    and any(values.get(f) for f in ALARM_FLAGS) \
                    else kind_of(values, 'state')
                time = time or parse_time(item.get('time') or payload.get(
                        'time'))
                if not push_id and payload.get('id'):
                    message_id = 'n:%s' % payload['id']
            elif mtype == 'lifeCycle':
                status = (item.get('data') or {}).get('status') if isinstance(
                    item.get('data'), dict) else item.get('status')
                if status not in {'online', 'offline'}:
                    raise Malformed('invalid lifeCycle status %r' % status)
                values, kind = {'online': status == 'online'}, 'availability'
                time = parse_time(item.get('time'))
            else:
                continue  # replies, set results, …
        elif item.get('type') in {1, 2}:
            key = item.get('imei') or item.get('dev_id')
            time = parse_time(item.get('at'))
            if item['type'] == 1:
                name, value = item.get('ds_id'), item.get('value')
                if not isinstance(name, str) or not scalar(value):
                    raise Malformed('invalid data point')
                values = {name: value}
                kind = kind_of(values, 'state')
            else:
                values = {'online': bool(item.get('status'))}
                kind = 'availability'
        else:
            raise Malformed('unknown OneNET message')
        if key is None or key == '':
            raise Malformed('no device name')
        events.append({
                'protocol': 'nbiot_onenet', 'device_key': str(key),
                'time': time, 'kind': kind, 'values': values,
                'raw': msg, 'message_id': message_id,
                })
    return events


# --- CTWing ------------------------------------------------------------

def parse_ctwing(body):
    """CTWing (AEP) subscription push → events. dataReport (payload
    serviceData, or APPdata base64 for transparent devices), eventReport
    (an alarm), deviceOnlineOfflineReport (eventType 1 online, 0 offline);
    other message types are acknowledged and ignored. The device is its
    IMEI (else the platform's deviceId); the message id is the platform's
    when it sends one, else deviceId + timestamp + packet numbers."""
    data = load_json(body)
    if not isinstance(data, dict):
        raise Malformed('body is not a JSON object')
    mtype = data.get('messageType')
    key = data.get('IMEI') or data.get('imei') or data.get('deviceId')
    if not mtype or not key:
        raise Malformed('"messageType" or device missing')
    raw = body.decode('utf-8', 'replace') if isinstance(
        body, bytes) else body
    message_id = data.get('messageId') or data.get('requestId')
    if not message_id:
        message_id = 'ct:%s:%s:%s:%s:%s' % (
            mtype, data.get('deviceId') or key, data.get('timestamp'),
            data.get('upPacketSN'), data.get('upDataSN'))
    time = parse_time(data.get('timestamp'))
    if mtype in {'dataReport', 'eventReport'}:
        payload = data.get('payload') or {}
        if not isinstance(payload, dict):
            raise Malformed('"payload" is not an object')
        values = {}
        service = payload.get('serviceData', payload)
        if isinstance(service, dict):
            values.update((k, v) for k, v in service.items()
                if scalar(v) and k != 'APPdata')
        if payload.get('APPdata'):
            values['data_hex'] = base64_hex(payload['APPdata'], 'APPdata')
        kind = kind_of(values, 'alarm' if mtype == 'eventReport' else 'state')
    elif mtype == 'deviceOnlineOfflineReport':
        values = {'online': str(data.get('eventType')) == '1'}
        kind = 'availability'
    else:
        return [], [str(key)]
    keys = [str(k) for k in (data.get('IMEI'), data.get('imei'),
            data.get('deviceId')) if k]
    return [{
            'protocol': 'nbiot_ctwing', 'device_key': keys[0],
            'time': time, 'kind': kind, 'values': values,
            'raw': raw, 'message_id': str(message_id),
            }], keys


# --- plain HTTP --------------------------------------------------------

def parse_http(identifier, body):
    """A device's own JSON: one event {id, ts, kind, values} or a list of
    them (at most MAX_EVENTS)."""
    data = load_json(body)
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > MAX_EVENTS:
        raise Malformed('1 to %s events per request' % MAX_EVENTS)
    raw = body.decode('utf-8', 'replace') if isinstance(
        body, bytes) else body
    events = []
    for item in items:
        item_raw = raw if len(items) == 1 else json.dumps(
            item, ensure_ascii=False)
        events.append(from_object('http', identifier, item, item_raw,
                hash_parts=(identifier, json.dumps(
                        item, sort_keys=True, default=str))))
    return events


def hash_token(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


class Device(metaclass=PoolMeta):
    __name__ = 'device.device'
    http_token = fields.Function(fields.Char(
            "HTTP Token",
            help="The token a device that posts directly sends in the "
            "X-Device-Token header. Write only: only its hash is kept."),
        'get_http_token', setter='set_http_token')
    http_token_hash = fields.Char("HTTP Token Hash", readonly=True)

    _sensitivity = {'http_token': 'internal', 'http_token_hash': 'internal'}

    def get_http_token(self, name):
        return '********' if self.http_token_hash else None

    @classmethod
    def set_http_token(cls, devices, name, value):
        if value == '********':
            return
        cls.write(list(devices), {
                'http_token_hash': hash_token(value) if value else None})

    @classmethod
    def new_http_token(cls, devices):
        "Give each device a new random token; return them (shown once)"
        tokens = {}
        for device in devices:
            tokens[device.id] = token = secrets.token_urlsafe(24)
            cls.write([device], {'http_token_hash': hash_token(token)})
        return tokens

    def check_http_token(self, token):
        if not self.http_token_hash or not token:
            return False
        return hmac.compare_digest(
            self.http_token_hash, hash_token(token))

    @classmethod
    def copy(cls, devices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('http_token_hash', None)
        return super().copy(devices, default=default)


class Receiver:
    """The answers of the receivers: (HTTP status, JSON data). Runs in the
    route's transaction; on an error nothing has been written."""

    @staticmethod
    def _devices(protocol, keys):
        Device = Pool().get('device.device')
        return {d.identifier: d for d in Device.search([
                    ('protocol', '=', protocol),
                    ('identifier', 'in', list(keys)),
                    ], order=[])}

    @classmethod
    def _store(cls, events):
        Device = Pool().get('device.device')
        statuses = Device.ingest(events)
        return {
            'status': 'ok',
            'new': statuses.count('new'),
            'duplicate': statuses.count('duplicate'),
            }

    @classmethod
    def _unknown(cls, protocol, keys):
        logger.warning('%s: unknown device(s) %s', protocol,
            ', '.join(sorted(keys)))
        return 404, {'error': 'unknown_device', 'devices': sorted(keys)}

    @classmethod
    def onenet_handshake(cls, args):
        Configuration = Pool().get('device.configuration')
        msg, nonce, signature = (
            args.get('msg'), args.get('nonce'), args.get('signature'))
        if not onenet_check(Configuration.token('onenet_token'),
                nonce, msg, signature):
            logger.warning('onenet: handshake with a bad signature')
            return 401, None
        return 200, msg

    @classmethod
    def onenet(cls, body):
        Configuration = Pool().get('device.configuration')
        try:
            msg, nonce, signature, push_id = onenet_envelope(body)
        except Malformed as error:
            return 400, {'error': 'malformed', 'message': str(error)}
        if not onenet_check(Configuration.token('onenet_token'),
                nonce, msg, signature):
            logger.warning('onenet: push with a bad signature')
            return 401, {'error': 'bad_signature'}
        try:
            events = parse_onenet(msg, push_id)
        except Malformed as error:
            return 400, {'error': 'malformed', 'message': str(error)}
        keys = {e['device_key'] for e in events}
        unknown = keys - set(cls._devices('nbiot_onenet', keys))
        if unknown:
            return cls._unknown('nbiot_onenet', unknown)
        return 200, cls._store(events)

    @classmethod
    def ctwing(cls, args, body):
        Configuration = Pool().get('device.configuration')
        token = Configuration.token('ctwing_token')
        if token and not Configuration.check_token(
                'ctwing_token', args.get('token')):
            logger.warning('ctwing: push with a bad token')
            return 401, {'error': 'bad_token'}
        try:
            events, keys = parse_ctwing(body)
        except Malformed as error:
            return 400, {'error': 'malformed', 'message': str(error)}
        if not events:
            return 200, {'status': 'ignored'}
        devices = cls._devices('nbiot_ctwing', keys)
        key = next((k for k in keys if k in devices), None)
        if key is None:
            # Answered 200: CTWing pauses all pushes of the application
            # after repeated failures, and a retry cannot make the device
            # known. Logged for the operators.
            logger.warning('nbiot_ctwing: unknown device(s) %s',
                ', '.join(keys))
            return 200, {'status': 'unknown_device'}
        events[0]['device_key'] = key
        return 200, cls._store(events)

    @classmethod
    def http(cls, identifier, token, body):
        devices = cls._devices('http', [identifier])
        device = devices.get(identifier)
        if device is None:
            return cls._unknown('http', {identifier})
        if not device.check_http_token(token):
            logger.warning('http: bad token for device %s', identifier)
            return 401, {'error': 'bad_token'}
        try:
            events = parse_http(identifier, body)
        except Malformed as error:
            return 400, {'error': 'malformed', 'message': str(error)}
        return 200, cls._store(events)
