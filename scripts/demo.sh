#!/usr/bin/env bash
# npm run demo: installs what is missing, builds the dashboard, then runs the whole system
# with five simulated homes (scripts/demo.ts). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
if [ -f scripts/buildDashboard.mjs ]; then
  npm run --silent build
else
  echo "pumpwatch demo: no dashboard build script yet, skipping the build" >&2
fi
exec npx tsx scripts/demo.ts "$@"
