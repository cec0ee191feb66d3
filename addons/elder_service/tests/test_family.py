# This file is part of the eldercare platform. See LICENSE.
"The family ordering API (mini program), through the WSGI application."
import datetime as dt
import json
from decimal import Decimal

from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.tests.test_tryton import (
    DB_NAME, Client, TestCase, activate_module, drop_db)
from trytond.transaction import Transaction
from trytond.wsgi import app

from .tools import (
    HOME, HUIMIN, XINCHENG, active_provider, create_practitioner,
    create_user, home_elder, item)

PASSWORD = 'Family@2026!order'  # noqa: S105 (test account's password)
EMAIL = 'wang.fang@example.com'
OTHER_EMAIL = 'li.na@example.com'
LONELY_EMAIL = 'nobody@example.com'
LOCKED_EMAIL = 'locked@example.com'


def tomorrow():
    return (dt.date.today() + dt.timedelta(days=1)).isoformat()


class FamilyRoutesTestCase(TestCase):
    "Test the family ordering API of elder_service"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['elder_service'])
        pool = Pool(DB_NAME)
        with Transaction().start(DB_NAME, 0) as transaction:
            Party = pool.get('party.party')
            Contact = pool.get('elder.contact')
            WebUser = pool.get('web.user')
            Region = pool.get('elder.region')
            elder = home_elder()
            other = home_elder('其其格', 22)
            provider = active_provider('青城中心', XINCHENG, [XINCHENG],
                latitude=HOME[0], longitude=HOME[1])
            carer_user = create_user('carer', 'elder_base.group_caregiver',
                elder_provider=provider.id)
            cls.carer_user_id = carer_user.id
            cls.carer_id = create_practitioner(
                '王护理', 1, provider, user=carer_user.id).id
            wang, li, nobody, locked = Party.create([
                    {'name': '王芳'}, {'name': '李娜'}, {'name': '赵六'},
                    {'name': '钱七'}])
            Contact.create([{
                        'elder': elder.id, 'name': '王芳',
                        'relationship': 'daughter', 'phone': '13900139000',
                        'party': wang.id,
                        }, {
                        'elder': other.id, 'name': '李娜',
                        'relationship': 'son', 'phone': '13900139001',
                        'party': li.id,
                        }, {
                        'elder': other.id, 'name': '钱七',
                        'relationship': 'other', 'phone': '13900139002',
                        'party': locked.id,
                        }])
            WebUser.create([
                    {'email': EMAIL, 'password': PASSWORD, 'party': wang.id},
                    {'email': OTHER_EMAIL, 'password': PASSWORD,
                        'party': li.id},
                    {'email': LONELY_EMAIL, 'password': PASSWORD,
                        'party': nobody.id},
                    {'email': LOCKED_EMAIL, 'password': PASSWORD,
                        'party': locked.id},
                    ])
            # Bathing (SC0101) is offered in 回民区 only: not for our elder.
            bathing = item('SC0101')
            huimin, = Region.search([('code', '=', HUIMIN)])
            bathing.regions = [huimin]
            bathing.save()
            cls.elder_id, cls.other_id = elder.id, other.id
            cls.visit_id = item('SC0301').id
            cls.bathing_id = bathing.id
            transaction.commit()
        cls.client = Client(app, Response)
        cls.sessions = {}

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def url(self, path):
        return f'/{DB_NAME}/service/family/v1/{path}'

    def call(self, method, path, body=None, email=EMAIL, headers=None,
            raw=None):
        headers = dict(headers or {})
        headers.setdefault('Accept-Language', 'en')
        if email:
            headers['Authorization'] = 'Bearer ' + self.session(email)
        data = raw if raw is not None else (
            json.dumps(body) if body is not None else None)
        response = getattr(self.client, method)(
            self.url(path), data=data, headers=headers)
        return response.status_code, json.loads(response.data)

    def login(self, email, password=PASSWORD, language='en'):
        response = self.client.post(self.url('login'),
            data=json.dumps({'email': email, 'password': password}),
            headers={'Accept-Language': language})
        return response.status_code, json.loads(response.data)

    def session(self, email):
        if email not in self.sessions:
            status, data = self.login(email)
            self.assertEqual(status, HTTPStatus.OK, data)
            self.sessions[email] = data['session']
        return self.sessions[email]

    def configure(self, model, values):
        "Write a singleton configuration (which locks its table)"
        table = model.replace('.', '_')
        with Transaction().start(DB_NAME, 0, _lock_tables=[table]) \
                as transaction:
            Configuration = Pool().get(model)
            Configuration.write([Configuration(1)], values)
            transaction.commit()

    def order_count(self):
        with Transaction().start(DB_NAME, 0, readonly=True):
            return Pool().get('service.order').search_count([])

    def audit(self, email, event_type):
        with Transaction().start(DB_NAME, 0, readonly=True):
            Event = Pool().get('security.audit.event')
            return Event.search([
                    ('login', '=', 'web.user:' + email),
                    ('event_type', '=', event_type),
                    ])

    def new_order(self, key, **values):
        body = {'elder': self.elder_id, 'item': self.visit_id,
            'date': tomorrow(), 'time_from': '09:30', 'time_to': '10:30',
            'note': '请先打电话', **values}
        return self.call('post', 'orders', body,
            headers={'Idempotency-Key': key})

    def test_login(self):
        "Wrong password, unknown account, account without older person"
        status, data = self.login(EMAIL, 'wrong-password')
        self.assertEqual(status, HTTPStatus.UNAUTHORIZED)
        self.assertEqual(data['code'], 'bad_credentials')
        self.assertEqual(data['error'], 'Wrong email or password.')
        self.assertTrue(self.audit(EMAIL, 'login_failure'))

        status, data = self.login('unknown@example.com')
        self.assertEqual(status, HTTPStatus.UNAUTHORIZED)

        status, data = self.login(LONELY_EMAIL)
        self.assertEqual(status, HTTPStatus.FORBIDDEN)
        self.assertEqual(data['code'], 'not_family')
        self.assertNotIn('session', data)

        response = self.client.post(self.url('login'), data='[1, 2]')
        self.assertEqual(response.status_code, HTTPStatus.BAD_REQUEST)

        status, data = self.login(EMAIL)
        self.assertEqual(status, HTTPStatus.OK)
        self.assertTrue(data['session'])
        self.assertTrue(self.audit(EMAIL, 'login'))

        # Without or with a bad session
        response = self.client.get(self.url('elders'))
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)
        response = self.client.get(self.url('elders'),
            headers={'Authorization': 'Bearer not-a-session'})
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)

    def test_login_lockout(self):
        "elder_security's lockout applies to family accounts"
        self.configure('security.configuration', {'lockout_attempts': 2})
        try:
            for _ in range(2):
                status, _ = self.login(LOCKED_EMAIL, 'wrong-password')
                self.assertEqual(status, HTTPStatus.UNAUTHORIZED)
            # Locked: even the right password is refused
            status, data = self.login(LOCKED_EMAIL)
            self.assertEqual(status, HTTPStatus.TOO_MANY_REQUESTS)
            self.assertEqual(data['code'], 'locked')
            self.assertTrue(self.audit(LOCKED_EMAIL, 'lockout'))
        finally:
            self.configure('security.configuration',
                {'lockout_attempts': 5})

    def test_secrets_unreadable(self):
        "Internal users cannot read the family accounts' password hashes"
        from trytond.model.exceptions import AccessError
        with Transaction().start(DB_NAME, self.carer_user_id,
                readonly=True, context={'_check_access': True}):
            WebUser = Pool().get('web.user')
            user, = WebUser.search([('email', '=', EMAIL)])
            self.assertEqual(user.email, EMAIL)
            for name in ['password_hash', 'email_token',
                    'reset_password_token']:
                with self.assertRaises(AccessError):
                    WebUser.read([user.id], [name])

    def test_language(self):
        "Accept-Language picks the answer's language, Chinese by default"
        from werkzeug.test import EnvironBuilder

        from trytond.modules.elder_service.family import _language
        from trytond.protocols.wrappers import Request

        def language(header):
            headers = {'Accept-Language': header} if header else {}
            return _language(Request(EnvironBuilder(headers=headers)
                    .get_environ()))
        self.assertEqual(language(None), 'zh_CN')
        self.assertEqual(language('zh-CN,zh;q=0.9'), 'zh_CN')
        self.assertEqual(language('en-US,en;q=0.8'), 'en')
        self.assertEqual(language('fr-FR'), 'zh_CN')

    def test_happy_path(self):
        "Elders, items, order (dispatched), double submit, list, confirm"
        Order = Pool(DB_NAME).get('service.order')
        status, data = self.call('get', 'elders')
        self.assertEqual(status, HTTPStatus.OK)
        self.assertEqual([e['id'] for e in data['elders']], [self.elder_id])
        self.assertEqual(data['elders'][0]['relationship'], 'daughter')
        self.assertTrue(self.audit(EMAIL, 'full_view'))

        status, data = self.call('get', f'elders/{self.elder_id}/items')
        self.assertEqual(status, HTTPStatus.OK)
        codes = {i['code'] for i in data['items']}
        self.assertIn('SC0301', codes)
        self.assertNotIn('SC0101', codes)  # not offered in 新城区

        before = self.order_count()
        status, data = self.new_order('key-happy-0001')
        self.assertEqual(status, HTTPStatus.CREATED, data)
        order = data['order']
        self.assertFalse(data['replayed'])
        self.assertEqual(order['state'], 'dispatched')
        self.assertEqual(order['channel'], 'family')
        self.assertEqual(order['provider'], '青城中心')
        self.assertTrue(order['mine'])

        # Double submit: the same order, nothing created
        status, data = self.new_order('key-happy-0001')
        self.assertEqual(status, HTTPStatus.OK)
        self.assertTrue(data['replayed'])
        self.assertEqual(data['order']['id'], order['id'])
        self.assertEqual(self.order_count(), before + 1)
        # The same key for something else is refused
        status, data = self.new_order('key-happy-0001', item=self.bathing_id)
        self.assertEqual(status, HTTPStatus.CONFLICT)
        self.assertEqual(self.order_count(), before + 1)

        status, data = self.call('get', 'orders')
        self.assertEqual(status, HTTPStatus.OK)
        self.assertIn(order['id'], [o['id'] for o in data['orders']])
        status, data = self.call('get', f'orders/{order["id"]}')
        self.assertEqual(data['order']['number'], order['number'])

        # Dispatched: the family can no longer cancel it
        status, data = self.call('post', f'orders/{order["id"]}/cancel', {})
        self.assertEqual(status, HTTPStatus.CONFLICT)
        self.assertIn('12349', data['error'])

        # Not completed yet: no confirmation
        status, data = self.call('post', f'orders/{order["id"]}/confirm',
            {'rating': 5})
        self.assertEqual(status, HTTPStatus.CONFLICT)

        # The visit happens (as the provider and caregiver would)
        with Transaction().start(DB_NAME, 0) as transaction:
            record = Order(order['id'])
            self.assertEqual(record.web_user.email, EMAIL)
            self.assertEqual(record.events[0].note, 'Family (mini program): 王芳')
            Order.accept([record])
            record.practitioner = self.carer_id
            record.save()
            Order.assign([record])
            start = dt.datetime.now().replace(microsecond=0) \
                - dt.timedelta(hours=1)
            Order.checkin(record, HOME[0], HOME[1], 10, start)
            Order.checkout(record, HOME[0], HOME[1], 10,
                start + dt.timedelta(minutes=40))
            transaction.commit()

        status, data = self.call('get', f'orders/{order["id"]}')
        self.assertEqual(data['order']['state'], 'completed')
        self.assertTrue(data['order']['can_confirm'])
        self.assertEqual(data['order']['practitioner'], '王**')

        status, data = self.call('post', f'orders/{order["id"]}/confirm',
            {'rating': 7})
        self.assertEqual(status, HTTPStatus.UNPROCESSABLE_ENTITY)
        status, data = self.call('post', f'orders/{order["id"]}/confirm',
            {'rating': 4, 'comment': '很好'})
        self.assertEqual(status, HTTPStatus.OK, data)
        self.assertEqual(data['order']['state'], 'confirmed')
        self.assertEqual(data['order']['rating'], 4)
        with Transaction().start(DB_NAME, 0, readonly=True):
            record = Order(order['id'])
            self.assertEqual(record.confirmed_by, 'Family (mini program): 王芳')
            self.assertEqual(record.rating_comment, '很好')

    def test_cancel_before_dispatch(self):
        "Without automatic dispatch the family cancels its submitted order"
        self.configure('service.configuration', {'auto_dispatch': False})
        try:
            status, data = self.new_order('key-cancel-0001')
            self.assertEqual(status, HTTPStatus.CREATED, data)
            order = data['order']
            self.assertEqual(order['state'], 'submitted')
            self.assertTrue(order['can_cancel'])
            # Another family cannot cancel (nor see) it
            status, _ = self.call('post', f'orders/{order["id"]}/cancel', {},
                email=OTHER_EMAIL)
            self.assertEqual(status, HTTPStatus.NOT_FOUND)
            status, data = self.call('post', f'orders/{order["id"]}/cancel',
                {'reason': '老人住院'})
            self.assertEqual(status, HTTPStatus.OK, data)
            self.assertEqual(data['order']['state'], 'cancelled')
            status, data = self.call('post', f'orders/{order["id"]}/cancel',
                {})
            self.assertEqual(status, HTTPStatus.CONFLICT)
        finally:
            self.configure('service.configuration', {'auto_dispatch': True})

    def test_other_family_refused(self):
        "Another family's older person and orders are out of reach"
        before = self.order_count()
        status, data = self.call('get', f'elders/{self.other_id}/items')
        self.assertEqual(status, HTTPStatus.FORBIDDEN)
        self.assertEqual(data['code'], 'not_your_elder')
        status, data = self.new_order('key-other-0001', elder=self.other_id)
        self.assertEqual(status, HTTPStatus.FORBIDDEN)
        status, data = self.call('get', f'orders?elder={self.other_id}')
        self.assertEqual(status, HTTPStatus.FORBIDDEN)
        self.assertEqual(self.order_count(), before)

        # An order of the other family's older person
        status, data = self.call('post', 'orders', {
                'elder': self.other_id, 'item': self.visit_id,
                'date': tomorrow(), 'time_from': '15:00'},
            email=OTHER_EMAIL, headers={'Idempotency-Key': 'key-li-00001'})
        self.assertEqual(status, HTTPStatus.CREATED, data)
        theirs = data['order']['id']
        for method, path, body in [
                ('get', f'orders/{theirs}', None),
                ('post', f'orders/{theirs}/cancel', {}),
                ('post', f'orders/{theirs}/confirm', {'rating': 1})]:
            status, data = self.call(method, path, body)
            self.assertEqual(status, HTTPStatus.NOT_FOUND, path)
        status, data = self.call('get', 'orders')
        self.assertNotIn(theirs, [o['id'] for o in data['orders']])
        status, data = self.call('get', 'elders')
        self.assertNotIn(self.other_id, [e['id'] for e in data['elders']])

    def test_bad_input(self):
        "Bad item, time, key or body: a clear error and no order"
        before = self.order_count()
        past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
        for values, key, status, code in [
                ({'item': self.bathing_id}, 'key-bad-00001',
                    HTTPStatus.UNPROCESSABLE_ENTITY, 'item'),
                ({'item': 999999}, 'key-bad-00002',
                    HTTPStatus.UNPROCESSABLE_ENTITY, 'item'),
                ({'date': past}, 'key-bad-00003',
                    HTTPStatus.UNPROCESSABLE_ENTITY, 'time'),
                ({'date': (dt.date.today() + dt.timedelta(days=400))
                        .isoformat()}, 'key-bad-00004',
                    HTTPStatus.UNPROCESSABLE_ENTITY, 'time'),
                ({'time_to': '08:00'}, 'key-bad-00005',
                    HTTPStatus.UNPROCESSABLE_ENTITY, 'time'),
                ({'date': '2026-02-30'}, 'key-bad-00006',
                    HTTPStatus.BAD_REQUEST, 'malformed'),
                ({'elder': 'abc'}, 'key-bad-00007',
                    HTTPStatus.BAD_REQUEST, 'malformed'),
                ({'note': 'x' * 600}, 'key-bad-00008',
                    HTTPStatus.BAD_REQUEST, 'malformed'),
                ({}, 'short', HTTPStatus.BAD_REQUEST, 'malformed'),
                ]:
            got, data = self.new_order(key, **values)
            self.assertEqual((got, data['code']), (status, code),
                (values, data))
            self.assertTrue(data['error'])
        status, data = self.call('post', 'orders', raw='not json',
            headers={'Idempotency-Key': 'key-bad-00009'})
        self.assertEqual(status, HTTPStatus.BAD_REQUEST)
        got, data = self.new_order('key-bad-00001', item=self.bathing_id)
        self.assertIn('is not offered in', data['error'])
        self.assertEqual(self.order_count(), before)
        # A price is never taken from the client
        got, data = self.new_order('key-bad-00010', price='0.01')
        self.assertEqual(got, HTTPStatus.CREATED)
        with Transaction().start(DB_NAME, 0, readonly=True):
            order = Pool().get('service.order')(data['order']['id'])
            self.assertEqual(order.price, item('SC0301').price)
            self.assertNotEqual(order.price, Decimal('0.01'))
