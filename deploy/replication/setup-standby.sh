#!/usr/bin/env bash
# setup-standby.sh — make a streaming-replication hot standby of the primary
# (the standard's dual-machine hot backup) and start it.
#
# Usage: setup-standby.sh -D STANDBY_PGDATA -h PRIMARY_HOST [-p PRIMARY_PORT]
#            [-U REPL_USER] [-s SLOT] [-P PORT] [-S SOCKET_DIR] [--no-start]
#            [-T TIMEOUT]
#
#   -D  the standby's data folder: must not exist or be empty; run this as
#       the PostgreSQL OS user on the standby machine
#   -h/-p  the primary (default port 5432)
#   -U  replication role (default replicator: CREATE ROLE replicator
#       WITH REPLICATION LOGIN PASSWORD '...'; its password in ~/.pgpass of
#       the standby's OS user, a `hostssl replication replicator <standby>/32
#       scram-sha-256` line in the primary's pg_hba.conf)
#   -s  physical replication slot on the primary (default standby1), created
#       when missing: the primary keeps the WAL the standby has not received,
#       so a standby that was down can catch up. Watch
#       pg_replication_slots on the primary: a standby that never comes
#       back fills its disk (set max_slot_wal_keep_size)
#   -P/-S  port and socket folder of the standby, written to
#       postgresql.auto.conf (defaults: those copied from the primary)
#   --no-start  only prepare the folder
#   -T  seconds to wait for start and catch-up (default 300)
#   env PG_BINDIR  PostgreSQL programs folder (see ../backup/lib.sh)
#
# pg_basebackup -R -X stream -S SLOT copies the primary and writes
# standby.signal and primary_conninfo/primary_slot_name into
# postgresql.auto.conf. hot_standby (on by default) lets it serve read-only
# queries. Check on the primary: SELECT * FROM pg_stat_replication.
set -euo pipefail
. "$(dirname "$0")/../backup/lib.sh"

pgdata='' primary_host='' primary_port=5432 repl_user=replicator slot=standby1
port='' socket_dir='' start=1 timeout=300
while [ $# -gt 0 ]; do
    case $1 in
        -D) pgdata=$2; shift ;;
        -h) primary_host=$2; shift ;;
        -p) primary_port=$2; shift ;;
        -U) repl_user=$2; shift ;;
        -s) slot=$2; shift ;;
        -P) port=$2; shift ;;
        -S) socket_dir=$2; shift ;;
        -T) timeout=$2; shift ;;
        --no-start) start=0 ;;
        *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
    esac
    shift
done
[ -n "$pgdata" ] && [ -n "$primary_host" ] || die "-D and -h are required"
[ "$(id -u)" != 0 ] || die "run as the PostgreSQL OS user (e.g. runuser -u postgres -- $0 ...), not root"
case $slot in *[!a-z0-9_]* | '') die "slot names are [a-z0-9_]: $slot" ;; esac
if [ -e "$pgdata" ] && [ -n "$(ls -A -- "$pgdata")" ]; then
    die "$pgdata is not empty"
fi

primary=(-h "$primary_host" -p "$primary_port" -U "$repl_user")
# A replication connection can run a few commands, enough to see the slot.
exists=$(pg psql -X -A -t -q --no-password "${primary[@]}" \
    -d "replication=database dbname=postgres" \
    -c "SELECT 1 FROM pg_replication_slots WHERE slot_name = '$slot'" || true)
create=()
if [ "$exists" != 1 ]; then
    create=(--create-slot)
    log "creating replication slot $slot on $primary_host:$primary_port"
fi

log "copying the primary $primary_host:$primary_port into $pgdata"
mkdir -p -- "$pgdata"
chmod 700 -- "$pgdata"
# application_name (= the slot name) lands in primary_conninfo: it names the
# standby in pg_stat_replication and in synchronous_standby_names.
pg pg_basebackup --no-password "${primary[@]}" --pgdata="$pgdata" \
    --dbname="application_name=$slot" \
    --format=plain --wal-method=stream --write-recovery-conf \
    --slot="$slot" "${create[@]}" --checkpoint=fast --progress
rm -f -- "$pgdata/recovery.signal"
[ -f "$pgdata/standby.signal" ] || die "pg_basebackup wrote no standby.signal"
{
    echo
    echo "# --- added by setup-standby.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >> "$pgdata/postgresql.auto.conf"
set_conf "$pgdata" hot_standby on
[ -z "$port" ] || set_conf "$pgdata" port "$port"
[ -z "$socket_dir" ] || set_conf "$pgdata" unix_socket_directories "$socket_dir"
fsync_path "$pgdata"

if [ "$start" = 1 ]; then
    mkdir -p -- "$pgdata/log"
    pg pg_ctl -D "$pgdata" -l "$pgdata/log/standby.log" -w -t "$timeout" start
    conn=(-d postgres -U "${PGUSER:-postgres}")
    [ -z "$port" ] || conn+=(-p "$port")
    [ -z "$socket_dir" ] || conn+=(-h "$socket_dir")
    wait_sql "$timeout" t 'SELECT pg_is_in_recovery()' "${conn[@]}" ||
        die "the standby does not answer as a standby"
    wait_sql "$timeout" streaming 'SELECT status FROM pg_stat_wal_receiver' \
        "${conn[@]}" || die "the standby is not streaming from the primary"
    log "standby running and streaming from $primary_host:$primary_port"
fi
