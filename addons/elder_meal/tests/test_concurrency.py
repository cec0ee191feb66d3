# This file is part of the eldercare platform. See LICENSE.
"""One subsidised meal per person and meal period under concurrency: two
counters check the same person in at the same moment, in two transactions
on two database connections (real PostgreSQL). The data is committed in the
class's own test database."""
import threading
from decimal import Decimal

from trytond import backend
from trytond.exceptions import UserError
from trytond.pool import Pool
import unittest

from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from .tools import (
    active_provider, at, diner, last_month, meal_point, meal_policy,
    monday_before, publish_menu)


def _check_in(point_id, number, when, barrier, outcome):
    try:
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Point = pool.get('meal.point')
            CheckIn = pool.get('meal.checkin')
            point = Point(point_id)
            point.code  # the snapshot starts here, before the other commits
            barrier.wait(timeout=30)
            checkin = CheckIn.check_in(point, 'id_card', number, when=when)
            subsidy = checkin.order.subsidy_amount
            transaction.commit()
        outcome.append(('served', subsidy))
    except UserError as error:
        outcome.append(('refused', error.message))
    except backend.DatabaseOperationalError as error:
        outcome.append(('retry', type(error).__name__))


class MealConcurrencyTestCase(unittest.TestCase):
    """Concurrent check-ins of one person (a database of its own: the data
    is committed)"""

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module('elder_meal')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def test_two_counters_same_moment(self):
        with Transaction().start(DB_NAME, 0) as transaction:
            provider = active_provider('并发助餐中心', '150102', ['150102'])
            point_a = meal_point(provider, 'CC01')
            point_b = meal_point(provider, 'CC02')
            monday = monday_before(last_month(10))
            publish_menu(point_a, monday)
            publish_menu(point_b, monday)
            meal_policy('80岁以上', '8.00', min_age=80)
            elder = diner('并发老人', 61)
            ids = (point_a.id, point_b.id)
            number = elder.id_number
            elder_id = elder.id
            transaction.commit()
        day = monday + __import__('datetime').timedelta(days=1)
        when = at(day, 11, 45)
        barrier = threading.Barrier(2)
        outcomes = [], []
        threads = [threading.Thread(target=_check_in,
                args=(ids[i], number, when, barrier, outcomes[i]))
            for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertFalse(any(t.is_alive() for t in threads))
        results = [o[0] for o in outcomes]
        served = [r for r in results if r[0] == 'served']
        self.assertTrue(served, results)
        with Transaction().start(DB_NAME, 0) as transaction:
            Order = Pool().get('meal.order')
            orders = Order.search([('elder', '=', elder_id),
                    ('state', '=', 'served')])
            subsidised = [o.subsidy_amount for o in orders if o.subsidised]
            transaction.rollback()
        # whatever the interleaving (the loser is refused, or gets a
        # deadlock/serialization error that trytond retries): one subsidy
        self.assertEqual(len(subsidised), 1, results)
        self.assertEqual(subsidised, [Decimal('8.00')])
        for kind, detail in results:
            if kind == 'refused':
                self.assertIn('already had a subsidised meal', detail)
            elif kind == 'served':
                self.assertIn(detail, {Decimal('8.00'), Decimal('0.00')})

