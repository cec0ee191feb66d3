# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
from contextlib import contextmanager
import os
import tempfile
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.elder_face.tests.tools import (
    consent, enrolment, face, tiny_onnx_model)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from ..exceptions import CheckInError, MealOrderError
from ..pricing import split
from .tools import (
    active_provider, at, create_practitioner, create_user, diner,
    last_month, meal_point, meal_policy, monday_before, publish_menu)

D = Decimal


@contextmanager
def savepoint():
    "Roll back to here after an expected database error"
    cursor = Transaction().connection.cursor()
    cursor.execute('SAVEPOINT meal_test')
    try:
        yield
    except Exception:
        cursor.execute('ROLLBACK TO SAVEPOINT meal_test')
        raise


class ElderMealTestCase(ModuleTestCase):
    "Test elder_meal module"
    module = 'elder_meal'

    def setup_canteens(self):
        "Two canteens of one provider, published menus, the age bands"
        provider = active_provider('青城助餐服务中心', '150102', ['150102'])
        staff_a = create_user('canteen_a', 'elder_meal.group_meal_staff',
            elder_provider=provider.id)
        staff_b = create_user('canteen_b', 'elder_meal.group_meal_staff',
            elder_provider=provider.id)
        point_a = meal_point(provider, 'XC01', staff=[staff_a])
        point_b = meal_point(provider, 'XC02', staff=[staff_b])
        monday = monday_before(last_month(10))
        offers_a = publish_menu(point_a, monday)
        offers_b = publish_menu(point_b, monday)
        meal_policy('特困老人助餐补贴', '10.00', categories=['extreme_poverty'],
            sequence=1)
        meal_policy('80岁以上助餐补贴', '8.00', daily_cap='12.00',
            monthly_cap='30.00', min_age=80, sequence=2)
        meal_policy('60至79岁助餐补贴', '3.00', min_age=60, max_age=79,
            sequence=3)
        return {'provider': provider, 'a': point_a, 'b': point_b,
            'offers_a': offers_a, 'offers_b': offers_b,
            'staff_a': staff_a, 'staff_b': staff_b,
            'tuesday': monday + dt.timedelta(days=1)}

    def test_pricing_table(self):
        "The split of a meal's price, rule by rule"
        cases = [
            # price, per meal, daily cap, used, monthly cap, used
            (('15', '8'), (D('8.00'), D('7.00'), 'full')),
            (('5', '8'), (D('5.00'), D('0.00'), 'full')),
            (('15', '8', '12', '8'), (D('4.00'), D('11.00'), 'capped')),
            (('15', '8', '12', '12'), (D('0.00'), D('15.00'), 'over_cap')),
            (('15', '8', None, '0', '30', '26'),
                (D('4.00'), D('11.00'), 'capped')),
            (('15', '8', None, '0', '30', '31'),
                (D('0.00'), D('15.00'), 'over_cap')),
            (('12.345', '8'), (D('8.00'), D('4.35'), 'full')),
            ]
        for args, expected in cases:
            price, per_meal, *rest = args
            daily_cap = rest[0] if rest else None
            daily_used = rest[1] if len(rest) > 1 else '0'
            monthly_cap = rest[2] if len(rest) > 2 else None
            monthly_used = rest[3] if len(rest) > 3 else '0'
            self.assertEqual(split(
                    D(price), D(per_meal),
                    D(daily_cap) if daily_cap else None, D(daily_used),
                    D(monthly_cap) if monthly_cap else None,
                    D(monthly_used)), expected, args)
        self.assertEqual(split(D('15'), D('8'), entitled=False),
            (D('0.00'), D('15.00'), 'not_entitled'))
        self.assertEqual(split(D('15'), D('8'), first_of_period=False),
            (D('0.00'), D('15.00'), 'second_meal'))
        with self.assertRaises(ValueError):
            split(D('-1'), D('8'))

    @with_transaction()
    def test_age_bands(self):
        "The entitlement engine picks the policy of the age band / category"
        self.setup_canteens()
        Entitlement = Pool().get('elder.entitlement')
        old = diner('巴特尔', 11, birth='19400315')
        young = diner('乌兰', 12, birth='19550315')
        poor = diner('其其格', 13, birth='19550316',
            categories=[('add', [Pool().get('elder.category').search(
                            [('code', '=', 'extreme_poverty')])[0].id])])
        Entitlement.evaluate([poor], last_month(1))
        child = diner('小明', 14, birth='19900101')
        day = last_month(5)
        amounts = {e.name: (Entitlement.meal_subsidy(e, day).meal_amount
                if Entitlement.meal_subsidy(e, day) else None)
            for e in [old, young, poor, child]}
        self.assertEqual(amounts, {'巴特尔': D('8.00'), '乌兰': D('3.00'),
                '其其格': D('10.00'), '小明': None})
        entitlement = Entitlement.meal_subsidy(old, day)
        self.assertEqual(entitlement.meal_daily_cap, D('12.00'))
        self.assertEqual(entitlement.monthly_amount, D('30.00'))

    @with_transaction()
    def test_checkin_caps_and_double_meal(self):
        "ID card check-in, subsidy per meal, caps, one subsidised meal a period"
        c = self.setup_canteens()
        CheckIn = Pool().get('meal.checkin')
        elder = diner('巴特尔', 21)
        day = c['tuesday']
        lunch = CheckIn.check_in(c['a'], 'id_card', elder.id_number,
            when=at(day, 11, 40), payment_method='cash')
        self.assertEqual(lunch.result, 'accepted')
        order = lunch.order
        self.assertEqual((order.price, order.subsidy_amount,
                order.self_pay_amount, order.basis, order.meal_period),
            (D('15.00'), D('8.00'), D('7.00'), 'full', 'lunch'))
        self.assertEqual(order.checkin_method, 'id_card')
        self.assertEqual(order.channel, 'walk_in')
        self.assertIn(elder, c['a'].members)
        # the same period at the other canteen: served, not subsidised
        second = CheckIn.check_in(c['b'], 'id_card', elder.id_number,
            when=at(day, 12, 10))
        self.assertEqual((second.order.subsidy_amount, second.order.basis),
            (D('0.00'), 'second_meal'))
        # dinner: the daily cap 12 leaves 4
        dinner = CheckIn.check_in(c['a'], 'id_card', elder.id_number,
            when=at(day, 17, 30))
        self.assertEqual((dinner.order.subsidy_amount,
                dinner.order.self_pay_amount, dinner.order.basis),
            (D('4.00'), D('8.00'), 'capped'))
        # breakfast next day: 8; lunch: the monthly cap 30 leaves 10 → 8;
        # dinner: 2 left of the month
        wednesday = day + dt.timedelta(days=1)
        results = [CheckIn.check_in(c['a'], 'id_card', elder.id_number,
                when=at(wednesday, h)).order for h in (8, 12, 18)]
        self.assertEqual([(o.subsidy_amount, o.basis) for o in results],
            [(D('5.00'), 'full'), (D('7.00'), 'capped'),
                (D('0.00'), 'over_cap')])
        # 8 + 4 + 5 + 7 = 24 ... the month's subsidy never exceeds 30
        Order = Pool().get('meal.order')
        total = sum(o.subsidy_amount for o in Order.search([
                    ('elder', '=', elder.id), ('state', '=', 'served')]))
        self.assertEqual(total, D('24.00'))
        self.assertTrue(all(o.price == o.subsidy_amount + o.self_pay_amount
                for o in Order.search([('elder', '=', elder.id)])))

    @with_transaction()
    def test_double_subsidy_refused_by_database(self):
        "A second subsidised meal in a period is refused by the constraint"
        c = self.setup_canteens()
        pool = Pool()
        CheckIn = pool.get('meal.checkin')
        Order = pool.get('meal.order')
        elder = diner('巴特尔', 22)
        day = c['tuesday']
        CheckIn.check_in(c['a'], 'id_card', elder.id_number,
            when=at(day, 11, 40))
        order, = Order.create([{'point': c['b'].id, 'elder': elder.id,
                    'date': day, 'meal_period': 'lunch',
                    'offer': c['offers_b']['lunch'].id}])
        Order.write([order], {'subsidy_amount': D('8.00'),
                'self_pay_amount': D('7.00'), 'subsidised': True})
        with self.assertRaises(UserError) as cm:
            Order._serve([order])
        self.assertIn('already had a subsidised meal', cm.exception.message)

    @with_transaction()
    def test_bad_inputs(self):
        "Bad input gets a translated error and changes nothing"
        c = self.setup_canteens()
        pool = Pool()
        CheckIn = pool.get('meal.checkin')
        Order = pool.get('meal.order')
        Menu = pool.get('meal.menu')
        Inspection = pool.get('meal.inspection')
        elder = diner('巴特尔', 23)
        day = c['tuesday']
        bad = [
            ('id_card', '150102194003150000'),  # wrong check character
            ('id_card', 12345),
            ('qr', 'https://example.com/x'),
            ('qr', 'ELDERMEAL:zz'),
            ('face', b''),
            ('fingerprint', 'x'),
            ]
        for method, value in bad:
            with self.assertRaises(CheckInError, msg=method):
                CheckIn.check_in(c['a'], method, value,
                    when=at(day, 11, 40))
        with self.assertRaises(CheckInError):
            # outside opening hours without a meal period
            CheckIn.check_in(c['a'], 'id_card', elder.id_number,
                when=at(day, 15))
        with self.assertRaises(CheckInError):
            CheckIn.check_in(c['a'], 'id_card', elder.id_number,
                when=at(day, 11, 40), payment_method='bitcoin')
        with self.assertRaises(CheckInError):
            # an offer of the other canteen
            CheckIn.check_in(c['a'], 'id_card', elder.id_number,
                when=at(day, 11, 40), offer=c['offers_b']['lunch'].id)
        self.assertEqual(CheckIn.search([]), [])
        self.assertEqual(Order.search([]), [])
        with self.assertRaises(MealOrderError) as cm:
            CheckIn.check_in(c['a'], 'id_card', elder.id_number,
                when=at(day, 11, 40), payment_method='wechat',
                payment_reference='123')
        self.assertIn('WeChat Pay', cm.exception.message)
        far = diner('远方', 24, latitude=D('40.950000'),
            longitude=D('111.700000'))
        with self.assertRaises(MealOrderError) as cm:
            Order.create([{'point': c['a'].id, 'elder': far.id,
                        'date': day, 'meal_period': 'lunch',
                        'service_mode': 'delivery', 'channel': 'hotline',
                        'offer': c['offers_a']['lunch'].id}])
        self.assertIn('delivery radius', cm.exception.message)
        with self.assertRaises(UserError):
            menu, = Menu.create([{'point': c['a'].id, 'kind': 'weekly',
                        'start_date': day}])  # a Tuesday
        menu, = Menu.create([{'point': c['a'].id, 'kind': 'daily',
                    'start_date': day}])
        with self.assertRaises(UserError):
            Menu.publish([menu])  # empty
        with self.assertRaises(UserError):
            Inspection.create([{'point': c['a'].id, 'inspector': '市场监管局',
                        'date': dt.date.today() + dt.timedelta(days=2)}])

    @with_transaction()
    def test_unknown_and_deceased_logged(self):
        "Valid but unknown identifiers and deceased people are refused, logged"
        c = self.setup_canteens()
        pool = Pool()
        CheckIn = pool.get('meal.checkin')
        Elder = pool.get('elder.elder')
        from trytond.modules.elder_base.tests.tools import citizen_id
        day = c['tuesday']
        unknown = CheckIn.check_in(c['a'], 'id_card',
            citizen_id('150102', '19400101', 999), when=at(day, 12))
        self.assertEqual((unknown.result, unknown.reason, unknown.order),
            ('rejected', 'unknown_person', None))
        self.assertTrue(unknown.value_hint.startswith('*'))
        qr = CheckIn.check_in(c['a'], 'qr', 'ELDERMEAL:' + '0' * 32,
            when=at(day, 12))
        self.assertEqual(qr.reason, 'unknown_person')
        elder = diner('巴特尔', 25)
        Elder.issue_meal_card([elder])
        Elder.deceased([elder], day - dt.timedelta(days=1))
        dead = CheckIn.check_in(c['a'], 'qr', Elder(elder.id).meal_card_qr,
            when=at(day, 12))
        self.assertEqual((dead.result, dead.reason), ('rejected', 'deceased'))
        with self.assertRaises(UserError), \
                Transaction().set_context(_check_access=True):
            CheckIn.write([dead], {'result': 'accepted'})

    @with_transaction()
    def test_preorder_cancel_no_show_delivery(self):
        "Pre-orders are served at check-in, cancelled, or become no-shows"
        c = self.setup_canteens()
        pool = Pool()
        CheckIn = pool.get('meal.checkin')
        Order = pool.get('meal.order')
        Elder = pool.get('elder.elder')
        day = c['tuesday']
        elder = diner('巴特尔', 26)
        Elder.issue_meal_card([elder])
        elder = Elder(elder.id)
        lunch, dinner, breakfast = Order.create([{
                    'point': c['a'].id, 'elder': elder.id, 'date': day,
                    'meal_period': p, 'channel': 'family',
                    'offer': c['offers_a'][p].id} for p in (
                    'lunch', 'dinner', 'breakfast')])
        self.assertEqual(lunch.price, D('15.00'))
        with self.assertRaises(UserError), savepoint():
            Order.create([{'point': c['b'].id, 'elder': elder.id,
                        'date': day, 'meal_period': 'lunch',
                        'offer': c['offers_b']['lunch'].id}])
        checkin = CheckIn.check_in(c['a'], 'qr', elder.meal_card_qr,
            when=at(day, 11, 30), payment_method='wechat',
            payment_reference='4200001234202601011234567890')
        self.assertEqual(checkin.order, lunch)
        self.assertEqual(Order(lunch.id).channel, 'family')
        self.assertEqual(Order(lunch.id).checkin_method, 'qr')
        with self.assertRaises(UserError):
            Order.cancel([dinner])  # no reason
        Order.write([dinner], {'cancel_reason': '家属接走'})
        Order.cancel([dinner])
        Order.cron_no_show(day + dt.timedelta(days=1))
        self.assertEqual([Order(o).state for o in (lunch, dinner, breakfast)],
            ['served', 'cancelled', 'no_show'])

        # delivery by a practitioner of the provider, checked in at the door
        user = create_user('deliverer', 'elder_base.group_caregiver',
            elder_provider=c['provider'].id)
        practitioner = create_practitioner('送餐员', 31, c['provider'],
            user=user.id)
        wednesday = day + dt.timedelta(days=1)
        delivery, = Order.create([{'point': c['a'].id, 'elder': elder.id,
                    'date': wednesday, 'meal_period': 'lunch',
                    'service_mode': 'delivery', 'channel': 'hotline',
                    'deliverer': practitioner.id,
                    'offer': c['offers_a']['lunch'].id}])
        with self.assertRaises(MealOrderError):
            Order.deliver(delivery, D('40.85'), D('111.70'))  # not as admin
        with Transaction().set_user(user.id):
            served = Order.deliver(delivery, D('40.850100'),
                D('111.700100'), when=at(wednesday, 11, 50))
        self.assertEqual(served.state, 'served')
        self.assertEqual(served.checkin_method, 'delivery')
        self.assertLess(served.delivery_distance, 50)
        self.assertFalse(served.delivery_flagged)
        self.assertEqual(served.subsidy_amount, D('8.00'))

    @with_transaction()
    def test_anomalies(self):
        "Two points in one period, meals after death, outside hours, licence"
        c = self.setup_canteens()
        pool = Pool()
        CheckIn = pool.get('meal.checkin')
        Anomaly = pool.get('meal.anomaly')
        Elder = pool.get('elder.elder')
        Point = pool.get('meal.point')
        day = c['tuesday']
        elder = diner('巴特尔', 27)
        other = diner('乌兰', 28)
        CheckIn.check_in(c['a'], 'id_card', elder.id_number,
            when=at(day, 11, 40))
        CheckIn.check_in(c['b'], 'id_card', elder.id_number,
            when=at(day, 12, 5))
        # a meal recorded at 15:10 as lunch (outside 11:00–13:30)
        CheckIn.check_in(c['a'], 'id_card', other.id_number,
            meal_period='lunch', when=at(day, 15, 10))
        # a death recorded later, dated before a served meal
        Elder.deceased([other], day - dt.timedelta(days=2))
        Point.write([c['b']], {'licence_expiry': dt.date.today()
                - dt.timedelta(days=1)})
        found = Anomaly.detect(day - dt.timedelta(days=1), day)
        kinds = sorted((a.kind, a.elder.name if a.elder else a.point.code)
            for a in found)
        self.assertEqual(kinds, [
                ('after_death', '乌兰'),
                ('licence_expired', 'XC02'),
                ('outside_hours', '乌兰'),
                ('two_points', '巴特尔'),
                ])
        two, = [a for a in found if a.kind == 'two_points']
        self.assertEqual(len(two.orders), 2)
        # idempotent
        self.assertEqual(Anomaly.detect(day - dt.timedelta(days=1), day), [])
        self.assertEqual(Point(c['b'].id).licence_state, 'expired')

    @with_transaction()
    def test_inspection_workflow(self):
        "Findings → rectification by the provider → verified by supervisor"
        c = self.setup_canteens()
        Inspection = Pool().get('meal.inspection')
        point = c['a']
        self.assertEqual(point.inspection_status, 'never')
        with self.assertRaises(UserError):
            Inspection.create([{'point': point.id, 'inspector': '市场监管局',
                        'date': dt.date.today(), 'result': 'rectify'}])
        inspection, = Inspection.create([{'point': point.id,
                    'inspector': '新城区市场监管局 张三',
                    'date': dt.date.today(), 'result': 'rectify',
                    'findings': '留样记录不全',
                    'deadline': dt.date.today() + dt.timedelta(days=7)}])
        Inspection.confirm([inspection])
        self.assertEqual(inspection.state, 'open')
        self.assertEqual(type(point)(point.id).inspection_status,
            'rectifying')
        with self.assertRaises(UserError):
            Inspection.rectify([inspection])
        Inspection.write([inspection], {'rectification': '补齐留样柜和记录'})
        Inspection.rectify([inspection])
        Inspection.close([inspection])
        self.assertEqual(inspection.state, 'closed')
        self.assertEqual(type(point)(point.id).inspection_status, 'passed')

    @with_transaction()
    def test_face_checkin(self):
        """Check-in by face among the canteen's enrolled people: accepted
        with the subsidy; a stranger and a failed liveness check refused"""
        c = self.setup_canteens()
        pool = Pool()
        CheckIn = pool.get('meal.checkin')
        Point = pool.get('meal.point')
        Enrolment = pool.get('face.enrolment')
        Provider = pool.get('face.liveness.provider')
        Config = pool.get('face.configuration')
        elder = diner('其其格', 29)
        consent(elder.party)
        record = enrolment(elder=elder)
        Enrolment.register_images(record, [face('amy', 1), face('amy', 2)])
        Point.write([c['a']], {'members': [('add', [elder.id])]})
        Point.sync_gallery([c['a']])
        point = Point(c['a'].id)
        self.assertEqual(len(point.gallery.members), 1)
        self.assertEqual(point.gallery.terminals, (c['staff_a'],))
        day = c['tuesday']
        ok = CheckIn.check_in(point, 'face', face('amy', 4),
            when=at(day, 11, 45))
        self.assertEqual((ok.result, ok.elder), ('accepted', elder))
        self.assertEqual(ok.face_attempt.liveness_verdict, 'live')
        self.assertEqual(ok.order.subsidy_amount, D('8.00'))
        self.assertEqual(ok.order.face_attempt, ok.face_attempt)
        stranger = CheckIn.check_in(point, 'face', face('howard', 1),
            when=at(day, 11, 46))
        self.assertEqual((stranger.result, stranger.reason, stranger.order),
            ('rejected', 'no_match', None))
        # another canteen has no gallery: nobody is identified there
        elsewhere = CheckIn.check_in(c['b'], 'face', face('amy', 4),
            when=at(day, 11, 47))
        self.assertEqual(elsewhere.reason, 'no_gallery')
        # a liveness check that cannot run is never live: refused
        with tempfile.TemporaryDirectory() as folder:
            path = tiny_onnx_model(os.path.join(folder, 'model.onnx'))
            provider, = Provider.create([{
                        'name': 'operator model', 'kind': 'onnx',
                        'model_path': path, 'model_sha256': '0' * 64,
                        'threshold': 0.5}])
            Config.write([Config(1)], {'liveness_provider': provider.id})
            refused = CheckIn.check_in(point, 'face', face('amy', 3),
                when=at(day, 17, 30))
        self.assertEqual((refused.result, refused.reason, refused.order),
            ('rejected', 'liveness_error', None))
        self.assertEqual(refused.face_attempt.liveness_verdict, 'error')
        # even when the configuration does not require liveness
        Config.write([Config(1)], {'require_liveness': False})
        refused = CheckIn.check_in(point, 'face', face('amy', 3),
            when=at(day, 17, 31))
        self.assertEqual((refused.result, refused.reason),
            ('rejected', 'liveness_error'))

    @with_transaction()
    def test_staff_see_only_their_point(self):
        "A canteen's staff see only their point, its orders and its people"
        c = self.setup_canteens()
        pool = Pool()
        CheckIn = pool.get('meal.checkin')
        Point = pool.get('meal.point')
        Order = pool.get('meal.order')
        Elder = pool.get('elder.elder')
        Anomaly = pool.get('meal.anomaly')
        day = c['tuesday']
        elder_a = diner('巴特尔', 41)
        elder_b = diner('乌兰', 42)
        CheckIn.check_in(c['a'], 'id_card', elder_a.id_number,
            when=at(day, 11, 40))
        CheckIn.check_in(c['b'], 'id_card', elder_b.id_number,
            when=at(day, 11, 40))
        with Transaction().set_user(c['staff_a'].id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Point.search([]), [c['a']])
            self.assertEqual([o.point for o in Order.search([])], [c['a']])
            self.assertEqual(Elder.search([]), [elder_a])
            self.assertEqual([x.point for x in CheckIn.search([])],
                [c['a']])
            with self.assertRaises(AccessError):
                Point.read([c['b'].id], ['name'])
            with self.assertRaises(AccessError):
                Anomaly.search([])
            with self.assertRaises(AccessError):
                Point.write([c['a']], {'capacity': 10})
            with self.assertRaises(UserError):
                CheckIn.counter_check_in(c['b'].id, 'id_card',
                    elder_b.id_number, meal_period='dinner')


    @with_transaction()
    def test_settlement_to_invoice(self):
        """Served meals of last month → statement per provider and district
        → posted supplier invoice of the subsidy on 500107 → paid"""
        from trytond.modules.elder_settlement.tests.tools import company
        pool = Pool()
        CheckIn = pool.get('meal.checkin')
        Statement = pool.get('settlement.statement')
        Line = pool.get('settlement.line')
        record = company()
        c = self.setup_canteens()
        day = c['tuesday']
        elder = diner('巴特尔', 51)
        young = diner('乌兰', 52, birth='19550315')
        CheckIn.check_in(c['a'], 'id_card', elder.id_number,
            when=at(day, 11, 40), payment_method='cash')
        CheckIn.check_in(c['a'], 'id_card', elder.id_number,
            when=at(day, 17, 40), payment_method='card',
            payment_reference='POS-000123')
        CheckIn.check_in(c['b'], 'id_card', young.id_number,
            when=at(day, 7, 30), payment_method='wechat',
            payment_reference='4200001234202601011234567890')
        changed, priced = Statement.settle(day)
        self.assertEqual(len(priced), 3)
        statement, = changed
        self.assertEqual(statement.provider, c['provider'])
        self.assertEqual(statement.district.code, '150102')
        # lunch 15 = 8 + 7; dinner 12 = 4 (daily cap 12) + 8;
        # breakfast 5 = 3 + 2
        self.assertEqual((statement.line_count, statement.amount,
                statement.subsidy_amount, statement.self_pay_amount),
            (3, D('32.00'), D('15.00'), D('17.00')))
        self.assertTrue(all(l.service_type.code == '07'
                for l in statement.lines))
        # idempotent
        self.assertEqual(Statement.settle(day), ([], []))
        # the home-service quota is not consumed by meals
        self.assertEqual(Line.used_quota(elder, day.replace(day=1)),
            (D('0.00'), D('0.00')))
        supervisor = create_user('sup', 'elder_base.group_supervisor')
        finance = create_user('fin', 'elder_base.group_finance',
            companies=[('add', [record.id])], company=record.id)
        Statement.send([statement])
        Statement.accept([statement])
        with Transaction().set_user(supervisor.id):
            Statement.check([statement])
        with Transaction().set_user(finance.id), \
                Transaction().set_context(company=record.id):
            Statement.approve([statement])
        statement = Statement(statement.id)
        invoice = statement.invoice
        self.assertEqual((invoice.type, invoice.state, invoice.total_amount),
            ('in', 'posted', D('15.00')))
        line, = invoice.lines
        self.assertEqual(line.account.code, '500107')
        with Transaction().set_user(finance.id), \
                Transaction().set_context(company=record.id):
            Statement.pay([statement])
        self.assertEqual(Statement(statement.id).invoice.state, 'paid')


del ModuleTestCase
