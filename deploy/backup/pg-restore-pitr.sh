#!/usr/bin/env bash
# pg-restore-pitr.sh — restore a base backup into a new data folder and replay
# the WAL archive up to a point in time (or to the end of the archive).
#
# Usage: pg-restore-pitr.sh -D NEW_PGDATA [-b BACKUP] [-r BACKUP_ROOT]
#            [-w WAL_ARCHIVE] [-t 'TIME'] [--drill] [-P PORT] [-S SOCKET_DIR]
#            [--start] [-T TIMEOUT]
#
#   -D  the new data folder: must not exist or be empty (this script never
#       writes over a cluster); run as the PostgreSQL OS user
#   -b  backup folder, or `latest` (default): the newest complete backup in
#       BACKUP_ROOT/base. For a time target, pick a backup that finished
#       before that time (with -t and no -b, the newest such backup is used)
#   -r  BACKUP_ROOT (env BACKUP_ROOT, default /srv/pg-backup)
#   -w  WAL archive (env WAL_ARCHIVE, default BACKUP_ROOT/wal); restore_command
#       copies segments from it
#   -t  recovery_target_time, e.g. '2025-11-25 10:30:00+08'; the last
#       transaction committed at or before it is kept. Without -t: replay
#       everything archived (latest), following the latest timeline
#   --drill  archive_mode=off in the restored cluster: a drill or a copy must
#       not push its new timeline into the production archive. Leave it out
#       for a real recovery, where the restored cluster becomes the primary
#       and archives into the same archive on its new timeline
#   -P/-S  port and socket folder written to postgresql.auto.conf (a drill on
#       the same host as the production server)
#   --start  start the server (pg_ctl, log in NEW_PGDATA/log/restore.log) and
#       wait until recovery ended and it accepts writes (at most -T seconds,
#       default 300)
#   env PG_BINDIR  PostgreSQL programs folder (see lib.sh); PGUSER for the
#       wait query (default postgres)
#
# Recovery settings go to postgresql.auto.conf with recovery.signal; the
# server promotes itself at the target (recovery_target_action=promote),
# starting a new timeline. Afterwards: check the data, take a new base
# backup, and point the application (trytond [database] uri) at it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=${BACKUP_ROOT:-/srv/pg-backup}
wal_archive=${WAL_ARCHIVE:-}
pgdata='' backup=latest target='' drill=0 port='' socket_dir='' start=0
timeout=300
while [ $# -gt 0 ]; do
    case $1 in
        -D) pgdata=$2; shift ;;
        -b) backup=$2; shift ;;
        -r) root=$2; shift ;;
        -w) wal_archive=$2; shift ;;
        -t) target=$2; shift ;;
        -P) port=$2; shift ;;
        -S) socket_dir=$2; shift ;;
        -T) timeout=$2; shift ;;
        --drill) drill=1 ;;
        --start) start=1 ;;
        *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
    esac
    shift
done
[ -n "$pgdata" ] || die "-D NEW_PGDATA is required"
[ "$(id -u)" != 0 ] || die "run as the PostgreSQL OS user (e.g. runuser -u postgres -- $0 ...), not root"
wal_archive=${wal_archive:-$root/wal}
[ -d "$wal_archive" ] || die "no WAL archive at $wal_archive"

if [ "$backup" = latest ]; then
    backup=''
    if [ -n "$target" ]; then
        # The newest backup that finished before the target time.
        target_epoch=$(date -d "$target" +%s) || die "cannot read time: $target"
    fi
    while read -r name; do
        if [ -n "$target" ]; then
            finished=$(sed -n 's/^finished=//p' "$root/base/$name/backup_info")
            [ "$(date -d "$finished" +%s)" -le "$target_epoch" ] || continue
        fi
        backup=$root/base/$name
    done < <(find "$root/base" -mindepth 1 -maxdepth 1 -type d \
        -name '????????T??????Z' -printf '%f\n' 2>/dev/null | sort)
    [ -n "$backup" ] || die "no suitable backup in $root/base"
fi
[ -f "$backup/backup_manifest" ] || die "$backup is not a backup folder"

if [ -e "$pgdata" ] && [ -n "$(ls -A -- "$pgdata")" ]; then
    die "$pgdata is not empty; restore into a new folder"
fi

log "verifying $backup"
verify_backup "$backup"

log "restoring $backup into $pgdata"
mkdir -p -- "$pgdata"
chmod 700 -- "$pgdata"
base=$(find "$backup" -maxdepth 1 -name 'base.tar*' | head -n 1)
walt=$(find "$backup" -maxdepth 1 -name 'pg_wal.tar*' | head -n 1)
[ -n "$base" ] || die "no base.tar* in $backup"
tar -xf "$base" -C "$pgdata"
mkdir -p -- "$pgdata/pg_wal"
[ -z "$walt" ] || tar -xf "$walt" -C "$pgdata/pg_wal"
rm -f -- "$pgdata/postmaster.pid" "$pgdata/standby.signal"

{
    echo
    echo "# --- added by pg-restore-pitr.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) from $backup"
} >> "$pgdata/postgresql.auto.conf"
restore_command="cp '$wal_archive/%f' '%p'"
case $wal_archive in *"'"*) die "the archive path must not contain a quote" ;; esac
set_conf "$pgdata" restore_command "$restore_command"
set_conf "$pgdata" recovery_target_timeline latest
if [ -n "$target" ]; then
    set_conf "$pgdata" recovery_target_time "$target"
    set_conf "$pgdata" recovery_target_inclusive on
    set_conf "$pgdata" recovery_target_action promote
fi
if [ "$drill" = 1 ]; then
    set_conf "$pgdata" archive_mode off
    # A restored replication slot would hold WAL for a standby that is gone.
    rm -rf -- "$pgdata"/pg_replslot/*
fi
[ -z "$port" ] || set_conf "$pgdata" port "$port"
[ -z "$socket_dir" ] || set_conf "$pgdata" unix_socket_directories "$socket_dir"
touch "$pgdata/recovery.signal"
fsync_path "$pgdata"
log "recovery configured (target: ${target:-latest})"

if [ "$start" = 1 ]; then
    mkdir -p -- "$pgdata/log"
    pg pg_ctl -D "$pgdata" -l "$pgdata/log/restore.log" -w -t "$timeout" start
    conn=(-d postgres -U "${PGUSER:-postgres}")
    [ -z "$port" ] || conn+=(-p "$port")
    [ -z "$socket_dir" ] || conn+=(-h "$socket_dir")
    if ! wait_sql "$timeout" f 'SELECT pg_is_in_recovery()' "${conn[@]}"; then
        tail -n 30 "$pgdata/log/restore.log" >&2 || true
        die "recovery did not finish"
    fi
    log "recovery finished; the server accepts writes"
fi
