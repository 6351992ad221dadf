#!/usr/bin/env bash
# Sets up .venv (when pyproject.toml or constraints.txt changed) and starts AgentChat on its embedded default:
# a SQLite file under ./data. Arguments go to `agentchat serve` (--host, --port).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/agentchat serve "$@"
