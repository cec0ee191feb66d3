# This file is part of the eldercare platform. See LICENSE.
"""Incremental sync from PostgreSQL into the analytics store, and the
analytics service that owns the embedded store.

Engine (``SyncEngine``), for each table of the registry whose model is in
the pool and whose query runs:

* ``updated`` tables: the rows with ``COALESCE(write_date, create_date)``
  after the store's watermark (its highest ``_version``) minus an overlap
  window (``[elder_bi] overlap``, 120 s: Tryton stamps rows with the
  transaction's start time, so a transaction that commits later than others
  may carry an older stamp), read in keyset pages; each row is inserted with
  ``_version`` = that time in microseconds, so a newer version replaces it
  (ReplacingMergeTree, read with ``FINAL``) and the rows read twice
  collapse.
* ``id`` tables (append-only telemetry): the rows with an id above the
  store's highest id, up to the *fence* (``IdFence``): the highest id below
  which no running transaction can still commit a row. Concurrent bridge
  workers draw ids from one sequence and commit in any order; without the
  fence, a sync between two commits would move the watermark past the ids
  of the later one and lose its rows.
* streamed tables (telemetry, ``stream=True``): an ``AFTER INSERT``
  statement trigger sends ``NOTIFY elder_bi_sync, '<table>'`` (delivered on
  commit); the service LISTENs on its own connection and, 200 ms after the
  first notice (to batch a burst), syncs those tables only. PostgreSQL stays
  the source of truth: a notice lost while the service is down costs
  nothing, the next sync reads from the store's watermark.
* deletes: an ``AFTER DELETE`` statement trigger on every synced table
  writes the deleted ids into ``bi_tombstone``; the engine turns each into a
  row ``_deleted = 1`` with a newer version, which ``FINAL`` drops.

The watermarks are read from the store itself, so an emptied store fills
again from the start and nothing is synced twice after a crash.

Service: ``python -m trytond.modules.elder_bi.sync serve -d DB`` takes an
exclusive lock on the data path (one owner), opens the store, answers
``POST /query`` (one SELECT, bearer token), ``/sync`` and ``/health`` on
127.0.0.1 (``--listen``, default a free port) and syncs every
``--interval`` seconds (and at once on a notice); it writes its address,
token and heartbeat into ``bi.configuration`` so that the trytond
processes (web routes, cron) reach it. Every ``[elder_bi]
optimize_interval`` seconds (3600; 0: never) it merges the parts of the
tables read with ``FINAL`` (``OPTIMIZE … FINAL``, only where a partition
has more than one part), so that ``FINAL`` has little left to collapse.
``once`` runs one sync and exits; ``ddl [--cluster NAME]`` prints the DDL.
"""
import argparse
import datetime as dt
import fcntl
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from trytond import config
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from .store import in_pool

from .registry import TABLES, UPDATED

logger = logging.getLogger(__name__)
EPOCH = dt.datetime(1970, 1, 1)
TOMBSTONE_TABLE = 'bi_tombstone'
CHANNEL = 'elder_bi_sync'
DEBOUNCE = 0.2
SELECT_ONLY = re.compile(r'^\s*(SELECT|WITH)\b[^;]*;?\s*$', re.I | re.S)

TRIGGER_FUNCTION = '''
CREATE OR REPLACE FUNCTION bi_tombstone_log() RETURNS trigger AS $$
BEGIN
    INSERT INTO bi_tombstone (tbl, rid)
        SELECT TG_TABLE_NAME, o.id FROM old_rows o;
    RETURN NULL;
END $$ LANGUAGE plpgsql'''
NOTIFY_FUNCTION = '''
CREATE OR REPLACE FUNCTION bi_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('%s', TG_TABLE_NAME);
    RETURN NULL;
END $$ LANGUAGE plpgsql''' % CHANNEL


def micros(value):
    return int((value - EPOCH).total_seconds() * 1_000_000)


def from_micros(value):
    return EPOCH + dt.timedelta(microseconds=value)


def overlap_seconds():
    return config.getint('elder_bi', 'overlap', default=120)


def optimize_seconds():
    return config.getint('elder_bi', 'optimize_interval', default=3600)


def ensure_tombstone_table(cursor):
    cursor.execute(
        'CREATE TABLE IF NOT EXISTS bi_tombstone ('
        'id BIGSERIAL PRIMARY KEY, tbl VARCHAR NOT NULL, '
        'rid INTEGER NOT NULL, '
        "deleted_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'))")
    cursor.execute(TRIGGER_FUNCTION)
    cursor.execute(NOTIFY_FUNCTION)


def _has_trigger(cursor, table, name):
    cursor.execute('SELECT 1 FROM pg_trigger WHERE tgrelid = '
        'to_regclass(%s) AND tgname = %s', (table, name))
    return cursor.fetchone() is not None


def ensure_triggers(cursor, table):
    """The triggers of a synced PostgreSQL table: tombstones of deletes,
    NOTIFY on insert for streamed tables. Created only when missing (CREATE
    TRIGGER locks out the writers of the table while it runs)"""
    if table.deletes and not _has_trigger(
            cursor, table.table, 'bi_tombstone_trg'):
        ensure_tombstone_table(cursor)
        cursor.execute(
            'CREATE OR REPLACE TRIGGER bi_tombstone_trg AFTER DELETE ON %s '
            'REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT '
            'EXECUTE FUNCTION bi_tombstone_log()' % table.table)
    if table.stream and not _has_trigger(
            cursor, table.table, 'bi_notify_trg'):
        ensure_tombstone_table(cursor)
        cursor.execute(
            'CREATE OR REPLACE TRIGGER bi_notify_trg AFTER INSERT ON %s '
            'FOR EACH STATEMENT EXECUTE FUNCTION bi_notify()' % table.table)


class IdFence:
    """The ids of the ``id`` tables that are safe to sync: a row with an id
    at or below the fence is committed (or never will be).

    At each check, on its own autocommit connection and before the sync's
    transaction takes its snapshot: the sequence's last value L, then the
    transactions holding a write lock on the table (an INSERT takes it
    before it draws ids). L becomes the fence once those transactions have
    ended (at once when there are none; otherwise at a later check)."""

    def __init__(self, database):
        self.database = database
        self.connection = None
        self.fences = {}
        self.pending = {}

    def connect(self):
        import psycopg

        from trytond import backend
        if self.connection is None or self.connection.closed:
            self.connection = psycopg.connect(autocommit=True,
                **backend.Database._connection_params(self.database))
        return self.connection

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def check(self, tables):
        "Return {store table: fence} of the id tables"
        try:
            return self._check(tables)
        except Exception:
            self.close()
            raise

    def _check(self, tables):
        conn = self.connect()
        for table in tables:
            if table.watermark != 'id':
                continue
            relation = table.table.strip('"')
            found = conn.execute(
                "SELECT pg_get_serial_sequence(%s, 'id') "
                "WHERE to_regclass(%s) IS NOT NULL",
                (relation, relation)).fetchone()
            if not found or not found[0]:
                continue
            sequence = found[0]
            last, called = conn.execute(
                'SELECT last_value, is_called FROM %s' % sequence  # noqa: S608 (name from pg_get_serial_sequence)
                ).fetchone()
            last = last if called else 0
            writers = {r[0] for r in conn.execute(
                    "SELECT virtualtransaction FROM pg_locks "
                    "WHERE locktype = 'relation' AND relation = "
                    "to_regclass(%s) AND mode = 'RowExclusiveLock' "
                    "AND pid != pg_backend_pid()", (relation,))}
            pending = self.pending.setdefault(table.name, [])
            pending.append((last, writers))
            waiting = set().union(*(w for _, w in pending))
            running = {r[0] for r in conn.execute(
                    "SELECT virtualxid FROM pg_locks "
                    "WHERE locktype = 'virtualxid' "
                    "AND virtualxid = ANY(%s)", (sorted(waiting),))
                } if waiting else set()
            while pending and not (pending[0][1] & running):
                self.fences[table.name] = max(
                    self.fences.get(table.name, 0), pending.pop(0)[0])
            del pending[:-100]  # a stuck writer: keep the latest checks
            self.fences.setdefault(table.name, 0)
        return dict(self.fences)


class SyncEngine:
    "Sync the registry's tables of one database into one store"

    def __init__(self, store, overlap=None):
        self.store = store
        self.overlap = overlap_seconds() if overlap is None else overlap
        self._checked = {}
        self._marks = {}
        # {store table: highest id safe to sync} (IdFence), set by the
        # service before each run; None: no fence (a single writer)
        self.fences = None

    # --- discovery -------------------------------------------------------
    def available(self, table):
        """Return None when the table can be synced in this database, or
        the reason why not"""
        if table.name in self._checked:
            return self._checked[table.name]
        pool = Pool()
        reason = None
        if not in_pool(pool, table.model):
            reason = 'module not activated (%s)' % table.model
        else:
            transaction = Transaction()
            cursor = transaction.connection.cursor()
            try:
                cursor.execute('SAVEPOINT bi_check')
                cursor.execute('SELECT %s FROM %s t %s LIMIT 0' % (  # noqa: S608 (identifiers from the registry, values bound as parameters)
                        table.select_sql(), table.table, table.joins))
                cursor.execute('RELEASE SAVEPOINT bi_check')
            except Exception as error:
                cursor.execute('ROLLBACK TO SAVEPOINT bi_check')
                reason = str(error).splitlines()[0]
            if reason is None:
                ensure_triggers(cursor, table)
        self._checked[table.name] = reason
        return reason

    def tables(self):
        return [t for t in TABLES.values() if self.available(t) is None]

    def ensure_store(self):
        for table in TABLES.values():
            self.store.ensure_table(table)
        self.store.command(
            'CREATE TABLE IF NOT EXISTS $db._tombstones (id UInt64, '
            "tbl String, rid UInt64, deleted_at DateTime64(6, 'UTC')) "
            'ENGINE = ReplacingMergeTree ORDER BY id')

    # --- watermarks ------------------------------------------------------
    def watermark(self, table):
        column = 'id' if table.watermark == 'id' else '_version'
        _, rows = self.store.query(
            'SELECT max(%s) FROM $db.%s' % (column, table.name))  # noqa: S608 (identifiers from the registry, values bound as parameters)
        return rows[0][0] or 0

    def optimize(self):
        """Merge the parts of the tables read with FINAL where a partition
        has more than one (the queries stay exact without it; FINAL is then
        cheap). Return the names of the tables merged"""
        local = '_local' if self.store.cluster else ''
        _, rows = self.store.query('SELECT table FROM system.parts '
            'WHERE database = {db:String} AND active '
            'GROUP BY table, partition_id HAVING count() > 1',
            {'db': self.store.db})
        crowded = {r[0] for r in rows}
        merged = []
        for table in TABLES.values():
            if table.watermark == 'id' or table.name + local not in crowded:
                continue
            self.store.command('OPTIMIZE TABLE $db.%s%s%s FINAL' % (
                    table.name, local, ' ON CLUSTER %s' % self.store.cluster
                    if self.store.cluster else ''))
            merged.append(table.name)
        return merged

    # --- sync --------------------------------------------------------------
    def sync_table(self, table, cached=False):
        """Copy the changed rows of a table; return the number of rows.
        cached: an id table starts from the id this engine last wrote
        (streamed syncs: no scan of the store for its watermark)"""
        cursor = Transaction().connection.cursor()
        synced = table.synced_columns()
        names = ['id'] + [c.name for c in synced] + ['_version']
        json_columns = [i for i, c in enumerate(synced, 1)
            if c.type == 'JSON']
        total = 0
        if cached and table.name in self._marks:
            mark = self._marks[table.name]
        else:
            mark = self.watermark(table)
        if table.watermark == 'id':
            self._marks[table.name] = mark
        if table.watermark == 'id':
            last = (mark,)
            where = 't.id > %s'
            order = 't.id'
            head = 't.id'
            if self.fences is not None and table.name in self.fences:
                where += ' AND t.id <= %d' % int(self.fences[table.name])
        else:
            start = (from_micros(mark) - dt.timedelta(seconds=self.overlap)
                if mark else EPOCH)
            last = (start, 0)
            where = '(%s, t.id) > (%%s, %%s)' % UPDATED
            order = '%s, t.id' % UPDATED
            head = '%s AS _updated, t.id' % UPDATED
        while True:
            cursor.execute('SELECT %s, %s FROM %s t %s WHERE %s '  # noqa: S608 (identifiers from the registry, values bound as parameters)
                'ORDER BY %s LIMIT %s' % (
                    head, table.select_sql(), table.table, table.joins,
                    where, order, int(table.batch)), last)
            fetched = cursor.fetchall()
            if not fetched:
                break
            rows = []
            for record in fetched:
                if table.watermark == 'id':
                    row = [record[0]] + list(record[1:]) + [record[0]]
                else:
                    row = [record[1]] + list(record[2:]) + [
                        micros(record[0])]
                for index in json_columns:
                    value = row[index]
                    value = (json.loads(value)
                        if isinstance(value, str) else (value or {}))
                    row[index] = (value if isinstance(value, dict)
                        else {'value': value})
                rows.append(row)
            self.store.insert(table.name, rows, names)
            total += len(rows)
            last = ((fetched[-1][0],) if table.watermark == 'id'
                else (fetched[-1][0], fetched[-1][1]))
            if table.watermark == 'id':
                self._marks[table.name] = last[0]
            if len(fetched) < table.batch:
                break
        return total

    def sync_tombstones(self):
        "Turn the deletes logged in PostgreSQL into soft-delete rows"
        cursor = Transaction().connection.cursor()
        cursor.execute("SELECT to_regclass('bi_tombstone')")
        if cursor.fetchone()[0] is None:
            return 0
        _, rows = self.store.query('SELECT max(id) FROM $db._tombstones')
        mark = rows[0][0] or 0
        by_table = {t.table.strip('"'): t for t in TABLES.values()}
        total = 0
        while True:
            cursor.execute('SELECT id, tbl, rid, deleted_at FROM bi_tombstone '
                'WHERE id > %s ORDER BY id LIMIT 50000', (mark,))
            fetched = cursor.fetchall()
            if not fetched:
                break
            per_table = {}
            for id_, tbl, rid, deleted_at in fetched:
                table = by_table.get(tbl)
                if table:
                    per_table.setdefault(table.name, []).append(
                        [rid, micros(deleted_at), 1])
            for name, rows in per_table.items():
                self.store.insert(name, rows, ['id', '_version', '_deleted'])
                total += len(rows)
            self.store.insert('_tombstones', [list(r) for r in fetched],
                ['id', 'tbl', 'rid', 'deleted_at'])
            mark = fetched[-1][0]
        return total

    def run(self, names=None, streamed=None):
        """Sync every available table (or those named); return
        {table: (rows, error or None)} and record the health.
        streamed: the monotonic time of the notice that asked for this
        sync (the named tables start from their cached watermark)"""
        pool = Pool()
        Health = pool.get('bi.sync.table')
        results = {}
        for table in TABLES.values():
            if names and table.name not in names:
                continue
            reason = self.available(table)
            if reason:
                results[table.name] = (0, reason, 'unavailable')
                continue
            started = time.monotonic()
            try:
                rows = self.sync_table(table, cached=bool(streamed))
                results[table.name] = (rows, None, 'ok')
            except Exception as error:
                logger.exception('sync of %s failed', table.name)
                self._marks.pop(table.name, None)
                results[table.name] = (0, str(error)[:500], 'error')
            logger.debug('%s: %s rows in %.2fs', table.name,
                results[table.name][0], time.monotonic() - started)
        try:
            results['_tombstones'] = (self.sync_tombstones(), None, 'ok')
        except Exception as error:
            logger.exception('tombstones failed')
            results['_tombstones'] = (0, str(error)[:500], 'error')
        delay = (int((time.monotonic() - streamed) * 1000)
            if streamed else None)
        Health.record(results, delay=delay)
        return results

    # --- agreement -----------------------------------------------------------
    def counts(self, table):
        "(rows in PostgreSQL, live rows in the store)"
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT count(*) FROM %s' % table.table)  # noqa: S608 (identifiers from the registry, values bound as parameters)
        source = cursor.fetchone()[0]
        _, rows = self.store.query(
            'SELECT count() FROM $db.%s FINAL' % table.name)  # noqa: S608 (identifiers from the registry, values bound as parameters)
        return source, rows[0][0]


STATES = [
    ('ok', "In Sync"),
    ('lagging', "Lagging"),
    ('error', "Error"),
    ('unavailable', "Not Activated"),
    ]


class SyncTableHealth(ModelSQL, ModelView):
    "Analytics sync status of a table"
    __name__ = 'bi.sync.table'
    name = fields.Char("Store Table", readonly=True, required=True)
    model = fields.Char("Model", readonly=True)
    description = fields.Char("Description", readonly=True)
    state = fields.Selection(STATES, "State", readonly=True)
    last_run = fields.Timestamp("Last Run", readonly=True)
    last_success = fields.Timestamp("Last Success", readonly=True)
    last_rows = fields.Integer("Rows Last Run", readonly=True)
    total_rows = fields.Integer("Rows Synced", readonly=True)
    lag = fields.Function(fields.Integer("Lag (s)",
            help="Seconds since the last successful sync."), 'get_lag')
    source_rows = fields.Integer("Rows in Database", readonly=True)
    store_rows = fields.Integer("Rows in Store", readonly=True)
    checked_at = fields.Timestamp("Checked At", readonly=True)
    agree = fields.Boolean("Store Agrees", readonly=True)
    error = fields.Text("Error", readonly=True)
    streamed = fields.Boolean("Streamed", readonly=True,
        help="New rows are synced on the database's notice, within about "
        "a second, besides the periodic sync.")
    last_streamed = fields.Timestamp("Last Streamed Sync", readonly=True)
    stream_delay = fields.Integer("Stream Delay (ms)", readonly=True,
        help="Last streamed sync: milliseconds from the database's notice "
        "of new rows to the rows in the store.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('name', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'sync_now': {},
                'check': {},
                })

    @classmethod
    def __register__(cls, module_name):
        super().__register__(module_name)
        cursor = Transaction().connection.cursor()
        ensure_tombstone_table(cursor)
        # the NOTIFY triggers of the streamed tables already there (the
        # service also creates them at its first sync of the table)
        for table in TABLES.values():
            if not table.stream:
                continue
            cursor.execute('SELECT to_regclass(%s)', (table.table,))
            if cursor.fetchone()[0] is not None:
                ensure_triggers(cursor, table)

    def get_lag(self, name):
        if not self.last_success:
            return None
        return int((dt.datetime.utcnow() - self.last_success).total_seconds())

    @classmethod
    def record(cls, results, delay=None):
        """Store the results of a sync run; delay: the milliseconds from
        the notice to the end of a streamed run"""
        now = dt.datetime.utcnow()
        existing = {r.name: r for r in cls.search([])}
        to_save = []
        for name, (rows, error, state) in results.items():
            if name.startswith('_'):
                continue
            record = existing.get(name) or cls(name=name, total_rows=0)
            table = TABLES.get(name)
            record.model = table.model if table else None
            record.description = table.description if table else None
            record.streamed = bool(table and table.stream)
            if delay is not None and state == 'ok':
                record.last_streamed = now
                record.stream_delay = delay
            record.state = state
            record.last_run = now
            record.last_rows = rows
            record.error = error
            if state == 'ok':
                record.last_success = now
                record.total_rows = (record.total_rows or 0) + rows
            to_save.append(record)
        cls.save(to_save)

    @classmethod
    @ModelView.button
    def sync_now(cls, records):
        "Ask the analytics service to sync at once"
        pool = Pool()
        Configuration = pool.get('bi.configuration')
        store = Configuration.get_store()
        if hasattr(store, 'sync'):
            store.sync()
        else:
            SyncEngine(store).run()

    @classmethod
    @ModelView.button
    def check(cls, records):
        """Compare the live rows of the store with the database (the store
        must have synced the latest changes first)"""
        pool = Pool()
        Configuration = pool.get('bi.configuration')
        store = Configuration.get_store()
        cursor = Transaction().connection.cursor()
        now = dt.datetime.utcnow()
        for record in records:
            table = TABLES.get(record.name)
            if not table or record.state == 'unavailable':
                continue
            cursor.execute('SELECT count(*) FROM %s' % table.table)  # noqa: S608 (identifiers from the registry, values bound as parameters)
            record.source_rows = cursor.fetchone()[0]
            _, rows = store.query(
                'SELECT count() FROM $db.%s FINAL' % table.name)  # noqa: S608 (identifiers from the registry, values bound as parameters)
            record.store_rows = rows[0][0]
            record.agree = record.source_rows == record.store_rows
            record.checked_at = now
        cls.save(records)


# --- the analytics service ------------------------------------------------------

class Service:
    def __init__(self, database, store, interval):
        self.database = database
        self.store = store
        self.interval = interval
        self.engine = SyncEngine(store)
        self.fence = IdFence(database)
        self.token = secrets.token_urlsafe(32)
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.listening = threading.Event()
        self.last = {}
        self.last_stream = {}
        self.ensured = False
        self.optimize_interval = optimize_seconds()
        self.optimized = time.monotonic()

    def transaction(self, func):
        """Run func in a transaction, restarted with the table locks that
        trytond asks for (the first save of a singleton locks its table)"""
        from trytond.transaction import Transaction as T
        from trytond.transaction import TransactionError
        extras = {}
        while True:
            try:
                with T().start(self.database, 0, **extras) as transaction:
                    result = func()
                    transaction.commit()
                    return result
            except TransactionError as error:
                error.fix(extras)

    def sync(self, names=None, streamed=None):
        """Sync every table (or the streamed tables named, on a notice
        received at monotonic time streamed)"""
        def run():
            if not streamed or not self.ensured:
                self.engine.ensure_store()
                self.ensured = True
            results = self.engine.run(names, streamed=streamed)
            Pool().get('bi.configuration').heartbeat()
            return results
        with self.lock:
            try:
                self.engine.fences = self.fence.check(
                    [t for t in TABLES.values() if t.watermark == 'id'
                        and (not names or t.name in names)])
            except Exception:
                # no fence, no id table synced this time
                logger.exception('id fence failed')
                self.engine.fences = {t.name: -1 for t in TABLES.values()
                    if t.watermark == 'id'}
            results = self.transaction(run)
            last = {'at': dt.datetime.utcnow().isoformat(),
                'tables': {k: {'rows': v[0], 'error': v[1], 'state': v[2]}
                    for k, v in results.items()}}
            if streamed:
                last['delay_ms'] = int(
                    (time.monotonic() - streamed) * 1000)
                self.last_stream = last
            else:
                self.last = last
            return last

    def optimize(self, force=False):
        "Merge the parts of the FINAL-read tables when it is time"
        if not force and (not self.optimize_interval or time.monotonic()
                - self.optimized < self.optimize_interval):
            return []
        with self.lock:
            self.optimized = time.monotonic()
            merged = self.engine.optimize()
        if merged:
            logger.info('merged %s', ', '.join(merged))
        return merged

    def stream_tables(self):
        "{PostgreSQL table: store table} of the streamed tables"
        return {t.table.strip('"'): t.name for t in TABLES.values()
            if t.stream}

    def listen(self):
        """LISTEN for the streamed tables' notices and sync them, 200 ms
        after the first notice of a burst; reconnect when the connection
        drops (the periodic sync covers the gap)"""
        import psycopg

        from trytond import backend
        params = backend.Database._connection_params(self.database)
        tables = self.stream_tables()
        while not self.stopped.is_set():
            try:
                with psycopg.connect(autocommit=True, **params) as conn:
                    conn.execute('LISTEN %s' % CHANNEL)
                    self.listening.set()
                    while not self.stopped.is_set():
                        names, first = set(), None
                        for notice in conn.notifies(timeout=1, stop_after=1):
                            first = time.monotonic()
                            names.add(notice.payload)
                        if first is None:
                            continue
                        while (left := first + DEBOUNCE
                                - time.monotonic()) > 0:
                            for notice in conn.notifies(timeout=left):
                                names.add(notice.payload)
                        names = sorted(
                            tables[n] for n in names if n in tables)
                        if names:
                            try:
                                self.sync(names, streamed=first)
                            except Exception:
                                logger.exception('streamed sync failed')
            except Exception:
                self.listening.clear()
                if self.stopped.is_set():
                    break
                logger.exception('listen failed, retrying in 5 s')
                self.stopped.wait(5)
        self.listening.clear()

    def start(self):
        "Start the periodic sync and the listener threads"
        threads = [threading.Thread(target=self.loop, daemon=True),
            threading.Thread(target=self.listen, daemon=True)]
        for thread in threads:
            thread.start()
        self.threads = threads
        return threads

    def stop(self, timeout=30):
        self.stopped.set()
        self.wake.set()
        for thread in getattr(self, 'threads', []):
            thread.join(timeout)
        with self.lock:
            self.fence.close()

    def register(self, url):
        self.transaction(lambda: Pool().get(
                'bi.configuration').register_service(
                url, self.token, os.getpid()))

    def loop(self):
        while not self.stopped.is_set():
            try:
                self.sync()
            except Exception:
                logger.exception('sync failed')
            try:
                self.optimize()
            except Exception:
                logger.exception('optimize failed')
            self.wake.wait(self.interval)
            self.wake.clear()


def make_handler(service):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            logger.debug(format, *args)

        def _answer(self, status, data):
            body = json.dumps(data, default=str, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            expected = 'Bearer ' + service.token
            if not secrets.compare_digest(
                    self.headers.get('Authorization', ''), expected):
                return self._answer(401, {'error': 'unauthorized'})
            length = int(self.headers.get('Content-Length') or 0)
            try:
                data = json.loads(self.rfile.read(length) or b'{}')
            except ValueError:
                return self._answer(400, {'error': 'bad json'})
            if self.path == '/query':
                sql = data.get('sql') or ''
                if not SELECT_ONLY.match(sql):
                    return self._answer(400, {'error': 'SELECT only'})
                try:
                    columns, rows = service.store.query(
                        sql, data.get('parameters') or {})
                except Exception as error:
                    return self._answer(400, {'error': str(error)[:1000]})
                return self._answer(200, {'columns': columns, 'rows': rows})
            if self.path == '/sync':
                return self._answer(200, service.sync())
            if self.path == '/health':
                return self._answer(200, {'pid': os.getpid(),
                        'last': service.last,
                        'listening': service.listening.is_set(),
                        'last_stream': service.last_stream})
            return self._answer(404, {'error': 'not found'})
    return Handler


def lock_path(store_dsn):
    path = store_dsn[len('chdb://'):] if store_dsn.startswith('chdb:') \
        else None
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m trytond.modules.elder_bi.sync',
        description="Analytics store: sync service and tools")
    parser.add_argument('command', choices=['serve', 'once', 'ddl'])
    parser.add_argument('-d', '--database')
    parser.add_argument('-c', '--config', default=None)
    parser.add_argument('--dsn', help="store DSN (default [elder_bi] dsn)")
    parser.add_argument('--listen', default='127.0.0.1:0')
    parser.add_argument('--interval', type=float, default=None)
    parser.add_argument('--cluster', default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
        format='%(asctime)s %(levelname)s %(name)s %(message)s')
    config.update_etc(args.config)
    from . import store as store_module
    if args.command == 'ddl':
        if args.cluster:
            print(';\n\n'.join(store_module.cluster_ddl(
                        store_module.database_name(), args.cluster)) + ';')
        else:
            print(';\n\n'.join(s for t in TABLES.values()
                    for s in store_module.table_ddl(
                        t, store_module.database_name())) + ';')
        return 0
    if not args.database:
        parser.error('--database is required')
    if args.dsn:
        os.environ['ELDER_BI_DSN'] = args.dsn
    value = store_module.dsn()
    lock = None
    path = lock_path(value)
    if path:
        os.makedirs(path, exist_ok=True)
        lock = open(os.path.join(path, '.owner.lock'), 'w')
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            print('another process owns the analytics store %s' % path,
                file=sys.stderr)
            return 2
    from trytond.pool import Pool as P
    P.start()
    pool = P(args.database)
    pool.init()
    store = store_module.Store(value)
    store_module.set_local_store(store)
    with Transaction().start(args.database, 0, readonly=True):
        interval = args.interval or pool.get(
            'bi.configuration')(1).sync_interval or 10
    service = Service(args.database, store, interval)
    if args.command == 'once':
        result = service.sync()
        print(json.dumps(result, ensure_ascii=False, indent=1))
        store.close()
        return 0
    host, port = args.listen.rsplit(':', 1)
    server = ThreadingHTTPServer((host, int(port)), make_handler(service))
    url = 'http://%s:%s' % (host, server.server_address[1])
    service.register(url)
    logger.info('analytics service on %s, store %s', url, value)
    print('listening %s' % url, flush=True)
    service.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
        server.server_close()
        store.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
