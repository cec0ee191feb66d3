#!/usr/bin/env bash
# archive-wal.sh — PostgreSQL archive_command target: copy one WAL segment (or
# .history / .backup file) into the WAL archive, atomically and durably.
#
#   archive_command = '/opt/eldercare/deploy/backup/archive-wal.sh %p %f /srv/pg-archive/wal'
#
# Arguments: %p (path of the file, relative to the data dir), %f (its file
# name), ARCHIVE_DIR (created if missing; must be writable by the server's
# operating-system user).
#
# - Writes to a temporary name in ARCHIVE_DIR, fsyncs it, renames it into
#   place and fsyncs the folder, so a crash never leaves a half-written
#   segment under the real name.
# - When the file is already archived with identical content it succeeds
#   (PostgreSQL retries a command whose success it did not see); with
#   different content it refuses (exit 1) and keeps the archived copy: two
#   clusters writing into one archive, or a restored cluster on an old
#   timeline, must be noticed, not silently overwrite history.
# - Non-zero exit makes PostgreSQL keep the segment in pg_wal and retry; watch
#   pg_stat_archiver.failed_count and the size of pg_wal.
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: ${0##*/} %p %f ARCHIVE_DIR" >&2; exit 2; }
src=$1 name=$2 archive=$3

case $name in
    */* | '' | .*) echo "${0##*/}: bad file name: $name" >&2; exit 2 ;;
esac
[ -f "$src" ] || { echo "${0##*/}: no such file: $src" >&2; exit 1; }

mkdir -p -- "$archive"
dest=$archive/$name

if [ -e "$dest" ]; then
    if cmp -s -- "$src" "$dest"; then
        exit 0  # already archived (a retry after a lost acknowledgement)
    fi
    echo "${0##*/}: $dest exists with different content; not overwriting" >&2
    exit 1
fi

tmp=$archive/.$name.tmp.$$
trap 'rm -f -- "$tmp"' EXIT
cp -- "$src" "$tmp"
sync -- "$tmp"
# mv -n: never replace a file that appeared meanwhile (then compare again).
mv -n -- "$tmp" "$dest" || true  # some coreutils exit 1 when they skip
if [ -e "$tmp" ]; then
    cmp -s -- "$src" "$dest" && exit 0
    echo "${0##*/}: $dest appeared with different content; not overwriting" >&2
    exit 1
fi
sync -- "$archive"
trap - EXIT
