#!/usr/bin/env bash
# npm run bench [-- area...]: throughput, latency and memory figures (see docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"
bash scripts/setup.sh
exec node --import tsx --expose-gc bench/run.ts "$@"
