/** Test input for the detection engine: real captures, and constructed pumps speaking valid sentences. */
import { join } from 'node:path';
import { decodeSentence, encodeSentence, toPumpMessage } from '../../../../protocol/index.ts';
import type { Alert } from '../../../../protocol/api.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import type { PumpState, Sentence, StatusSentence } from '../../../../protocol/sentence.ts';
import type { DetectionEngine } from '../../../../server/engine/index.ts';
import { loadCapture } from '../../../../simulators/capture.ts';

export const CAPTURES = join(import.meta.dirname, '../../../fixtures/captures');
/** the fake server clock runs this far after the pump clock (transport delay) */
export const LINK_DELAY_MS = 200;

export function captureMessages(name: string): PumpMessage[] {
  const out: PumpMessage[] = [];
  for (const line of loadCapture(join(CAPTURES, `${name}.log`))) {
    const r = decodeSentence(line);
    if (r.ok) out.push(toPumpMessage(r.sentence, line, new Date(Date.parse(r.sentence.time) + LINK_DELAY_MS)));
  }
  return out;
}

export function message(s: Sentence, receivedMs: number): PumpMessage {
  return toPumpMessage(s, encodeSentence(s), new Date(receivedMs));
}

export interface ReplayOptions {
  gateway?: string;
  /** server time = pump time + this */
  offsetMs?: number;
  /** also tick the engine every this many ms of server time between messages */
  tickEveryMs?: number;
}

/** Feeds messages with a server clock that follows pump time; collects every alert change in order. */
export function replay(engine: DetectionEngine, msgs: PumpMessage[], opts: ReplayOptions = {}): Alert[] {
  const gateway = opts.gateway ?? 'gw-1';
  const offset = opts.offsetMs ?? LINK_DELAY_MS;
  const tickEvery = opts.tickEveryMs ?? 10_000;
  const changes: Alert[] = [];
  let lastTick: number | null = null;
  for (const m of msgs) {
    const serverMs = Date.parse(m.time) + offset;
    if (lastTick !== null) {
      for (let t = lastTick + tickEvery; t < serverMs; t += tickEvery) {
        engine.tick(t);
        changes.push(...engine.takeChanges().alerts);
      }
    }
    engine.ingest(m, { gateway, serverTimeMs: serverMs });
    engine.tick(serverMs);
    changes.push(...engine.takeChanges().alerts);
    lastTick = serverMs;
  }
  return changes;
}

export interface StatusFields {
  state: PumpState; rateMlH: number; infusedMl: number; vtbiMl: number; reservoirMl: number | null;
  pressureMmHg: number | null; batteryPct: number; alarms: string[];
}

/** A constructed pump: every sentence valid (encodeSentence), seq and pump clock advancing. */
export class PumpFeed {
  seq = 0;
  timeMs: number;
  status: StatusFields = {
    state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0, reservoirMl: null, pressureMmHg: 35, batteryPct: 100, alarms: [],
  };

  constructor(readonly pump: string, startIso: string) {
    this.timeMs = Date.parse(startIso);
  }

  get iso(): string {
    return new Date(this.timeMs).toISOString().replace('.000Z', 'Z');
  }

  advance(seconds: number): this {
    this.timeMs += seconds * 1000;
    return this;
  }

  private common(): { pump: string; seq: number; time: string } {
    const c = { pump: this.pump, seq: this.seq, time: this.iso };
    this.seq = (this.seq + 1) % 65536;
    return c;
  }

  /** exact mL infused, so low rates still advance vi at the 0.01 mL resolution */
  private exactInfusedMl = 0;

  sts(change: Partial<StatusFields> = {}): PumpMessage {
    if (change.infusedMl !== undefined && Math.abs(change.infusedMl - this.exactInfusedMl) >= 0.01) this.exactInfusedMl = change.infusedMl;
    this.status = { ...this.status, ...change };
    const s: StatusSentence = { type: 'status', ...this.common(), ...this.status };
    return message(s, this.timeMs + LINK_DELAY_MS);
  }

  evt(code: string, detail = ''): PumpMessage {
    return message({ type: 'event', ...this.common(), code, detail }, this.timeMs + LINK_DELAY_MS);
  }

  prg(programId: string, rateMlH: number, volumeMl: number, hours: number, drug = 'FLUOROURACIL'): PumpMessage {
    return message({ type: 'program', ...this.common(), programId, drug, rateMlH, volumeMl, hours }, this.timeMs + LINK_DELAY_MS);
  }

  /** PRG, PROGRAM, START and the first RUN status */
  start(programId: string, rateMlH: number, volumeMl: number, hours: number): PumpMessage[] {
    this.exactInfusedMl = 0;
    const res = this.status.reservoirMl === null ? volumeMl : this.status.reservoirMl;
    return [
      this.prg(programId, rateMlH, volumeMl, hours), this.evt('PROGRAM', programId), this.evt('START', programId),
      this.sts({ state: 'RUN', rateMlH, infusedMl: 0, vtbiMl: volumeMl, reservoirMl: res }),
    ];
  }

  /** `minutes` status sentences one minute apart while delivering normally */
  run(minutes: number, pressure: (i: number) => number = () => 35): PumpMessage[] {
    const out: PumpMessage[] = [];
    for (let i = 0; i < minutes; i++) {
      this.advance(60);
      const ml = Math.min(this.status.rateMlH / 60, this.status.vtbiMl + this.status.infusedMl - this.exactInfusedMl);
      const before = Math.round(this.exactInfusedMl * 100) / 100;
      this.exactInfusedMl += ml;
      const infusedMl = Math.round(this.exactInfusedMl * 100) / 100;
      const step = infusedMl - before;
      const vtbiMl = Math.max(0, Math.round((this.status.vtbiMl - step) * 100) / 100);
      const reservoirMl = this.status.reservoirMl === null ? null : Math.max(0, Math.round((this.status.reservoirMl - step) * 100) / 100);
      out.push(this.sts({ infusedMl, vtbiMl, reservoirMl, pressureMmHg: Math.max(0, Math.round(pressure(i))) }));
    }
    return out;
  }

  /** status sentences one minute apart with nothing changing but what `change` says */
  hold(minutes: number, change: (i: number) => Partial<StatusFields> = () => ({})): PumpMessage[] {
    const out: PumpMessage[] = [];
    for (let i = 0; i < minutes; i++) {
      this.advance(60);
      out.push(this.sts(change(i)));
    }
    return out;
  }
}

export const byType = (alerts: Alert[], type: string): Alert[] => alerts.filter((a) => a.type === type);
export const ids = (alerts: Alert[]): string[] => [...new Set(alerts.map((a) => a.id))];

/** Deterministic noise for tests (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Statuses every `intervalS` while delivering at the program's rate, vi kept from an exact counter
 * rounded to the pump's 0.01 mL (at 0.5 mL/h it moves every 72 s); pressure per status index.
 */
export function deliverStatuses(f: PumpFeed, exact: { ml: number }, intervalS: number, count: number, pressure: (i: number) => number | null = () => 35): PumpMessage[] {
  const out: PumpMessage[] = [];
  for (let i = 0; i < count; i++) {
    f.advance(intervalS);
    const before = Math.round(exact.ml * 100) / 100;
    exact.ml += (f.status.rateMlH * intervalS) / 3600;
    const infusedMl = Math.round(exact.ml * 100) / 100;
    const vtbiMl = Math.max(0, Math.round((f.status.vtbiMl - (infusedMl - before)) * 100) / 100);
    out.push(f.sts({ infusedMl, vtbiMl, reservoirMl: vtbiMl, pressureMmHg: pressure(i) }));
  }
  return out;
}
