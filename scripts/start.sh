#!/usr/bin/env bash
# Sets up .venv (if needed) and starts AgentChat on its embedded default: a SQLite file under ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/agentchat serve "$@"
