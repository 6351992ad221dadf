#!/bin/sh
# The benchmark, from the repository root: bench/run.sh [python -m bench options]
set -e
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 1; }
PYTHON="${PYTHON:-.venv/bin/python}"
exec "$PYTHON" -m bench "$@"
