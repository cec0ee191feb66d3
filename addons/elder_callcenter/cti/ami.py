# This file is part of the eldercare platform. See LICENSE.
"""Asterisk Manager Interface (AMI) adapter.

AMI sends blocks of ``Key: Value`` lines ended by an empty line. The queue
events of app_queue give the call's life (``timestampevents = yes`` in
manager.conf adds the ``Timestamp`` used here):

=====================  =====================================================
QueueCallerJoin        offered (Linkedid = the call, CallerIDNum, Queue)
AgentCalled            ringing (seat = the member interface, PJSIP/8001 → 8001)
AgentConnect           answered
AgentRingNoAnswer      failed, not final (the queue tries another member)
QueueCallerAbandon     failed, final (the caller hung up: abandoned)
BlindTransfer          transferred (Extension)
VarSet MIXMONITOR_FILENAME  the recording, attached to the call's next event
Hangup of the caller's channel (Uniqueid = Linkedid)  hangup
=====================  =====================================================

The event id is the SHA-256 of the block, so a block read twice (a replay
of a recorded stream, a reconnection) is stored once. Blocks that are not
``Key: Value`` lines, or events without the fields they need, are counted
in ``malformed`` and skipped.
"""
import hashlib
import logging
import socket
import time

from .base import CallEvent, MalformedEvent

logger = logging.getLogger(__name__)


def member_code(interface):
    "PJSIP/8001, SIP/8001@host, Local/8001@agents/n → 8001"
    value = (interface or '').split('/', 1)[-1]
    return value.split('@', 1)[0].split(';', 1)[0]


class AmiParser:
    name = 'asterisk'

    def __init__(self, source='asterisk'):
        self.source = source
        self.buffer = b''
        self.malformed = 0
        self.recordings = {}

    def feed(self, data):
        "Add bytes of the stream; return the CallEvents of complete blocks"
        self.buffer += data.replace(b'\r\n', b'\n')
        events = []
        while b'\n\n' in self.buffer:
            block, self.buffer = self.buffer.split(b'\n\n', 1)
            if not block.strip():
                continue
            try:
                event = self.parse_block(block)
            except MalformedEvent as error:
                self.malformed += 1
                logger.warning('malformed AMI block %s: %.200r', error, block)
                continue
            if event is not None:
                events.append(event)
        return events

    def parse_block(self, block):
        try:
            text = block.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise MalformedEvent('not UTF-8') from exc
        fields = {}
        for line in text.split('\n'):
            if line.startswith('Asterisk Call Manager/'):
                return None  # the greeting
            key, sep, value = line.partition(':')
            if not sep or not key.strip():
                raise MalformedEvent('not a Key: Value line: %r' % line[:80])
            fields[key.strip()] = value.strip()
        if 'Event' not in fields:
            return None  # a Response to an action
        return self.to_event(fields, hashlib.sha256(block).hexdigest())

    def to_event(self, f, digest):
        kind = {
            'QueueCallerJoin': 'offered',
            'AgentCalled': 'ringing',
            'AgentConnect': 'answered',
            'AgentRingNoAnswer': 'failed',
            'QueueCallerAbandon': 'failed',
            'BlindTransfer': 'transferred',
            'Hangup': 'hangup',
            }.get(f['Event'])
        if f['Event'] == 'VarSet' and f.get('Variable') == \
                'MIXMONITOR_FILENAME':
            self.recordings[f.get('Linkedid')] = f.get('Value')
            return None
        if not kind:
            return None
        call_id = f.get('Linkedid') or f.get('TransfererLinkedid')
        if not call_id:
            raise MalformedEvent('%s without Linkedid' % f['Event'])
        if kind == 'hangup' and f.get('Uniqueid') != call_id:
            return None  # an agent's or a local channel
        try:
            ts = float(f.get('Timestamp') or time.time())
        except ValueError as exc:
            raise MalformedEvent('bad Timestamp') from exc
        event = CallEvent(source=self.source, event_id=digest,
            call_id=call_id, kind=kind, time=ts, direction='inbound',
            caller=f.get('CallerIDNum', '') if kind == 'offered' else '',
            callee=f.get('Exten', '') if kind == 'offered' else '',
            queue=f.get('Queue', ''),
            seat=member_code(f.get('Interface') or f.get('MemberName')
                if kind in {'ringing', 'answered', 'failed'} else ''))
        if f['Event'] == 'AgentRingNoAnswer':
            event.final, event.reason, event.code = False, 'no_answer', 408
        elif f['Event'] == 'QueueCallerAbandon':
            event.final, event.reason, event.code = True, 'caller_cancel', 487
            event.seat = ''
        elif kind == 'transferred':
            event.target = f.get('Extension', '')
        elif kind == 'hangup':
            event.reason = 'caller' if f.get('Cause') in {'16', '0'} else ''
        if call_id in self.recordings and kind in {'answered', 'hangup'}:
            event.recording = self.recordings.pop(call_id)
        return event


class AmiAdapter:
    """TCP client of AMI: logs in, receives events; reconnects. AMI keeps
    no journal: events while disconnected are lost on the Asterisk side
    (use the queue_log or CEL for reconciliation)."""

    def __init__(self, host, port, username, secret, source='asterisk'):
        self.host, self.port = host, port
        self.username, self.secret = username, secret
        self.parser = AmiParser(source)
        self.stopping = False

    def events(self):
        while not self.stopping:
            try:
                with socket.create_connection((self.host, self.port),
                        5) as sock:
                    sock.sendall(('Action: Login\r\nUsername: %s\r\n'
                            'Secret: %s\r\nEvents: call,agent\r\n\r\n' % (
                                self.username, self.secret)).encode())
                    sock.settimeout(1.0)
                    while not self.stopping:
                        try:
                            data = sock.recv(65536)
                        except socket.timeout:
                            yield None
                            continue
                        if not data:
                            break
                        yield from self.parser.feed(data)
                        yield None
            except OSError as error:
                logger.warning('AMI %s:%s: %s', self.host, self.port, error)
            time.sleep(1)
