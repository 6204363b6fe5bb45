/**
 * Plausible home infusions written as the pumps would have sent them (program, start, a status
 * every few minutes, pauses and alarms as events), for browser tests on the real server.
 */
import type { PumpState } from '../../protocol/sentence.ts';
import type { PumpFeed } from './liveServer.ts';

const MIN = 60_000;

export interface Interruption {
  /** minutes after the start */
  atMin: number;
  minutes: number;
  kind: 'PAUSE' | 'OCCL_DN';
}

export interface Infusion {
  startMs: number;
  programId: string;
  drug: string;
  rateMlH: number;
  volumeMl: number;
  programHours: number;
  /** minutes between status sentences */
  stepMin?: number;
  interruptions?: Interruption[];
  /** the pump ended the program here (END event and state); otherwise it is still running at `untilMs` */
  endMs?: number;
  untilMs: number;
  batteryPct?: number;
}

/** Sends a whole infusion in pump-clock order; returns the volume infused so far, mL. */
export async function infuse(feed: PumpFeed, inf: Infusion): Promise<number> {
  const step = (inf.stepMin ?? 10) * MIN;
  await feed.send({ type: 'event', code: 'POWER_ON', detail: '1.0' }, inf.startMs - 2 * MIN);
  await feed.send({ type: 'program', programId: inf.programId, drug: inf.drug, rateMlH: inf.rateMlH, volumeMl: inf.volumeMl, hours: inf.programHours }, inf.startMs - MIN);
  await feed.send({ type: 'event', code: 'START', detail: inf.programId }, inf.startMs);
  const stopMs = inf.endMs ?? inf.untilMs;
  let infused = 0;
  let last = inf.startMs;
  const status = async (t: number, state: PumpState, alarms: string[] = [], pressureMmHg = 35): Promise<void> => {
    if (state === 'RUN') infused += (inf.rateMlH * (t - last)) / 3_600_000;
    last = t;
    const ml = Math.round(infused * 100) / 100;
    await feed.send({
      type: 'status', state, rateMlH: inf.rateMlH, infusedMl: ml, vtbiMl: Math.max(0, Math.round((inf.volumeMl - ml) * 100) / 100),
      reservoirMl: Math.max(0, Math.round((inf.volumeMl - ml) * 100) / 100), pressureMmHg, batteryPct: inf.batteryPct ?? 90, alarms,
    }, t);
  };
  const breaks = [...(inf.interruptions ?? [])].sort((a, b) => a.atMin - b.atMin);
  for (let t = inf.startMs + step; t < stopMs; t += step) {
    const b = breaks[0];
    if (b && t >= inf.startMs + b.atMin * MIN) {
      breaks.shift();
      const from = inf.startMs + b.atMin * MIN;
      const to = from + b.minutes * MIN;
      await status(from, 'RUN');
      if (b.kind === 'PAUSE') {
        await feed.send({ type: 'event', code: 'PAUSE', detail: '' }, from);
        await status(from + 1000, 'PAUSE');
        await feed.send({ type: 'event', code: 'RESUME', detail: '' }, to);
      } else {
        await status(from + 1000, 'ALARM', ['OCCL_DN'], 790);
        await feed.send({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' }, from + 1000);
        await feed.send({ type: 'event', code: 'ALARM_OFF', detail: 'OCCL_DN' }, to);
      }
      await status(to + 1000, 'RUN');
      t = to + 1000;
      continue;
    }
    await status(t, 'RUN');
  }
  if (inf.endMs !== undefined) {
    await status(inf.endMs, 'RUN');
    await feed.send({ type: 'event', code: 'END', detail: inf.programId }, inf.endMs + 1000);
    await status(inf.endMs + 2000, 'END');
    // the pump keeps reporting while it stays on
    await status(inf.untilMs, 'END');
  }
  return Math.round(infused * 100) / 100;
}

/** One status now, as the pump sends it every few seconds. */
export async function statusNow(feed: PumpFeed, state: PumpState, over: { infusedMl?: number; pressureMmHg?: number; batteryPct?: number; alarms?: string[] } = {}, atMs = Date.now()): Promise<void> {
  const infused = over.infusedMl ?? 40;
  await feed.send({
    type: 'status', state, rateMlH: 5, infusedMl: infused, vtbiMl: Math.round((230 - infused) * 100) / 100, reservoirMl: Math.round((230 - infused) * 100) / 100,
    pressureMmHg: over.pressureMmHg ?? 35, batteryPct: over.batteryPct ?? 90, alarms: over.alarms ?? [],
  }, atMs);
}
