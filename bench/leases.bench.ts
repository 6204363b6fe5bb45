/**
 * CLUSTER_MODE=lease on this machine: aggregate ingest (validated, judged, stored) of 3 instances
 * sharing the pumps by lease, to set beside the SHARD figures of scaleout.bench.ts, and takeover
 * time: from `kill -9` of the instance holding a pump to that pump's occlusion (published right
 * after the kill) on the board of a surviving instance (docs/scaling.md).
 */
import pg from 'pg';
import type { Alert } from '../protocol/api.ts';
import { encodeSentence } from '../protocol/encode.ts';
import { toPumpMessage } from '../protocol/payloads.ts';
import type { Sentence } from '../protocol/sentence.ts';
import { partitionOf } from '../server/cluster/leasePlan.ts';
import { startPostgres } from '../scripts/services/postgres.ts';
import { fleetPublisher, startScaleoutStack, watchAlerts, type ScaleoutStack } from '../test/integration/scaleout/scaleoutStack.ts';
import { encodePublishes, publishEncoded } from './publishFleet.ts';
import type { BenchRow } from './types.ts';

const PUMPS = 2000;
const PER_PUMP = 8;
const TOTAL = PUMPS * PER_PUMP;
const N = 3;
const LEASE_S = 10;
const KILLS = 3;
const RUN_LIMIT_MS = 120_000;

const serial = (i: number): string => `LB-${String(i).padStart(6, '0')}`;
const isoSec = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function sentence(i: number, seq: number, timeMs: number, alarm = false): Sentence {
  const pump = serial(i);
  const time = isoSec(timeMs);
  if (seq === 0) return { type: 'program', pump, seq, time, programId: `P${i}`, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 };
  if (seq === 1) return { type: 'event', pump, seq, time, code: 'START', detail: `P${i}` };
  const vi = Math.round(Math.min(seq, PER_PUMP) * 8) / 100;
  return {
    type: 'status', pump, seq, time, state: alarm ? 'ALARM' : 'RUN', rateMlH: 5, infusedMl: vi, vtbiMl: 230, reservoirMl: 230 - vi,
    pressureMmHg: alarm ? 780 : 36, batteryPct: 90, alarms: alarm ? ['OCCL_DN'] : [],
  };
}

const message = (s: Sentence): { topic: string; body: string } => ({ topic: `pumpwatch/bench-gw/pumps/${s.pump}`, body: JSON.stringify(toPumpMessage(s, encodeSentence(s), new Date())) });

async function owned(stack: ScaleoutStack, i: number): Promise<number> {
  try {
    const h = await stack.api<{ cluster?: { owned: number } }>(i, '/api/health');
    return h.cluster?.owned ?? -1;
  } catch {
    return -1;
  }
}

async function balanced(stack: ScaleoutStack): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const o = await Promise.all(stack.instances.map((x) => owned(stack, x.index)));
    if (o.reduce((a, b) => a + b, 0) === 64 && o.every((x) => x >= 21)) return;
    if (Date.now() > deadline) throw new Error(`leases not balanced: ${o.join(',')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** the same fleet through 3 SHARD instances, measured in the same run: the figure to compare with on a busy machine */
async function shardRate(messages: { topic: string; body: string }[]): Promise<number> {
  const stack = await startScaleoutStack(N, { shard: true, env: { INFLUX_FLUSH_MS: '250', CHECKPOINT_MS: '2000' } });
  try {
    await Promise.all(stack.instances.map((x) => stack.start(x.index)));
    return await ingestRate(stack, messages);
  } finally {
    await stack.dispose();
  }
}

/** msg/s from the first publish until every message is accepted by its owner and stored */
async function ingestRate(stack: ScaleoutStack, messages: { topic: string; body: string }[]): Promise<number> {
  const t0 = performance.now();
  await publishEncoded(stack.broker.url, encodePublishes(messages), { clientId: `lease-bench-pub-${process.pid}` });
  for (;;) {
    let accepted = 0;
    let backlog = 0;
    for (const x of stack.instances) {
      accepted += await stack.metric(x.index, 'pumpwatch_ingest_accepted_total');
      backlog += await stack.metric(x.index, 'pumpwatch_storage_backlog');
    }
    if (accepted >= TOTAL && backlog === 0) break;
    if (performance.now() - t0 > RUN_LIMIT_MS) throw new Error(`${accepted}/${TOTAL} accepted after ${RUN_LIMIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return TOTAL / ((performance.now() - t0) / 1000);
}

function fleet(): { topic: string; body: string }[] {
  const startMs = Date.now() - PER_PUMP * 1000 - 5000;
  const messages: { topic: string; body: string }[] = [];
  for (let seq = 0; seq < PER_PUMP; seq++) for (let i = 0; i < PUMPS; i++) messages.push(message(sentence(i, seq, startMs + seq * 1000)));
  return messages;
}

export async function run(): Promise<BenchRow[]> {
  const shard = await shardRate(fleet());
  const postgres = await startPostgres();
  const stack = await startScaleoutStack(N, {
    shard: false,
    env: { DATABASE_URL: postgres.url, CLUSTER_MODE: 'lease', LEASE_S: String(LEASE_S), INFLUX_FLUSH_MS: '250', CHECKPOINT_MS: '2000' },
  });
  const db = new pg.Pool({ connectionString: postgres.url, max: 1 });
  const rows: BenchRow[] = [];
  try {
    await Promise.all(stack.instances.map((x) => stack.start(x.index, { INSTANCE_ID: `inst-${x.index}` })));
    await balanced(stack);

    // aggregate ingest: every instance receives the whole fleet, judges and stores its share, keeps the rest for takeover
    const lease = await ingestRate(stack, fleet());
    rows.push({ area: 'leases', metric: `aggregate ingest → stored, ${N} instances (SHARD), ${PUMPS} pumps, same run`, value: shard, unit: 'msg/s' });
    rows.push({ area: 'leases', metric: `aggregate ingest → stored, ${N} instances (CLUSTER_MODE=lease), ${PUMPS} pumps`, value: lease, unit: 'msg/s' });
    rows.push({ area: 'leases', metric: 'lease / SHARD, same run', value: (100 * lease) / shard, unit: '%' });

    // takeover: kill the holder of a pump, publish its occlusion at once, time it to a surviving board
    const pub = await fleetPublisher(stack.broker.url, `lease-bench-alarm-${process.pid}`);
    const times: number[] = [];
    try {
      for (let k = 0; k < KILLS; k++) {
        const victim = k % N;
        const owners = new Map((await db.query<{ partition: number; owner: string }>('SELECT partition, owner FROM cluster_leases WHERE expires_at > now()')).rows.map((r) => [r.partition, r.owner]));
        const index = Array.from({ length: PUMPS }, (_, i) => i).find((i) => owners.get(partitionOf(serial(i))) === `inst-${victim}` && i % KILLS === k)!;
        const other = (victim + 1) % N;
        const watcher = await watchAlerts(stack.instances[other]!.port);
        try {
          await stack.instances[victim]!.proc!.kill9();
          const killedAt = performance.now();
          const m = message(sentence(index, PER_PUMP + k, Date.now(), true));
          await pub.publishAsync(m.topic, m.body, { qos: 1 });
          const deadline = killedAt + 4 * LEASE_S * 1000;
          while (!watcher.alerts.some((a: Alert) => a.pump === serial(index) && a.type === 'occlusion')) {
            if (performance.now() > deadline) throw new Error(`no takeover of ${serial(index)} within ${4 * LEASE_S} s`);
            await new Promise((r) => setTimeout(r, 50));
          }
          times.push((performance.now() - killedAt) / 1000);
        } finally {
          await watcher.close();
        }
        await stack.start(victim, { INSTANCE_ID: `inst-${victim}` });
        await balanced(stack);
      }
    } finally {
      await pub.endAsync();
    }
    const worst = Math.max(...times);
    rows.push({ area: 'leases', metric: `takeover, kill -9 → occlusion on a surviving board, worst of ${KILLS} (LEASE_S=${LEASE_S})`, value: worst, unit: 's', target: `< ${LEASE_S + 5}`, pass: worst < LEASE_S + 5 });
    rows.push({ area: 'leases', metric: `takeover, median of ${KILLS}`, value: [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? NaN, unit: 's' });
  } finally {
    await db.end();
    await stack.dispose();
    await postgres.stop();
  }
  return rows;
}
