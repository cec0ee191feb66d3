# This file is part of the eldercare platform. See LICENSE.
"""The mini program API against the local WeChat stand-in: login, binding
with SMS code and consent (and its abuse cases), staff confirmation,
notifications with retries and SMS fallback, orders, bills and WeChat Pay
(notification verification, tampering, replays, refunds, reconciliation).
"""
import datetime as dt
import json

from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.tests.test_tryton import (
    DB_NAME, Client, TestCase, activate_module, drop_db)
from trytond.transaction import Transaction
from trytond.wsgi import app

from trytond.modules.elder_service.tests.tools import (
    HOME, XINCHENG, active_provider, create_practitioner, create_user,
    home_elder, item)

from .standin import WeChatStandIn
from .tools import MCHID, MINI_APPID, OA_APPID, TEMPLATES, configure, \
    last_code, sms_texts

ELDER_PHONE = '13912345678'
GUARDIAN_PHONE = '13812345670'
FAMILY_PHONE = '13698765432'


def tomorrow():
    return (dt.date.today() + dt.timedelta(days=1)).isoformat()


class WeChatAPITestCase(TestCase):
    "Test the WeChat API of elder_wechat"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['elder_wechat', 'elder_assess', 'elder_settlement'])
        cls.standin = WeChatStandIn().start()
        pool = Pool(DB_NAME)
        with Transaction().start(DB_NAME, 0,
                _lock_tables=['wechat_configuration']) as transaction:
            Contact = pool.get('elder.contact')
            Device = pool.get('device.device')
            DeviceType = pool.get('device.type')
            Configuration = pool.get('wechat.configuration')
            cls.secrets = configure(cls.standin,
                f'http://127.0.0.1:9/{DB_NAME}/wechat/pay/notify')
            config = Configuration(1)
            config.requests_per_user = 4
            config.codes_per_elder = 6
            config.save()
            elder = home_elder('巴特尔', 12, phone=ELDER_PHONE,
                living_situation='alone')
            other = home_elder('其其格', 22)
            guarded = home_elder('乌云', 32)
            Contact.create([{
                        'elder': guarded.id, 'name': '乌云的女儿',
                        'relationship': 'daughter', 'phone': GUARDIAN_PHONE,
                        'is_guardian': True}])
            provider = active_provider('青城中心', XINCHENG, [XINCHENG],
                latitude=HOME[0], longitude=HOME[1])
            carer = create_user('carer', 'elder_base.group_caregiver',
                elder_provider=provider.id)
            cls.carer_id = create_practitioner(
                '王护理', 1, provider, user=carer.id).id
            from trytond.modules.elder_base.tests.tools import region
            cls.operator_id = create_user('operator_x',
                'elder_base.group_operator',
                elder_region=region(XINCHENG).id).id
            cls.other_operator_id = create_user('operator_hm',
                'elder_base.group_operator',
                elder_region=region('150103').id).id
            cls.finance_id = create_user('finance_x',
                'elder_base.group_finance',
                elder_region=region(XINCHENG).id).id
            watch, = DeviceType.search([('code', '=', 'WATCH')])
            device, = Device.create([{'type': watch.id, 'protocol': 'mqtt',
                        'identifier': 'W-0001', 'elder': elder.id}])
            Device.install([device])
            Device.activate([device])
            cls.device_id = device.id
            cls.elder_id, cls.other_id = elder.id, other.id
            cls.elder_number = elder.id_number
            cls.other_number = other.id_number
            cls.guarded_id, cls.guarded_number = guarded.id, guarded.id_number
            cls.visit_id = item('SC0301').id
            transaction.commit()
        cls.client = Client(app, Response)

    @classmethod
    def tearDownClass(cls):
        cls.standin.stop()
        super().tearDownClass()
        drop_db()

    # --- helpers -------------------------------------------------------------

    def url(self, path):
        return f'/{DB_NAME}/wechat/v1/{path}'

    def call(self, method, path, body=None, session=None, headers=None,
            raw=None, prefix=None):
        headers = dict(headers or {})
        headers.setdefault('Accept-Language', 'en')
        if session:
            headers['Authorization'] = 'Bearer ' + session
        data = raw if raw is not None else (
            json.dumps(body) if body is not None else None)
        url = (prefix + path) if prefix else self.url(path)
        response = getattr(self.client, method)(url, data=data,
            headers=headers, environ_base={'REMOTE_ADDR': '127.0.0.2'})
        return response.status_code, json.loads(response.data)

    def login(self, openid, appid=MINI_APPID):
        code = self.standin.login_code(appid, openid)
        path = 'login/miniprogram' if appid == MINI_APPID else 'login/oauth'
        status, data = self.call('post', path,
            {'appid': appid, 'code': code})
        self.assertEqual(status, HTTPStatus.OK, data)
        return data['session']

    def request(self, session, id_number=None, elder_name='巴特尔',
            method='sms', **values):
        body = {'id_number': id_number or self.elder_number,
            'elder_name': elder_name, 'name': '王芳',
            'relationship': 'daughter', 'phone': FAMILY_PHONE,
            'method': method, **values}
        return self.call('post', 'bindings', body, session)

    def code_for(self, phone):
        with Transaction().start(DB_NAME, 0):
            return last_code(phone)

    def bind(self, openid, id_number=None, elder_name='巴特尔'):
        "Log in and bind to the older person; return the session"
        session = self.login(openid)
        status, data = self.request(session, id_number, elder_name)
        self.assertEqual(status, HTTPStatus.CREATED, data)
        binding = data['binding']['id']
        phone = ELDER_PHONE if elder_name == '巴特尔' else GUARDIAN_PHONE
        status, data = self.call('post', f'bindings/{binding}/verify',
            {'code': self.code_for(phone), 'consent': True}, session)
        self.assertEqual(status, HTTPStatus.OK, data)
        return session, binding

    # --- login --------------------------------------------------------------

    def test_login(self):
        "Mini program and official account logins map to one web user each"
        session = self.login('o-login-1')
        status, data = self.call('get', 'me', session=session)
        self.assertEqual(status, HTTPStatus.OK)
        self.assertEqual(data['apps'], [{'appid': MINI_APPID,
                    'kind': 'mini_program'}])
        self.assertEqual(data['elders'], 0)
        # The same user again: the same web user
        again = self.login('o-login-1')
        with Transaction().start(DB_NAME, 0):
            WebUser = Pool().get('web.user')
            self.assertEqual(WebUser.get_user(session),
                WebUser.get_user(again))
        # An invalid code: WeChat's 40029, answered 401
        status, data = self.call('post', 'login/miniprogram',
            {'appid': MINI_APPID, 'code': 'not-a-code'})
        self.assertEqual(status, HTTPStatus.UNAUTHORIZED)
        self.assertEqual(data['code'], 'invalid_code')
        self.assertIn('40029', data['error'])
        # A code used twice: 40163
        code = self.standin.login_code(MINI_APPID, 'o-login-2')
        status, _ = self.call('post', 'login/miniprogram',
            {'appid': MINI_APPID, 'code': code})
        self.assertEqual(status, HTTPStatus.OK)
        status, data = self.call('post', 'login/miniprogram',
            {'appid': MINI_APPID, 'code': code})
        self.assertEqual(status, HTTPStatus.UNAUTHORIZED)
        self.assertIn('40163', data['error'])
        # A mini program code at the official account's login: refused
        code = self.standin.login_code(MINI_APPID, 'o-login-3')
        status, data = self.call('post', 'login/oauth',
            {'appid': OA_APPID, 'code': code})
        self.assertEqual(status, HTTPStatus.UNAUTHORIZED)
        # The official account's OAuth
        self.login('o-oa-1', OA_APPID)
        # Unknown app, malformed body, no session
        status, data = self.call('post', 'login/miniprogram',
            {'appid': 'wx0000000000000000', 'code': 'abc'})
        self.assertEqual((status, data['code']),
            (HTTPStatus.BAD_REQUEST, 'unknown_app'))
        status, data = self.call('post', 'login/miniprogram', raw='[1')
        self.assertEqual((status, data['code']),
            (HTTPStatus.BAD_REQUEST, 'malformed'))
        status, data = self.call('get', 'elders')
        self.assertEqual(status, HTTPStatus.UNAUTHORIZED)

    # --- binding ---------------------------------------------------------------

    def test_binding_sms(self):
        "Bind with the SMS code and consent; unbind"
        session = self.login('o-bind-1')
        # Wrong name for the ID number, unknown ID number: the same answer
        status, data = self.request(session, elder_name='其其格')
        self.assertEqual((status, data['code']),
            (HTTPStatus.NOT_FOUND, 'elder_not_found'))
        unknown = self.elder_number[:14] + '9' + self.elder_number[15:17]
        from trytond.modules.elder_base.identity import ric_check_character
        unknown += ric_check_character(unknown)
        status, data = self.request(session, id_number=unknown)
        self.assertEqual((status, data['code']),
            (HTTPStatus.NOT_FOUND, 'elder_not_found'))
        status, data = self.request(session, id_number='123')
        self.assertEqual((status, data['code']),
            (HTTPStatus.UNPROCESSABLE_ENTITY, 'id_number'))
        status, data = self.request(session, phone='12')
        self.assertEqual((status, data['code']),
            (HTTPStatus.UNPROCESSABLE_ENTITY, 'phone'))

        status, data = self.request(session)
        self.assertEqual(status, HTTPStatus.CREATED, data)
        binding = data['binding']
        self.assertEqual(binding['state'], 'pending')
        self.assertEqual(binding['code_sent_to'], '139****5678')
        # Not bound yet: nothing about the older person
        status, _ = self.call('get', f'elders/{self.elder_id}',
            session=session)
        self.assertEqual(status, HTTPStatus.FORBIDDEN)
        code = self.code_for(ELDER_PHONE)
        self.assertEqual(len(code), 6)
        with Transaction().start(DB_NAME, 0):
            texts = sms_texts(ELDER_PHONE)
            self.assertIn('王芳', texts[0][1])
            self.assertIn('巴特尔', texts[0][1])
        # A wrong code: counted, 4 attempts left
        wrong = '%06d' % ((int(code) + 1) % 10**6)
        status, data = self.call('post', f'bindings/{binding["id"]}/verify',
            {'code': wrong, 'consent': True}, session)
        self.assertEqual((status, data['code']),
            (HTTPStatus.UNPROCESSABLE_ENTITY, 'wrong_code'))
        self.assertIn('4 attempts', data['error'])
        # Without the consent: refused, nothing changes
        status, data = self.call('post', f'bindings/{binding["id"]}/verify',
            {'code': code}, session)
        self.assertEqual((status, data['code']),
            (HTTPStatus.UNPROCESSABLE_ENTITY, 'consent'))
        # Someone else cannot verify this request
        intruder = self.login('o-intruder')
        status, _ = self.call('post', f'bindings/{binding["id"]}/verify',
            {'code': code, 'consent': True}, intruder)
        self.assertEqual(status, HTTPStatus.NOT_FOUND)

        status, data = self.call('post', f'bindings/{binding["id"]}/verify',
            {'code': code, 'consent': True}, session)
        self.assertEqual(status, HTTPStatus.OK, data)
        self.assertEqual(data['binding']['state'], 'active')
        # The code is single use
        status, data = self.call('post', f'bindings/{binding["id"]}/verify',
            {'code': code, 'consent': True}, session)
        self.assertEqual(status, HTTPStatus.CONFLICT)

        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            Binding = pool.get('wechat.binding')
            record = Binding(binding['id'])
            self.assertEqual(record.consent.purpose, 'family_sharing')
            self.assertEqual(record.consent.given_by, 'subject')
            self.assertEqual(record.consent.channel, 'app')
            self.assertEqual(record.consent.party, record.elder.party)
            self.assertEqual(record.contact.party, record.party)
            self.assertTrue(record.created_contact)
            contact_id = record.contact.id
            consent_id = record.consent.id

        # The profile is masked; someone else's older person is refused
        status, data = self.call('get', f'elders/{self.elder_id}',
            session=session)
        self.assertEqual(status, HTTPStatus.OK)
        self.assertEqual(data['elder']['phone'], '139****5678')
        self.assertIn('*', data['elder']['id_number'])
        self.assertNotEqual(data['elder']['id_number'], self.elder_number)
        self.assertEqual(data['elder']['devices'], {'total': 1, 'online': 0})
        for path in [f'elders/{self.other_id}',
                f'elders/{self.other_id}/alarms',
                f'elders/{self.other_id}/devices',
                f'orders?elder={self.other_id}']:
            status, data = self.call('get', path, session=session)
            self.assertEqual(status, HTTPStatus.FORBIDDEN, path)
        status, data = self.call('get', 'elders', session=session)
        self.assertEqual([e['id'] for e in data['items']], [self.elder_id])
        # elder_service's family API follows the binding (contact.party)
        status, data = self.call('get', 'elders', session=session,
            prefix=f'/{DB_NAME}/service/family/v1/')
        self.assertEqual(status, HTTPStatus.OK)
        self.assertEqual([e['id'] for e in data['elders']], [self.elder_id])
        # Bound already
        status, data = self.request(session)
        self.assertEqual((status, data['code']),
            (HTTPStatus.CONFLICT, 'already_bound'))

        # Unbind: the contact goes, the consent is withdrawn, access ends
        status, data = self.call('delete', f'bindings/{binding["id"]}',
            session=session)
        self.assertEqual(status, HTTPStatus.OK)
        self.assertEqual(data['binding']['state'], 'revoked')
        status, _ = self.call('get', f'elders/{self.elder_id}',
            session=session)
        self.assertEqual(status, HTTPStatus.FORBIDDEN)
        status, data = self.call('get', 'elders', session=session,
            prefix=f'/{DB_NAME}/service/family/v1/')
        self.assertEqual(data['elders'], [])
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            self.assertFalse(pool.get('elder.contact').search(
                    [('id', '=', contact_id)]))
            self.assertTrue(
                pool.get('security.consent')(consent_id).withdrawn_at)
        # A revoked binding cannot be verified or revoked again
        status, _ = self.call('post', f'bindings/{binding["id"]}/verify',
            {'code': code, 'consent': True}, session)
        self.assertEqual(status, HTTPStatus.CONFLICT)
        status, _ = self.call('delete', f'bindings/{binding["id"]}',
            session=session)
        self.assertEqual(status, HTTPStatus.CONFLICT)

    def test_binding_code_attempts(self):
        "Five wrong codes end the request"
        session = self.login('o-guess')
        status, data = self.request(session, self.other_number, '其其格')
        # 其其格 has no phone and no guardian: SMS impossible
        self.assertEqual((status, data['code']),
            (HTTPStatus.UNPROCESSABLE_ENTITY, 'no_phone'))
        status, data = self.request(session, self.guarded_number, '乌云')
        self.assertEqual(status, HTTPStatus.CREATED, data)
        binding = data['binding']['id']
        # The code went to the guardian
        self.assertEqual(data['binding']['code_sent_to'], '138****5670')
        code = self.code_for(GUARDIAN_PHONE)
        wrong = '%06d' % ((int(code) + 7) % 10**6)
        for left in [4, 3, 2, 1, 0]:
            status, data = self.call('post', f'bindings/{binding}/verify',
                {'code': wrong, 'consent': True}, session)
            self.assertEqual(data['code'], 'wrong_code')
        status, data = self.call('post', f'bindings/{binding}/verify',
            {'code': code, 'consent': True}, session)
        self.assertEqual(status, HTTPStatus.CONFLICT)
        with Transaction().start(DB_NAME, 0):
            Binding = Pool().get('wechat.binding')
            self.assertEqual(Binding(binding).state, 'rejected')
        status, _ = self.call('get', f'elders/{self.guarded_id}',
            session=session)
        self.assertEqual(status, HTTPStatus.FORBIDDEN)

    def test_binding_guardian_consent(self):
        "The guardian's code records the guardian's consent"
        session, binding = self.bind('o-guardian', self.guarded_number, '乌云')
        with Transaction().start(DB_NAME, 0):
            record = Pool().get('wechat.binding')(binding)
            self.assertEqual(record.consent.given_by, 'guardian')
            self.assertEqual(record.consent.guardian.name, '乌云的女儿')
            # The older person withdraws the consent: the binding ends
            Consent = Pool().get('security.consent')
            Consent.withdraw_consents([record.consent])
            self.assertEqual(record.state, 'revoked')
            Transaction().commit()
        status, _ = self.call('get', f'elders/{self.guarded_id}',
            session=session)
        self.assertEqual(status, HTTPStatus.FORBIDDEN)

    def test_binding_rate_limit(self):
        "An account may ask for a few bindings an hour"
        session = self.login('o-spammer')
        statuses = []
        for _ in range(6):
            status, data = self.request(session, elder_name='不对')
            statuses.append(status)
        self.assertEqual(statuses[:4], [HTTPStatus.NOT_FOUND] * 4)
        self.assertEqual(statuses[4:], [HTTPStatus.TOO_MANY_REQUESTS] * 2)

    def test_binding_staff(self):
        "The community confirms a request by phone"
        session = self.login('o-staff')
        status, data = self.request(session, self.other_number, '其其格',
            method='staff', name='李娜', phone='13600001111')
        self.assertEqual(status, HTTPStatus.CREATED, data)
        binding = data['binding']['id']
        with Transaction().start(DB_NAME, self.operator_id) as transaction:
            Binding = Pool().get('wechat.binding')
            record, = Binding.search([('id', '=', binding)])
            with self.assertRaises(Exception):
                Binding.confirm([record])
            transaction.rollback()
        with Transaction().start(DB_NAME, self.operator_id,
                context={'_check_access': True}) as transaction:
            Binding = Pool().get('wechat.binding')
            Binding.write([Binding(binding)], {'staff_note':
                    '2025-05-01 10:00 社区电话核实，老人本人同意',
                    'staff_given_by': 'subject'})
            Binding.confirm([Binding(binding)])
            record = Binding(binding)
            self.assertEqual(record.state, 'active')
            self.assertEqual(record.consent.channel, 'phone')
            self.assertEqual(record.consent.recorded_by.id, self.operator_id)
            self.assertEqual(record.verified_by.id, self.operator_id)
            transaction.commit()
        status, data = self.call('get', f'elders/{self.other_id}',
            session=session)
        self.assertEqual(status, HTTPStatus.OK)
        # Staff of another district do not see it; finance sees no binding
        from trytond.model.exceptions import AccessError
        with Transaction().start(DB_NAME, self.other_operator_id,
                context={'_check_access': True}):
            Binding = Pool().get('wechat.binding')
            self.assertEqual(Binding.search([('id', '=', binding)]), [])
            with self.assertRaises(AccessError):
                Binding.read([binding], ['state'])
        with Transaction().start(DB_NAME, self.finance_id,
                context={'_check_access': True}):
            Binding = Pool().get('wechat.binding')
            with self.assertRaises(AccessError):
                Binding.read([binding], ['state'])

    # --- notifications -------------------------------------------------------

    def raise_alarm(self, kind='sos'):
        from trytond.modules.elder_device import rules
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Alarm = pool.get('device.alarm')
            Device = pool.get('device.device')
            alarms = Alarm.raise_signals([(Device(self.device_id),
                        rules.Signal(kind, rules.CRITICAL, 'SOS pressed'),
                        dt.datetime.utcnow().replace(microsecond=0))])
            transaction.commit()
            return [a.id for a in alarms]

    def notifications(self, alarm_id):
        with Transaction().start(DB_NAME, 0):
            Notification = Pool().get('wechat.notification')
            return [(n.id, n.web_user.id, n.state, n.attempts,
                    [(a.channel, a.result, a.errcode) for a in n.attempt_log])
                for n in Notification.search([
                        ('origin', '=', 'device.alarm,%s' % alarm_id)])]

    def deliver(self, retry=False):
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Notification = pool.get('wechat.notification')
            if retry:
                pending = Notification.search([('state', '=', 'pending')])
                Notification.write(pending, {
                        'next_attempt': dt.datetime.now()})
            Notification.send_pending()
            transaction.commit()

    def test_notifications(self):
        "SOS: a subscribe message to the bound family, retries, SMS fallback"
        session, _ = self.bind('o-notice')
        template = TEMPLATES['alarm'][0]
        self.standin.accept(MINI_APPID, 'o-notice', template)
        self.standin.fail_next(1)   # WeChat busy once
        self.standin.expire_tokens()  # and the access token expired
        alarm, = self.raise_alarm()
        self.deliver()
        (notice, _, state, attempts, log), = self.notifications(alarm)
        self.assertEqual((state, attempts), ('pending', 1))
        self.assertEqual(log, [('wechat', 'error', -1)])
        self.deliver(retry=True)
        (_, _, state, attempts, log), = self.notifications(alarm)
        self.assertEqual((state, attempts), ('sent', 2))
        message = self.standin.messages[-1]
        self.assertEqual(message['touser'], 'o-notice')
        self.assertEqual(message['template_id'], template)
        self.assertEqual(message['data']['thing1']['value'], '巴特尔')
        self.assertEqual(message['data']['phrase2']['value'], 'SOS')
        # The family sees it in the notices and acknowledges the alarm
        status, data = self.call('get', 'notices', session=session)
        self.assertIn(notice, [n['id'] for n in data['items']])
        status, data = self.call('get', f'elders/{self.elder_id}/alarms',
            session=session)
        self.assertEqual(data['items'][0]['id'], alarm)
        self.assertFalse(data['items'][0]['family_acknowledged'])
        status, data = self.call('post', f'alarms/{alarm}/acknowledge',
            {}, session)
        self.assertEqual(status, HTTPStatus.OK)
        self.assertTrue(data['alarm']['family_acknowledged'])
        with Transaction().start(DB_NAME, 0):
            self.assertIn('王芳', Pool().get('device.alarm')(alarm).notes)

        # Not accepted this time (43101): SMS to the family member at once
        alarm, = self.raise_alarm('fall')
        self.deliver()
        (_, _, state, attempts, log), = self.notifications(alarm)
        self.assertEqual(state, 'sms')
        self.assertEqual(log, [('wechat', 'error', 43101), ('sms', 'ok', None)])
        with Transaction().start(DB_NAME, 0):
            self.assertIn('巴特尔', sms_texts(FAMILY_PHONE)[0][1])

        # WeChat down for good: SMS after three attempts
        self.standin.accept(MINI_APPID, 'o-notice', template)
        self.standin.fail_next(3)
        alarm, = self.raise_alarm('smoke')
        for _ in range(3):
            self.deliver(retry=True)
        (_, _, state, attempts, log), = self.notifications(alarm)
        self.assertEqual((state, attempts), ('sms', 3))
        self.assertEqual([c for c, _, _ in log],
            ['wechat', 'wechat', 'wechat', 'sms'])
        # Low battery is not for the family
        self.assertEqual(self.notifications(self.raise_alarm(
                    'low_battery')[0]), [])

    # --- orders and payment -------------------------------------------------

    def test_order_pay_and_rate(self):
        "Book, the visit, confirm and rate, complain, pay the bill, refund"
        session, _ = self.bind('o-order')
        body = {'elder': self.elder_id, 'item': self.visit_id,
            'date': tomorrow(), 'time_from': '09:00',
            'request_key': 'wx-order-0001'}
        status, data = self.call('post', 'orders', dict(body,
                elder=self.other_id), session)
        self.assertEqual(status, HTTPStatus.FORBIDDEN)
        status, data = self.call('post', 'orders', body, session)
        self.assertEqual(status, HTTPStatus.CREATED, data)
        order = data['order']['id']
        status, data = self.call('post', 'orders', body, session)
        self.assertEqual(status, HTTPStatus.OK)
        self.assertTrue(data['replayed'])
        status, data = self.call('get', 'orders?size=1&page=1',
            session=session)
        self.assertEqual((data['total'], len(data['items'])), (1, 1))
        status, data = self.call('get', 'orders?size=500', session=session)
        self.assertEqual(status, HTTPStatus.BAD_REQUEST)

        with Transaction().start(DB_NAME, 0) as transaction:
            Order = Pool().get('service.order')
            record = Order(order)
            if record.state == 'submitted':
                Order.dispatch_orders([record])
            Order.accept([record])
            record.practitioner = self.carer_id
            record.save()
            Order.assign([record])
            start = dt.datetime.now().replace(microsecond=0) \
                - dt.timedelta(hours=1)
            jpeg = b'\xff\xd8\xff\xe0' + b'\x00' * 64
            png = b'\x89PNG\r\n\x1a\n' + b'\x00' * 64
            Order.checkin(record, HOME[0], HOME[1], 10, start, photo=jpeg)
            Order.checkout(record, HOME[0], HOME[1], 10,
                start + dt.timedelta(minutes=record.item.duration or 60),
                photo=jpeg, signature=png)
            transaction.commit()
        status, data = self.call('get', f'orders/{order}', session=session)
        self.assertEqual(data['order']['state'], 'completed')
        self.assertIn('checkout', [p['action'] for p in
                data['order']['progress']])
        status, data = self.call('get', 'notices', session=session)
        events = [n['event'] for n in data['items']]
        self.assertIn('service_started', events)
        self.assertIn('service_finished', events)

        status, data = self.call('post', f'orders/{order}/confirm',
            {'rating': 5, 'comment': '很好'}, session)
        self.assertEqual(status, HTTPStatus.OK, data)
        self.assertEqual(data['order']['rating'], 5)
        status, data = self.call('post', f'orders/{order}/complaints',
            {'description': '护理员迟到了十分钟'}, session)
        self.assertEqual(status, HTTPStatus.CREATED, data)

        # The settlement prices the visit: self-paid (no entitlement)
        with Transaction().start(DB_NAME, 0,
                _lock_tables=['settlement_line']) as transaction:
            Line = Pool().get('settlement.line')
            Line.collect(dt.date.today())
            lines = Line.search([('order', '=', order)])
            self.assertEqual([(l.state, bool(l.self_pay_amount)) for l in lines],
                [('pending', True)], [(l.state, l.basis, l.self_pay_amount,
                        l.order.flagged, [a.kind for a in l.order.anomalies])
                    for l in lines])
            transaction.commit()
        status, data = self.call('get', 'bills', session=session)
        self.assertTrue(data['available'])
        bill, = data['items']
        self.assertFalse(bill['paid'])
        amount = bill['self_pay_amount']
        status, data = self.call('get', 'notices', session=session)
        self.assertIn('bill', [n['event'] for n in data['items']])

        status, data = self.call('post', f'bills/{bill["id"]}/pay',
            {'appid': MINI_APPID}, session)
        self.assertEqual(status, HTTPStatus.OK, data)
        params = data['pay_params']
        payment = data['payment']['id']
        self.assertEqual(params['signType'], 'RSA')
        # Paying again before the notification: the same prepay id
        status, again = self.call('post', f'bills/{bill["id"]}/pay',
            {'appid': MINI_APPID}, session)
        self.assertEqual(again['pay_params']['package'], params['package'])
        # Someone not bound cannot pay it
        stranger = self.login('o-stranger')
        status, _ = self.call('post', f'bills/{bill["id"]}/pay', {},
            stranger)
        self.assertEqual(status, HTTPStatus.NOT_FOUND)

        # The phone pays: the stand-in checks paySign like WeChat
        bad = dict(params, paySign=params['paySign'][:-4] + 'AAAA')
        response = self.standin_post('/standin/requestPayment', bad)
        self.assertEqual(response.status_code, 400)
        trade = self.standin.trades[MCHID, data['payment']['number']]
        self.assertEqual(trade['state'], 'NOTPAY')
        self.standin.mark_paid(MCHID, data['payment']['number'])
        headers, body = self.standin.notification(
            MCHID, data['payment']['number'])

        # Tampered notifications are refused and change nothing
        tampered = json.loads(body)
        tampered['resource']['ciphertext'] = (
            'A' + tampered['resource']['ciphertext'][1:])
        status, _ = self.notify(headers, json.dumps(tampered,
                ensure_ascii=False))
        self.assertEqual(status, 401)
        status, _ = self.notify(dict(headers, **{
                    'Wechatpay-Signature': headers['Wechatpay-Signature'][
                        ::-1]}), body)
        self.assertEqual(status, 401)
        old = self.standin.notification(MCHID, data['payment']['number'],
            timestamp=int(dt.datetime.now().timestamp()) - 3600)
        status, _ = self.notify(*old)
        self.assertEqual(status, 401)
        # Properly signed and encrypted but for another amount
        resource = self.standin._trade_view(MCHID, trade)
        resource['amount'] = dict(resource['amount'], total=1)
        status, _ = self.notify(*self.standin.notification(
                MCHID, resource=resource))
        self.assertEqual(status, 400)
        status, data = self.call('get', f'payments/{payment}',
            session=session)
        self.assertEqual(data['payment']['state'], 'paying')

        status, answer = self.notify(headers, body)
        self.assertEqual((status, answer), (200, {'code': 'SUCCESS'}))
        status, data = self.call('get', f'payments/{payment}',
            session=session)
        self.assertEqual(data['payment']['state'], 'paid')
        self.assertEqual(data['payment']['amount'], amount)
        # A replay: the same answer, nothing changes
        status, answer = self.notify(headers, body)
        self.assertEqual((status, answer), (200, {'code': 'SUCCESS'}))
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            Event = pool.get('wechat.payment.event')
            results = [e.result for e in Event.search(
                    [('payment', '=', payment)], order=[('id', 'ASC')])]
            self.assertEqual(results, ['rejected', 'applied', 'replay'])
        status, data = self.call('get', 'bills', session=session)
        self.assertTrue(data['items'][0]['paid'])
        status, data = self.call('post', f'bills/{bill["id"]}/pay',
            {'appid': MINI_APPID}, session)
        self.assertEqual(status, HTTPStatus.UNPROCESSABLE_ENTITY)

        # Reconciliation with WeChat's record, then a refund
        with Transaction().start(DB_NAME, 0) as transaction:
            Payment = Pool().get('wechat.payment')
            record = Payment(payment)
            Payment.reconcile([record])
            self.assertTrue(record.reconciled, record.reconcile_note)
            refund = Payment.refund_payment(record, reason='服务投诉成立')
            self.assertEqual(refund.state, 'done')
            self.assertEqual(Payment(payment).state, 'refunded')
            Payment.write([record], {'reconciled': False})
            Payment.reconcile([record])
            self.assertTrue(record.reconciled, record.reconcile_note)
            refund_number = refund.number
            transaction.commit()
        # The refund notification afterwards is a replay
        status, answer = self.notify(*self.standin.notification(
                MCHID, out_refund_no=refund_number))
        self.assertEqual((status, answer), (200, {'code': 'SUCCESS'}))

    def standin_post(self, path, data):
        import requests
        return requests.post(self.standin.url + path, json=data, timeout=10)

    def notify(self, headers, body):
        response = self.client.post(f'/{DB_NAME}/wechat/pay/notify',
            data=body.encode('utf-8'), headers=headers)
        return response.status_code, json.loads(response.data)

    def test_openapi(self):
        "The OpenAPI document is served and names every route"
        response = self.client.get(self.url('openapi.json'))
        self.assertEqual(response.status_code, 200)
        document = json.loads(response.data)
        self.assertEqual(document['openapi'][:2], '3.')
        paths = set(document['paths'])
        from .. import api
        for rule in app.url_map.iter_rules():
            if '/wechat/v1/' in rule.rule and 'openapi' not in rule.rule:
                path = rule.rule.split('/wechat/v1', 1)[1]
                path = path.replace('<int:', '{').replace('>', '}')
                self.assertIn(path, paths)
        self.assertTrue(api.PREFIX)


del TestCase
