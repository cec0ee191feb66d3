"""Write normalised events through the platform's own API (elder_device's
Device.ingest) in one database transaction per batch."""
import logging
import os
import random
import time

logger = logging.getLogger(__name__)

# Concurrent workers updating the same device rows: retried at once
CONFLICT_RETRIES = 20


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
        self.postgresql = self._is_postgresql()
        self.conflicts = 0

    def _is_postgresql(self):
        from trytond import backend
        return backend.name == 'postgresql'

    def write(self, events):
        """Store the events and raise their alarms; commit.

        Returns one status per event (see Device.ingest). Raises
        TemporaryError when the database is unreachable; any other
        exception means the batch itself is bad.

        On PostgreSQL the transaction is READ COMMITTED, not trytond's
        REPEATABLE READ: several bridge workers update the same device rows
        (last_seen, battery …, commutative: GREATEST), and under REPEATABLE
        READ the second of two such transactions fails with "could not
        serialize access due to concurrent update" where READ COMMITTED
        waits for the first one's commit and goes on. A serialization
        failure or deadlock that still happens is retried at once (a few
        times, with a little jitter), not taken for the database being
        down."""
        from trytond.backend import DatabaseOperationalError
        try:
            import psycopg
            operational = (DatabaseOperationalError, psycopg.OperationalError)
            conflict = (psycopg.errors.SerializationFailure,
                psycopg.errors.DeadlockDetected)
        except ImportError:
            operational, conflict = (DatabaseOperationalError,), ()
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                with self.Transaction().start(
                        self.database, 0) as transaction:
                    if self.postgresql:
                        transaction.connection.cursor().execute(
                            'SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
                    Device = self.Pool().get('device.device')
                    statuses = Device.ingest(events)
                    transaction.commit()
                return statuses
            except conflict as error:
                self.conflicts += 1
                if attempt == CONFLICT_RETRIES:
                    raise TemporaryError(str(error)) from error
                logger.info('concurrent update, retrying the batch: %s',
                    error)
                time.sleep(random.uniform(0, 0.05))  # noqa: S311 (jitter, not a secret)
            except operational as error:
                raise TemporaryError(str(error)) from error
