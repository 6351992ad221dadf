#!/usr/bin/env bash
# Sets up .venv (if needed) with the test extras and runs the whole suite, on SQLite and PostgreSQL.
# PostgreSQL must be listening on 127.0.0.1:5432 with trust auth (.ci/run starts it if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
exec .venv/bin/pytest "$@"
