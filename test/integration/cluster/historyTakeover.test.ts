/**
 * A gateway's history replay (hours of sentences within seconds) arriving while instances join in
 * CLUSTER_MODE=lease: the joining instances keep the whole burst, then take partitions over from
 * the instance that judged and checkpointed it. What that instance already judged must not be
 * judged again on the state rebuilt from its checkpoint (pump clock "set back", a START from
 * history folded into the course): an uneventful infusion raises nothing.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { decodeSentence } from '../../../protocol/decode.ts';
import type { Alert } from '../../../protocol/api.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DB, fleetPublisher, payloadOf, pumpSentences, startScaleoutStack, TOKEN, type ScaleoutStack } from '../scaleout/scaleoutStack.ts';

const LEASE_S = 6;
/** sentences of history per pump, one pump second apart: far more than the 256 identities a checkpoint keeps */
const HISTORY = 3000;
const PUMPS = 6;

let pgServer: PostgresServer;
let stack: ScaleoutStack;

beforeAll(async () => {
  pgServer = await startPostgres();
  stack = await startScaleoutStack(3, {
    shard: false,
    env: { DATABASE_URL: pgServer.url, CLUSTER_MODE: 'lease', LEASE_S: String(LEASE_S), CHECKPOINT_MS: '500' },
  });
  await stack.start(0, { INSTANCE_ID: 'inst-0' });
}, 150_000);

afterAll(async () => {
  await stack?.dispose();
  await pgServer?.stop();
});

async function owned(i: number): Promise<number> {
  return stack.api<{ cluster?: { owned: number } }>(i, '/api/health').then((h) => h.cluster?.owned ?? -1, () => -1);
}

async function alreadyJudged(i: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${stack.instances[i]!.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith('pumpwatch_ingest_dropped_total{') && l.includes('reason="ALREADY_JUDGED"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

test('a history burst judged by one instance is not judged again by the instances that join and take its pumps', { timeout: 180_000 }, async () => {
  await waitFor(async () => (await owned(0)) === 64, 40_000, 'the first instance holding every partition', 250);
  const pumps = Array.from({ length: PUMPS }, (_, i) => `HT${String(i).padStart(5, '0')}`);
  const startMs = Math.floor(Date.now() / 1000) * 1000 - HISTORY * 1000;
  const pub = await fleetPublisher(stack.broker.url, 'history-gateway');
  try {
    // the gateway's ?HIST replay: a program, its start and an uneventful infusion, as fast as it goes
    for (const pump of pumps) {
      const lines = pumpSentences(pump, HISTORY, startMs, null, true);
      for (let k = 0; k < lines.length; k += 500) {
        await Promise.all(lines.slice(k, k + 500).map((line) => {
          const d = decodeSentence(line);
          assert.ok(d.ok);
          return pub.publishAsync(`pumpwatch/gw-hist/pumps/${pump}`, payloadOf(line, d.sentence), { qos: 1 });
        }));
      }
    }
  } finally {
    await pub.endAsync();
  }
  // judged and checkpointed by the only instance; the others' sessions hold the whole burst
  await waitFor(async () => {
    const res = await stack.influx.query(DB, 'SELECT count("seq") FROM "status", "event", "program" GROUP BY "pump"');
    let n = 0;
    for (const s of res.results[0]?.series ?? []) n += Number(s.values[0]?.[1] ?? 0);
    return n === PUMPS * HISTORY;
  }, 60_000, 'the history stored', 250);
  await new Promise((r) => setTimeout(r, 1500)); // a checkpoint after the last sentence

  await Promise.all([1, 2].map((i) => stack.start(i, { INSTANCE_ID: `inst-${i}` })));
  await waitFor(async () => {
    const o = await Promise.all([0, 1, 2].map(owned));
    return o.reduce((a, b) => a + b, 0) === 64 && o.every((x) => x >= 21);
  }, 40_000, 'three instances sharing the partitions', 250);
  // the joining instances took pumps with the burst kept: what the checkpoint covered was dropped, not judged
  await waitFor(async () => (await alreadyJudged(1)) + (await alreadyJudged(2)) > 0, 15_000, 'kept history dropped as already judged', 250);
  await new Promise((r) => setTimeout(r, 2000));

  const wrong = (a: Alert): boolean => pumps.includes(a.pump)
    && (a.type === 'program_mismatch' || a.type === 'delivery_below_24h' || (a.type === 'clock_error' && /set (back|forward)/.test(a.message)));
  for (const i of [0, 1, 2]) {
    const list = (await stack.api<Alert[]>(i, '/api/alerts?status=all')).filter(wrong);
    assert.deepEqual(list.map((a) => `${a.pump} ${a.type}: ${a.message}`), [], `no false alert on instance ${i}`);
  }
  const stored = await stack.influx.query(DB, 'SELECT "json" FROM "alert"');
  const rows = (stored.results[0]?.series ?? []).flatMap((s) => s.values.map((v) => JSON.parse(String(v[1])) as Alert));
  assert.deepEqual(rows.filter(wrong).map((a) => `${a.pump} ${a.type}: ${a.message}`), [], 'no false alert stored');
});
