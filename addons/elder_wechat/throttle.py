# This file is part of the eldercare platform. See LICENSE.
"""Rate limits kept in the database (every server process counts in the
same table): a counter per key and time window."""
import datetime as dt

from sql import Literal

from trytond.model import Index, ModelSQL, fields
from trytond.transaction import Transaction


class Throttle(ModelSQL):
    "Rate Limit Counter"
    __name__ = 'wechat.throttle'
    # "api:<web user id>", "login:<client address>", "code:<elder id>"
    _sensitivity = {'key': 'personal'}
    key = fields.Char("Key", required=True)
    window = fields.Timestamp("Window", required=True)
    count = fields.Integer("Count", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t,
                (t.key, Index.Equality()), (t.window, Index.Range())))

    @classmethod
    def hit(cls, key, limit, seconds, count=True):
        """Count a hit of key in the current window of seconds; return
        True when the limit is exceeded (the hit is counted anyway)"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        now = dt.datetime.now().replace(microsecond=0)
        start = dt.datetime.fromtimestamp(
            int(now.timestamp()) // seconds * seconds)
        key = key[:200]
        cursor.execute(*table.select(table.id, table.count,
                where=(table.key == key) & (table.window == start),
                limit=1))
        row = cursor.fetchone()
        if not count:
            return bool(row and row[1] >= limit)
        if row:
            cursor.execute(*table.update([table.count],
                    [table.count + Literal(1)], where=table.id == row[0]))
            total = row[1] + 1
        else:
            cursor.execute(*table.insert(
                    [table.key, table.window, table.count, table.create_date,
                        table.create_uid],
                    [[key, start, 1, now, Transaction().user]]))
            total = 1
        return total > limit

    @classmethod
    def purge(cls, days=2):
        "Remove the counters of old windows (cron)"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.delete(where=table.window
                < dt.datetime.now() - dt.timedelta(days=days)))
