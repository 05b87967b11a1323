#!/usr/bin/env bash
# Create ./.venv and install winback into it (third-party versions from constraints.txt). Usage: scripts/setup.sh [EXTRAS], e.g. scripts/setup.sh dev,spark
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# constraints.txt pins every third-party package to the versions the suite last passed with
# (regenerate: .venv/bin/pip freeze --exclude-editable > constraints.txt after an upgrade that passes).
target="."
[ -n "$extras" ] && target=".[${extras}]"
.venv/bin/python -m pip install --quiet -c constraints.txt -e "$target"
