# This file is part of the eldercare platform. See LICENSE.
"The replacements of elder_security.speedups answer what trytond answers."
import datetime as dt
import gzip
import json
import unittest
from decimal import Decimal

from werkzeug.test import EnvironBuilder

from trytond.modules.elder_security import speedups
from trytond.protocols.jsonrpc import JSONProtocol, JSONRequest, encoder


def _request(accept_gzip):
    headers = {'Accept-Encoding': 'gzip'} if accept_gzip else {}
    builder = EnvironBuilder(method='POST', path='/db/rpc/',
        data=json.dumps({'id': 7, 'method': 'model.x.read', 'params': []}),
        content_type='application/json', headers=headers)
    return JSONRequest(builder.get_environ())


class SpeedupsTestCase(unittest.TestCase):

    def test_patched(self):
        speedups.patch()
        self.assertIs(JSONProtocol.response.__func__,
            speedups.json_response)

    def _streamed(self, result):
        "the bytes trytond's own iterencode would stream"
        return ''.join(encoder.iterencode({'id': 7, 'result': result})
            ).encode()

    def test_long_answer_same_bytes(self):
        result = [{'id': i, 'name': '王秀英%d' % i, 'date': dt.date(2026, 1, 2),
                'amount': Decimal('12.30'), 'rate': 0.1 * i,
                'data': b'\x00\x01', 'when': dt.datetime(2026, 1, 2, 3, 4)}
            for i in range(200)]
        speedups.patch()
        answer = JSONProtocol.response(result, _request(False))
        body = answer.get_data()
        self.assertNotIn('Content-Encoding', answer.headers)
        self.assertEqual(body, self._streamed(result))
        self.assertEqual(answer.headers['Content-Length'], str(len(body)))

    def test_long_answer_gzip_when_accepted(self):
        result = list(range(1000))
        speedups.patch()
        answer = JSONProtocol.response(result, _request(True))
        self.assertEqual(answer.headers['Content-Encoding'], 'gzip')
        self.assertEqual(gzip.decompress(answer.get_data()),
            self._streamed(result))

    def test_short_answer_plain(self):
        speedups.patch()
        answer = JSONProtocol.response([1, 2], _request(True))
        self.assertNotIn('Content-Encoding', answer.headers)
        self.assertEqual(json.loads(answer.get_data()),
            {'id': 7, 'result': [1, 2]})

    def test_error_answer(self):
        from trytond.exceptions import UserError
        speedups.patch()
        answer = JSONProtocol.response(UserError('no'), _request(False))
        self.assertEqual(json.loads(answer.get_data())['error'][0],
            'UserError')
