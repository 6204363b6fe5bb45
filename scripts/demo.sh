#!/usr/bin/env bash
# npm run demo: installs what is missing, builds the dashboard, then runs the whole system
# with seven simulated homes (scripts/demo.ts). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
if [ -f scripts/buildDashboard.mjs ]; then
  npm run --silent build
else
  echo "pumpwatch demo: no dashboard build script yet, skipping the build" >&2
fi
# node itself, not the tsx CLI: that one relays Ctrl-C to its child and SIGKILLs it when the child
# has not answered within ~60 ms (a busy demo on a loaded machine), leaving the whole system running
exec node --import tsx scripts/demo.ts "$@"
