import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Cluster, clusterSubscriptions, staleAfterMs } from '../../../../server/cluster/cluster.ts';
import { loadConfig } from '../../../../server/config.ts';
import type { IngestPipeline } from '../../../../server/core/ingestPipeline.ts';
import type { PumpwatchCore } from '../../../../server/core/pumpwatchCore.ts';
import { EventBus } from '../../../../server/events/eventBus.ts';
import { shardOf } from '../../../../server/ingest/shard.ts';

/** the slices of the core and its ingest pipeline the cluster module touches */
function fakeCore(pumps: string[], covered: Record<string, string> = {}) {
  const forgotten: string[] = [];
  const accepted: string[] = [];
  const core = {
    engine: { pumps: () => pumps.map((pump) => ({ pump })), alert: () => undefined },
    restoredPumps: () => Object.keys(covered),
    restoredEpoch: (pump: string) => covered[pump],
    flushChanges: () => undefined,
  } as unknown as PumpwatchCore;
  const pipeline = {
    forgetPump: (s: string) => forgotten.push(s),
    accept: (topic: string) => accepted.push(topic),
    drops: { drop: () => undefined },
  } as unknown as IngestPipeline;
  return { core: { core, pipeline }, forgotten, accepted };
}

function cluster(env: Record<string, string>, parts: { core: PumpwatchCore; pipeline: IngestPipeline }, published: string[] = []): Cluster {
  return new Cluster({
    config: loadConfig({ PORT: '8080', ...env }), ...parts, bus: new EventBus(pino({ level: 'silent' })), journalEpoch: 'mine', clock: { now: () => 0 },
    log: pino({ level: 'silent' }), publish: (t) => published.push(t), rebuild: () => Promise.resolve(),
  });
}

describe('cluster wiring', () => {
  test('subscriptions: plain, SHARD (+ relay) and shared', () => {
    const { core } = fakeCore([]);
    assert.deepEqual(cluster({}, core).subscriptions(), ['pumpwatch/+/pumps/+', 'pumpwatch/+/availability']);
    assert.deepEqual(cluster({ SHARD: '0/2' }, core).subscriptions(), ['pumpwatch/+/pumps/+', 'pumpwatch/+/availability', 'pumpwatch/_server/#']);
    assert.deepEqual(cluster({ MQTT_SHARED_GROUP: 'pw' }, core).subscriptions(), ['$share/pw/pumpwatch/+/pumps/+', 'pumpwatch/+/availability', 'pumpwatch/_server/#']);
    // the ingest subscribes before the cluster exists: the same list from the configuration alone
    const shared = loadConfig({ PORT: '8080', MQTT_SHARED_GROUP: 'pw' });
    assert.deepEqual(clusterSubscriptions(shared), cluster({ MQTT_SHARED_GROUP: 'pw' }, core).subscriptions());
  });

  test('a lone instance passes everything straight to the core; instance traffic never reaches it', () => {
    const { core, accepted } = fakeCore([]);
    const c = cluster({ CLUSTER_RELAY: 'on' }, core);
    c.accept('pumpwatch/gw/pumps/P1', Buffer.from('{}'));
    c.accept('pumpwatch/_server/pumps/P1', Buffer.from('{}'));
    assert.deepEqual(accepted, ['pumpwatch/gw/pumps/P1']);
    assert.equal(c.relay?.drops.count('BAD_CLUSTER_MESSAGE'), 1);
  });

  test('after the start-up restore a SHARD instance forgets the pumps of other shards', () => {
    const pumps = ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8'];
    const { core, forgotten } = fakeCore(pumps);
    const r = cluster({ SHARD: '1/3' }, core).afterRestore(true);
    const others = pumps.filter((p) => shardOf(p, 3) !== 1);
    assert.deepEqual(forgotten.sort(), others.sort());
    assert.equal(r.kept + r.forgotten, pumps.length);
    assert.ok(r.kept > 0 && r.forgotten > 0, 'the sample covers both');
  });

  test('under a shared subscription an instance keeps the pumps it checkpointed itself', () => {
    const { core, forgotten } = fakeCore(['MINE', 'THEIRS', 'JOURNAL_ONLY'], { MINE: 'mine', THEIRS: 'other' });
    assert.deepEqual(cluster({ MQTT_SHARED_GROUP: 'g' }, core).afterRestore(true), { kept: 2, forgotten: 1 });
    assert.deepEqual(forgotten, ['THEIRS']);
  });

  test('shared-mode staleness is never shorter than a minute nor than four checkpoints', () => {
    assert.equal(staleAfterMs(15_000), 60_000);
    assert.equal(staleAfterMs(60_000), 240_000);
  });
});
