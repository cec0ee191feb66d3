# This file is part of the eldercare platform. See LICENSE.
"""Asterisk AMI and FreeSWITCH ESL adapters on recorded event streams
(tests/streams/; written to the formats of Asterisk 18 app_queue with
timestampevents and FreeSWITCH 1.10 mod_callcenter, not captured from a
live switch: neither runs on this machine), read in odd-sized chunks,
and the evapi netstring decoder."""
from pathlib import Path

from trytond.modules.elder_base.tests.tools import citizen_id, create_elder
from trytond.modules.elder_callcenter.cti.ami import AmiParser
from trytond.modules.elder_callcenter.cti.base import MalformedEvent
from trytond.modules.elder_callcenter.cti.esl import EslParser
from trytond.modules.elder_callcenter.cti.kamailio import (
    NetstringDecoder, encode_netstring, parse_event)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from .tools import setup_center

STREAMS = Path(__file__).parent / 'streams'


def chunked(parser, data, size=37):
    events = []
    for start in range(0, len(data), size):
        events += parser.feed(data[start:start + size])
    return events


class CtiStreamTestCase(ModuleTestCase):
    "Test the CTI adapters on recorded streams"
    module = 'elder_callcenter'

    def test_ami_parser(self):
        parser = AmiParser()
        events = chunked(parser,
            (STREAMS / 'asterisk_queue.ami').read_bytes())
        self.assertEqual(parser.malformed, 1)
        self.assertEqual([(e.call_id, e.kind) for e in events], [
                ('1772413200.1', 'offered'), ('1772413200.1', 'ringing'),
                ('1772413200.1', 'answered'), ('1772413200.1', 'hangup'),
                ('1772413300.3', 'offered'), ('1772413300.3', 'ringing'),
                ('1772413300.3', 'failed'), ('1772413300.3', 'failed'),
                ('1772413300.3', 'hangup')])
        self.assertEqual(events[1].seat, '8001')
        self.assertEqual(events[0].caller, '13912345678')
        self.assertEqual(events[2].recording,
            '/var/spool/asterisk/monitor/1772413200.1.wav')
        self.assertEqual([e.final for e in events[6:8]], [False, True])
        self.assertEqual(len({e.event_id for e in events}), len(events))

    def test_esl_parser(self):
        parser = EslParser()
        events = chunked(parser,
            (STREAMS / 'freeswitch_callcenter.esl').read_bytes(), 53)
        self.assertEqual(parser.malformed, 1)
        kinds = {}
        for event in events:
            kinds.setdefault(event.call_id[-1], []).append(event.kind)
        self.assertEqual(kinds, {
                '1': ['offered', 'offered', 'ringing', 'answered', 'hangup'],
                '2': ['offered', 'failed'],
                '3': ['offered', 'ringing', 'failed', 'failed']})
        answered, = [e for e in events if e.kind == 'answered']
        self.assertEqual(answered.seat, '8001')
        self.assertTrue(answered.recording.endswith('0001.wav'))

    def test_netstrings(self):
        decoder = NetstringDecoder()
        data = encode_netstring('{"a": 1}') + encode_netstring('中文')
        frames = []
        for byte in range(len(data)):
            frames += decoder.feed(data[byte:byte + 1])
        self.assertEqual(frames, [b'{"a": 1}', '中文'.encode()])
        for bad in [b'x:abc,', b'3:abcd', b'99999999999:']:
            with self.assertRaises(MalformedEvent):
                NetstringDecoder().feed(bad)
        for bad in [b'not json', b'[1]', b'{"event": "ringing"}',
                b'{"event": "teleport", "seq": 1}']:
            with self.assertRaises(MalformedEvent):
                parse_event(bad)

    @with_transaction()
    def test_streams_make_call_records(self):
        "Both streams → call records, once, whatever is read twice"
        pool = Pool()
        Call = pool.get('call.call')
        setup_center()
        elder = create_elder('王秀英', citizen_id('150102', '19450101', 1),
            '150102', phone='13912345678')
        for name, parser in [('asterisk_queue.ami', AmiParser()),
                ('freeswitch_callcenter.esl', EslParser())]:
            data = (STREAMS / name).read_bytes()
            events = [e.as_dict() for e in parser.feed(data)]
            self.assertIn('new', Call.ingest(events))
            again = [e.as_dict() for e in type(parser)().feed(data)]
            self.assertEqual(set(Call.ingest(again)), {'duplicate'})
        calls = {(c.source, c.caller): c for c in Call.search([])}
        self.assertEqual(len(calls), 5)
        for source in ['asterisk', 'freeswitch']:
            call = calls[source, '13912345678']
            self.assertEqual(call.outcome, 'answered')
            self.assertEqual(call.elder, elder)
            self.assertEqual(call.seat.code, '8001')
            self.assertTrue(call.recording)
        self.assertEqual(calls['asterisk', '13800000001'].outcome,
            'abandoned')
        self.assertEqual(calls['freeswitch', '13800000001'].outcome, 'busy')
        self.assertEqual(calls['freeswitch', '13800000002'].outcome,
            'abandoned')
        self.assertAlmostEqual(
            calls['asterisk', '13912345678'].talk_seconds, 60.01, places=2)


del ModuleTestCase
