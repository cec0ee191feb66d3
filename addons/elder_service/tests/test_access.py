# This file is part of the eldercare platform. See LICENSE.
"What a user may NOT see or do with service orders."
import datetime as dt

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.elder_base.tests.tools import region
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import (
    HOME, HUIMIN, XINCHENG, active_provider, create_order,
    create_practitioner, create_user, home_elder)


def as_user(user):
    transaction = Transaction()
    return transaction.set_user(user.id), transaction.set_context(
        _check_access=True)


class ElderServiceAccessTestCase(ModuleTestCase):
    "Test elder_service data scope"
    module = 'elder_service'

    def _two_providers(self):
        """Provider A serves 新城区, provider B 回民区, each with a caregiver
        and one accepted order"""
        pool = Pool()
        Order = pool.get('service.order')
        elder_a = home_elder('新城老人', 12, XINCHENG)
        elder_b = home_elder('回民老人', 22, HUIMIN)
        elder_c = home_elder('无单老人', 32, XINCHENG)
        a = active_provider('甲服务中心', XINCHENG, [XINCHENG])
        b = active_provider('乙服务中心', HUIMIN, [HUIMIN])
        admin_a = create_user(
            'padmin_a', 'elder_base.group_provider_admin', elder_provider=a.id)
        create_user(
            'padmin_b', 'elder_base.group_provider_admin', elder_provider=b.id)
        carer_user = create_user(
            'carer_a', 'elder_base.group_caregiver', elder_provider=a.id)
        carer = create_practitioner('王护理', 1, a, user=carer_user.id)
        other_carer = create_practitioner('张护理', 2, a)
        orders = []
        for elder, practitioner in [
                (elder_a, carer), (elder_b, None), (elder_c, other_carer)]:
            order = create_order(elder)
            Order.submit([order])
            Order.dispatch([order])
            Order.accept([order])
            if practitioner:
                order.practitioner = practitioner
                order.save()
            orders.append(order)
        return {
            'elders': (elder_a, elder_b, elder_c),
            'orders': orders,
            'admin_a': admin_a,
            'carer_user': carer_user,
            'providers': (a, b),
            }

    @with_transaction()
    def test_provider_sees_only_own_orders(self):
        "A provider administrator never sees another provider's orders"
        pool = Pool()
        Order = pool.get('service.order')
        w = self._two_providers()
        order_a, order_b, order_c = w['orders']
        user, ctx = as_user(w['admin_a'])
        with user, ctx:
            self.assertEqual(set(Order.search([])), {order_a, order_c})
            with self.assertRaises(AccessError):
                Order.read([order_b.id], ['number'])
            with self.assertRaises(AccessError):
                Order.write([Order(order_b.id)], {'note': 'x'})
            with self.assertRaises(AccessError):
                Order.reject([Order(order_b.id)])

    @with_transaction()
    def test_caregiver_sees_only_own_tasks(self):
        "A caregiver sees the orders assigned to them and nothing else"
        pool = Pool()
        Order = pool.get('service.order')
        w = self._two_providers()
        order_a, order_b, order_c = w['orders']
        user, ctx = as_user(w['carer_user'])
        with user, ctx:
            self.assertEqual(Order.search([]), [order_a])
            with self.assertRaises(AccessError):
                Order.read([order_c.id], ['number'])
            with self.assertRaises(AccessError):
                Order.write([Order(order_a.id)], {'note': 'x'})
            # check-in on an order of another caregiver is refused
            with self.assertRaises(AccessError):
                Order.checkin(Order(order_c.id), HOME[0], HOME[1], 10)
            Order.depart([Order(order_a.id)])
            Order.checkin(Order(order_a.id), HOME[0], HOME[1], 10)
        self.assertEqual(order_a.state, 'in_service')

    @with_transaction()
    def test_non_assigned_user_cannot_check_in(self):
        "Even a provider administrator cannot check in for a caregiver"
        pool = Pool()
        Order = pool.get('service.order')
        w = self._two_providers()
        order_a = w['orders'][0]
        user, ctx = as_user(w['admin_a'])
        with user, ctx:
            with self.assertRaises(AccessError):
                Order.checkin(Order(order_a.id), HOME[0], HOME[1], 10)

    @with_transaction()
    def test_provider_reads_served_elders_only(self):
        "Provider users read the older people they have orders for, read-only"
        pool = Pool()
        Elder = pool.get('elder.elder')
        w = self._two_providers()
        elder_a, elder_b, elder_c = w['elders']
        unserved = home_elder('从未服务', 42, XINCHENG)
        user, ctx = as_user(w['admin_a'])
        with user, ctx:
            self.assertEqual(set(Elder.search([])), {elder_a, elder_c})
            with self.assertRaises(AccessError):
                Elder.read([elder_b.id], ['name'])
            with self.assertRaises(AccessError):
                Elder.read([unserved.id], ['name'])
            with self.assertRaises(AccessError):
                Elder.write([Elder(elder_a.id)], {'note': 'x'})
        user, ctx = as_user(w['carer_user'])
        with user, ctx:
            self.assertEqual(Elder.search([]), [elder_a])
            with self.assertRaises(AccessError):
                Elder.read([elder_c.id], ['name'])

    @with_transaction()
    def test_provider_statistics_scope(self):
        "A provider administrator's statistics cover their provider only"
        pool = Pool()
        Statistic = pool.get('service.order.statistic')
        w = self._two_providers()
        a, b = w['providers']
        user, ctx = as_user(w['admin_a'])
        with user, ctx:
            self.assertEqual({s.provider for s in Statistic.search([])}, {a})
            self.assertEqual(sum(s.orders for s in Statistic.search([])), 2)

    @with_transaction()
    def test_region_scope(self):
        "A district supervisor sees the orders of their district only"
        pool = Pool()
        Order = pool.get('service.order')
        w = self._two_providers()
        order_a, order_b, order_c = w['orders']
        sup = create_user(
            'sup_hm', 'elder_base.group_supervisor',
            elder_region=region(HUIMIN).id)
        user, ctx = as_user(sup)
        with user, ctx:
            self.assertEqual(Order.search([]), [order_b])
            with self.assertRaises(AccessError):
                Order.write([Order(order_b.id)], {'note': 'x'})

    @with_transaction()
    def test_buttons_by_group(self):
        "Operators dispatch but cannot accept; providers accept, not dispatch"
        pool = Pool()
        Order = pool.get('service.order')
        elder = home_elder()
        provider = active_provider('甲服务中心', XINCHENG, [XINCHENG])
        operator = create_user(
            'op', 'elder_base.group_operator',
            elder_region=region('150100').id)
        padmin = create_user(
            'padmin', 'elder_base.group_provider_admin',
            elder_provider=provider.id)
        order = create_order(elder)
        user, ctx = as_user(operator)
        with user, ctx:
            Order.submit([Order(order.id)])
            Order.dispatch([Order(order.id)])
            with self.assertRaises(AccessButtonError):
                Order.accept([Order(order.id)])
        user, ctx = as_user(padmin)
        with user, ctx:
            Order.accept([Order(order.id)])
            with self.assertRaises(AccessButtonError):
                Order.cancel([Order(order.id)])
        self.assertEqual(order.state, 'accepted')
        self.assertEqual(
            [e.user for e in order.events], [operator, operator, padmin])

    @with_transaction()
    def test_agent_creates_order_in_scope(self):
        "A call-center agent records an order for an older person in scope"
        pool = Pool()
        Order = pool.get('service.order')
        Item = pool.get('service.item')
        elder = home_elder()
        agent = create_user(
            'agent', 'elder_base.group_agent',
            elder_region=region(XINCHENG).id)
        user, ctx = as_user(agent)
        with user, ctx:
            item, = Item.search([('code', '=', 'SC0301')])
            order, = Order.create([{
                        'elder': elder.id,
                        'item': item.id,
                        'requested_date': dt.date.today(),
                        }])
            Order.submit([order])
            with self.assertRaises(AccessButtonError):
                Order.dispatch([order])


del ModuleTestCase
