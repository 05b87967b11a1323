#!/usr/bin/env bash
# Quick start 2: set up (Python and Debian packages) and run the whole test suite, Spark included.
set -euo pipefail
cd "$(dirname "$0")/.."
need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)  # the web console's browser tests (Playwright)
[ -d /usr/share/fonts/truetype/wqy ] || need_apt+=(fonts-wqy-zenhei)  # so Chinese renders in them
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
bash scripts/setup.sh dev,spark
.venv/bin/ruff check src tests benchmarks
.venv/bin/python -m pytest -q --durations=15 "$@"
