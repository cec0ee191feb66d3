# This file is part of the eldercare platform. See LICENSE.
"""Time-bank invariants under concurrency: two transactions on two
database connections redeem at the same time, on real PostgreSQL.

The data is committed (the transactions must see it), in the class's own
test database, which ModuleTestCase drops at the end."""
import threading
from decimal import Decimal

from trytond import backend
from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, ModuleTestCase
from trytond.transaction import Transaction

from .tools import create_order, earn, home_elder, volunteer


def _redeem(redemption_id, started, release, outcome):
    """Redeem in a transaction of its own; hold the commit until release so
    that the other transaction runs while the lock is held"""
    try:
        with Transaction().start(DB_NAME, 0) as transaction:
            Redemption = Pool().get('timebank.redemption')
            redemption = Redemption(redemption_id)
            redemption.state  # the snapshot of this transaction starts here
            started.wait(timeout=30)
            Redemption.do([redemption])
            release.wait(timeout=30)
            transaction.commit()
        outcome.append('done')
    except UserError as error:
        outcome.append(('refused', error.message))
    except backend.DatabaseOperationalError as error:
        # Serialization failure: trytond would retry the request, and the
        # retry sees the committed redemption (checked below).
        outcome.append(('retry', type(error).__name__))


class TimeBankConcurrencyTestCase(ModuleTestCase):
    "Concurrent redemptions on the time bank"
    module = 'elder_community'

    def _setup(self, hours, redemptions):
        "A volunteer with hours earned and draft redemptions, committed"
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Account = pool.get('timebank.account')
            Redemption = pool.get('timebank.redemption')
            count = Account.search_count([])
            record = volunteer('并发志愿者%s' % count, 50 + count)
            earn(record, hours)
            account = Account.of(record)
            elder = home_elder('并发老人%s' % count, 60 + count)
            values = []
            for hours_ in redemptions:
                values.append({'account': account.id,
                        'order': create_order(elder).id,
                        'hours': Decimal(hours_)})
            ids = [r.id for r in Redemption.create(values)]
            transaction.commit()
            return account.id, ids

    def _race(self, first_id, second_id):
        started = threading.Barrier(2)
        release = threading.Event()
        outcomes = [], []
        threads = [
            threading.Thread(target=_redeem,
                args=(first_id, started, release, outcomes[0])),
            threading.Thread(target=_redeem,
                args=(second_id, started, release, outcomes[1])),
            ]
        for thread in threads:
            thread.start()
        # Let both transactions reach the lock, then let them commit.
        threads[0].join(timeout=2)
        release.set()
        for thread in threads:
            thread.join(timeout=60)
        self.assertFalse(any(t.is_alive() for t in threads))
        return [o[0] for o in outcomes]

    def _state(self, account_id):
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Account = pool.get('timebank.account')
            Entry = pool.get('timebank.entry')
            account = Account(account_id)
            entries = Entry.search([('account', '=', account_id),
                    ('kind', '=', 'redeem')])
            totals = account.totals()
            transaction.rollback()
            return account.balance, entries, totals

    def test_double_redemption(self):
        "The same redemption pressed in two transactions is taken once"
        account_id, (redemption_id,) = self._setup(5, [2])
        outcomes = self._race(redemption_id, redemption_id)
        self.assertEqual(outcomes.count('done'), 1, outcomes)
        balance, entries, totals = self._state(account_id)
        self.assertEqual(len(entries), 1)
        self.assertEqual(balance, Decimal(3))
        self.assertEqual(totals['balance'], balance)
        # The one that lost runs again, as trytond's retry would: refused.
        outcome = []
        barrier = threading.Barrier(1)
        release = threading.Event()
        release.set()
        _redeem(redemption_id, barrier, release, outcome)
        self.assertEqual(outcome, ['done'])  # a done redemption is skipped
        balance, entries, _ = self._state(account_id)
        self.assertEqual((balance, len(entries)), (Decimal(3), 1))

    def test_concurrent_overdraw(self):
        "Two redemptions that together exceed the balance: one is refused"
        account_id, (first, second) = self._setup(3, [2, 2])
        outcomes = self._race(first, second)
        self.assertEqual(outcomes.count('done'), 1, outcomes)
        balance, entries, totals = self._state(account_id)
        self.assertEqual(len(entries), 1)
        self.assertEqual(balance, Decimal(1))
        self.assertGreaterEqual(balance, 0)
        self.assertEqual(totals['balance'], balance)
        # The retry of the loser sees the committed balance and is refused
        # with the translated message, writing nothing.
        loser = second if outcomes[0] == 'done' else first
        outcome = []
        barrier = threading.Barrier(1)
        release = threading.Event()
        release.set()
        _redeem(loser, barrier, release, outcome)
        self.assertEqual(outcome[0][0], 'refused')
        self.assertIn('has 1.0 hours', outcome[0][1])
        balance, entries, _ = self._state(account_id)
        self.assertEqual((balance, len(entries)), (Decimal(1), 1))


del ModuleTestCase
