/**
 * Scale-out figures on this machine: aggregate ingest rate (validated, detected and stored) of
 * 1, 2 and 3 `npm run server` instances in SHARD mode on one Mosquitto and one influxd, fed the
 * same fleet. Each instance's session receives the whole fleet and keeps its share, so on one
 * small machine this measures the cost of splitting more than the gain: see docs/scaling.md.
 */
import { encodeSentence } from '../protocol/encode.ts';
import { toPumpMessage } from '../protocol/payloads.ts';
import type { Sentence } from '../protocol/sentence.ts';
import { startScaleoutStack, type ScaleoutStack } from '../test/integration/scaleout/scaleoutStack.ts';
import { encodePublishes, publishEncoded } from './publishFleet.ts';
import type { BenchRow } from './types.ts';

const PUMPS = 2000;
const PER_PUMP = 8;
const TOTAL = PUMPS * PER_PUMP;
/** a run that has not finished by then is reported as failed, never left running */
const RUN_LIMIT_MS = 120_000;

const serial = (i: number): string => `SB-${String(i).padStart(6, '0')}`;
const isoSec = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function sentence(i: number, seq: number, timeMs: number): Sentence {
  const pump = serial(i);
  const time = isoSec(timeMs);
  if (seq === 0) return { type: 'program', pump, seq, time, programId: `P${i}`, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 };
  if (seq === 1) return { type: 'event', pump, seq, time, code: 'START', detail: `P${i}` };
  const vi = Math.round(seq * 8) / 100;
  return { type: 'status', pump, seq, time, state: 'RUN', rateMlH: 5, infusedMl: vi, vtbiMl: 230, reservoirMl: 230 - vi, pressureMmHg: 36, batteryPct: 90, alarms: [] };
}

function fleet(startMs: number): { topic: string; body: string }[] {
  const out: { topic: string; body: string }[] = [];
  for (let seq = 0; seq < PER_PUMP; seq++) {
    for (let i = 0; i < PUMPS; i++) {
      const s = sentence(i, seq, startMs + seq * 1000);
      out.push({ topic: `pumpwatch/bench-gw/pumps/${s.pump}`, body: JSON.stringify(toPumpMessage(s, encodeSentence(s), new Date())) });
    }
  }
  return out;
}


async function totals(stack: ScaleoutStack): Promise<{ accepted: number; backlog: number }> {
  let accepted = 0;
  let backlog = 0;
  for (const inst of stack.instances) {
    accepted += await stack.metric(inst.index, 'pumpwatch_ingest_accepted_total');
    backlog += await stack.metric(inst.index, 'pumpwatch_storage_backlog');
  }
  return { accepted, backlog };
}

/** msg/s from the first publish until every message is accepted by its instance and stored */
async function measure(instances: number, messages: { topic: string; body: string }[]): Promise<number> {
  const stack = await startScaleoutStack(instances, { shard: instances > 1, env: { INFLUX_FLUSH_MS: '250', CHECKPOINT_MS: '15000' } });
  try {
    await Promise.all(stack.instances.map((x) => stack.start(x.index)));
    const packets = encodePublishes(messages);
    const t0 = performance.now();
    await publishEncoded(stack.broker.url, packets, { clientId: `scaleout-bench-pub-${process.pid}` });
    for (;;) {
      const t = await totals(stack);
      if (t.accepted >= TOTAL && t.backlog === 0) break;
      if (performance.now() - t0 > RUN_LIMIT_MS) throw new Error(`${instances} instance(s): ${t.accepted}/${TOTAL} accepted after ${RUN_LIMIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return TOTAL / ((performance.now() - t0) / 1000);
  } finally {
    await stack.dispose();
  }
}

export async function run(): Promise<BenchRow[]> {
  const messages = fleet(Date.now() - PER_PUMP * 1000 - 5000);
  const rows: BenchRow[] = [];
  const rates: number[] = [];
  for (const n of [1, 2, 3]) {
    const rate = await measure(n, messages);
    rates.push(rate);
    rows.push({ area: 'scale-out', metric: `aggregate ingest → stored, ${n} instance${n > 1 ? 's (SHARD)' : ''}, ${PUMPS} pumps`, value: rate, unit: 'msg/s' });
  }
  rows.push({ area: 'scale-out', metric: '3 instances / 1 instance on this machine', value: (100 * (rates[2] ?? NaN)) / (rates[0] ?? NaN), unit: '%' });
  return rows;
}
