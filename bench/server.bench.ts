/**
 * Server figures, in one run on one Mosquitto and one influxd:
 * - a bare mqtt.js QoS 1 subscriber while a publisher sends the fleet's messages (the ceiling);
 * - a detection-free relay (that subscriber writing points to InfluxDB in batches);
 * - `npm run server` under the same load: validated, de-duplicated, journalled, detected, stored;
 * - alarm sentence → WebSocket alert latency at a steady 1,000 msg/s;
 * - resident memory with 10,000 pumps;
 * - the same ingest with every pump assigned to its order on a real PostgreSQL (verification on),
 *   against the server without a database, each on a fresh stack, in the order U·A·A·U.
 */
import { readFileSync } from 'node:fs';
import { InfluxDB, type IPoint } from 'influx';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { encodeSentence } from '../protocol/encode.ts';
import { parsePumpMessage, toPumpMessage } from '../protocol/payloads.ts';
import type { Sentence } from '../protocol/sentence.ts';
import { messagePoint } from '../server/storage/points.ts';

import { serverNodePid, startStack } from '../test/integration/server/serverStack.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import type { Alert, PumpView } from '../protocol/api.ts';
import { seedAssignments } from './clinicalSeed.ts';
import { idleSince } from './machineIdle.ts';
import { encodePublishes, publishEncoded } from './publishFleet.ts';
import type { BenchRow } from './types.ts';

const PUMPS = 10_000;
/**
 * Throughput is measured in steady state, as a fleet runs: every pump first sends its program,
 * START and two statuses (the warm-up, timed separately as "first contact": it creates 10,000
 * pumps in the engine and their series in InfluxDB), then PER_PUMP statuses each are timed.
 * Every consumer gets the same warm-up.
 */
const WARM_PER_PUMP = 4;
const PER_PUMP = 8;
const TOKEN = 'integration-token-0123456789';
/** the server's MQTT client id (MQTT_CLIENT_ID default) */
const SERVER_CLIENT_ID = 'pumpwatch-server';
/**
 * Offered load for the throughput comparison, msg/s: what the target names as a bare subscriber's
 * rate on this machine. Unpaced, this publisher (pre-encoded packets on one socket) drives a bare
 * subscriber to about twice that, a figure reported too.
 */
const OFFERED_PER_S = 25_000;
/** every phase gives up after this long */
const DEADLINE_MS = 120_000;

const serial = (i: number): string => `BN-${String(i).padStart(6, '0')}`;
const isoSec = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function sentence(i: number, seq: number, timeMs: number, alarm = false): Sentence {
  const pump = serial(i);
  const time = isoSec(timeMs);
  if (seq === 0) return { type: 'program', pump, seq, time, programId: `P${i}`, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 };
  if (seq === 1) return { type: 'event', pump, seq, time, code: 'START', detail: `P${i}` };
  return {
    type: 'status', pump, seq, time, state: alarm ? 'ALARM' : 'RUN', rateMlH: 5, infusedMl: Math.min(230, seq * 0.08), vtbiMl: 230 - Math.min(230, seq * 0.08),
    reservoirMl: 230 - Math.min(230, seq * 0.08), pressureMmHg: alarm ? 800 : 36, batteryPct: 90, alarms: alarm ? ['OCCL_DN'] : [],
  };
}

function body(s: Sentence): string {
  return JSON.stringify(toPumpMessage(s, encodeSentence(s), new Date()));
}

/** the fleet's sentences fromSeq ≤ seq < toSeq, pump-interleaved like a real fleet */
function fleetBodies(startMs: number, fromSeq: number, toSeq: number): { topic: string; body: string }[] {
  const out: { topic: string; body: string }[] = [];
  for (let seq = fromSeq; seq < toSeq; seq++) {
    for (let i = 0; i < PUMPS; i++) out.push({ topic: `pumpwatch/bench-gw/pumps/${serial(i)}`, body: body(sentence(i, seq, startMs + seq * 1000)) });
  }
  return out;
}

async function subscribeSession(url: string, clientId: string): Promise<void> {
  const sub = await mqtt.connectAsync(url, { clientId, clean: false });
  await sub.subscribeAsync(['pumpwatch/+/pumps/+', 'pumpwatch/+/availability'], { qos: 1 });
  await sub.endAsync();
}

/** ends a reference consumer's persistent session, so that the broker stops queuing for it */
async function dropSession(url: string, clientId: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId, clean: true });
  await c.endAsync();
}

/**
 * A consumer takes the warm-up, then receives while the fleet publishes; msg/s from the first
 * publish to the last message handled (and `done`).
 */
async function consume(url: string, clientId: string, warm: readonly Buffer[], packets: readonly Buffer[], ratePerS: number | undefined, onMessage: (topic: string, payload: Buffer) => void, done: () => Promise<void> = () => Promise.resolve()): Promise<number> {
  await subscribeSession(url, clientId);
  let got = 0;
  let want = 0;
  let finish: () => void = () => undefined;
  const phase = async (list: readonly Buffer[], opts: { ratePerS?: number }): Promise<void> => {
    got = 0;
    want = list.length;
    const all = new Promise<void>((r, j) => {
      finish = r;
      setTimeout(() => j(new Error(`${clientId}: ${got}/${want} messages after ${DEADLINE_MS} ms`)), DEADLINE_MS).unref();
    });
    await publishEncoded(url, list, opts);
    await all;
    await done();
  };
  const c = await mqtt.connectAsync(url, { clientId, clean: false });
  c.on('message', (t, p) => {
    onMessage(t, p);
    if (++got === want) finish();
  });
  await phase(warm, {});
  const t0 = performance.now();
  await phase(packets, ratePerS === undefined ? {} : { ratePerS });
  const rate = packets.length / ((performance.now() - t0) / 1000);
  await c.endAsync();
  await dropSession(url, clientId);
  return rate;
}

async function metrics(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const out: Record<string, number> = {};
  for (const l of text.split('\n')) if (l && !l.startsWith('#')) out[l.split(' ')[0] as string] = Number(l.split(' ')[1]);
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

/**
 * Packets published to a running server; msg/s from the first publish until all are accepted and
 * stored. Metrics are read rarely until ingest is nearly through, then often, so that watching
 * costs the server little and the end is seen within 10 ms.
 */
async function serverIngestRate(port: number, brokerUrl: string, packets: readonly Buffer[], acceptedAtEnd: number, log: readonly string[]): Promise<number> {
  const t0 = performance.now();
  await publishEncoded(brokerUrl, packets, { ratePerS: OFFERED_PER_S });
  for (;;) {
    const m = await metrics(port);
    const accepted = m.pumpwatch_ingest_accepted_total ?? 0;
    if (accepted >= acceptedAtEnd && (m.pumpwatch_storage_backlog ?? 1) === 0) break;
    if (performance.now() - t0 > DEADLINE_MS) {
      const notable = log.filter((l) => /"level":(40|50|60)/.test(l) || !l.startsWith('{')).slice(-8).join('\n');
      throw new Error(`server: ${accepted}/${acceptedAtEnd} accepted, backlog ${m.pumpwatch_storage_backlog} after ${DEADLINE_MS} ms; last warnings:\n${notable}`);
    }
    await sleep(accepted < acceptedAtEnd - packets.length / 10 ? 200 : 10);
  }
  return packets.length / ((performance.now() - t0) / 1000);
}

/** the order every bench pump's program matches (sentence(): 5 mL/h, 230 mL over 46 h) */
const MATCHING_ORDER = { drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 };
/** one pump whose order says another rate: verification must raise program_mismatch on it, and only on it */
const MISMATCHED_PUMP = serial(0);

interface IngestRun { rate: number; cold: number; withPatient: number; verificationAlerts: string[] }

/**
 * One server on a fresh Mosquitto and influxd: warm-up, then the timed statuses (as the main run).
 * `assigned`: DATABASE_URL on a fresh PostgreSQL holding a patient, an order and an open assignment
 * for each of the 10,000 pumps, loaded into the engine before the fleet sends (the real order
 * lookup path: ClinicalRecords → engine.setAssignment, setAssignmentsKnown(true)).
 */
async function ingestOnFreshStack(assigned: boolean, warm: readonly Buffer[], packets: readonly Buffer[]): Promise<IngestRun> {
  const stack = await startStack();
  const pg = assigned ? await startPostgres() : null;
  try {
    const env: Record<string, string> = { INFLUX_FLUSH_MS: '250', CHECKPOINT_MS: '15000' };
    if (pg) {
      const pumps = Array.from({ length: PUMPS }, (_, i) => serial(i));
      await seedAssignments(pg.url, { pumps, order: MATCHING_ORDER, mismatched: new Map([[MISMATCHED_PUMP, 2 * MATCHING_ORDER.rateMlH]]) });
      env.DATABASE_URL = pg.url;
    }
    await subscribeSession(stack.broker.url, SERVER_CLIENT_ID);
    const server = await stack.startServer(env);
    if (pg) await server.waitForLine(new RegExp(`"assignments":${PUMPS},.*clinical records loaded into verification`), 60_000);
    const cold = await serverIngestRate(stack.port, stack.broker.url, warm, warm.length, server.lines);
    const rate = await serverIngestRate(stack.port, stack.broker.url, packets, warm.length + packets.length, server.lines);
    const views = await stack.api<PumpView[]>('/api/pumps');
    const open = await stack.api<Alert[]>('/api/alerts');
    return {
      rate, cold, withPatient: views.filter((v) => v.patient).length,
      verificationAlerts: open.filter((a) => a.type.startsWith('program_') || a.type === 'delivery_above_order' || a.type === 'drug_limit').map((a) => `${a.pump}:${a.type}`),
    };
  } finally {
    await stack.dispose();
    await pg?.stop();
  }
}

/** U·A·A·U on fresh stacks (drift on a shared machine cancels out); the ratio of the means. */
export async function assignedVsUnassigned(warm: readonly Buffer[], packets: readonly Buffer[]): Promise<BenchRow[]> {
  const idleBefore = idleSince();
  await sleep(2000);
  const quiet = idleBefore();
  const during = idleSince();
  const u1 = await ingestOnFreshStack(false, warm, packets);
  const a1 = await ingestOnFreshStack(true, warm, packets);
  const a2 = await ingestOnFreshStack(true, warm, packets);
  const u2 = await ingestOnFreshStack(false, warm, packets);
  const idle = during();
  const u = (u1.rate + u2.rate) / 2;
  const a = (a1.rate + a2.rate) / 2;
  const ratio = a / u;
  const wanted = `${MISMATCHED_PUMP}:program_mismatch`;
  const verified = [a1, a2].every((r) => r.verificationAlerts.length === 1 && r.verificationAlerts[0] === wanted);
  const shown = Math.min(a1.withPatient, a2.withPatient);
  const range = (x: IngestRun, y: IngestRun): string => `${Math.round(Math.min(x.rate, y.rate))}–${Math.round(Math.max(x.rate, y.rate))}`;
  return [
    { area: 'server', metric: `machine CPU idle before the assigned/unassigned runs (2 s, nothing of ours running)`, value: quiet, unit: '%' },
    { area: 'server', metric: `server ingest → stored, no database, fresh stack (reference; runs 1 and 4: ${range(u1, u2)})`, value: u, unit: 'msg/s' },
    { area: 'server', metric: `server ingest → stored, ${PUMPS} pumps assigned to matching orders on real PostgreSQL, verification on (runs 2 and 3: ${range(a1, a2)})`, value: a, unit: 'msg/s' },
    { area: 'server', metric: 'assigned vs unassigned ingest (ratio of the means)', value: ratio, unit: '×', target: '>= 0.90', pass: ratio >= 0.9 },
    { area: 'server', metric: `first contact with ${PUMPS} assigned pumps (programs verified) / unassigned`, value: (a1.cold + a2.cold) / (u1.cold + u2.cold), unit: '×' },
    { area: 'server', metric: 'assigned pumps on /api/pumps with their patient and order', value: shown, unit: 'pumps', target: `= ${PUMPS}`, pass: shown === PUMPS },
    { area: 'server', metric: `verification alerts on the assigned runs (one order differs: ${wanted} only)`, value: a1.verificationAlerts.length + a2.verificationAlerts.length, unit: 'alerts', target: '1 per run', pass: verified },
    { area: 'server', metric: 'machine CPU idle during those four runs (ours included)', value: idle, unit: '%' },
  ];
}

/** the warm-up and timed packets of one run */
export function fleetPackets(): { warm: Buffer[]; packets: Buffer[] } {
  const t0 = Date.now() - (WARM_PER_PUMP + PER_PUMP) * 1000 - 5000;
  return { warm: encodePublishes(fleetBodies(t0, 0, WARM_PER_PUMP)), packets: encodePublishes(fleetBodies(t0, WARM_PER_PUMP, WARM_PER_PUMP + PER_PUMP)) };
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { warm, packets } = fleetPackets();

  // one broker and one influxd for all three consumers, one after the other: the bare subscriber,
  // the detection-free relay, then the server
  const stack = await startStack();
  let bare = NaN;
  try {
    const broker = stack.broker;
    const unpaced = await consume(broker.url, 'bench-bare-unpaced', warm, packets, undefined, () => undefined);
    rows.push({ area: 'server', metric: 'bare mqtt.js QoS 1 subscriber, publisher unpaced', value: unpaced, unit: 'msg/s' });
    bare = await consume(broker.url, 'bench-bare', warm, packets, OFFERED_PER_S, () => undefined);
    rows.push({ area: 'server', metric: `bare mqtt.js QoS 1 subscriber, ${OFFERED_PER_S} msg/s offered`, value: bare, unit: 'msg/s' });
    // the relay writes through the `influx` package itself, as the target defines it
    const relayUrl = new URL(stack.influx.urlFor('relay'));
    const store = new InfluxDB({ host: relayUrl.hostname, port: Number(relayUrl.port), database: 'relay' });
    await store.createDatabase('relay');
    let batch: IPoint[] = [];
    const writes: Promise<void>[] = [];
    const relay = await consume(broker.url, 'bench-relay', warm, packets, OFFERED_PER_S, (topic, payload) => {
      const v = parsePumpMessage(payload, topic.split('/')[3]);
      if (v.ok) batch.push(messagePoint(v.message, 'bench-gw'));
      if (batch.length >= 5000) {
        writes.push(store.writePoints(batch, { precision: 'n' }));
        batch = [];
      }
    }, async () => {
      writes.push(store.writePoints(batch, { precision: 'n' }));
      batch = [];
      await Promise.all(writes.splice(0));
    });
    await store.dropDatabase('relay');
    rows.push({ area: 'server', metric: 'detection-free relay (subscriber → influx batches)', value: relay, unit: 'msg/s' });

    // the real server process with the production defaults (flush 250 ms, checkpoint 15 s)
    await subscribeSession(stack.broker.url, SERVER_CLIENT_ID);
    const server = await stack.startServer({ INFLUX_FLUSH_MS: '250', CHECKPOINT_MS: '15000' });
    const pid = serverNodePid(server);
    const rssOf = (): number => (pid ? Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024 : NaN);
    rows.push({ area: 'server', metric: 'resident memory at start', value: rssOf(), unit: 'MB' });
    const cold = await serverIngestRate(stack.port, stack.broker.url, warm, warm.length, server.lines);
    rows.push({ area: 'server', metric: `first contact: ${PUMPS} new pumps, ${WARM_PER_PUMP} sentences each (warm-up)`, value: cold, unit: 'msg/s' });
    const serverRate = await serverIngestRate(stack.port, stack.broker.url, packets, warm.length + packets.length, server.lines);
    rows.push({ area: 'server', metric: 'server ingest → stored (validate, dedupe, journal, detect, store)', value: serverRate, unit: 'msg/s', target: '>= 75% of bare', pass: serverRate >= 0.75 * bare });
    rows.push({ area: 'server', metric: 'server rate / bare subscriber', value: (100 * serverRate) / bare, unit: '%', target: '>= 75', pass: serverRate >= 0.75 * bare });

    // latency: 1,000 pumps at 1 sentence/s each; every 100 ms one of them reports OCCL_DN
    const ws = new WebSocket(`ws://127.0.0.1:${stack.port}/ws`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { type: string; alert?: { pump: string; type: string; status: string } };
      if (m.type === 'alert' && m.alert?.type === 'occlusion' && m.alert.status === 'active') {
        const t = sentAt.get(m.alert.pump);
        if (t !== undefined) {
          latencies.push(performance.now() - t);
          sentAt.delete(m.alert.pump);
        }
      }
    });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const pub = await mqtt.connectAsync(stack.broker.url, { clientId: 'bench-steady' });
    const seqs = new Array<number>(1000).fill(WARM_PER_PUMP + PER_PUMP - 1);
    const seconds = 12;
    let alarmNo = 0;
    for (let tick = 0; tick < seconds * 10; tick++) {
      const started = performance.now();
      const now = Date.now();
      for (let k = 0; k < 100; k++) {
        const i = (tick % 10) * 100 + k;
        // every 100 ms (after a warm-up second) a fresh pump starts a program; 500 ms later it reports OCCL_DN
        let s: Sentence;
        if (k === 0 && tick >= 10 && tick < seconds * 10 - 5) s = sentence(PUMPS + tick, 0, now);
        else if (k === 1 && tick >= 10 && tick < seconds * 10 - 5) s = sentence(PUMPS + tick, 1, now);
        else if (k === 2 && tick >= 10 && tick < seconds * 10 - 5) s = sentence(PUMPS + tick, 2, now);
        else if (k === 3 && tick >= 15) {
          s = sentence(PUMPS + tick - 5, 3, now, true);
          sentAt.set(s.pump, performance.now());
          alarmNo++;
        } else s = sentence(i, (seqs[i] = (seqs[i] as number) + 1), now);
        pub.publish(`pumpwatch/bench-gw/pumps/${s.pump}`, body(s), { qos: 1 });
      }
      await sleep(Math.max(0, 100 - (performance.now() - started)));
    }
    await sleep(1500);
    await pub.endAsync();
    ws.close();
    const rss = rssOf();
    const heap = (await metrics(stack.port)).pumpwatch_nodejs_heap_size_used_bytes ?? NaN;
    rows.push({ area: 'server', metric: 'V8 heap used (of that resident memory)', value: heap / 1024 / 1024, unit: 'MB' });
    rows.push({ area: 'server', metric: `resident memory with ${PUMPS} pumps reporting`, value: rss, unit: 'MB', target: '< 300', pass: rss < 300 });
    rows.push({ area: 'server', metric: `alarm → WebSocket latency p50 at 1,000 msg/s (${latencies.length}/${alarmNo} alerts)`, value: pct(latencies, 50), unit: 'ms' });
    rows.push({ area: 'server', metric: 'alarm → WebSocket alerts slower than 100 ms', value: latencies.filter((l) => l > 100).length, unit: 'alerts' });
    rows.push({ area: 'server', metric: 'alarm → WebSocket latency p99 at 1,000 msg/s', value: pct(latencies, 99), unit: 'ms', target: '< 100', pass: latencies.length === alarmNo && pct(latencies, 99) < 100 });
  } finally {
    await stack.dispose();
  }

  // on fresh stacks of their own, so that the first stack's InfluxDB does not weigh on either side
  rows.push(...await assignedVsUnassigned(warm, packets));

  // 6, last so that its InfluxDB's aftermath does not slow the figures above: a checkpoint of every
  // changed pump every 500 ms (30 times the default)
  const stress = await startStack();
  try {
    // the server's persistent session exists before the fleet publishes, as for the subscriber and
    // the relay (and in a deployment): nothing published before its first SUBSCRIBE goes missing
    await subscribeSession(stress.broker.url, SERVER_CLIENT_ID);
    const stressed = await stress.startServer({ INFLUX_FLUSH_MS: '250', CHECKPOINT_MS: '500' });
    await serverIngestRate(stress.port, stress.broker.url, warm, warm.length, stressed.lines);
    const rate = await serverIngestRate(stress.port, stress.broker.url, packets, warm.length + packets.length, stressed.lines);
    rows.push({ area: 'server', metric: 'server ingest → stored, checkpoint every 500 ms', value: rate, unit: 'msg/s' });
    rows.push({ area: 'server', metric: 'that rate / bare subscriber', value: (100 * rate) / bare, unit: '%' });
  } finally {
    await stress.dispose();
  }
  return rows;
}
