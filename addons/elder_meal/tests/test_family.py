# This file is part of the eldercare platform. See LICENSE.
"The family meal API (mini program), through the WSGI application."
import datetime as dt
import json
import os

from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.tests.test_tryton import (
    DB_NAME, Client, TestCase, activate_module, drop_db)
from trytond.transaction import Transaction
from trytond.wsgi import app

from .tools import (
    HUIMIN, active_provider, diner, meal_point, meal_policy, monday_before,
    publish_menu)

PASSWORD = 'Family@2026!meal'  # noqa: S105 (test account's password)
EMAIL = 'wang.fang@example.com'
SISTER_EMAIL = 'wang.li@example.com'
OTHER_EMAIL = 'li.na@example.com'


def day(offset):
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


class FamilyMealTestCase(TestCase):
    "Test the family meal API of elder_meal"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['elder_meal'])
        pool = Pool(DB_NAME)
        with Transaction().start(DB_NAME, 0) as transaction:
            Party = pool.get('party.party')
            Contact = pool.get('elder.contact')
            WebUser = pool.get('web.user')
            Lang = pool.get('ir.lang')
            Translation = pool.get('ir.translation')
            # the answers in Chinese (Accept-Language zh-CN)
            zh, = Lang.search([('code', '=', 'zh_CN')])
            Lang.write([zh], {'translatable': True})
            Translation.translation_import('zh_CN', 'elder_meal',
                os.path.join(os.path.dirname(__file__), '..', 'locale',
                    'zh_CN.po'))
            today = dt.date.today()
            provider = active_provider('青城助餐服务中心', '150102',
                ['150102', HUIMIN])
            point = meal_point(provider, 'XC01')
            no_delivery = meal_point(provider, 'XC02', delivery=False,
                delivery_radius=None)
            expired = meal_point(provider, 'XC09',
                licence_expiry=today - dt.timedelta(days=1))
            elsewhere = meal_point(provider, 'HM01', region_code=HUIMIN)
            for canteen in [point, no_delivery, expired, elsewhere]:
                for week in [0, 7]:
                    publish_menu(canteen, monday_before(today)
                        + dt.timedelta(days=week))
            meal_policy('80岁以上助餐补贴', '8.00', daily_cap='12.00',
                monthly_cap='30.00', min_age=80, sequence=2)
            meal_policy('60至79岁助餐补贴', '3.00', min_age=60, max_age=79,
                sequence=3)
            elder = diner('巴特尔', 11, birth='19400315')
            other = diner('乌兰', 12, birth='19550315')
            wang, sister, li = Party.create([
                    {'name': '王芳'}, {'name': '王丽'}, {'name': '李娜'}])
            Contact.create([{
                        'elder': elder.id, 'name': '王芳',
                        'relationship': 'daughter', 'phone': '13900139000',
                        'party': wang.id,
                        }, {
                        'elder': elder.id, 'name': '王丽',
                        'relationship': 'daughter', 'phone': '13900139003',
                        'party': sister.id,
                        }, {
                        'elder': other.id, 'name': '李娜',
                        'relationship': 'son', 'phone': '13900139001',
                        'party': li.id,
                        }])
            WebUser.create([
                    {'email': EMAIL, 'password': PASSWORD, 'party': wang.id},
                    {'email': SISTER_EMAIL, 'password': PASSWORD,
                        'party': sister.id},
                    {'email': OTHER_EMAIL, 'password': PASSWORD,
                        'party': li.id},
                    ])
            cls.elder_id, cls.other_id = elder.id, other.id
            cls.point_id = point.id
            transaction.commit()
        cls.client = Client(app, Response)
        cls.sessions = {}

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def url(self, path):
        return f'/{DB_NAME}/meal/family/v1/{path}'

    def session(self, email):
        if email not in self.sessions:
            response = self.client.post(
                f'/{DB_NAME}/service/family/v1/login',
                data=json.dumps({'email': email, 'password': PASSWORD}))
            data = json.loads(response.data)
            self.assertEqual(response.status_code, HTTPStatus.OK, data)
            self.sessions[email] = data['session']
        return self.sessions[email]

    def call(self, method, path, body=None, email=EMAIL, headers=None,
            raw=None, language='en'):
        headers = dict(headers or {})
        headers.setdefault('Accept-Language', language)
        if email:
            headers['Authorization'] = 'Bearer ' + self.session(email)
        data = raw if raw is not None else (
            json.dumps(body) if body is not None else None)
        response = getattr(self.client, method)(
            self.url(path), data=data, headers=headers)
        return response.status_code, json.loads(response.data)

    def offers(self, date, elder=None, email=EMAIL, point='XC01'):
        "{period: offer} of the point's menu on date"
        status, data = self.call('get', 'elders/%s/menus?point=%s&date=%s'
            '&days=1' % (elder or self.elder_id, point, date), email=email)
        self.assertEqual(status, HTTPStatus.OK, data)
        return {p['meal_period']: p['offers'][0]
            for p in data['days'][0]['periods']}

    def order(self, key, date, period='lunch', email=EMAIL, elder=None,
            **values):
        body = {'elder': elder or self.elder_id, 'point': 'XC01',
            'date': date, 'meal_period': period,
            'offer': self.offers(date, elder=elder, email=email)[period]['id'],
            **values}
        return self.call('post', 'orders', body, email=email,
            headers={'Idempotency-Key': key} if key else None)

    def orders(self, **domain):
        with Transaction().start(DB_NAME, 0, readonly=True):
            Order = Pool().get('meal.order')
            return [(o.state, o.date.isoformat(), o.meal_period)
                for o in Order.search([(k, '=', v)
                        for k, v in domain.items()])]

    def set_cutoff(self, hours):
        with Transaction().start(DB_NAME, 0) as transaction:
            Point = Pool().get('meal.point')
            Point.write([Point(self.point_id)], {'order_cutoff': hours})
            transaction.commit()

    def audit(self, email, route):
        with Transaction().start(DB_NAME, 0, readonly=True):
            Event = Pool().get('security.audit.event')
            return [e for e in Event.search([
                        ('login', '=', 'web.user:' + email),
                        ('event_type', '=', 'full_view'),
                        ]) if route in (e.details or '')]

    def test_points(self):
        "The points of the older person's district, licence valid"
        status, data = self.call('get', 'elders/%s/points' % self.elder_id)
        self.assertEqual(status, HTTPStatus.OK, data)
        points = {p['code']: p for p in data['points']}
        # HM01 is in 回民区, XC09's licence expired yesterday
        self.assertEqual(sorted(points), ['XC01', 'XC02'])
        self.assertEqual(points['XC01']['distance_m'], 279)
        self.assertTrue(points['XC01']['delivery'])
        self.assertFalse(points['XC02']['delivery'])
        self.assertEqual(points['XC01']['order_cutoff_hours'], 2)
        self.assertEqual([h['meal_period'] for h in points['XC01']['hours']],
            ['breakfast', 'lunch', 'dinner'])

        status, data = self.call('get', 'elders/%s/points' % self.other_id)
        self.assertEqual(status, HTTPStatus.FORBIDDEN)
        self.assertEqual(data['code'], 'not_your_elder')
        response = self.client.get(self.url('elders/%s/points'
                % self.elder_id))
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)
        response = self.client.get(self.url('elders/%s/points'
                % self.elder_id),
            headers={'Authorization': 'Bearer not-a-session'})
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)

    def test_menus(self):
        "The coming days' offers with this older person's subsidised price"
        status, data = self.call('get',
            'elders/%s/menus?point=XC01&days=3' % self.elder_id)
        self.assertEqual(status, HTTPStatus.OK, data)
        self.assertEqual([d['date'] for d in data['days']],
            [day(0), day(1), day(2)])
        self.assertEqual(data['subsidy'], {'per_meal': '8.00',
                'daily_cap': '12.00', 'monthly_cap': '30.00'})
        periods = {p['meal_period']: p for p in data['days'][2]['periods']}
        self.assertEqual(sorted(periods), ['breakfast', 'dinner', 'lunch'])
        lunch = periods['lunch']['offers'][0]
        self.assertEqual((lunch['price'], lunch['subsidy'],
                lunch['self_pay'], lunch['basis']),
            ('15.00', '8.00', '7.00', 'full'))
        breakfast = periods['breakfast']['offers'][0]
        self.assertEqual((breakfast['price'], breakfast['subsidy'],
                breakfast['self_pay']), ('5.00', '5.00', '0.00'))
        self.assertEqual(periods['lunch']['deadline'], day(2) + ' 09:00')
        self.assertTrue(periods['lunch']['orderable'])
        self.assertTrue(self.audit(EMAIL, 'meal_menus'))

        # another older person, another band: 3 yuan
        lunch = self.offers(day(2), elder=self.other_id,
            email=OTHER_EMAIL)['lunch']
        self.assertEqual((lunch['subsidy'], lunch['self_pay']),
            ('3.00', '12.00'))

        for query, status_ in [
                ('point=HM01', HTTPStatus.NOT_FOUND),
                ('point=XC09', HTTPStatus.NOT_FOUND),
                ('point=', HTTPStatus.BAD_REQUEST),
                ('point=XC01&days=15', HTTPStatus.BAD_REQUEST),
                ('point=XC01&days=x', HTTPStatus.BAD_REQUEST),
                ('point=XC01&date=2026-13-01', HTTPStatus.BAD_REQUEST),
                ('point=XC01&date=%s' % day(-1),
                    HTTPStatus.UNPROCESSABLE_ENTITY),
                ]:
            status, data = self.call('get',
                'elders/%s/menus?%s' % (self.elder_id, query))
            self.assertEqual(status, status_, (query, data))
            self.assertTrue(data['error'])
        status, data = self.call('get',
            'elders/%s/menus?point=HM01' % self.elder_id, language='zh-CN')
        self.assertEqual(data['error'],
            '助餐点“HM01”不存在或不为这位老人提供服务。')

    def test_order_idempotent_and_cancel(self):
        "Pre-order with exact prices, a repeat answers the same order"
        date = day(2)
        status, data = self.order('meal-key-0001', date)
        self.assertEqual(status, HTTPStatus.CREATED, data)
        order = data['order']
        self.assertFalse(data['replayed'])
        self.assertEqual((order['state'], order['channel'],
                order['service_mode'], order['meal_period'], order['date']),
            ('ordered', 'mini_program', 'dine_in', 'lunch', date))
        self.assertEqual((order['price'], order['subsidy'],
                order['self_pay'], order['basis'], order['estimated']),
            ('15.00', '8.00', '7.00', 'full', True))
        self.assertTrue(order['can_cancel'])
        self.assertTrue(order['number'].startswith('XC01-'))

        # the double tap: the same order, not two
        status, again = self.order('meal-key-0001', date)
        self.assertEqual(status, HTTPStatus.OK, again)
        self.assertTrue(again['replayed'])
        self.assertEqual(again['order']['id'], order['id'])
        self.assertEqual(self.orders(elder=self.elder_id, date=dt.date
                .fromisoformat(date)), [('ordered', date, 'lunch')])
        # the same key for something else
        status, data = self.order('meal-key-0001', date, period='dinner')
        self.assertEqual(status, HTTPStatus.CONFLICT)
        self.assertEqual(data['code'], 'key_reused')
        # another key for the same period
        status, data = self.order('meal-key-0002', date)
        self.assertEqual(status, HTTPStatus.CONFLICT)
        self.assertEqual(data['code'], 'already_ordered')
        self.assertIn(order['number'], data['error'])

        # the menu shows it, the list and the detail have it
        status, data = self.call('get', 'elders/%s/menus?point=XC01&date=%s'
            '&days=1' % (self.elder_id, date))
        lunch, = [p for p in data['days'][0]['periods']
            if p['meal_period'] == 'lunch']
        self.assertEqual(lunch['order']['id'], order['id'])
        self.assertFalse(lunch['orderable'])
        status, data = self.call('get', 'orders?elder=%s' % self.elder_id)
        self.assertEqual(status, HTTPStatus.OK)
        self.assertIn(order['id'], [o['id'] for o in data['orders']])
        self.assertTrue(self.audit(EMAIL, 'meal_orders'))
        status, data = self.call('get', 'orders/%s' % order['id'])
        self.assertEqual(data['order']['dish'], 'lunch套餐')

        # the sister sees it but did not place it
        status, data = self.call('get', 'orders/%s' % order['id'],
            email=SISTER_EMAIL)
        self.assertEqual(status, HTTPStatus.OK)
        self.assertFalse(data['order']['can_cancel'])
        status, data = self.call('post', 'orders/%s/cancel' % order['id'],
            {}, email=SISTER_EMAIL)
        self.assertEqual(status, HTTPStatus.FORBIDDEN)

        status, data = self.call('post', 'orders/%s/cancel' % order['id'],
            {'reason': '临时外出'})
        self.assertEqual(status, HTTPStatus.OK, data)
        self.assertEqual(data['order']['state'], 'cancelled')
        self.assertEqual(data['order']['cancel_reason'], '临时外出')
        status, data = self.call('post', 'orders/%s/cancel' % order['id'], {})
        self.assertEqual(status, HTTPStatus.CONFLICT)
        self.assertEqual(data['code'], 'state')

        # ordered again after the cancellation, delivered home
        status, data = self.order('meal-key-0003', date,
            service_mode='delivery')
        self.assertEqual(status, HTTPStatus.CREATED, data)
        self.assertEqual(data['order']['service_mode'], 'delivery')

    def test_served_meal_counts(self):
        "A meal served in a period leaves the second one of it unsubsidised"
        date = day(6)
        offers = self.offers(date, elder=self.other_id, email=OTHER_EMAIL)
        with Transaction().start(DB_NAME, 0) as transaction:
            Order = Pool().get('meal.order')
            order, = Order.create([{
                        'point': self.point_id, 'elder': self.other_id,
                        'date': dt.date.fromisoformat(date),
                        'meal_period': 'lunch', 'channel': 'hotline',
                        'offer': offers['lunch']['id']}])
            Order.serve(order, 'id_card')
            order_id = order.id
            transaction.commit()
        offers = self.offers(date, elder=self.other_id, email=OTHER_EMAIL)
        self.assertEqual((offers['lunch']['subsidy'],
                offers['lunch']['self_pay'], offers['lunch']['basis']),
            ('0.00', '15.00', 'second_meal'))
        self.assertEqual(offers['dinner']['subsidy'], '3.00')
        status, data = self.call('get', 'orders', email=OTHER_EMAIL)
        served, = [o for o in data['orders'] if o['id'] == order_id]
        self.assertEqual((served['state'], served['channel'],
                served['subsidy'], served['self_pay'], served['estimated'],
                served['mine'], served['can_cancel']),
            ('served', 'hotline', '3.00', '12.00', False, False, False))

    def test_cancel_after_cutoff(self):
        "After the point's cut-off: no cancellation, no new order"
        date = day(3)
        status, data = self.order('meal-key-cut1', date, period='dinner')
        self.assertEqual(status, HTTPStatus.CREATED, data)
        order = data['order']
        self.set_cutoff(168)
        try:
            status, data = self.call('post',
                'orders/%s/cancel' % order['id'], {}, language='zh-CN')
            self.assertEqual(status, HTTPStatus.CONFLICT)
            self.assertEqual(data['code'], 'too_late')
            self.assertIn('已过取消截止时间', data['error'])
            status, data = self.order('meal-key-cut2', date,
                period='breakfast')
            self.assertEqual(status, HTTPStatus.UNPROCESSABLE_ENTITY)
            self.assertEqual(data['code'], 'too_late')
        finally:
            self.set_cutoff(2)
        self.assertEqual(self.orders(elder=self.elder_id,
                date=dt.date.fromisoformat(date)),
            [('ordered', date, 'dinner')])

    def test_other_family_refused(self):
        "Someone else's older person and orders"
        date = day(4)
        status, data = self.order('meal-key-mine', date)
        self.assertEqual(status, HTTPStatus.CREATED, data)
        order = data['order']
        offer = self.offers(date)['lunch']['id']
        status, data = self.call('post', 'orders', {
                'elder': self.elder_id, 'point': 'XC01', 'date': date,
                'meal_period': 'dinner', 'offer': offer},
            email=OTHER_EMAIL, headers={'Idempotency-Key': 'other-key-01'})
        self.assertEqual(status, HTTPStatus.FORBIDDEN)
        self.assertEqual(data['code'], 'not_your_elder')
        for path in ['elders/%s/menus?point=XC01' % self.elder_id,
                'orders?elder=%s' % self.elder_id]:
            status, data = self.call('get', path, email=OTHER_EMAIL)
            self.assertEqual(status, HTTPStatus.FORBIDDEN, path)
        status, data = self.call('get', 'orders/%s' % order['id'],
            email=OTHER_EMAIL)
        self.assertEqual(status, HTTPStatus.NOT_FOUND)
        status, data = self.call('post', 'orders/%s/cancel' % order['id'],
            {}, email=OTHER_EMAIL)
        self.assertEqual(status, HTTPStatus.NOT_FOUND)
        status, data = self.call('get', 'orders', email=OTHER_EMAIL)
        self.assertNotIn(order['id'], [o['id'] for o in data['orders']])
        self.assertEqual(self.orders(elder=self.elder_id,
                date=dt.date.fromisoformat(date)),
            [('ordered', date, 'lunch')])

    def test_bad_input(self):
        "Malformed (400) and refused (422) orders change nothing"
        date = day(5)
        offers = self.offers(date)
        valid = {'elder': self.elder_id, 'point': 'XC01', 'date': date,
            'meal_period': 'lunch', 'offer': offers['lunch']['id']}
        key = {'Idempotency-Key': 'bad-input-01'}
        cases = [
            (valid, None, HTTPStatus.BAD_REQUEST, 'malformed'),
            (valid, {'Idempotency-Key': 'short'}, HTTPStatus.BAD_REQUEST,
                'malformed'),
            ('[1, 2]', key, HTTPStatus.BAD_REQUEST, 'malformed'),
            ('{not json', key, HTTPStatus.BAD_REQUEST, 'malformed'),
            ({**valid, 'offer': None}, key, HTTPStatus.BAD_REQUEST,
                'malformed'),
            ({**valid, 'meal_period': 'supper'}, key,
                HTTPStatus.BAD_REQUEST, 'malformed'),
            ({**valid, 'service_mode': 'drone'}, key,
                HTTPStatus.BAD_REQUEST, 'malformed'),
            ({**valid, 'date': '31/12/2026'}, key, HTTPStatus.BAD_REQUEST,
                'malformed'),
            ({**valid, 'elder': 'x'}, key, HTTPStatus.BAD_REQUEST,
                'malformed'),
            ({**valid, 'count': 2}, key, HTTPStatus.UNPROCESSABLE_ENTITY,
                'count'),
            ({**valid, 'date': day(-1)}, key,
                HTTPStatus.UNPROCESSABLE_ENTITY, 'date'),
            ({**valid, 'date': day(30)}, key,
                HTTPStatus.UNPROCESSABLE_ENTITY, 'date'),
            ({**valid, 'offer': offers['dinner']['id']}, key,
                HTTPStatus.UNPROCESSABLE_ENTITY, 'offer'),
            ({**valid, 'point': 'HM01'}, key,
                HTTPStatus.UNPROCESSABLE_ENTITY, 'point'),
            ]
        before = self.orders()
        for body, headers, status_, code in cases:
            raw = body if isinstance(body, str) else json.dumps(body)
            status, data = self.call('post', 'orders', raw=raw,
                headers=headers)
            self.assertEqual((status, data['code']), (status_, code),
                (body, headers, data))
            self.assertTrue(data['error'])
        # XC02 serves the elder but does not deliver
        offer = self.offers(date, point='XC02')['lunch']['id']
        status, data = self.call('post', 'orders', {**valid, 'point': 'XC02',
                'offer': offer, 'service_mode': 'delivery'}, headers=key,
            language='zh-CN')
        self.assertEqual((status, data['code']),
            (HTTPStatus.UNPROCESSABLE_ENTITY, 'delivery'), data)
        self.assertIn('不能送餐', data['error'])
        self.assertEqual(self.orders(), before)

        status, data = self.call('post', 'orders/999999/cancel', {})
        self.assertEqual(status, HTTPStatus.NOT_FOUND)
        status, data = self.call('get', 'orders?elder=abc')
        self.assertEqual(status, HTTPStatus.BAD_REQUEST)


del TestCase
