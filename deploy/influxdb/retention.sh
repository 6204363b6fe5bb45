#!/usr/bin/env bash
# Creates or adjusts pumpwatch's database and its retention policy (idempotent).
# usage: deploy/influxdb/retention.sh [days]      (default 2557 = 7 years; env INFLUX_HOST, INFLUX_PORT, PUMPWATCH_DB)
# The policy is named "pumpwatch" and is the database's default: the server writes into it, and
# creates it itself (INFLUX_RETENTION_DAYS) only when it is missing. Why 7 years: docs/deploy.md.
set -euo pipefail
days=${1:-2557}
db=${PUMPWATCH_DB:-pumpwatch}
if ! [[ $days =~ ^[0-9]+$ ]] || [ "$days" -lt 1 ]; then echo "retention.sh: days must be a whole number >= 1, got '$days'" >&2; exit 2; fi
if ! [[ $db =~ ^[A-Za-z0-9_-]+$ ]]; then echo "retention.sh: bad database name '$db'" >&2; exit 2; fi
q() { influx -host "${INFLUX_HOST:-127.0.0.1}" -port "${INFLUX_PORT:-8086}" -execute "$1"; }
# shards of a week: old data goes a week at a time, and a shard is small enough to back up and restore
q "CREATE DATABASE \"$db\""
if q "SHOW RETENTION POLICIES ON \"$db\"" | awk 'NR>2 {print $1}' | grep -qx pumpwatch; then
  q "ALTER RETENTION POLICY \"pumpwatch\" ON \"$db\" DURATION ${days}d SHARD DURATION 7d DEFAULT"
else
  q "CREATE RETENTION POLICY \"pumpwatch\" ON \"$db\" DURATION ${days}d REPLICATION 1 SHARD DURATION 7d DEFAULT"
fi
q "SHOW RETENTION POLICIES ON \"$db\""
