# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
import json
import os

from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError
from trytond.modules.elder_service.exceptions import AssignError, VisitError
from trytond.modules.elder_service.geo import haversine
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import (
    HOME, HUIMIN, XINCHENG, active_provider, create_order,
    create_practitioner, home_elder, item, offset)


def at(minutes):
    "A time yesterday, minutes after 09:00 (visits are never in the future)"
    yesterday = dt.date.today() - dt.timedelta(days=1)
    return dt.datetime.combine(yesterday, dt.time(9)) + dt.timedelta(
        minutes=minutes)


class ElderServiceTestCase(ModuleTestCase):
    "Test elder_service module"
    module = 'elder_service'

    def _world(self):
        "An older person at HOME in 新城区 and an enabled provider serving it"
        elder = home_elder()
        provider = active_provider(
            '青城居家养老服务中心', XINCHENG, [XINCHENG],
            latitude=HOME[0], longitude=HOME[1], capacity=10)
        carer = create_practitioner('王护理', 1, provider)
        return elder, provider, carer

    def _accepted(self, elder, practitioner, item_code='SC0301'):
        "Submit, dispatch, accept and assign an order"
        Order = Pool().get('service.order')
        order = create_order(elder, item_code)
        Order.submit([order])
        Order.dispatch([order])
        self.assertEqual(order.state, 'dispatched')
        Order.accept([order])
        order.practitioner = practitioner
        order.save()
        Order.assign([order])
        return order

    @with_transaction()
    def test_region_follows_elder(self):
        "An order keeps its older person's region, also when they move"
        pool = Pool()
        Elder = pool.get('elder.elder')
        Order = pool.get('service.order')
        Region = pool.get('elder.region')
        xincheng, = Region.search([('code', '=', XINCHENG)])
        huimin, = Region.search([('code', '=', HUIMIN)])
        elder, provider, carer = self._world()
        order = create_order(elder, 'SC0301')
        self.assertEqual(order.region, xincheng)
        self.assertEqual(Order.search([('region', '=', xincheng.id)]), [order])
        Elder.write([elder], {'region': huimin.id})
        self.assertEqual(Order(order.id).region, huimin)
        self.assertEqual(Order.search([('region', '=', xincheng.id)]), [])
        other = home_elder('其其格', serial=13, region_code=XINCHENG)
        Order.write([order], {'elder': other.id})
        self.assertEqual(Order(order.id).region, xincheng)

    @with_transaction()
    def test_catalog(self):
        "The catalog ships items of the six service types with steps"
        pool = Pool()
        Item = pool.get('service.item')
        items = Item.search([])
        self.assertGreaterEqual(len(items), 12)
        self.assertEqual(
            {i.service_type.code for i in items},
            {'01', '02', '03', '04', '05', '06'})
        bathing = item('SC0101')
        self.assertTrue(bathing.photo_before and bathing.signature)
        self.assertEqual(len(bathing.steps), 5)
        self.assertEqual(bathing.unit, 'visit')

    @with_transaction()
    def test_item_regions(self):
        "An item offered in some regions only is refused elsewhere"
        pool = Pool()
        Region = pool.get('elder.region')
        bathing = item('SC0101')
        huimin, = Region.search([('code', '=', HUIMIN)])
        bathing.regions = [huimin]
        bathing.save()
        elder = home_elder()
        with self.assertRaises(ValidationError):
            create_order(elder, 'SC0101')

    @with_transaction()
    def test_full_path(self):
        "Order → dispatch → accept → assign → visit → confirm → close"
        pool = Pool()
        Order = pool.get('service.order')
        Provider = pool.get('elder.provider')
        Attachment = pool.get('ir.attachment')
        elder, provider, carer = self._world()

        order = create_order(elder, 'SC0101', channel='family')
        self.assertTrue(order.number.startswith('FW'))
        self.assertEqual(order.address, elder.address)
        self.assertEqual(order.price, item('SC0101').price)
        Order.submit([order])
        self.assertEqual(len(order.steps), 5)

        Order.dispatch([order])
        self.assertEqual(order.state, 'dispatched')
        self.assertEqual(order.provider, provider)
        explanation = json.loads(order.dispatch_explanation)
        self.assertEqual(explanation['chosen'], provider.id)
        self.assertIn(provider.name, order.dispatch_summary)

        Order.accept([order])
        order.practitioner = carer
        order.save()
        Order.assign([order])
        Order.depart([order])
        self.assertEqual(order.state, 'on_the_way')

        near = offset(HOME, north_m=30)
        anomalies = Order.checkin(
            order, near[0], near[1], 10, at(0), photo=b'jpeg-before')
        self.assertEqual(anomalies, [])
        self.assertEqual(order.state, 'in_service')
        self.assertAlmostEqual(order.checkin_distance, 30, delta=2)

        anomalies = Order.checkout(
            order, HOME[0], HOME[1], 10, at(95), photo=b'jpeg-after',
            signature=b'png-signature')
        self.assertEqual(anomalies, [])
        self.assertEqual(order.state, 'completed')
        self.assertEqual(order.duration, 95)
        self.assertTrue(all(s.done for s in order.steps))
        self.assertFalse(order.flagged)
        self.assertEqual(
            len(Attachment.search([('resource', '=', str(order))])), 3)

        again = self._accepted(elder, carer)
        self.assertEqual(again.previous_practitioner, carer)
        Order.cancel([again])

        Order.confirm_service(order, 5, "很满意", by='family')
        self.assertEqual(order.state, 'confirmed')
        Order.close([order])
        self.assertEqual(order.state, 'closed')
        self.assertEqual(
            [e.action for e in order.events],
            ['submit', 'dispatch', 'accept', 'assign', 'depart', 'checkin',
                'checkout', 'confirm', 'close'])
        self.assertTrue(all(e.date and e.to_state for e in order.events))
        self.assertEqual(Provider(provider.id).service_rating, 5)

    @with_transaction()
    def test_address_encrypted(self):
        "The order's address and visit positions are encrypted at rest"
        pool = Pool()
        Order = pool.get('service.order')
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer)
        Order.checkin(order, HOME[0], HOME[1], 10, at(0))
        table = Order.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.address_enc, table.checkin_latitude_enc,
                where=table.id == order.id))
        address, latitude = cursor.fetchone()
        self.assertNotIn('海拉尔', address)
        self.assertNotIn(str(HOME[0]), latitude)
        order = Order(order.id)
        self.assertEqual(order.address, elder.address)
        self.assertEqual(order.checkin_latitude, HOME[0])
        copy, = Order.copy([order])
        self.assertEqual(copy.address, elder.address)
        self.assertIsNone(copy.checkin_latitude)

    @with_transaction()
    def test_dispatch_exclusions(self):
        "Inactive, out-of-area, over-capacity providers are excluded"
        pool = Pool()
        Order = pool.get('service.order')
        Provider = pool.get('elder.provider')
        elder, provider, carer = self._world()
        inactive = active_provider('暂停中心', XINCHENG, [XINCHENG])
        Provider.write([inactive], {'state': 'suspended'})
        elsewhere = active_provider('回民区中心', HUIMIN, [HUIMIN])
        full = active_provider('满员中心', XINCHENG, ['150100'], capacity=1)
        no_type = active_provider('助餐中心', XINCHENG, [XINCHENG], types=['01'])
        busy = create_order(home_elder('其其格', 22))
        Order.submit([busy])
        busy.provider = full
        busy.save()
        Order.dispatch([busy])
        self.assertEqual(busy.provider, full)

        order = create_order(elder, 'SC0401')  # 04 health management
        Order.submit([order])
        Order.dispatch([order])
        self.assertEqual(order.provider, provider)
        explanation = json.loads(order.dispatch_explanation)
        reasons = {c['provider']: c['excluded']
            for c in explanation['candidates']}
        self.assertEqual(reasons[provider.id], [])
        self.assertEqual(reasons[inactive.id], ['not_active'])
        self.assertEqual(reasons[elsewhere.id], ['out_of_area'])
        self.assertEqual(reasons[full.id], ['over_capacity'])
        self.assertEqual(reasons[no_type.id], ['type_not_offered'])
        summary = order.dispatch_summary
        for name in ['暂停中心', '回民区中心', '满员中心', '助餐中心']:
            self.assertIn(name, summary)
        self.assertIn('at full capacity', summary)

    @with_transaction()
    def test_dispatch_scores(self):
        "Nearer, less loaded, better rated, penalty-free providers win"
        pool = Pool()
        Order = pool.get('service.order')
        elder = home_elder()
        far = active_provider('远处中心', XINCHENG, ['150100'],
            latitude=HOME[0] + 1, longitude=HOME[1])
        near = active_provider('附近中心', XINCHENG, ['150100'],
            latitude=HOME[0], longitude=HOME[1])
        order = create_order(elder)
        Order.submit([order])
        Order.dispatch([order])
        self.assertEqual(order.provider, near)
        scores = {c['provider']: c['scores']
            for c in json.loads(order.dispatch_explanation)['candidates']}
        self.assertGreater(scores[near.id]['distance'],
            scores[far.id]['distance'])

        # A heavy evaluation penalty turns the choice around.
        near.penalty = 1
        near.save()
        other = create_order(elder)
        Order.submit([other])
        Order.dispatch([other])
        self.assertEqual(other.provider, far)

    @with_transaction()
    def test_dispatch_area_match(self):
        "A provider serving the district beats one serving the whole city"
        pool = Pool()
        Order = pool.get('service.order')
        elder = home_elder()
        city = active_provider('市级中心', XINCHENG, ['150100'])
        district = active_provider('区级中心', XINCHENG, [XINCHENG])
        order = create_order(elder)
        Order.submit([order])
        Order.dispatch([order])
        self.assertEqual(order.provider, district)
        self.assertNotEqual(order.provider, city)

    @with_transaction()
    def test_no_provider(self):
        "Without an eligible provider the order stays submitted, explained"
        pool = Pool()
        Order = pool.get('service.order')
        elder = home_elder()
        active_provider('回民区中心', HUIMIN, [HUIMIN])
        order = create_order(elder)
        Order.submit([order])
        Order.dispatch([order])
        self.assertEqual(order.state, 'submitted')
        self.assertIsNone(order.provider)
        self.assertEqual(order.events[-1].action, 'dispatch_failed')
        self.assertIn('No provider can take the order', order.dispatch_summary)

    @with_transaction()
    def test_manual_dispatch_checked(self):
        "A provider chosen by hand must pass the same hard rules"
        pool = Pool()
        Order = pool.get('service.order')
        elder = home_elder()
        elsewhere = active_provider('回民区中心', HUIMIN, [HUIMIN])
        order = create_order(elder, provider=elsewhere.id)
        Order.submit([order])
        with self.assertRaises(UserError) as cm:
            Order.dispatch([order])
        self.assertIn("does not serve the older person's region",
            cm.exception.message)

    @with_transaction()
    def test_continuity_of_care(self):
        "The caregiver who served the older person is proposed and scored"
        pool = Pool()
        Order = pool.get('service.order')
        Practitioner = pool.get('elder.practitioner')
        Event = pool.get('service.order.event')
        elder, provider, wang = self._world()
        li = create_practitioner('李护理', 2, provider)
        other = active_provider('第二中心', XINCHENG, [XINCHENG],
            latitude=HOME[0], longitude=HOME[1], capacity=10)

        first = self._accepted(elder, wang)
        self.assertIsNone(first.previous_practitioner)
        Order.checkin(first, HOME[0], HOME[1], 10, at(0))
        Order.checkout(first, HOME[0], HOME[1], 10, at(40))

        # Dispatch: the provider whose caregiver served before scores
        # continuity 1 and the explanation names the caregiver.
        order = create_order(elder)
        Order.submit([order])
        Order.dispatch([order])
        self.assertEqual(order.provider, provider)
        candidates = {c['provider']: c for c in
            json.loads(order.dispatch_explanation)['candidates']}
        self.assertEqual(candidates[provider.id]['scores']['continuity'], 1)
        self.assertEqual(candidates[other.id]['scores']['continuity'], 0)
        self.assertEqual(
            candidates[provider.id]['facts']['caregiver'], [wang.id, '王护理'])
        self.assertIn('王护理 served this older person before',
            order.dispatch_summary)

        # Assignment: proposed, sorted first, and assigned when the
        # provider administrator presses Assign without choosing.
        Order.accept([order])
        self.assertEqual(order.previous_practitioner, wang)
        self.assertIn('王护理 served this older person 1 time',
            order.continuity)
        with Transaction().set_context(service_elder=elder.id):
            ranked = Practitioner.search([('provider', '=', provider.id)],
                order=[('served_count', 'DESC'), ('name', 'ASC')])
            self.assertEqual(ranked, [wang, li])
            self.assertEqual(
                [p.served_count for p in Practitioner.browse(ranked)], [1, 0])
        self.assertEqual(Practitioner.search([('provider', '=', provider.id)],
                order=[('name', 'ASC')])[0], li)
        Order.assign([order])
        self.assertEqual(order.practitioner, wang)
        event, = Event.search([('order', '=', order.id),
                ('action', '=', 'assign')])
        self.assertIn('continuity of care', event.note)
        Order.cancel([order])

        # The caregiver leaves: the provider served before, but no longer
        # with the same caregiver — continuity counts only partly.
        Practitioner.leave([wang])
        again = create_order(elder)
        Order.submit([again])
        Order.dispatch([again])
        candidates = {c['provider']: c for c in
            json.loads(again.dispatch_explanation)['candidates']}
        self.assertEqual(
            candidates[provider.id]['scores']['continuity'], 0.25)
        self.assertIsNone(candidates[provider.id]['facts']['caregiver'])
        self.assertIn('that caregiver has left', again.dispatch_summary)
        self.assertEqual(again.provider, provider)  # 0.25 still counts
        Order.accept([again])
        self.assertIsNone(again.previous_practitioner)
        with self.assertRaises(AssignError):
            Order.assign([again])

    @with_transaction()
    def test_reject_and_redispatch(self):
        "A rejected order goes back and avoids the provider that rejected it"
        pool = Pool()
        Order = pool.get('service.order')
        elder, first, _ = self._world()
        second = active_provider('第二中心', XINCHENG, ['150100'])
        order = create_order(elder)
        Order.submit([order])
        Order.dispatch([order])
        self.assertEqual(order.provider, first)
        Order.reject([order])
        self.assertEqual(order.state, 'submitted')
        self.assertIsNone(order.provider)
        Order.dispatch([order])
        self.assertEqual(order.provider, second)
        reasons = {c['provider']: c['excluded'] for c in
            json.loads(order.dispatch_explanation)['candidates']}
        self.assertEqual(reasons[first.id], ['declined'])

    @with_transaction()
    def test_acceptance_timeout(self):
        "An order not accepted in time is dispatched again by the scheduler"
        pool = Pool()
        Order = pool.get('service.order')
        elder, first, _ = self._world()
        second = active_provider('第二中心', XINCHENG, ['150100'])
        order = create_order(elder)
        Order.submit([order])
        Order.dispatch([order])
        Order.write([order], {
                'dispatched_at': dt.datetime.now() - dt.timedelta(hours=1)})
        Order.cron_dispatch()
        self.assertEqual(order.provider, second)
        self.assertEqual(order.state, 'dispatched')
        self.assertIn('timeout', [e.action for e in order.events])

    @with_transaction()
    def test_assign_qualification(self):
        "Only an active, qualified practitioner of the provider is assigned"
        pool = Pool()
        Order = pool.get('service.order')
        Practitioner = pool.get('elder.practitioner')
        elder, provider, carer = self._world()
        other = active_provider('第二中心', XINCHENG, [HUIMIN])
        stranger = create_practitioner('李护理', 2, other)
        order = create_order(elder, 'SC0401')  # needs a nurse
        Order.submit([order])
        Order.dispatch([order])
        Order.accept([order])
        order.practitioner = carer
        with self.assertRaises(AssignError):
            order.save()
        order = Order(order.id)
        order.practitioner = stranger
        with self.assertRaises(UserError):
            order.save()
        nurse = create_practitioner('赵护士', 3, provider, kind='nurse')
        order = Order(order.id)
        order.practitioner = nurse
        order.save()
        Order.assign([order])
        Practitioner.suspend([nurse])
        with self.assertRaises(AssignError):
            Order.assign([order])

        # Reassign: another nurse while on the way
        Practitioner.activate([nurse])
        Order.depart([order])
        nurse2 = create_practitioner('钱护士', 4, provider, kind='nurse')
        order.practitioner = nurse2
        order.save()
        Order.assign([order])
        self.assertEqual(order.state, 'accepted')
        self.assertEqual(order.events[-1].action, 'reassign')

    @with_transaction()
    def test_checkin_outside_geofence(self):
        "A check-in far from the home is flagged for review, not refused"
        pool = Pool()
        Order = pool.get('service.order')
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer)
        far = offset(HOME, east_m=1500)
        anomalies = Order.checkin(order, far[0], far[1], 20, at(0))
        self.assertEqual(anomalies, ['geofence'])
        self.assertEqual(order.state, 'in_service')
        self.assertTrue(order.flagged)
        self.assertEqual(order.anomalies[0].kind, 'geofence')
        self.assertIn('220 m', order.anomalies[0].detail)

        # Within tolerance + accuracy is accepted
        other = self._accepted(home_elder('其其格', 22), carer)
        edge = offset(HOME, east_m=250)
        Order.checkout(order, far[0], far[1], 20, at(60))
        self.assertEqual(
            Order.checkin(other, edge[0], edge[1], 60, at(120)), [])

        Order.review([order])
        self.assertFalse(order.flagged)
        self.assertTrue(all(a.reviewed for a in order.anomalies))

    @with_transaction()
    def test_checkout_before_checkin(self):
        "A check-out without or before the check-in is refused"
        pool = Pool()
        Order = pool.get('service.order')
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer)
        with self.assertRaises(VisitError) as cm:
            Order.checkout(order, HOME[0], HOME[1], 10, at(30))
        self.assertIn('there was no check-in', cm.exception.message)
        Order.checkin(order, HOME[0], HOME[1], 10, at(30))
        with self.assertRaises(VisitError) as cm:
            Order.checkout(order, HOME[0], HOME[1], 10, at(10))
        self.assertIn('before its check-in', cm.exception.message)
        self.assertEqual(order.state, 'in_service')

    @with_transaction()
    def test_error_translated(self):
        "The refusal of a check-out is given in the user's language"
        pool = Pool()
        Order = pool.get('service.order')
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        zh, = Lang.search([('code', '=', 'zh_CN')])
        Lang.write([zh], {'translatable': True})
        Translation.translation_import('zh_CN', 'elder_service', os.path.join(
                os.path.dirname(__file__), '..', 'locale', 'zh_CN.po'))
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer)
        with Transaction().set_context(language='zh_CN'):
            with self.assertRaises(VisitError) as cm:
                Order.checkout(order, HOME[0], HOME[1], 10, at(30))
        self.assertIn('尚未签到，不能签退', cm.exception.message)

    @with_transaction()
    def test_future_timestamp(self):
        "A check-in dated in the future is refused"
        pool = Pool()
        Order = pool.get('service.order')
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer)
        with self.assertRaises(VisitError):
            Order.checkin(order, HOME[0], HOME[1], 10,
                dt.datetime.now() + dt.timedelta(hours=1))
        self.assertEqual(order.state, 'accepted')

    @with_transaction()
    def test_invalid_position(self):
        "A position that is not a latitude and longitude is refused"
        pool = Pool()
        Order = pool.get('service.order')
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer)
        for lat, lon in [(91, 111), ('x', 111), (None, None)]:
            with self.subTest(lat=lat, lon=lon):
                with self.assertRaises(VisitError):
                    Order.checkin(order, lat, lon, 10, at(0))
        self.assertEqual(order.state, 'accepted')

    @with_transaction()
    def test_double_checkin(self):
        "A second check-in keeps the first one and flags the order"
        pool = Pool()
        Order = pool.get('service.order')
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer)
        Order.checkin(order, HOME[0], HOME[1], 10, at(0))
        anomalies = Order.checkin(order, HOME[0], HOME[1], 10, at(5))
        self.assertEqual(anomalies, ['double_checkin'])
        self.assertEqual(order.checkin_time, at(0))
        self.assertTrue(order.flagged)

    @with_transaction()
    def test_short_visit_and_missing_evidence(self):
        "A visit far below the standard duration without evidence is flagged"
        pool = Pool()
        Order = pool.get('service.order')
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer, 'SC0101')  # 90 min, evidence
        Order.checkin(order, HOME[0], HOME[1], 10, at(0))
        anomalies = Order.checkout(
            order, HOME[0], HOME[1], 10, at(20), steps=[order.steps[0].id])
        self.assertEqual(
            sorted(anomalies),
            ['missing_evidence', 'short_duration', 'steps_missing'])
        self.assertEqual(order.state, 'completed')
        self.assertTrue(order.flagged)

    @with_transaction()
    def test_overlap_and_impossible_travel(self):
        "One worker in two homes at once, or too fast between them, is flagged"
        pool = Pool()
        Order = pool.get('service.order')
        elder, provider, carer = self._world()
        far_home = offset(HOME, north_m=20000)
        other_elder = home_elder('其其格', 22, position=far_home)
        first = self._accepted(elder, carer)
        second = self._accepted(other_elder, carer)
        Order.checkin(first, HOME[0], HOME[1], 10, at(0))
        anomalies = Order.checkin(
            second, far_home[0], far_home[1], 10, at(10))
        self.assertIn('overlap', anomalies)

        third = self._accepted(home_elder('乌云', 32), carer)
        Order.checkout(second, far_home[0], far_home[1], 10, at(40))
        # 20 km in 5 minutes
        anomalies = Order.checkin(third, HOME[0], HOME[1], 10, at(45))
        self.assertIn('travel', anomalies)
        self.assertAlmostEqual(
            haversine(*HOME, *far_home), 20000, delta=50)

    @with_transaction()
    def test_confirm_rating(self):
        "A rating outside 1–5 is refused; a completed order needs one"
        pool = Pool()
        Order = pool.get('service.order')
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer)
        Order.checkin(order, HOME[0], HOME[1], 10, at(0))
        Order.checkout(order, HOME[0], HOME[1], 10, at(30))
        for rating in [0, 6, '5']:
            with self.subTest(rating=rating):
                with self.assertRaises(ValidationError):
                    Order.confirm_service(order, rating)
        with self.assertRaises(ValidationError):
            Order.confirm([order])
        Order.confirm_service(order, 4, by='elder')
        self.assertEqual(order.state, 'confirmed')

    @with_transaction()
    def test_cancel(self):
        "Orders are cancelled before the visit starts, not after"
        pool = Pool()
        Order = pool.get('service.order')
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer)
        Order.cancel([order])
        self.assertEqual(order.state, 'cancelled')
        started = self._accepted(elder, carer)
        Order.checkin(started, HOME[0], HOME[1], 10, at(0))
        Order.cancel([started])
        self.assertEqual(started.state, 'in_service')

    @with_transaction()
    def test_plan_generates_orders_once(self):
        "A running plan generates orders ahead, and only once per day"
        pool = Pool()
        Plan = pool.get('service.plan')
        Order = pool.get('service.order')
        elder, provider, carer = self._world()
        today = dt.date(2026, 3, 2)  # a Monday
        plan, = Plan.create([{
                    'elder': elder.id,
                    'item': item('SC0102').id,
                    'provider': provider.id,
                    'monday': True,
                    'wednesday': True,
                    'time_from': dt.time(9),
                    'time_to': dt.time(11),
                    'start_date': today,
                    }])
        self.assertEqual(Plan.generate_orders(today=today), [])  # draft
        Plan.run([plan])
        orders = Plan.generate_orders(today=today)
        self.assertEqual(
            sorted(o.requested_date for o in orders),
            [today, today + dt.timedelta(days=2)])
        self.assertTrue(all(o.state == 'submitted' for o in orders))
        self.assertTrue(all(o.channel == 'plan' for o in orders))
        self.assertEqual(Plan.generate_orders(today=today), [])
        later = Plan.generate_orders(today=today + dt.timedelta(days=7))
        self.assertEqual(
            sorted(o.requested_date for o in later),
            [today + dt.timedelta(days=7), today + dt.timedelta(days=9)])
        self.assertEqual(Order.search_count([('plan', '=', plan.id)]), 4)

    @with_transaction()
    def test_death_stops_services(self):
        "The death of the older person cancels open orders and stops plans"
        pool = Pool()
        Elder = pool.get('elder.elder')
        Plan = pool.get('service.plan')
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer)
        plan, = Plan.create([{
                    'elder': elder.id, 'item': item('SC0301').id,
                    'monday': True, 'start_date': dt.date.today()}])
        Plan.run([plan])
        Elder.deceased([elder], dt.date.today())
        self.assertEqual(order.state, 'cancelled')
        self.assertEqual(order.cancel_reason, 'The older person died.')
        self.assertEqual(plan.state, 'stopped')

    @with_transaction()
    def test_overdue(self):
        "Orders whose date passed without completion are overdue"
        pool = Pool()
        Order = pool.get('service.order')
        elder = home_elder()
        late = create_order(
            elder, requested_date=dt.date.today() - dt.timedelta(days=2))
        create_order(elder)
        self.assertEqual(Order.search([('overdue', '=', True)]), [late])
        self.assertTrue(late.overdue)

    @with_transaction()
    def test_statistics(self):
        "Supervision statistics count orders by provider, region and type"
        pool = Pool()
        Order = pool.get('service.order')
        Statistic = pool.get('service.order.statistic')
        elder, provider, carer = self._world()
        done = self._accepted(elder, carer)
        Order.checkin(done, HOME[0], HOME[1], 10, at(0))
        Order.checkout(done, HOME[0], HOME[1], 10, at(40))
        self._accepted(elder, carer)
        Order.submit([create_order(elder)])  # not dispatched
        today = dt.date.today()
        with Transaction().set_context(
                from_date=today - dt.timedelta(days=7), to_date=today):
            stat, = Statistic.search([('provider', '=', provider.id)])
            self.assertEqual(
                (stat.orders, stat.done, stat.open, stat.minutes),
                (2, 1, 1, 40))
            self.assertEqual(stat.region, elder.region)
            self.assertEqual(stat.service_type.code, '03')
            undispatched, = Statistic.search([('provider', '=', None)])
            self.assertEqual(undispatched.open, 1)
        with Transaction().set_context(
                from_date=today + dt.timedelta(days=1)):
            self.assertEqual(Statistic.search([]), [])

    @with_transaction()
    def test_complaint(self):
        "A complaint on an order goes open → processing → resolved → closed"
        pool = Pool()
        Complaint = pool.get('service.complaint')
        elder, provider, carer = self._world()
        order = self._accepted(elder, carer)
        complaint, = Complaint.create([{
                    'order': order.id,
                    'description': '护理员迟到一小时',
                    }])
        self.assertTrue(complaint.number.startswith('TS'))
        self.assertEqual(complaint.provider, provider)
        Complaint.process([complaint])
        with self.assertRaises(UserError):
            Complaint.resolve([complaint])  # resolution required
        complaint.resolution = '机构已道歉并调整排班'
        complaint.save()
        Complaint.resolve([complaint])
        Complaint.close([complaint])
        self.assertEqual(complaint.state, 'closed')


del ModuleTestCase
