#!/usr/bin/env bash
# Quick start 1: set up and run the demo brand (generate exports, import them, refresh, print the summary).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/winback --db winback-demo/winback.duckdb demo --out winback-demo "$@"
