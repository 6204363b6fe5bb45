/**
 * Detection engine cost: status messages ingested per second on one core, and memory held for
 * 10,000 pumps in mid-infusion; and the same with every pump assigned to its order and
 * verification on (the engine driven directly, as the core drives it). Pure CPU, no network;
 * stops by itself.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { EventMessage, ProgramMessage, StatusMessage } from '../protocol/payloads.ts';
import { createDetectionEngine, DEFAULT_DETECTION_CONFIG, type DetectionEngine } from '../server/engine/index.ts';
import type { BenchRow } from './types.ts';

const PUMPS = 10_000;
const ROUNDS = 20;
const START_MS = Date.parse('2026-12-01T08:00:00Z');

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  gc?.();
  gc?.();
}

function serial(i: number): string {
  return `CS7-${String(i).padStart(6, '0')}`;
}

/** One status message object per pump, reused round after round (the engine keeps none of them but the alarms). */
function templates(): StatusMessage[] {
  const out: StatusMessage[] = [];
  for (let i = 0; i < PUMPS; i++) {
    out.push({
      v: 1, type: 'status', pump: serial(i), seq: 0, time: '', received: '', raw: '$STS*00', state: 'RUN', rateMlH: 5,
      infusedMl: 0, vtbiMl: 230, reservoirMl: 230, pressureMmHg: 35, batteryPct: 90, alarms: [],
    });
  }
  return out;
}

/** Feeds ROUNDS minutes of status from every pump; takeChanges every 1,000 messages, tick once per round. */
function feed(engine: DetectionEngine, msgs: StatusMessage[], rounds: number, firstRound: number): number {
  let n = 0;
  for (let r = firstRound; r < firstRound + rounds; r++) {
    const pumpMs = START_MS + r * 60_000;
    const time = new Date(pumpMs).toISOString().replace('.000Z', 'Z');
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      m.seq = r;
      m.time = time;
      m.infusedMl = Math.round(r * 8.33) / 100;
      m.vtbiMl = 230 - m.infusedMl;
      m.reservoirMl = m.vtbiMl;
      m.pressureMmHg = 30 + ((i + r) % 11);
      engine.ingest(m, { gateway: `gw-${i % 2000}`, serverTimeMs: pumpMs + 200 + (i % 1000) });
      if (++n % 1000 === 0) engine.takeChanges();
    }
    engine.tick(pumpMs + 1200);
    engine.takeChanges();
  }
  return n;
}

/**
 * A running program on every pump (PRG then START at round 0), then, when `assigned`, an open
 * assignment to a matching order per pump and the assignments known, as ClinicalRecords pushes
 * them after loading PostgreSQL: delivery is checked against the order on every status.
 */
function engineWithPrograms(msgs: StatusMessage[], assigned: boolean): DetectionEngine {
  const engine = createDetectionEngine(DEFAULT_DETECTION_CONFIG);
  const time = new Date(START_MS).toISOString().replace('.000Z', 'Z');
  if (assigned) {
    for (let i = 0; i < msgs.length; i++) {
      engine.setAssignment(msgs[i]!.pump, {
        assignmentId: String(i + 1), orderId: String(i + 1), patientId: String(i + 1), drug: 'FLUOROURACIL',
        // pump 0's order says another rate: verification must catch its program, and nothing else
        rateMlH: i === 0 ? 10 : 5, volumeMl: 230, hours: 46, mode: 'continuous', fromMs: START_MS - 3_600_000,
      }, START_MS);
    }
    engine.setAssignmentsKnown(true, START_MS);
  }
  for (let i = 0; i < msgs.length; i++) {
    const pump = msgs[i]!.pump;
    const ctx = { gateway: `gw-${i % 2000}`, serverTimeMs: START_MS + 100 };
    const prg: ProgramMessage = { v: 1, type: 'program', pump, seq: 0, time, received: '', raw: '$PRG*00', programId: `P${i}`, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 };
    const start: EventMessage = { v: 1, type: 'event', pump, seq: 1, time, received: '', raw: '$EVT*00', code: 'START', detail: `P${i}` };
    engine.ingest(prg, ctx);
    engine.ingest(start, ctx);
  }
  engine.takeChanges();
  return engine;
}

/** timed turns of each engine: on a shared machine one slice in three is often cut into */
const TURNS = 9;

/** Unassigned and assigned engines timed in turn (U A U A …), best of TURNS each: msg/s, and the alerts each raised. */
function assignedVsUnassigned(msgs: StatusMessage[]): { unassigned: number; assigned: number; alerts: string[] } {
  const engines = [engineWithPrograms(msgs, false), engineWithPrograms(msgs, true)] as const;
  for (const e of engines) feed(e, msgs, 5, 2);
  const best = [0, 0];
  for (let i = 0; i < TURNS; i++) {
    for (const k of [0, 1] as const) {
      const t0 = process.hrtime.bigint();
      const n = feed(engines[k], msgs, ROUNDS, 7 + i * ROUNDS);
      best[k] = Math.max(best[k]!, n / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
  }
  const alerts = engines.flatMap((e, k) => e.openAlerts().map((a) => `${k ? 'assigned' : 'unassigned'} ${a.pump}:${a.type}`));
  return { unassigned: best[0]!, assigned: best[1]!, alerts };
}

export async function run(): Promise<BenchRow[]> {
  await Promise.resolve();
  const msgs = templates();

  // memory: 10,000 pumps, each already past a few status messages
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  const engine = createDetectionEngine(DEFAULT_DETECTION_CONFIG);
  feed(engine, msgs, 3, 0);
  collectGarbage();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;

  // throughput: warm-up then a timed run on the same engine
  // warm-up, then the best of three timed runs (the machine is shared; the best run is the engine's own cost)
  feed(engine, msgs, 5, 3);
  let rate = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const n = feed(engine, msgs, ROUNDS, 8 + i * ROUNDS);
    rate = Math.max(rate, n / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  const alerts = engine.openAlerts().length;
  const verify = assignedVsUnassigned(msgs);
  const ratio = verify.assigned / verify.unassigned;
  const wanted = `assigned ${msgs[0]!.pump}:program_mismatch`;

  return [
    { area: 'detection', metric: 'status messages ingested per second, best of 3 (one core, 10,000 pumps)', value: rate, unit: 'msg/s', target: '>= 100000', pass: rate >= 100_000 },
    { area: 'detection', metric: 'engine heap for 10,000 pumps', value: heapMb, unit: 'MB', target: '< 100', pass: heapMb < 100 },
    { area: 'detection', metric: 'alerts raised on normal running (must be 0)', value: alerts, unit: 'alerts', target: '0', pass: alerts === 0 },
    { area: 'detection', metric: `engine driven directly, programs running, no assignments: msg/s, best of ${TURNS}`, value: verify.unassigned, unit: 'msg/s' },
    { area: 'detection', metric: 'same, 10,000 pumps assigned to matching orders, verification on (setAssignmentsKnown)', value: verify.assigned, unit: 'msg/s', target: '>= 100000', pass: verify.assigned >= 100_000 },
    // the 10 % is on the server's ingest (server.bench.ts), where the engine is ~2 % of a message's cost
    { area: 'detection', metric: 'engine alone: assigned vs unassigned (the ingest target is on the server row)', value: ratio, unit: '×' },
    { area: 'detection', metric: `alerts raised by the two engines (one order differs: ${wanted} only)`, value: verify.alerts.length, unit: 'alerts', target: '1', pass: verify.alerts.length === 1 && verify.alerts[0] === wanted },
  ];
}
