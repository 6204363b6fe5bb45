/**
 * A rolling upgrade in CLUSTER_MODE=lease: three real `npm run server` instances restarted one at
 * a time (SIGTERM, start again) while a fleet keeps publishing and pumps begin to alarm before,
 * during and after each restart. No alarm may be missed, none raised twice, no sentence lost.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { decodeSentence } from '../../../protocol/decode.ts';
import type { Alert } from '../../../protocol/api.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DB, fleetPublisher, payloadOf, pumpSentences, startScaleoutStack, type ScaleoutStack } from '../scaleout/scaleoutStack.ts';

const N = 3;
const LEASE_S = 6;
const ROUNDS = 420;
const PUMPS = 9;
/** one pump begins to occlude at each of these rounds: before, during and after the restarts */
const ALARMS = [30, 100, 170, 240, 380];

let pgServer: PostgresServer;
let stack: ScaleoutStack;

beforeAll(async () => {
  pgServer = await startPostgres();
  stack = await startScaleoutStack(N, {
    shard: false,
    env: { DATABASE_URL: pgServer.url, CLUSTER_MODE: 'lease', LEASE_S: String(LEASE_S), CHECKPOINT_MS: '500' },
  });
  await Promise.all([0, 1, 2].map((i) => stack.start(i, { INSTANCE_ID: `inst-${i}` })));
}, 150_000);

afterAll(async () => {
  await stack?.dispose();
  await pgServer?.stop();
});

async function balanced(): Promise<boolean> {
  const owned = await Promise.all([0, 1, 2].map((i) => stack.api<{ cluster?: { owned: number } }>(i, '/api/health').then((h) => h.cluster?.owned ?? -1, () => -1)));
  return owned.reduce((a, b) => a + b, 0) === 64 && owned.every((o) => o >= 21);
}

test('instances restarted one at a time while pumps alarm: every alarm raised once, every sentence stored once', { timeout: 240_000 }, async () => {
  await waitFor(balanced, 40_000, 'three instances sharing the partitions', 250);
  const pumps = Array.from({ length: PUMPS }, (_, i) => ({ pump: `RU${String(i).padStart(5, '0')}`, alarmAt: ALARMS[i] ?? null }));
  const startMs = Math.floor(Date.now() / 1000) * 1000 - ROUNDS * 1000;
  const lines = new Map(pumps.map((p) => [p.pump, pumpSentences(p.pump, ROUNDS, startMs, p.alarmAt)]));
  const pub = await fleetPublisher(stack.broker.url, 'rolling-fleet');
  let round = 0;
  let restarted = false;
  const publishing = (async () => {
    for (; round < ROUNDS; round++) {
      // the last rounds (and the last alarm) come after every instance has been restarted
      while (round >= ROUNDS - 60 && !restarted) await new Promise((r) => setTimeout(r, 50));
      await Promise.all(pumps.map((p) => {
        const line = lines.get(p.pump)![round]!;
        const d = decodeSentence(line);
        assert.ok(d.ok);
        return pub.publishAsync(`pumpwatch/gw-${p.pump.slice(-1)}/pumps/${p.pump}`, payloadOf(line, d.sentence), { qos: 1 });
      }));
      await new Promise((r) => setTimeout(r, restarted ? 10 : 150)); // pacing, as a fleet publishes
    }
  })();
  try {
    await waitFor(() => round >= 20, 30_000, 'the fleet publishing');
    for (const i of [0, 1, 2]) {
      await stack.instances[i]!.proc!.stop(); // SIGTERM: checkpoint, then leases released
      await stack.start(i, { INSTANCE_ID: `inst-${i}` });
      await waitFor(balanced, 40_000, `instance ${i} back with its share`, 250);
    }
    restarted = true;
    await publishing;
  } finally {
    restarted = true;
    await publishing.catch(() => undefined);
    await pub.endAsync();
  }

  // every sentence stored exactly once
  const counts = async (): Promise<Map<string, number>> => {
    const res = await stack.influx.query(DB, 'SELECT count("seq") FROM "status", "event", "program" GROUP BY "pump"');
    const m = new Map<string, number>();
    for (const s of res.results[0]?.series ?? []) m.set(s.tags?.pump ?? '', (m.get(s.tags?.pump ?? '') ?? 0) + Number(s.values[0]?.[1] ?? 0));
    return m;
  };
  await waitFor(async () => {
    const c = await counts();
    return pumps.every((p) => c.get(p.pump) === ROUNDS);
  }, 30_000, 'every sentence stored', 250);
  for (const [pump, n] of await counts()) assert.equal(n, ROUNDS, `${pump} stored once per sentence`);

  // no alarm missed, none twice: one occlusion per alarming pump, stored as raised once, shown once on every instance
  const expected = pumps.filter((p) => p.alarmAt !== null).map((p) => p.pump).sort();
  const raised = await stack.influx.query(DB, 'SELECT "id", "type" FROM "alert" WHERE "status" = \'active\' AND "acknowledged" = false');
  const rows = (raised.results[0]?.series ?? []).flatMap((s) => s.values.map((v) => ({ id: String(v[1]), type: String(v[2]) })));
  assert.equal(rows.length, new Set(rows.map((r) => r.id)).size, `each alert stored as raised once: ${rows.map((r) => r.id).join(', ')}`);
  const occlusions = rows.filter((r) => r.type === 'occlusion').map((r) => r.id);
  assert.equal(occlusions.length, expected.length, `one occlusion per alarming pump: ${occlusions.join(', ')}`);
  for (const i of [0, 1, 2]) {
    await waitFor(async () => {
      const list = (await stack.api<Alert[]>(i, '/api/alerts?status=active')).filter((a) => a.type === 'occlusion');
      return JSON.stringify(list.map((a) => a.pump).sort()) === JSON.stringify(expected);
    }, 15_000, `each occlusion once on instance ${i}`, 250);
  }
});
