#!/usr/bin/env bash
# Sets up .venv with the test extras (when pyproject.toml or constraints.txt changed) and runs the whole suite,
# on SQLite and PostgreSQL. PostgreSQL must be listening on 127.0.0.1:5432 with trust auth, Redis on
# 127.0.0.1:6379 (.ci/run starts both if needed). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
exec .venv/bin/pytest "$@"
