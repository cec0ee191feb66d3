# This file is part of the eldercare platform. See LICENSE.
"""Normalised device events: the part shared by the HTTP receivers of this
module (receiver.py) and the device bridge (bridge/adapters.py, udp.py,
watch.py, simulator.py).

A normalised event is a dict:

    protocol    device protocol as in device.device (mqtt, zigbee, lora, …)
    device_key  the device's identifier for that protocol
    time        aware datetime of the measurement (receive time if unknown)
    kind        alarm, vitals, state, heartbeat, position, availability …
    values      flat dict of platform value names (see rules.py)
    raw         the payload as text
    message_id  stable id of the message: stored once per device

This file imports nothing but the standard library, on purpose: the bridge
loads it by file path (bridge/__init__.py, ``elder_device_event``) before
trytond is configured. Importing the package trytond.modules.elder_device
would import routes.py → trytond.wsgi → trytond.backend, which picks its
database backend from the configuration at import time. Do not add
relative or trytond imports here."""
import base64
import binascii
import datetime as dt
import hashlib
import json
import re

ALARM_FLAGS = ('sos', 'fall', 'smoke', 'gas', 'water_leak')
VITALS = ('heart_rate', 'spo2', 'systolic', 'diastolic', 'glucose')

_NANOSECONDS = re.compile(r'(\.\d{6})\d+')


class Malformed(ValueError):
    "The input cannot be turned into events (HTTP 400, MQTT skipped …)"


def now():
    return dt.datetime.now(dt.timezone.utc)


def parse_time(value, default=None):
    """ISO 8601 string (nanoseconds cut to microseconds, as ChirpStack
    sends them), or epoch seconds / milliseconds → aware datetime; empty →
    default or now"""
    if value is None or value == '':
        return default or now()
    if isinstance(value, bool):
        raise Malformed('invalid time %r' % value)
    if isinstance(value, (int, float)):
        if value > 1e11:  # milliseconds
            value = value / 1000
        try:
            return dt.datetime.fromtimestamp(value, dt.timezone.utc)
        except (OverflowError, OSError, ValueError) as error:
            raise Malformed('invalid time %r' % value) from error
    if isinstance(value, str):
        text = value.strip()
        if text.endswith('Z'):
            text = text[:-1] + '+00:00'
        text = _NANOSECONDS.sub(r'\1', text)
        try:
            result = dt.datetime.fromisoformat(text)
        except ValueError as error:
            raise Malformed('invalid time %r' % value) from error
        if result.tzinfo is None:
            result = result.replace(tzinfo=dt.timezone.utc)
        return result
    raise Malformed('invalid time %r' % value)


def load_json(data):
    "JSON text or UTF-8 bytes → data; Malformed"
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode('utf-8')
        except UnicodeDecodeError as error:
            raise Malformed('not UTF-8') from error
    try:
        return json.loads(data)
    except (TypeError, ValueError) as error:
        raise Malformed('invalid JSON: %s' % error) from error


def payload_text(payload):
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload).decode('utf-8', 'replace')
    return payload


def content_hash(*parts):
    "'h:' + SHA-256 of the parts: the message id of content without one"
    digest = hashlib.sha256()
    for i, part in enumerate(parts):
        if isinstance(part, str):
            part = part.encode('utf-8')
        digest.update((b'\0' if i else b'') + part)
    return 'h:' + digest.hexdigest()[:32]


def kind_of(values, default):
    "alarm when an alarm flag is true, vitals when a vital sign is there"
    if any(values.get(f) is True for f in ALARM_FLAGS):
        return 'alarm'
    if any(values.get(v) is not None for v in VITALS):
        return 'vitals'
    return default


def scalar(value):
    return not isinstance(value, (dict, list))


def base64_hex(text, what='data'):
    "base64 text → hex string; Malformed"
    try:
        return base64.b64decode(text, validate=True).hex()
    except (binascii.Error, ValueError, TypeError) as error:
        raise Malformed('invalid base64 %s' % what) from error


def event(protocol, device_key, time, kind, values, raw, message_id):
    return {
        'protocol': protocol, 'device_key': str(device_key), 'time': time,
        'kind': kind, 'values': values, 'raw': raw,
        'message_id': str(message_id),
        }


def from_object(protocol, device_key, item, raw, message_id=None,
        hash_parts=()):
    """The platform's own JSON event ``{id|msg_id, ts|time, kind,
    values}`` (MQTT generic topic, devices posting over HTTP, UDP
    datagrams). message_id: an id given outside the object (an MQTT user
    property); else the object's id, else the hash of hash_parts."""
    if not isinstance(item, dict):
        raise Malformed('an event is not a JSON object')
    values = item.get('values', {})
    if not isinstance(values, dict):
        raise Malformed('"values" is not an object')
    kind = item.get('kind')
    if kind is not None and not isinstance(kind, str):
        raise Malformed('"kind" is not a string')
    if message_id in (None, ''):
        message_id = item.get('id')
        if message_id in (None, ''):
            message_id = item.get('msg_id')
    if message_id in (None, ''):
        message_id = content_hash(*hash_parts)
    elif isinstance(message_id, bool) or not isinstance(
            message_id, (str, int)):
        raise Malformed('invalid message id %r' % (message_id,))
    return event(protocol, device_key,
        parse_time(item.get('ts') or item.get('time')),
        kind or kind_of(values, 'state'), values, raw, message_id)


# --- OneNET --------------------------------------------------------------

def onenet_signature(token, nonce, msg):
    "base64(md5(token + nonce + msg)), as OneNET signs its pushes"
    digest = hashlib.md5(  # noqa: S324 (OneNET's protocol, not our choice)
        (token + nonce + msg).encode('utf-8')).digest()
    return base64.b64encode(digest).decode('ascii')
