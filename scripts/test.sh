#!/usr/bin/env bash
# The whole test suite (unit, integration against real services, browser) or one part of it, on vitest.
# Usage: npm test [-- unit|integration|e2e|<folder>|<file>...] [vitest flags, e.g. --coverage]
# Ends with one line `N passed, N failed, N skipped` (rules in docs/testing.md).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"
bash scripts/setup.sh --browser || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

args=()
for part in "$@"; do
  case "$part" in
    -*) args+=("$part"); continue ;;
  esac
  rel=${part#test/}; rel=${rel%/}
  if [ -d "test/$rel" ]; then
    args+=("test/$rel/")
  elif [ -f "test/$rel" ]; then
    args+=("test/$rel")
  else
    args+=("$part")
  fi
done

report=$(mktemp --suffix=.json)
trap 'rm -f "$report"' EXIT
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "${args[@]}"
status=$?
node --import tsx scripts/testSummary.ts "$report" "$status"
