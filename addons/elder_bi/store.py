# This file is part of the eldercare platform. See LICENSE.
"""The analytics store: ClickHouse SQL through clickhouse-connect.

DSN (``[elder_bi] dsn`` in trytond.conf, or ``ELDER_BI_DSN``):

``chdb:///abs/path``    embedded ClickHouse (chdb), the default
                        (``var/bi`` under the working directory). One process
                        owns a chdb data path: the analytics service
                        (``python -m trytond.modules.elder_bi.sync serve``)
                        opens it; trytond processes send it their queries
                        over loopback HTTP (``RemoteStore``).
``http://host:8123``    a ClickHouse server (``https://`` too, user and
                        password in the DSN): every process connects
                        directly; the sync can run anywhere.
``…?cluster=name``      a ClickHouse cluster: each table is a
                        ReplicatedReplacingMergeTree on every shard behind a
                        Distributed table sharded by older person
                        (``cluster_ddl``).

Tables live in the ClickHouse database ``[elder_bi] database`` (default
``elder_bi``); queries name them ``$db.table``.
"""
import json
import os
import threading
import urllib.parse
import urllib.request

from trytond import config

from .registry import TABLES

DEFAULT_PATH = os.path.join('var', 'bi')
META_COLUMNS = [
    ('id', 'UInt64'),
    ('_version', 'UInt64'),
    ('_deleted', 'UInt8'),
    ('_synced_at', "DateTime64(3, 'UTC') DEFAULT now64(3)"),
    ]


def dsn():
    value = (os.environ.get('ELDER_BI_DSN')
        or config.get('elder_bi', 'dsn', default=None))
    if not value:
        value = 'chdb://' + os.path.abspath(DEFAULT_PATH)
    return value


def database_name():
    return (os.environ.get('ELDER_BI_DATABASE')
        or config.get('elder_bi', 'database', default='elder_bi'))


def is_embedded(value=None):
    return (value or dsn()).startswith('chdb:')


def _split_cluster(value):
    "Return the DSN without the cluster parameter and the cluster name"
    parts = urllib.parse.urlsplit(value)
    query = urllib.parse.parse_qsl(parts.query)
    cluster = None
    rest = []
    for key, item in query:
        if key == 'cluster':
            cluster = item
        else:
            rest.append((key, item))
    return urllib.parse.urlunsplit(parts._replace(
            query=urllib.parse.urlencode(rest))), cluster


def column_type(column):
    "The type of a registry column in CREATE/ALTER TABLE"
    if column.materialized:
        return '%s MATERIALIZED %s' % (column.type, column.materialized)
    return column.type


def table_ddl(table, db, cluster=None):
    """CREATE TABLE statements of a registry table: one ReplacingMergeTree,
    or on a cluster the replicated local table and the Distributed one"""
    columns = META_COLUMNS[:1] + [(c.name, column_type(c))
        for c in table.columns] + META_COLUMNS[1:]
    body = ',\n    '.join('`%s` %s' % c for c in columns)
    settings = ''
    partition = ('\nPARTITION BY %s' % table.partition_by
        if table.partition_by else '')
    if not cluster:
        return ['CREATE TABLE IF NOT EXISTS %s.%s (\n    %s\n)\n'
            'ENGINE = ReplacingMergeTree(_version, _deleted)%s\n'
            'ORDER BY %s%s' % (
                db, table.name, body, partition, table.order_by, settings)]
    return [
        'CREATE TABLE IF NOT EXISTS %s.%s_local ON CLUSTER %s (\n    %s\n)\n'
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/"
        "%s/%s', '{replica}', _version, _deleted)%s\nORDER BY %s" % (
            db, table.name, cluster, body, db, table.name, partition,
            table.order_by),
        'CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s AS %s.%s_local\n'
        "ENGINE = Distributed(%s, %s, %s_local, cityHash64(%s))" % (
            db, table.name, cluster, db, table.name, cluster, db,
            table.name, table.shard_key),
        ]


def cluster_ddl(db='elder_bi', cluster='elder'):
    "The whole cluster schema (documentation and `sync ddl --cluster`)"
    statements = ['CREATE DATABASE IF NOT EXISTS %s ON CLUSTER %s'
        % (db, cluster)]
    for table in TABLES.values():
        statements.extend(table_ddl(table, db, cluster))
    return statements


class Store:
    "A direct connection (embedded chdb in its owner process, or a server)"
    _lock = threading.RLock()

    def __init__(self, value=None, database=None):
        import clickhouse_connect
        self.dsn, self.cluster = _split_cluster(value or dsn())
        self.db = database or database_name()
        self.client = clickhouse_connect.get_client(dsn=self.dsn)
        self.command('CREATE DATABASE IF NOT EXISTS %s%s' % (
                self.db, ' ON CLUSTER %s' % self.cluster
                if self.cluster else ''))

    def sql(self, text):
        return text.replace('$db', self.db)

    def command(self, text, parameters=None):
        with self._lock:
            return self.client.command(self.sql(text), parameters=parameters)

    def query(self, text, parameters=None):
        "Return (column names, rows) of a SELECT"
        with self._lock:
            result = self.client.query(
                self.sql(text), parameters=parameters)
            return list(result.column_names), [
                list(r) for r in result.result_rows]

    def insert(self, table, rows, column_names):
        if not rows:
            return
        with self._lock:
            self.client.insert('%s.%s' % (self.db, table), rows,
                column_names=column_names)

    def ensure_table(self, table):
        """Create the table, or add the columns that the registry declares
        and an older store lacks (a MATERIALIZED column is computed for the
        rows already there when they are read)"""
        for statement in table_ddl(table, self.db, self.cluster):
            self.command(statement)
        local = table.name + ('_local' if self.cluster else '')
        _, rows = self.query('SELECT name FROM system.columns '
            'WHERE database = {db:String} AND table = {table:String}',
            {'db': self.db, 'table': local})
        existing = {r[0] for r in rows}
        on_cluster = (' ON CLUSTER %s' % self.cluster) if self.cluster else ''
        for column in table.columns:
            if column.name in existing:
                continue
            for name in ([local, table.name] if self.cluster
                    else [table.name]):
                self.command('ALTER TABLE %s.%s%s ADD COLUMN IF NOT EXISTS '
                    '`%s` %s' % (self.db, name, on_cluster, column.name,
                        column_type(column) if name == local
                        else column.type))

    def drop_database(self):
        self.command('DROP DATABASE IF EXISTS %s' % self.db)

    def close(self):
        try:
            self.client.close()
        except Exception:  # noqa: S110 (closing an embedded engine at exit)
            pass


class RemoteStore:
    """The queries of a trytond process for the embedded store: sent to its
    owner (the analytics service) over loopback HTTP with a shared token"""

    def __init__(self, url, token, timeout=30):
        self.url = url.rstrip('/')
        self.token = token
        self.timeout = timeout

    def _post(self, path, data):
        request = urllib.request.Request(  # noqa: S310 (loopback service)
            self.url + path, data=json.dumps(data).encode('utf-8'),
            headers={'Content-Type': 'application/json',
                'Authorization': 'Bearer ' + self.token})
        with urllib.request.urlopen(  # noqa: S310 (loopback service)
                request, timeout=self.timeout) as response:
            return json.load(response)

    def query(self, text, parameters=None):
        answer = self._post('/query', {
                'sql': text, 'parameters': parameters or {}})
        return answer['columns'], answer['rows']

    def sync(self):
        return self._post('/sync', {})

    def health(self):
        return self._post('/health', {})


_local = {}


def set_local_store(store):
    """Declare the store this process owns (the analytics service, tests):
    get_store() returns it instead of asking the service"""
    _local['store'] = store


def local_store():
    return _local.get('store')


class StoreUnavailable(Exception):
    pass


def get_store(service_url=None, token=None):
    """The store for queries: the one this process owns, a direct
    connection to a ClickHouse server, or the embedded store's service"""
    store = local_store()
    if store is not None:
        return store
    if not is_embedded():
        store = Store()
        set_local_store(store)
        return store
    if not service_url:
        raise StoreUnavailable('analytics service not running')
    return RemoteStore(service_url, token)


def in_pool(pool, name):
    "Whether the model is in the pool (its module is activated)"
    try:
        pool.get(name)
    except KeyError:
        return False
    return True
