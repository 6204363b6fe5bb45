import { readFileSync } from 'node:fs';
import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { ClusterRelay } from '../../../../server/cluster/clusterRelay.ts';
import { registerClusterMetrics } from '../../../../server/cluster/clusterMetrics.ts';
import { LeaseCluster } from '../../../../server/cluster/leaseCluster.ts';
import { PumpHandover } from '../../../../server/cluster/pumpHandover.ts';
import type { EngineStats } from '../../../../server/engine/types.ts';
import { EventBus } from '../../../../server/events/eventBus.ts';
import { registerHl7Metrics } from '../../../../server/hl7/hl7Metrics.ts';
import { Hl7Output } from '../../../../server/hl7/hl7Output.ts';
import { registerHttpMetrics } from '../../../../server/http/httpMetrics.ts';
import { DropCounter } from '../../../../server/ingest/dropCounter.ts';
import { CLUSTER_RELAY_DROP_REASONS, INGEST_DROP_REASONS } from '../../../../server/ingest/dropReasons.ts';
import { DEFAULT_METRICS_PREFIX, METRICS } from '../../../../server/metrics/catalogue.ts';
import { withMetricsTable } from '../../../../server/metrics/metricsDoc.ts';
import { createMetricsRegistry } from '../../../../server/metrics/registry.ts';
import { registerServerMetrics } from '../../../../server/metrics/serverMetrics.ts';
import { registerPagingMetrics } from '../../../../server/paging/pagingMetrics.ts';

const silent = { warn: () => undefined, info: () => undefined };
const specs = Object.values(METRICS);

/** a registry with every pumpwatch metric, fed by plain objects the test moves */
function fullRegistry() {
  const drops = new DropCounter(silent, INGEST_DROP_REASONS);
  const figures = { accepted: 0, stats: { staleSentences: 0, clockAheadSentences: 0, historicSentences: 0, pumps: 3, openAlerts: 1 } satisfies EngineStats };
  const relay = new ClusterRelay({ instanceId: 'a', publish: () => undefined, log: silent, onAckCommand: () => undefined });
  const handover = new PumpHandover({
    clock: { now: () => 0 }, log: silent, staleAfterMs: null, owns: () => true,
    rebuild: () => Promise.resolve(), accept: () => undefined, forget: () => undefined,
  });
  const registry = createMetricsRegistry();
  registerServerMetrics(registry, {
    accepted: () => figures.accepted, duplicates: () => drops.count('DUPLICATE'), otherShard: () => 0, drops,
    heldBack: () => 0, storageBacklog: () => 7, journalBytes: () => 4096, pointsWritten: () => 0, writeFailures: () => NaN,
    engineStats: () => figures.stats, mqttUp: () => true, influxUp: () => false,
  });
  const log = { child: () => log, info: () => undefined, warn: () => undefined, error: () => undefined } as never;
  const hl7 = new Hl7Output({
    receivers: [{ host: '127.0.0.1', port: 2575 }], stateDir: '/nonexistent', bus: new EventBus(silent as never), clock: { now: () => 0 }, log,
    pumps: () => [], patientOf: () => null,
  });
  registerHl7Metrics(registry, hl7);
  const lease = new LeaseCluster({
    store: {
      renew: () => Promise.resolve([]), heartbeat: () => Promise.resolve({ live: [], rows: [] }), acquire: () => Promise.resolve([]),
      release: () => Promise.resolve(), leave: () => Promise.resolve(),
    },
    clock: { now: () => 0 }, instanceId: 'a', leaseMs: 6000, checkpointMs: 1000, log: pino({ level: 'silent' }), handover,
    localPumps: () => [], notMine: () => undefined, storedPumps: () => Promise.resolve([]), checkpointNow: () => Promise.resolve(),
  });
  registerClusterMetrics(registry, relay, handover, lease);
  registerPagingMetrics(registry, { sent: () => 1, failed: () => 0, retrying: () => 0, failedChains: () => 0 });
  const hub = { stats: () => ({ clients: 2, messagesSent: 5, dropped: { slow: 1, dead: 0, snapshot_failed: 0, server_stop: 0 } }) };
  const refused = registerHttpMetrics(registry, { hub, sessions: { size: 4 }, audit: { stats: () => ({ recorded: 9, failed: 0 }) } });
  return { registry, drops, figures, relay, refused };
}

/** `name{labels} value` lines of the exposition, by series */
async function series(registry: ReturnType<typeof createMetricsRegistry>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('metric catalogue', () => {
  test('names are unique snake_case under pumpwatch_; counters and only counters end in _total; help is a sentence', () => {
    expect(new Set(specs.map((m) => m.name)).size).toBe(specs.length);
    for (const m of specs) {
      expect(m.name).toMatch(/^pumpwatch_[a-z][a-z0-9_]*[a-z0-9]$/);
      expect(m.name.endsWith('_total'), m.name).toBe(m.type === 'counter');
      expect(m.name).not.toMatch(/_(ms|milliseconds|kb|mb|percent|rate|per_s)(_|$)/);
      expect(m.help).toMatch(/^[A-Z0-9].*\.$/);
    }
  });

  test('docs/server.md carries the table generated from the catalogue (npm run docs)', () => {
    const doc = readFileSync(new URL('../../../../docs/server.md', import.meta.url), 'utf8');
    expect(withMetricsTable(doc)).toBe(doc);
    for (const m of specs) expect(doc).toContain(`\`${m.name}\``);
  });
});

describe('metrics registry', () => {
  test('exposes every catalogue metric and the prefixed process metrics; every drop reason at 0 from the start', async () => {
    const { registry } = fullRegistry();
    const all = await registry.getMetricsAsJSON();
    for (const m of all) expect(m.name.endsWith('_total'), m.name).toBe(String(m.type) === 'counter');
    const names = new Set(all.map((m) => m.name));
    for (const m of specs) expect(names, m.name).toContain(m.name);
    for (const n of names) expect(n.startsWith(DEFAULT_METRICS_PREFIX), n).toBe(true);
    expect(names).toContain('pumpwatch_process_cpu_seconds_total');
    expect(names).toContain('pumpwatch_nodejs_heap_size_used_bytes');
    expect(names).not.toContain('pumpwatch_ingest_rate');
    const s = await series(registry);
    for (const r of INGEST_DROP_REASONS) expect(s.get(`pumpwatch_ingest_dropped_total{reason="${r}"}`), r).toBe(0);
    for (const r of CLUSTER_RELAY_DROP_REASONS) expect(s.get(`pumpwatch_cluster_relay_dropped_total{reason="${r}"}`), r).toBe(0);
    expect(s.get('pumpwatch_ws_refused_total{reason="origin"}')).toBe(0);
    expect(s.get('pumpwatch_storage_write_failures_total'), 'NaN reads as 0').toBe(0);
    expect(s.get('pumpwatch_influx_up')).toBe(0);
    expect(s.get('pumpwatch_mqtt_up')).toBe(1);
    expect(s.get('pumpwatch_journal_bytes')).toBe(4096);
    expect(s.get('pumpwatch_audit_events_total{result="recorded"}')).toBe(9);
  });

  test('counters read their owners at each scrape: drops, relay drops, refusals and accepted messages move', async () => {
    const { registry, drops, figures, relay, refused } = fullRegistry();
    drops.drop('DUPLICATE');
    drops.drop('DUPLICATE');
    drops.drop('BAD_RAW:BAD_CHECKSUM');
    relay.handle('pumpwatch/_server/alerts/x', Buffer.from('not json'));
    refused('origin');
    figures.accepted = 42;
    const s = await series(registry);
    expect(s.get('pumpwatch_ingest_dropped_total{reason="DUPLICATE"}')).toBe(2);
    expect(s.get('pumpwatch_ingest_duplicates_total')).toBe(2);
    expect(s.get('pumpwatch_ingest_dropped_total{reason="BAD_RAW:BAD_CHECKSUM"}')).toBe(1);
    expect(s.get('pumpwatch_cluster_relay_dropped_total{reason="BAD_CLUSTER_MESSAGE"}')).toBe(1);
    expect(s.get('pumpwatch_ws_refused_total{reason="origin"}')).toBe(1);
    expect(s.get('pumpwatch_ingest_accepted_total')).toBe(42);
    figures.accepted = 43;
    expect((await series(registry)).get('pumpwatch_ingest_accepted_total')).toBe(43);
  });

  test('two servers in one process keep their own registries', async () => {
    const a = fullRegistry();
    const b = fullRegistry();
    a.drops.drop('NOT_JSON');
    expect((await series(a.registry)).get('pumpwatch_ingest_dropped_total{reason="NOT_JSON"}')).toBe(1);
    expect((await series(b.registry)).get('pumpwatch_ingest_dropped_total{reason="NOT_JSON"}')).toBe(0);
  });
});
