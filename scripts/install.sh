#!/usr/bin/env bash
# Makes .venv and installs AgentChat into it (editable), with the extras given ("test" or none), at the versions
# in constraints.txt. Skipped when the last install was made from the same pyproject.toml and constraints.txt,
# with those extras or more: a reinstall costs 4-12 s on every start. The stamp is removed before installing
# and written only after success, so a failed or interrupted install is redone next time.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
stamp=.venv/.agentchat-install
wanted="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"

if [ -x .venv/bin/python ] && [ -f "$stamp" ]; then
  read -r done_hash done_extras <"$stamp" || true
  if [ "$done_hash" = "$wanted" ] && { [ -z "$extras" ] || [ "$done_extras" = "$extras" ]; }; then
    exit 0
  fi
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
rm -f "$stamp"
.venv/bin/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".${extras:+[$extras]}"
echo "$wanted ${extras:--}" >"$stamp"
