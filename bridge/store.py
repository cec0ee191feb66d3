"""Write normalised events through the platform's own API (elder_device's
Device.ingest) in one database transaction per batch."""
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

    def write(self, events):
        """Store the events and raise their alarms; commit.

        Returns one status per event (see Device.ingest). Raises
        TemporaryError when the database is unreachable; any other
        exception means the batch itself is bad."""
        from trytond.backend import DatabaseOperationalError
        try:
            import psycopg
            operational = (DatabaseOperationalError, psycopg.OperationalError)
        except ImportError:
            operational = (DatabaseOperationalError,)
        try:
            with self.Transaction().start(self.database, 0) as transaction:
                Device = self.Pool().get('device.device')
                statuses = Device.ingest(events)
                transaction.commit()
            return statuses
        except operational as error:
            raise TemporaryError(str(error)) from error
