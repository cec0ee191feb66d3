#!/usr/bin/env bash
# pg-base-backup.sh — take a PostgreSQL base backup for point-in-time recovery
# and keep the newest N of them.
#
# Usage: pg-base-backup.sh [-r BACKUP_ROOT] [-k KEEP] [-w WAL_ARCHIVE]
#                          [-h HOST] [-p PORT] [-U USER] [-c fast|spread] [-n]
#
#   -r  BACKUP_ROOT (env BACKUP_ROOT, default /srv/pg-backup): backups go to
#       BACKUP_ROOT/base/<UTC time>/
#   -k  keep the newest KEEP complete backups (env BACKUP_KEEP, default 7)
#   -w  the WAL archive that archive-wal.sh fills (env WAL_ARCHIVE, default
#       BACKUP_ROOT/wal); WAL older than the oldest kept backup is removed
#       from it with pg_archivecleanup
#   -n  do not prune the WAL archive (e.g. it is pruned off-site instead)
#   -c  checkpoint mode (env BACKUP_CHECKPOINT, default spread: gentler on a
#       loaded primary, may wait up to checkpoint_timeout; fast for drills)
#   -h/-p/-U  connection (or PGHOST/PGPORT/PGUSER; the user needs the
#       REPLICATION attribute and a `replication` line in pg_hba.conf)
#   env BACKUP_COMPRESS  pg_basebackup --compress value (default gzip;
#       client-lz4 / server-zstd when the server is built with them)
#   env PG_BINDIR        PostgreSQL programs folder (see lib.sh)
#
# Each backup folder holds base.tar.gz, pg_wal.tar.gz (the WAL needed to make
# the backup consistent, streamed during the backup), backup_manifest (with a
# SHA-256 checksum of every file, checked with pg_verifybackup right after the
# backup), SHA256SUMS (for checks where no PostgreSQL tools are installed,
# e.g. the off-site host: `sha256sum -c SHA256SUMS`) and backup_info (label,
# start WAL segment, server version). It is written as <name>.partial and
# renamed when complete and verified, so a folder without the suffix is
# always a whole backup. Run it from cron or a systemd timer as the
# PostgreSQL OS user, e.g. daily:  15 2 * * *  postgres  /opt/.../pg-base-backup.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=${BACKUP_ROOT:-/srv/pg-backup}
keep=${BACKUP_KEEP:-7}
wal_archive=${WAL_ARCHIVE:-}
checkpoint=${BACKUP_CHECKPOINT:-spread}
compress=${BACKUP_COMPRESS:-gzip}
prune_wal=1
while getopts 'r:k:w:h:p:U:c:n' opt; do
    case $opt in
        r) root=$OPTARG ;;
        k) keep=$OPTARG ;;
        w) wal_archive=$OPTARG ;;
        h) export PGHOST=$OPTARG ;;
        p) export PGPORT=$OPTARG ;;
        U) export PGUSER=$OPTARG ;;
        c) checkpoint=$OPTARG ;;
        n) prune_wal=0 ;;
        *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
    esac
done
case $keep in '' | *[!0-9]* | 0) die "KEEP must be a positive integer: $keep" ;; esac
wal_archive=${wal_archive:-$root/wal}

mkdir -p -- "$root/base"
exec 9> "$root/.backup.lock"
if command -v flock >/dev/null 2>&1; then
    flock -n 9 || die "another backup is running in $root"
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
final=$root/base/$stamp
work=$final.partial
[ -e "$final" ] && die "$final exists"
rm -rf -- "$work"
trap 'rm -rf -- "$work"' EXIT
label="eldercare-$stamp"

log "base backup $label -> $final"
pg pg_basebackup --pgdata="$work" --format=tar --compress="$compress" \
    --wal-method=stream --checkpoint="$checkpoint" --label="$label" \
    --manifest-checksums=SHA256 --no-password

# Verify every file against the manifest.
verify_backup "$work"

# First WAL segment the backup needs: from the manifest's WAL-Ranges and the
# server's segment size. WAL before it is only needed by older backups.
wal_range=$(tr -d '\n' < "$work/backup_manifest" |
    sed -n 's/.*"WAL-Ranges": *\[ *{ *"Timeline": *\([0-9]*\), *"Start-LSN": *"\([0-9A-Fa-f]*\/[0-9A-Fa-f]*\)".*/\1 \2/p')
read -r tli start_lsn <<< "$wal_range" || true
[ -n "${start_lsn:-}" ] || die "no WAL-Ranges in $work/backup_manifest"
seg_size=$(pg psql -X -A -t -q --no-password -d postgres \
    -c "SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")
version=$(pg psql -X -A -t -q --no-password -d postgres -c 'SHOW server_version')
lsn=$(( (16#${start_lsn%/*} << 32) | 16#${start_lsn#*/} ))
segno=$(( lsn / seg_size ))
per_id=$(( 0x100000000 / seg_size ))
start_wal=$(printf '%08X%08X%08X' "$tli" $(( segno / per_id )) $(( segno % per_id )))
cat > "$work/backup_info" <<INFO
label=$label
finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)
timeline=$tli
start_lsn=$start_lsn
start_wal=$start_wal
server_version=$version
INFO

(cd "$work" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' |
    sort | xargs sha256sum > SHA256SUMS)
fsync_path "$work"/* "$work"
mv -- "$work" "$final"
fsync_path "$root/base"
trap - EXIT
log "backup complete: $final (start WAL $start_wal)"

# Retention: the newest KEEP complete backups stay; leftovers of crashed runs go.
mapfile -t backups < <(find "$root/base" -mindepth 1 -maxdepth 1 -type d \
    -name '????????T??????Z' -printf '%f\n' | sort)
old=$(( ${#backups[@]} - keep ))
for (( i = 0; i < old; i++ )); do
    log "retention: removing ${backups[i]}"
    rm -rf -- "$root/base/${backups[i]}"
done
find "$root/base" -mindepth 1 -maxdepth 1 -type d -name '*.partial' \
    -mmin +1440 -exec rm -rf -- {} +

if [ "$prune_wal" = 1 ] && [ -d "$wal_archive" ]; then
    oldest=${backups[$(( old > 0 ? old : 0 ))]}
    oldest_wal=$(sed -n 's/^start_wal=//p' "$root/base/$oldest/backup_info" 2>/dev/null || true)
    if [ -n "$oldest_wal" ]; then
        log "retention: removing archived WAL before $oldest_wal (backup $oldest)"
        pg pg_archivecleanup "$wal_archive" "$oldest_wal"
    fi
fi
