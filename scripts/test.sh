#!/usr/bin/env bash
# The whole test suite (unit, integration against real services, browser) or one part of it.
# Usage: npm test [-- unit|integration|e2e|<file>...]
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"
bash scripts/setup.sh --browser || { echo "0 passed, 1 failed"; exit 1; }

if [ $# -eq 0 ]; then set -- unit integration e2e; fi
files=()
for part in "$@"; do
  part=${part#test/}; part=${part%/}
  if [ -d "test/$part" ]; then
    while IFS= read -r f; do files+=("$f"); done < <(find "test/$part" -name '*.test.ts' | sort)
  elif [ -f "test/$part" ]; then
    files+=("test/$part")
  else
    files+=("$part")
  fi
done
if [ ${#files[@]} -eq 0 ]; then echo "no test files found for: $*" >&2; echo "0 passed, 1 failed"; exit 1; fi

tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
node --import tsx --test --test-concurrency="${PUMPWATCH_TEST_CONCURRENCY:-2}" --test-timeout=300000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "${files[@]}"
status=$?

count() { grep -E "^# $1 [0-9]+" "$tap" | tail -1 | awk '{print $3}'; }
passed=$(count pass); failed=$(count fail); skipped=$(count skipped); cancelled=$(count cancelled); todo=$(count todo)
passed=${passed:-0}; failed=${failed:-0}; skipped=${skipped:-0}; cancelled=${cancelled:-0}; todo=${todo:-0}
failed=$((failed + cancelled))
# A skipped test is a test that did not prove anything: it fails the run.
if [ "$skipped" -gt 0 ] || [ "$todo" -gt 0 ]; then status=1; fi
if [ "$passed" -eq 0 ]; then status=1; fi
[ "$failed" -gt 0 ] && status=1
echo "$passed passed, $failed failed, $((skipped + todo)) skipped"
exit $status
