# This file is part of the eldercare platform. See LICENSE.
"""Write call events through the platform's own API (call.call.ingest in
the Tryton ORM, inside the adapter's process), one transaction per batch,
with the adapter's position (switch start + sequence) in the same
transaction: after a crash the adapter asks the switch to replay from the
last committed position, and the unique (source, event id) of call.event
turns anything replayed twice into a no-op."""
import logging
import os

logger = logging.getLogger(__name__)


class TemporaryError(Exception):
    "The database cannot be reached: retry the same batch later"


class TrytonStore:
    def __init__(self, database, config_file=None):
        from trytond import config
        config.update_etc(config_file or os.environ.get('TRYTOND_CONFIG'))
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        self.database = database
        self.Pool, self.Transaction = Pool, Transaction
        Pool.start()
        pool = Pool(database)
        with Transaction().start(database, 0, readonly=True):
            pool.init()

    def _operational(self):
        from trytond.backend import DatabaseOperationalError
        try:
            import psycopg
            return (DatabaseOperationalError, psycopg.OperationalError)
        except ImportError:
            return (DatabaseOperationalError,)

    def position(self, source):
        with self.Transaction().start(self.database, 0, readonly=True):
            Position = self.Pool().get('call.cti.position')
            return Position.get(source)

    def write(self, events, source=None, position=None):
        """Store the events (CallEvent dicts) and the position; commit.
        Returns the statuses (new/duplicate)."""
        try:
            with self.Transaction().start(self.database, 0) as transaction:
                pool = self.Pool()
                Call = pool.get('call.call')
                statuses = Call.ingest(events) if events else []
                if source and position:
                    pool.get('call.cti.position').set(source, position)
                transaction.commit()
            return statuses
        except self._operational() as error:
            raise TemporaryError(str(error)) from error

    def pending_dials(self):
        """[(id, seat uri, target)] of the pending click-to-dial requests"""
        with self.Transaction().start(self.database, 0, readonly=True):
            Dial = self.Pool().get('call.dial')
            return [(d.id, d.seat.sip_uri, d.target) for d in Dial.pending()]

    def mark_dials(self, ids, state, error=None):
        with self.Transaction().start(self.database, 0) as transaction:
            Dial = self.Pool().get('call.dial')
            Dial.mark(Dial.browse(ids), state, error)
            transaction.commit()

    def presence(self):
        """({seat code: presence}, next wrap-up end or None): see
        call.agent.routing_presence"""
        try:
            with self.Transaction().start(self.database, 0, readonly=True):
                return self.Pool().get('call.agent').routing_presence()
        except self._operational() as error:
            raise TemporaryError(str(error)) from error

    def end_wrap_up(self):
        "Agents whose wrap-up is over become available (and NOTIFY)"
        try:
            with self.Transaction().start(self.database, 0) as transaction:
                self.Pool().get('call.agent').end_wrap_up()
                transaction.commit()
        except self._operational() as error:
            raise TemporaryError(str(error)) from error
