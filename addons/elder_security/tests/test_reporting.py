# This file is part of the eldercare platform. See LICENSE.
"""The providers' encrypted reporting interface, through the real HTTP route
(werkzeug test client against trytond's WSGI application) and the reference
client tools/provider_report_client.py."""
import base64
import datetime
import importlib.util
import json
import pathlib
import time
import unittest

import gmssl_pyx
from werkzeug.test import Client

from trytond.modules.elder_security.reporting import PATH
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, RouteTestCase, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app


def load_client():
    for parent in pathlib.Path(__file__).resolve().parents:
        path = parent / 'tools' / 'provider_report_client.py'
        if path.exists():
            spec = importlib.util.spec_from_file_location(
                'provider_report_client', path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    return None


client_module = load_client()
URL = '/%s%s' % (DB_NAME, PATH)


def record(record_id='S-0001', **values):
    return dict({
            'record_id': record_id,
            'kind': 'service.visit',
            'occurred_at': '2025-01-31T09:30:00+08:00',
            'data': {'elder': '150102194501010021', 'minutes': 60},
            }, **values)


@unittest.skipIf(client_module is None, "tools/provider_report_client.py")
class ElderSecurityReportingTestCase(RouteTestCase):
    "Test the providers' encrypted reporting interface"
    module = 'elder_security'

    def setUp(self):
        super().setUp()
        self.http = Client(app)

    def credential(self, method='sm2'):
        """Create and commit a credential; return the keys the provider
        holds (as given to it once)."""
        public_key, private_key = gmssl_pyx.sm2_key_generate()
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Party = pool.get('party.party')
            Credential = pool.get('security.provider.credential')
            party, = Party.create([{'name': '阳光养老服务中心'}])
            credential, = Credential.create([{
                        'provider': party.id,
                        'signature_method': method,
                        'sm2_public_key': public_key.hex(),
                        }])
            sm4_key, hmac_secret = credential._secrets()
            keys = {
                'key_id': credential.key_id,
                'sm4_key': sm4_key,
                }
            if method == 'sm2':
                keys.update(
                    sm2_private_key=private_key, sm2_public_key=public_key)
            else:
                keys['hmac_secret'] = hmac_secret
            self.party_id = party.id
            transaction.commit()
        return keys

    def push(self, keys, rec, **kwargs):
        headers, body = client_module.build_request(
            URL, record=rec, **keys, **kwargs)
        response = self.http.post(URL, data=body, headers=headers)
        return response.status_code, json.loads(response.data)

    def reports(self, record_id=None):
        with Transaction().start(DB_NAME, 0, readonly=True):
            Report = Pool().get('security.provider.report')
            domain = [('provider', '=', self.party_id)]
            if record_id:
                domain.append(('record_id', '=', record_id))
            return [(r.record_id, r.state, r.data()) for r in
                Report.search(domain)]

    def test_good_push_sm2(self):
        "An SM2-signed, SM4-encrypted record is stored, pending"
        keys = self.credential('sm2')
        status, answer = self.push(keys, record())
        self.assertEqual(status, 201, answer)
        self.assertEqual(answer['status'], 'accepted')
        self.assertEqual(answer['record_id'], 'S-0001')
        self.assertFalse(answer['duplicate'])
        self.assertTrue(answer['receipt'])
        (record_id, state, data), = self.reports()
        self.assertEqual(state, 'pending')
        self.assertEqual(data, record())

    def test_good_push_hmac(self):
        "HMAC-SM3 is accepted for credentials that use it"
        keys = self.credential('hmac_sm3')
        status, answer = self.push(keys, record())
        self.assertEqual(status, 201, answer)

    def test_bad_signature(self):
        "A wrong signature is refused with 401 and nothing is stored"
        keys = self.credential('sm2')
        other_public, other_private = gmssl_pyx.sm2_key_generate()
        status, answer = self.push(dict(keys,
                sm2_private_key=other_private, sm2_public_key=other_public),
            record())
        self.assertEqual(status, 401)
        self.assertEqual(answer['error'], 'bad_signature')
        self.assertEqual(self.reports(), [])

    def test_tampered_body(self):
        "A body changed after signing is refused with 401"
        keys = self.credential('hmac_sm3')
        headers, body = client_module.build_request(
            URL, record=record(), **keys)
        envelope = json.loads(body)
        envelope['tag'] = base64.b64encode(b'\0' * 16).decode()
        response = self.http.post(
            URL, data=json.dumps(envelope), headers=headers)
        self.assertEqual(response.status_code, 401)

    def test_wrong_sm4_key(self):
        "A body encrypted with another key cannot be deciphered: 400"
        keys = self.credential('hmac_sm3')
        status, answer = self.push(
            dict(keys, sm4_key=b'\1' * 16), record())
        self.assertEqual(status, 400)
        self.assertEqual(answer['error'], 'decryption_failed')

    def test_unknown_key(self):
        "An unknown key id or missing headers answer 401"
        keys = self.credential('hmac_sm3')
        status, answer = self.push(dict(keys, key_id='pk_unknown'), record())
        self.assertEqual((status, answer['error']), (401, 'unknown_key'))
        response = self.http.post(URL, data=b'{}', headers={
                'Content-Type': 'application/json'})
        self.assertEqual(response.status_code, 401)
        self.assertEqual(
            json.loads(response.data)['error'], 'missing_credentials')

    def test_replay(self):
        "The same request sent twice (same nonce) is refused with 409"
        keys = self.credential('sm2')
        headers, body = client_module.build_request(
            URL, record=record(), **keys)
        first = self.http.post(URL, data=body, headers=headers)
        self.assertEqual(first.status_code, 201)
        again = self.http.post(URL, data=body, headers=headers)
        self.assertEqual(again.status_code, 409)
        self.assertEqual(json.loads(again.data)['error'], 'replay')

    def test_stale_timestamp(self):
        "A timestamp more than 5 minutes away is refused with 401"
        keys = self.credential('sm2')
        for delta in [-301, 301]:
            status, answer = self.push(
                keys, record(), timestamp=int(time.time()) + delta)
            self.assertEqual(status, 401)
            self.assertEqual(answer['error'], 'stale_timestamp')
        status, answer = self.push(
            keys, record(), timestamp=int(time.time()) - 200)
        self.assertEqual(status, 201, answer)

    def test_invalid_record(self):
        "An invalid record answers 422 naming each bad field"
        keys = self.credential('hmac_sm3')
        status, answer = self.push(keys, {
                'record_id': 'bad id with spaces',
                'occurred_at': 'yesterday',
                'data': [],
                })
        self.assertEqual(status, 422)
        self.assertEqual(answer['error'], 'invalid_record')
        self.assertEqual(
            set(answer['fields']),
            {'record_id', 'kind', 'occurred_at', 'data'})
        status, answer = self.push(
            keys, record(occurred_at='2999-01-01T00:00:00'))
        self.assertEqual(status, 422)
        self.assertEqual(set(answer['fields']), {'occurred_at'})
        self.assertEqual(self.reports(), [])

    def test_idempotent(self):
        """The same record id with the same content answers 200 with the
        first receipt; with another content 409"""
        keys = self.credential('sm2')
        status, first = self.push(keys, record())
        self.assertEqual(status, 201)
        status, again = self.push(keys, record())
        self.assertEqual(status, 200)
        self.assertTrue(again['duplicate'])
        self.assertEqual(again['receipt'], first['receipt'])
        status, conflict = self.push(
            keys, record(data={'elder': 'x', 'minutes': 90}))
        self.assertEqual(status, 409)
        self.assertEqual(conflict['error'], 'conflict')
        self.assertEqual(len(self.reports()), 1)

    def test_inactive_credential(self):
        "A deactivated credential is refused"
        keys = self.credential('hmac_sm3')
        with Transaction().start(DB_NAME, 0) as transaction:
            Credential = Pool().get('security.provider.credential')
            credential, = Credential.search(
                [('key_id', '=', keys['key_id'])])
            credential.active = False
            credential.save()
            transaction.commit()
        status, answer = self.push(keys, record())
        self.assertEqual((status, answer['error']), (401, 'unknown_key'))

    @with_transaction()
    def test_secrets_never_read(self):
        "The SM4 key and the HMAC secret are never returned by read"
        pool = Pool()
        Party = pool.get('party.party')
        Credential = pool.get('security.provider.credential')
        party, = Party.create([{'name': 'P'}])
        credential, = Credential.create([{
                    'provider': party.id, 'signature_method': 'hmac_sm3'}])
        values, = Credential.read(
            [credential.id], ['sm4_key', 'hmac_secret', 'key_id'])
        self.assertIsNone(values['sm4_key'])
        self.assertIsNone(values['hmac_secret'])
        self.assertTrue(values['key_id'].startswith('pk_'))
        sm4_key, hmac_secret = credential._secrets()
        self.assertEqual(len(sm4_key), 16)
        # stored encrypted: the raw row holds neither secret
        cursor = Transaction().connection.cursor()
        cursor.execute(
            'SELECT sm4_key, hmac_secret FROM security_provider_credential '
            'WHERE id = %s', (credential.id,))
        raw = ' '.join(cursor.fetchone())
        self.assertNotIn(sm4_key.hex(), raw)
        self.assertNotIn(hmac_secret.hex(), raw)
        old = sm4_key
        Credential.renew_secrets([credential])
        self.assertNotEqual(credential._secrets()[0], old)

    @with_transaction()
    def test_consume_hook(self):
        "A module consumes pending reports with _consume_<kind>"
        pool = Pool()
        Report = pool.get('security.provider.report')
        Party = pool.get('party.party')
        party, = Party.create([{'name': 'P'}])
        report, = Report.create([{
                    'provider': party.id, 'record_id': 'R1',
                    'kind': 'service.visit', 'received_at': datetime.datetime(2025, 1, 1),
                    'payload': json.dumps(record('R1')),
                    'payload_hash': 'x', 'receipt': 'r'}])
        self.assertEqual(Report.pending(), [report])
        self.assertEqual(Report.consume_pending(), [])  # nobody knows it
        Report._consume_service_visit = lambda self: True
        try:
            self.assertEqual(Report.consume_pending(), [report])
        finally:
            del Report._consume_service_visit
        self.assertEqual(report.state, 'consumed')
        self.assertEqual(Report.pending(), [])


del RouteTestCase
