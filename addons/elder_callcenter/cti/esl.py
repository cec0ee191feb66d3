# This file is part of the eldercare platform. See LICENSE.
"""FreeSWITCH event socket (ESL) adapter.

``event plain CHANNEL_CREATE CHANNEL_PROGRESS CHANNEL_ANSWER
CHANNEL_HANGUP_COMPLETE RECORD_START CUSTOM callcenter::info`` gives
frames ``Content-Length: N`` + ``Content-Type: text/event-plain`` + an empty
line + N bytes of URL-encoded ``Key: Value`` lines. With mod_callcenter:

========================================  ===================================
CUSTOM callcenter::info member-queue-start  offered (CC-Member-Session-UUID)
agent-offering                             ringing (seat = CC-Agent)
bridge-agent-start                         answered
bridge-agent-fail                          failed, not final
member-queue-end, CC-Cause Cancel          failed, final: abandoned
member-queue-end, CC-Cause Terminated      hangup
========================================  ===================================

Calls outside a queue (the inbound leg's own events, Call-Direction
inbound): CHANNEL_CREATE offered, CHANNEL_PROGRESS ringing, CHANNEL_ANSWER
answered, CHANNEL_HANGUP_COMPLETE hangup, or failed by Hangup-Cause
(USER_BUSY busy, NO_ANSWER no answer, ORIGINATOR_CANCEL abandoned).
RECORD_START's Record-File-Path is the recording. The event id is
Core-UUID + Event-Sequence, unique per FreeSWITCH."""
import logging
import socket
import time
from urllib.parse import unquote

from .base import CallEvent, MalformedEvent

logger = logging.getLogger(__name__)

FAILED_CAUSES = {
    'USER_BUSY': ('busy', 486),
    'NO_ANSWER': ('no_answer', 408),
    'NO_USER_RESPONSE': ('no_answer', 408),
    'ORIGINATOR_CANCEL': ('caller_cancel', 487),
    'CALL_REJECTED': ('rejected', 603),
    }


class EslParser:
    name = 'freeswitch'

    def __init__(self, source='freeswitch'):
        self.source = source
        self.buffer = b''
        self.malformed = 0
        self.recordings = {}
        self.queued = set()  # calls followed through mod_callcenter

    def feed(self, data):
        self.buffer += data
        events = []
        while True:
            head_end = self.buffer.find(b'\n\n')
            if head_end < 0:
                return events
            head = self.buffer[:head_end].decode('utf-8', 'replace')
            headers = dict(line.split(': ', 1) for line in head.split('\n')
                if ': ' in line)
            length = headers.get('Content-Length')
            if length is not None and not length.isdigit():
                # framing lost: drop what we have, resynchronise
                self.malformed += 1
                self.buffer = b''
                return events
            length = int(length or 0)
            if len(self.buffer) < head_end + 2 + length:
                return events
            body = self.buffer[head_end + 2:head_end + 2 + length]
            self.buffer = self.buffer[head_end + 2 + length:]
            if headers.get('Content-Type') != 'text/event-plain':
                continue  # auth/request, command/reply …
            try:
                event = self.parse_body(body)
            except MalformedEvent as error:
                self.malformed += 1
                logger.warning('malformed ESL event %s: %.200r', error, body)
                continue
            if event is not None:
                events.append(event)

    def parse_body(self, body):
        fields = {}
        for line in body.decode('utf-8', 'replace').split('\n'):
            if not line:
                continue
            key, sep, value = line.partition(': ')
            if not sep:
                raise MalformedEvent('not a Key: Value line: %r' % line[:80])
            fields[key] = unquote(value)
        name = fields.get('Event-Name')
        if not name or 'Event-Sequence' not in fields:
            raise MalformedEvent('no Event-Name or Event-Sequence')
        try:
            ts = int(fields.get('Event-Date-Timestamp', '0')) / 1e6 \
                or time.time()
        except ValueError as exc:
            raise MalformedEvent('bad Event-Date-Timestamp') from exc
        event_id = '%s:%s' % (fields.get('Core-UUID', ''),
            fields['Event-Sequence'])
        if name == 'RECORD_START':
            self.recordings[fields.get('Unique-ID')] = fields.get(
                'Record-File-Path')
            return None
        if name == 'CUSTOM' and fields.get('Event-Subclass') == \
                'callcenter::info':
            return self._callcenter(fields, event_id, ts)
        return self._channel(name, fields, event_id, ts)

    def _make(self, fields, event_id, ts, call_id, kind, **values):
        event = CallEvent(source=self.source, event_id=event_id,
            call_id=call_id, kind=kind, time=ts, **values)
        if kind in {'answered', 'hangup'} and call_id in self.recordings:
            event.recording = self.recordings.pop(call_id)
        return event

    def _callcenter(self, f, event_id, ts):
        action = f.get('CC-Action')
        call_id = f.get('CC-Member-Session-UUID')
        if not call_id:
            return None
        queue = (f.get('CC-Queue') or '').split('@', 1)[0]
        seat = (f.get('CC-Agent') or '').split('@', 1)[0]
        if action == 'member-queue-start':
            self.queued.add(call_id)
            return self._make(f, event_id, ts, call_id, 'offered',
                caller=f.get('CC-Member-CID-Number', ''),
                callee=f.get('Caller-Destination-Number', ''), queue=queue)
        if action == 'agent-offering':
            return self._make(f, event_id, ts, call_id, 'ringing',
                seat=seat, queue=queue)
        if action == 'bridge-agent-start':
            return self._make(f, event_id, ts, call_id, 'answered',
                seat=seat, queue=queue)
        if action == 'bridge-agent-fail':
            return self._make(f, event_id, ts, call_id, 'failed',
                seat=seat, queue=queue, final=False, reason='no_answer',
                code=408)
        if action == 'member-queue-end':
            if f.get('CC-Cause') == 'Cancel':
                return self._make(f, event_id, ts, call_id, 'failed',
                    queue=queue, final=True, reason='caller_cancel',
                    code=487)
            return self._make(f, event_id, ts, call_id, 'hangup',
                queue=queue, reason='caller'
                if f.get('CC-Hangup-Cause') == 'NORMAL_CLEARING' else '')
        return None

    def _channel(self, name, f, event_id, ts):
        if f.get('Call-Direction') != 'inbound':
            return None
        call_id = f.get('Unique-ID')
        if not call_id or call_id in self.queued:
            return None  # the queue's events tell that call's story
        if name == 'CHANNEL_CREATE':
            return self._make(f, event_id, ts, call_id, 'offered',
                caller=f.get('Caller-Caller-ID-Number', ''),
                callee=f.get('Caller-Destination-Number', ''))
        if name == 'CHANNEL_PROGRESS':
            return self._make(f, event_id, ts, call_id, 'ringing')
        if name == 'CHANNEL_ANSWER':
            return self._make(f, event_id, ts, call_id, 'answered')
        if name == 'CHANNEL_HANGUP_COMPLETE':
            cause = f.get('Hangup-Cause', '')
            if cause in FAILED_CAUSES and not f.get(
                    'Caller-Channel-Answered-Time', '0').strip('0'):
                reason, code = FAILED_CAUSES[cause]
                return self._make(f, event_id, ts, call_id, 'failed',
                    reason=reason, code=code, final=True)
            return self._make(f, event_id, ts, call_id, 'hangup',
                reason='caller' if f.get('Hangup-Disposition') ==
                'recv_bye' else 'callee')
        return None


class EslAdapter:
    "Inbound ESL client: auth, subscribe, receive; reconnects."
    SUBSCRIBE = ('event plain CHANNEL_CREATE CHANNEL_PROGRESS CHANNEL_ANSWER '
        'CHANNEL_HANGUP_COMPLETE RECORD_START CUSTOM callcenter::info')

    def __init__(self, host, port, password, source='freeswitch'):
        self.host, self.port, self.password = host, port, password
        self.parser = EslParser(source)
        self.stopping = False

    def events(self):
        while not self.stopping:
            try:
                with socket.create_connection((self.host, self.port),
                        5) as sock:
                    sock.sendall(('auth %s\n\n%s\n\n' % (
                                self.password, self.SUBSCRIBE)).encode())
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
                logger.warning('ESL %s:%s: %s', self.host, self.port, error)
            time.sleep(1)
