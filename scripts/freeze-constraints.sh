#!/usr/bin/env bash
# Rewrites constraints.txt from .venv: the exact versions of every dependency and test extra, as installed when the
# suite last passed. Run it after an upgrade has passed tests/test_internals.py and the whole suite (CONTRIBUTING.md).
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# The versions the test suite passed with; both scripts install under them (pip install -c constraints.txt)."
  echo "# Made by scripts/freeze-constraints.sh from .venv; see CONTRIBUTING.md, \"Pinned versions\"."
  .venv/bin/pip freeze --exclude-editable --disable-pip-version-check | grep -v -i '^agentchat[= ]' | LC_ALL=C sort -f
} >constraints.txt.new
mv constraints.txt.new constraints.txt
