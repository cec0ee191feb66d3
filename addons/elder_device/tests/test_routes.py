# This file is part of the eldercare platform. See LICENSE.
"""The HTTP receivers (routes.py) through trytond's WSGI application with
werkzeug's test client, on recorded payloads (tests/payloads/). The
recordings' signatures are empty: each test signs with the test token as
OneNET would."""
import json
import pathlib

from werkzeug.test import Client

from trytond.modules.elder_base.tests.tools import (
    citizen_id, create_elder, create_provider)
from trytond.modules.elder_device.receiver import onenet_signature
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction
from trytond.wsgi import app

PAYLOADS = pathlib.Path(__file__).parent / 'payloads'
ONENET_TOKEN = 'onenet-test-token-1'  # noqa: S105 (test secret)
CTWING_TOKEN = 'ctwing-test-token-2'  # noqa: S105 (test secret)
HTTP_TOKEN = 'bp-meter-secret-3'  # noqa: S105 (test secret)
ONENET_IMEI = '868120300000011'
CTWING_IMEI = '869975030000022'
HTTP_ID = 'BPM-0001'


def payload(name):
    return json.loads((PAYLOADS / name).read_text())


def signed(data, token=ONENET_TOKEN):
    msg = data['msg']
    if not isinstance(msg, str):
        msg = json.dumps(msg, separators=(',', ':'), ensure_ascii=False)
    key = 'msg_signature' if 'msg_signature' in data else 'signature'
    return dict(data, **{key: onenet_signature(token, data['nonce'], msg)})


class ElderDeviceRoutesTestCase(RouteTestCase):
    "Test the HTTP receivers of device messages"
    module = 'elder_device'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The singleton's first write locks its table
        with Transaction().start(DB_NAME, 0,
                _lock_tables=['device_configuration']):
            cls.setUpData()

    @classmethod
    def setUpData(cls):
        pool = Pool()
        Device = pool.get('device.device')
        DeviceType = pool.get('device.type')
        Configuration = pool.get('device.configuration')
        Configuration.write([Configuration(1)], {
                'onenet_token': ONENET_TOKEN,
                'ctwing_token': CTWING_TOKEN,
                })
        elder = create_elder(
            '路由老人', citizen_id('150102', '19450101', 71), '150102')
        provider = create_provider('路由维护公司', '150102')
        watch, = DeviceType.search([('code', '=', 'WATCH')])
        devices = Device.create([{
                    'type': watch.id, 'protocol': protocol,
                    'identifier': identifier, 'elder': elder.id,
                    'provider': provider.id,
                    } for protocol, identifier in [
                    ('nbiot_onenet', ONENET_IMEI),
                    ('nbiot_ctwing', CTWING_IMEI),
                    ('http', HTTP_ID)]])
        Device.install(devices)
        Device.activate(devices)
        Device.write([devices[2]], {'http_token': HTTP_TOKEN})
        Transaction().commit()

    def setUp(self):
        super().setUp()
        self.http = Client(app)

    def post(self, path, data, **kwargs):
        if not isinstance(data, (str, bytes)):
            data = json.dumps(data)
        response = self.http.post('/%s/device/%s' % (DB_NAME, path),
            data=data, content_type='application/json', **kwargs)
        return response.status_code, json.loads(response.data)

    def stored(self, identifier):
        "(message ids of the device's telemetry, its alarms' kinds + counts)"
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Telemetry = pool.get('device.telemetry')
            Alarm = pool.get('device.alarm')
            messages = sorted(t.message_id for t in Telemetry.search([
                        ('device.identifier', '=', identifier)]))
            alarms = sorted((a.kind, a.repeat_count) for a in Alarm.search([
                        ('device.identifier', '=', identifier)]))
            return messages, alarms

    # --- OneNET --------------------------------------------------------

    def test_onenet_handshake(self):
        "The GET handshake echoes msg only when the signature is right"
        nonce, msg = 'n0nce', 'verify-me-42'
        sig = onenet_signature(ONENET_TOKEN, nonce, msg)
        url = '/%s/device/onenet' % DB_NAME
        response = self.http.get(url, query_string={
                'msg': msg, 'nonce': nonce, 'signature': sig})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.data.decode(), msg)
        # a '+' of the signature sent unencoded arrives as a space
        response = self.http.get(url + '?msg=%s&nonce=%s&signature=%s' % (
                msg, nonce, sig.replace('+', ' ')))
        self.assertEqual(response.status_code, 200)
        response = self.http.get(url, query_string={
                'msg': msg, 'nonce': nonce,
                'signature': onenet_signature('wrong', nonce, msg)})
        self.assertEqual(response.status_code, 401)
        self.assertNotIn(msg, response.data.decode())

    def test_onenet_push_idempotent(self):
        "A signed push is stored once and raises its alarm once"
        data = signed(payload('onenet_property.json'))
        status, answer = self.post('onenet', data)
        self.assertEqual(status, 200, answer)
        self.assertEqual((answer['new'], answer['duplicate']), (1, 0))
        status, answer = self.post('onenet', data)  # OneNET retries
        self.assertEqual(status, 200, answer)
        self.assertEqual((answer['new'], answer['duplicate']), (0, 1))
        messages, alarms = self.stored(ONENET_IMEI)
        self.assertIn(data['id'], messages)
        self.assertIn(('vitals', 1), alarms)
        with Transaction().start(DB_NAME, 0, readonly=True):
            Device = Pool().get('device.device')
            device, = Device.search([('identifier', '=', ONENET_IMEI)])
            self.assertEqual(device.battery, 76)

    def test_onenet_event_and_legacy(self):
        "An event (SOS with its position) and the older data push format"
        status, answer = self.post(
            'onenet', signed(payload('onenet_event_sos.json')))
        self.assertEqual(status, 200, answer)
        status, answer = self.post(
            'onenet', signed(payload('onenet_legacy.json')))
        self.assertEqual(status, 200, answer)
        messages, alarms = self.stored(ONENET_IMEI)
        self.assertIn('legacy-0001', messages)
        kinds = {k for k, _ in alarms}
        self.assertIn('sos', kinds)
        self.assertIn('low_battery', kinds)

    def test_onenet_refused(self):
        "Bad signature 401, malformed 400, unknown device 404: nothing stored"
        before = self.stored(ONENET_IMEI)
        data = payload('onenet_property.json')
        data['id'] = 'refused-1'
        status, answer = self.post('onenet', signed(data, 'wrong-token'))
        self.assertEqual((status, answer['error']), (401, 'bad_signature'))
        # tampered msg with the original signature
        good = signed(data)
        status, answer = self.post('onenet', dict(
                good, msg=good['msg'].replace('132', '60')))
        self.assertEqual(status, 401)
        status, answer = self.post('onenet', '{"msg": ')
        self.assertEqual((status, answer['error']), (400, 'malformed'))
        status, answer = self.post('onenet', signed(dict(data, msg='{oops')))
        self.assertEqual((status, answer['error']), (400, 'malformed'))
        status, answer = self.post('onenet', dict(data, enc_msg='AAAA'))
        self.assertEqual(status, 400)
        unknown = dict(data, msg=data['msg'].replace(
                ONENET_IMEI, '860000000009999'))
        status, answer = self.post('onenet', signed(unknown))
        self.assertEqual((status, answer['error']), (404, 'unknown_device'))
        self.assertEqual(answer['devices'], ['860000000009999'])
        self.assertEqual(self.stored(ONENET_IMEI), before)

    def test_tokens_never_read_back(self):
        "The platform tokens are stored encrypted and not shown back"
        with Transaction().start(DB_NAME, 0, readonly=True):
            Configuration = Pool().get('device.configuration')
            row, = Configuration.read([1], [
                    'onenet_token', 'onenet_token_enc', 'ctwing_token'])
            self.assertEqual(row['onenet_token'], '********')
            self.assertIsNone(row['onenet_token_enc'])
            self.assertEqual(row['ctwing_token'], '********')
            self.assertEqual(Configuration.token('onenet_token'), ONENET_TOKEN)
            cursor = Transaction().connection.cursor()
            table = Configuration.__table__()
            cursor.execute(*table.select(table.onenet_token_enc))
            self.assertNotIn(ONENET_TOKEN, cursor.fetchone()[0])

    # --- CTWing --------------------------------------------------------

    def test_ctwing(self):
        "CTWing push: 200 quickly, idempotent, its message types"
        path = 'ctwing?token=%s' % CTWING_TOKEN
        data = payload('ctwing_datareport.json')
        status, answer = self.post(path, data)
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer['new'], 1)
        status, answer = self.post(path, data)  # retried
        self.assertEqual((status, answer['duplicate']), (200, 1))
        status, answer = self.post(path, payload('ctwing_online.json'))
        self.assertEqual((status, answer['new']), (200, 1))
        status, answer = self.post(
            path, payload('ctwing_command_response.json'))
        self.assertEqual((status, answer['status']), (200, 'ignored'))
        messages, alarms = self.stored(CTWING_IMEI)
        self.assertEqual(len(messages), 2)
        self.assertEqual(sorted(k for k, _ in alarms), ['offline', 'smoke'])

    def test_ctwing_refused(self):
        "Bad token 401, malformed 400; an unknown device is answered 200"
        before = self.stored(CTWING_IMEI)
        data = payload('ctwing_datareport.json')
        data['timestamp'] += 1
        status, answer = self.post('ctwing?token=wrong', data)
        self.assertEqual((status, answer['error']), (401, 'bad_token'))
        status, answer = self.post('ctwing', data)
        self.assertEqual(status, 401)
        status, answer = self.post(
            'ctwing?token=%s' % CTWING_TOKEN, b'\xff\xfe')
        self.assertEqual(status, 400)
        status, answer = self.post('ctwing?token=%s' % CTWING_TOKEN,
            dict(data, IMEI='869975039999999', deviceId='nope'))
        self.assertEqual((status, answer['status']), (200, 'unknown_device'))
        self.assertEqual(self.stored(CTWING_IMEI), before)

    # --- plain HTTP ----------------------------------------------------

    def test_http_device(self):
        "A device posting its own JSON with its token"
        path = 'http/%s/events' % HTTP_ID
        data = payload('http_vitals.json')
        status, answer = self.post(
            path, data, headers={'X-Device-Token': HTTP_TOKEN})
        self.assertEqual(status, 200, answer)
        self.assertEqual((answer['new'], answer['duplicate']), (2, 0))
        status, answer = self.post(
            path, data, headers={'X-Device-Token': HTTP_TOKEN})
        self.assertEqual((answer['new'], answer['duplicate']), (0, 2))
        messages, alarms = self.stored(HTTP_ID)
        self.assertEqual(messages, ['bp-20241125-0001', 'bp-20241125-0002'])
        self.assertEqual(alarms, [('vitals', 1)])

    def test_http_refused(self):
        "Wrong token 401, unknown device 404, malformed 400: nothing stored"
        before = self.stored(HTTP_ID)
        path = 'http/%s/events' % HTTP_ID
        data = [{'id': 'x-1', 'values': {'sos': True}}]
        status, answer = self.post(
            path, data, headers={'X-Device-Token': 'wrong'})
        self.assertEqual((status, answer['error']), (401, 'bad_token'))
        status, answer = self.post(path, data)
        self.assertEqual(status, 401)
        status, answer = self.post('http/NOPE-1/events', data,
            headers={'X-Device-Token': HTTP_TOKEN})
        self.assertEqual((status, answer['error']), (404, 'unknown_device'))
        # one bad event in the batch: the good one is not written either
        status, answer = self.post(path, data + [{'id': 'x-2', 'values': 3}],
            headers={'X-Device-Token': HTTP_TOKEN})
        self.assertEqual((status, answer['error']), (400, 'malformed'))
        status, answer = self.post(path, 'not json',
            headers={'X-Device-Token': HTTP_TOKEN})
        self.assertEqual(status, 400)
        self.assertEqual(self.stored(HTTP_ID), before)
        with Transaction().start(DB_NAME, 0, readonly=True):
            Device = Pool().get('device.device')
            device, = Device.search([('identifier', '=', HTTP_ID)])
            self.assertEqual(device.http_token, '********')
            self.assertNotEqual(device.http_token_hash, HTTP_TOKEN)
