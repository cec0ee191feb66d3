#!/usr/bin/env bash
# promote.sh — promote a hot standby to primary (failover).
#
# Usage: promote.sh -D STANDBY_PGDATA [-T TIMEOUT]
#
# Before running it, make sure the old primary is down and stays down
# (fencing: power it off, or stop PostgreSQL and disable its service), or two
# primaries will accept diverging writes. Then:
#   1. promote.sh -D /var/lib/postgresql/18/main     (on the standby)
#   2. point trytond ([database] uri), trytond-cron, trytond-worker and the
#      bridge at the new primary (a DNS name or a virtual IP that moves makes
#      this a one-line change) and restart them
#   3. set archive_command on the new primary if the old one archived (the
#      copied postgresql.conf already has it; it archives on the new timeline)
#   4. take a new base backup (pg-base-backup.sh), and rebuild the old primary
#      as the new standby: setup-standby.sh into an empty folder, or
#      pg_rewind when its data folder is large (needs wal_log_hints or data
#      checksums, which initdb enables by default since PostgreSQL 18)
#
# pg_ctl promote -w returns once the server has left recovery; this script
# then checks that it accepts writes (at most TIMEOUT seconds, default 60).
#   env PG_BINDIR  PostgreSQL programs folder (see ../backup/lib.sh)
#   env PGUSER     role for the check (default postgres); PGHOST/PGPORT if the
#                  socket is not the one in postgresql.conf
set -euo pipefail
. "$(dirname "$0")/../backup/lib.sh"

pgdata='' timeout=60
while getopts 'D:T:' opt; do
    case $opt in
        D) pgdata=$OPTARG ;;
        T) timeout=$OPTARG ;;
        *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
    esac
done
[ -n "$pgdata" ] || die "-D STANDBY_PGDATA is required"
[ -f "$pgdata/standby.signal" ] || die "$pgdata is not a standby (no standby.signal)"

log "promoting $pgdata"
pg pg_ctl -D "$pgdata" -w -t "$timeout" promote
wait_sql "$timeout" f 'SELECT pg_is_in_recovery()' -d postgres \
    -U "${PGUSER:-postgres}" || die "the server is still in recovery"
timeline=$(pg psql -X -A -t -q -d postgres -U "${PGUSER:-postgres}" -c \
    "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int")
log "promoted: $pgdata is the primary, on timeline $timeline"
