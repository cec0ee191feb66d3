#!/usr/bin/env bash
# The README's two commands:
#   ./elder.sh run    set everything up on first use, then serve http://127.0.0.1:8000/
#   ./elder.sh test   run every module's tests and tests/ on PostgreSQL
# This script only makes the virtualenv; tools/elderctl.py does the rest.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x .venv/bin/python ]; then
    python=$(command -v python3.11 || command -v python3)
    if ! "$python" -m venv .venv; then
        # Debian ships venv/ensurepip in a separate package.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            rm -rf .venv
            apt-get update -q && apt-get install -y -q python3-venv
            "$python" -m venv .venv
        else
            echo "elder.sh: cannot create .venv; install python3-venv" >&2
            exit 1
        fi
    fi
fi
exec .venv/bin/python tools/elderctl.py "$@"
