#!/usr/bin/env bash
# offsite-sync.sh — copy the base backups and the WAL archive to a second
# location (standard §4.4.2/§7.5.4: off-site backup) and verify the copy.
#
# Usage: offsite-sync.sh [-r BACKUP_ROOT] [-w WAL_ARCHIVE] [--delete] DEST
#
#   DEST  a folder on another disk or a mounted remote file system
#         (/mnt/offsite/eldercare), or an rsync-over-ssh target
#         (backup@dr-site.example:/srv/eldercare-offsite, key-based login,
#         the key restricted with rrsync or a forced command on that host)
#   -r    BACKUP_ROOT (env BACKUP_ROOT, default /srv/pg-backup); its base/ is
#         copied to DEST/base/
#   -w    WAL archive (env WAL_ARCHIVE, default BACKUP_ROOT/wal); copied to
#         DEST/wal/
#   --delete  mirror: also delete at DEST what retention removed locally.
#         Without it DEST keeps everything (prune it there on its own
#         schedule, e.g. longer retention)
#   env RSYNC_RSH  e.g. 'ssh -i /etc/eldercare/offsite_key' for ssh targets
#   env PG_BINDIR  PostgreSQL programs folder (see lib.sh)
#
# Order: WAL first, then backups, so a copied backup always finds its WAL.
# Only complete backups are copied (never *.partial). Verification after the
# copy: an rsync --checksum dry run must find no difference (every byte is
# read again on both sides); for a local DEST each copied backup is also
# checked with pg_verifybackup against its manifest, and for an ssh DEST with
# `sha256sum -c SHA256SUMS` on the remote host. Exit status is non-zero when
# anything differs; run it after each base backup and every few minutes for
# the WAL (the WAL copy bounds how much an off-site restore loses).
# Without rsync (a minimal host) a local DEST is copied with cp and checked
# with sha256sum.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=${BACKUP_ROOT:-/srv/pg-backup}
wal_archive=${WAL_ARCHIVE:-}
delete=()
dest=''
while [ $# -gt 0 ]; do
    case $1 in
        -r) root=$2; shift ;;
        -w) wal_archive=$2; shift ;;
        --delete) delete=(--delete) ;;
        -*) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
        *) dest=$1 ;;
    esac
    shift
done
[ -n "$dest" ] || die "DEST is required"
wal_archive=${wal_archive:-$root/wal}
[ -d "$root/base" ] || die "no $root/base"

remote=0
case $dest in
    *:*) [ "${dest:0:1}" = / ] || remote=1 ;;
esac
exclude=(--exclude '*.partial' --exclude '.*.tmp.*' --exclude '.backup.lock')

if command -v rsync >/dev/null 2>&1; then
    if [ "$remote" = 0 ]; then
        mkdir -p -- "$dest"
    fi
    log "copying WAL archive $wal_archive -> $dest/wal/"
    rsync -a "${delete[@]}" "${exclude[@]}" "$wal_archive/" "$dest/wal/"
    log "copying base backups $root/base -> $dest/base/"
    rsync -a "${delete[@]}" "${exclude[@]}" "$root/base/" "$dest/base/"
    log "verifying (rsync --checksum dry run)"
    diff=$( { rsync -a --checksum --dry-run --itemize-changes "${exclude[@]}" \
                "$wal_archive/" "$dest/wal/"
              rsync -a --checksum --dry-run --itemize-changes "${exclude[@]}" \
                "$root/base/" "$dest/base/"; } | grep -v '^\.d' || true)
    [ -z "$diff" ] || die "the copy differs from the source:
$diff"
elif [ "$remote" = 0 ]; then
    log "rsync not installed: copying with cp"
    mkdir -p -- "$dest/wal" "$dest/base"
    for f in "$wal_archive"/*; do
        [ -f "$f" ] || continue
        name=${f##*/}
        if [ ! -e "$dest/wal/$name" ]; then
            cp -- "$f" "$dest/wal/.$name.tmp"
            mv -- "$dest/wal/.$name.tmp" "$dest/wal/$name"
        fi
        cmp -s -- "$f" "$dest/wal/$name" || die "$dest/wal/$name differs"
    done
    for d in "$root"/base/*; do
        case $d in *.partial) continue ;; esac
        [ -d "$d" ] || continue
        name=${d##*/}
        if [ ! -d "$dest/base/$name" ]; then
            rm -rf -- "$dest/base/.$name.tmp"
            cp -a -- "$d" "$dest/base/.$name.tmp"
            mv -- "$dest/base/.$name.tmp" "$dest/base/$name"
        fi
    done
else
    die "rsync is needed for a remote DEST"
fi

log "verifying backups at $dest"
if [ "$remote" = 0 ]; then
    fsync_path "$dest/wal" "$dest/base"
    for d in "$dest"/base/*; do
        [ -f "$d/backup_manifest" ] || continue
        (cd "$d" && sha256sum --quiet -c SHA256SUMS) || die "checksums differ in $d"
        if pg pg_verifybackup --version >/dev/null 2>&1; then
            verify_backup "$d" ||
                die "pg_verifybackup failed for $d"
        fi
    done
else
    host=${dest%%:*} path=${dest#*:}
    # shellcheck disable=SC2029  # path expands here on purpose
    ${RSYNC_RSH:-ssh} "$host" "cd '$path/base' && for d in */; do (cd \"\$d\" && sha256sum --quiet -c SHA256SUMS) || exit 1; done" ||
        die "checksums differ at $dest"
fi
log "off-site copy complete and verified: $dest"
