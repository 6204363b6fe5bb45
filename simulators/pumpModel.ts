import { encodeSentence } from '../protocol/encode.ts';
import { nextSeq, type PumpState, type Sentence } from '../protocol/sentence.ts';
import { PumpHistory } from './pumpHistory.ts';
import { createRandom, type Random } from './random.ts';

/** A program as keyed in at the pharmacy. */
export interface PumpProgram {
  programId: string;
  drug: string;
  rateMlH: number;
  volumeMl: number;
  /** planned duration, decimal hours */
  hours: number;
  /** reservoir loaded, mL; defaults to volumeMl; null when the pump does not know */
  reservoirMl?: number | null;
}

export interface PumpModelOptions {
  serial: string;
  seed?: number;
  /** seconds between periodic STS, 10–300 */
  statusIntervalS?: number;
  firmware?: string;
  /** pump clock minus true time, seconds */
  clockOffsetS?: number;
  /** mmHg; amplitude of the deterministic pressure noise (0 = a flat line like the captures) */
  pressureNoiseMmHg?: number;
  /** mmHg */
  baselinePressureMmHg?: number;
  /** mmHg; the pump's own occlusion alarm threshold (15 psi) */
  occlusionThresholdMmHg?: number;
  /** % at power-on */
  batteryPct?: number;
  /** % per hour of pumping */
  batteryDrainPctH?: number;
  /** % at which BATT_LOW is raised */
  batteryLowPct?: number;
  historySize?: number;
}

/** One sentence as the pump sent it: true time (ms since epoch) and the line without line end. */
export interface Emitted {
  atMs: number;
  line: string;
  seq: number;
}

/** 2 decimals as the pump shows them (toFixed: ties on the exact binary value round up). */
export function round2(n: number): number {
  return Number(n.toFixed(2));
}
const HOUR_MS = 3_600_000;
/** alarms that halt delivery (state ALARM); the others are warnings shown while running */
const HALTING = new Set(['OCCL_DN', 'OCCL_UP', 'AIR', 'RES_EMPTY', 'BATT_DEPL', 'CASS', 'FAULT']);

export function formatPumpTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The reference pump, pure: every method takes the true time it happens at (ms since epoch, never
 * going back) and returns the sentences the pump sends. Delivery, battery and pressure are
 * computed from time, so a 46-h infusion costs one sentence per status interval.
 */
export class PumpModel {
  readonly serial: string;
  readonly history: PumpHistory;
  private readonly o: Required<Omit<PumpModelOptions, 'serial' | 'seed' | 'historySize'>>;
  private readonly rng: Random;
  private nowMs: number;
  private powered = false;
  private seq = 0;
  private state: PumpState = 'IDLE';
  private program: PumpProgram | null = null;
  private alarms: string[] = [];
  private clockOffsetMs: number;
  private nextStatusMs = Infinity;
  /** delivery and battery are piecewise linear: values at the start of the current segment */
  private segStartMs: number;
  private deliveredBaseMl = 0;
  /** integrated separately, as the firmware does (its float rounding shows in the captures) */
  private vtbiLeftMl = 0;
  private reservoirLeftMl: number | null = null;
  private runBaseH = 0;
  private occludedSinceMs: number | null = null;
  private occlusionRampMmHgMin = 0;
  private frozenPressure: number | null = null;

  constructor(opts: PumpModelOptions, startMs: number) {
    this.serial = opts.serial;
    this.o = {
      statusIntervalS: opts.statusIntervalS ?? 60,
      firmware: opts.firmware ?? '4.2.1',
      clockOffsetS: opts.clockOffsetS ?? 0,
      pressureNoiseMmHg: opts.pressureNoiseMmHg ?? 1,
      baselinePressureMmHg: opts.baselinePressureMmHg ?? 35,
      occlusionThresholdMmHg: opts.occlusionThresholdMmHg ?? 775,
      batteryPct: opts.batteryPct ?? 100,
      batteryDrainPctH: opts.batteryDrainPctH ?? 0.8,
      batteryLowPct: opts.batteryLowPct ?? 20,
    };
    this.rng = createRandom(opts.seed ?? 1, opts.serial);
    this.history = new PumpHistory(opts.historySize ?? 1000);
    this.nowMs = startMs;
    this.segStartMs = startMs;
    this.clockOffsetMs = this.o.clockOffsetS * 1000;
  }

  get now(): number { return this.nowMs; }
  get isOn(): boolean { return this.powered; }
  get currentState(): PumpState { return this.state; }
  get activeAlarms(): readonly string[] { return this.alarms; }
  get nextSeqNumber(): number { return this.seq; }
  /** mL, rounded as the pump shows it */
  get infusedMl(): number { return round2(this.deliveredAt(this.nowMs)); }
  get batteryPct(): number { return this.batteryAt(this.nowMs); }
  get pressureMmHg(): number { return this.pressureAt(this.nowMs); }
  /** pump clock now, ms */
  get pumpClockMs(): number { return this.nowMs + this.clockOffsetMs; }

  /** Advances true time to `t`: completion, alarms and periodic status on the way. */
  advanceTo(t: number): Emitted[] {
    const out: Emitted[] = [];
    if (t < this.nowMs) return out;
    for (;;) {
      const internal = this.nextInternal();
      const at = Math.min(internal?.atMs ?? Infinity, this.nextStatusMs);
      if (at > t) break;
      this.nowMs = at;
      // at one instant the pump's own events come before its periodic status
      if (internal && internal.atMs <= this.nextStatusMs) internal.fire(out);
      else this.status(out);
    }
    this.nowMs = t;
    return out;
  }

  powerOn(t: number): Emitted[] {
    const out = this.advanceTo(t);
    if (this.powered) return out;
    this.powered = true;
    this.seq = 0;
    this.segStartMs = t;
    this.alarms = [];
    this.event(out, 'POWER_ON', this.o.firmware);
    // a program survives a power cut, held until someone resumes it
    if (this.state === 'RUN' || this.state === 'ALARM') this.state = 'PAUSE';
    this.status(out);
    return out;
  }

  powerOff(t: number): Emitted[] {
    const out = this.advanceTo(t);
    if (!this.powered) return out;
    this.newSegment();
    this.event(out, 'POWER_OFF', '');
    this.powered = false;
    this.nextStatusMs = Infinity;
    return out;
  }

  /** Loads a program: PRG then EVT PROGRAM; the pump stays IDLE until started. */
  loadProgram(t: number, program: PumpProgram): Emitted[] {
    const out = this.advanceTo(t);
    if (!this.powered) return out;
    this.program = { ...program, reservoirMl: program.reservoirMl === undefined ? program.volumeMl : program.reservoirMl };
    this.state = 'IDLE';
    this.alarms = [];
    this.deliveredBaseMl = 0;
    this.vtbiLeftMl = program.volumeMl;
    this.reservoirLeftMl = this.program.reservoirMl ?? null;
    this.segStartMs = t;
    this.emit(out, {
      type: 'program', programId: program.programId, drug: program.drug, rateMlH: program.rateMlH,
      volumeMl: program.volumeMl, hours: program.hours, ...this.common(),
    });
    this.event(out, 'PROGRAM', program.programId);
    return out;
  }

  start(t: number): Emitted[] {
    const out = this.advanceTo(t);
    if (!this.powered || !this.program || this.state !== 'IDLE') return out;
    this.newSegment();
    this.state = 'RUN';
    this.event(out, 'START', this.program.programId);
    this.status(out);
    return out;
  }

  pause(t: number): Emitted[] {
    return this.transition(t, 'RUN', 'PAUSE', 'PAUSE');
  }

  resume(t: number): Emitted[] {
    return this.transition(t, 'PAUSE', 'RUN', 'RESUME');
  }

  /** Program cleared, pump IDLE. */
  stop(t: number): Emitted[] {
    const out = this.advanceTo(t);
    if (!this.powered || !this.program) return out;
    this.newSegment();
    this.program = null;
    this.state = 'IDLE';
    this.alarms = [];
    this.deliveredBaseMl = 0;
    this.vtbiLeftMl = 0;
    this.reservoirLeftMl = null;
    this.occludedSinceMs = null;
    this.event(out, 'STOP', '');
    this.status(out);
    return out;
  }

  setRate(t: number, rateMlH: number): Emitted[] {
    const out = this.advanceTo(t);
    if (!this.powered || !this.program) return out;
    this.newSegment();
    this.program.rateMlH = rateMlH;
    this.event(out, 'RATE', rateMlH.toFixed(2));
    return out;
  }

  /** The line downstream closes: delivery stops, pressure climbs until the pump alarms. */
  occlude(t: number, rampMmHgMin: number): Emitted[] {
    const out = this.advanceTo(t);
    this.newSegment();
    this.occludedSinceMs = t;
    this.occlusionRampMmHgMin = rampMmHgMin;
    this.frozenPressure = null;
    return out;
  }

  /** Someone clears the line and the alarm: ALARM_OFF and delivery carries on. */
  clearOcclusion(t: number): Emitted[] {
    const out = this.advanceTo(t);
    this.newSegment();
    this.occludedSinceMs = null;
    this.frozenPressure = null;
    if (this.alarms.includes('OCCL_DN')) return [...out, ...this.alarmOff(t, 'OCCL_DN')];
    return out;
  }

  alarmOn(t: number, code: string): Emitted[] {
    const out = this.advanceTo(t);
    if (!this.powered || this.alarms.includes(code)) return out;
    this.raise(out, code);
    return out;
  }

  alarmOff(t: number, code: string): Emitted[] {
    const out = this.advanceTo(t);
    if (!this.powered || !this.alarms.includes(code)) return out;
    this.newSegment();
    this.alarms = this.alarms.filter((a) => a !== code);
    this.event(out, 'ALARM_OFF', code);
    if (this.state === 'ALARM' && !this.alarms.some((a) => HALTING.has(a))) this.state = 'RUN';
    this.status(out);
    return out;
  }

  /** Someone sets the pump clock: EVT CLOCK carries the time before. */
  setClock(t: number, clockOffsetS: number): Emitted[] {
    const out = this.advanceTo(t);
    const before = formatPumpTime(this.pumpClockMs);
    this.clockOffsetMs = clockOffsetS * 1000;
    if (this.powered) this.event(out, 'CLOCK', before);
    return out;
  }

  private transition(t: number, from: PumpState, to: PumpState, code: string): Emitted[] {
    const out = this.advanceTo(t);
    if (!this.powered || this.state !== from) return out;
    this.newSegment();
    this.state = to;
    this.event(out, code, '');
    this.status(out);
    return out;
  }

  private raise(out: Emitted[], code: string): void {
    this.newSegment();
    if (code === 'OCCL_DN') this.frozenPressure = this.pressureAt(this.nowMs, false);
    this.alarms = [...this.alarms, code];
    this.event(out, 'ALARM_ON', code);
    if (HALTING.has(code) && this.state === 'RUN') this.state = 'ALARM';
    this.status(out);
  }

  /** The next thing the pump does by itself before its next status, if any. */
  private nextInternal(): { atMs: number; fire: (out: Emitted[]) => void } | null {
    if (!this.powered || !this.program || this.state !== 'RUN') return null;
    const p = this.program;
    // whole seconds, with 1 ms of slack so float noise never pushes an event a second late
    const ceilS = (ms: number): number => Math.ceil((ms - 1) / 1000) * 1000;
    const candidates: { atMs: number; fire: (out: Emitted[]) => void }[] = [];
    const runH = this.runBaseH;
    const battAt = (pct: number): number => this.segStartMs + ((this.o.batteryPct - pct - runH * this.o.batteryDrainPctH) / this.o.batteryDrainPctH) * HOUR_MS;
    if (this.o.batteryDrainPctH > 0) {
      if (!this.alarms.includes('BATT_LOW') && this.o.batteryLowPct > 0) {
        candidates.push({ atMs: ceilS(Math.max(this.segStartMs, battAt(this.o.batteryLowPct + 0.49))), fire: (out) => this.raise(out, 'BATT_LOW') });
      }
      candidates.push({ atMs: ceilS(Math.max(this.segStartMs, battAt(0.49))), fire: (out) => this.raise(out, 'BATT_DEPL') });
    }
    if (this.occludedSinceMs !== null) {
      const minutes = (this.o.occlusionThresholdMmHg - this.o.baselinePressureMmHg) / Math.max(this.occlusionRampMmHgMin, 1e-6);
      candidates.push({ atMs: ceilS(this.occludedSinceMs + minutes * 60_000), fire: (out) => this.raise(out, 'OCCL_DN') });
    } else if (p.rateMlH > 0) {
      const leftMl = Math.min(this.vtbiLeftMl, this.reservoirLeftMl ?? Infinity);
      const atMs = ceilS(this.segStartMs + (leftMl / p.rateMlH) * HOUR_MS);
      const emptyFirst = (this.reservoirLeftMl ?? Infinity) < this.vtbiLeftMl;
      candidates.push({ atMs: Math.max(atMs, this.nowMs), fire: (out) => (emptyFirst ? this.raise(out, 'RES_EMPTY') : this.complete(out)) });
    }
    candidates.sort((a, b) => a.atMs - b.atMs);
    return candidates[0] ?? null;
  }

  private complete(out: Emitted[]): void {
    this.newSegment();
    this.state = 'END';
    this.event(out, 'END', this.program?.programId ?? '');
    this.status(out);
  }

  /** Closes the current linear segment at `now` (before any change of state or rate). */
  private newSegment(): void {
    const inc = this.incrementAt(this.nowMs);
    this.deliveredBaseMl += inc;
    this.vtbiLeftMl -= inc;
    if (this.reservoirLeftMl !== null) this.reservoirLeftMl -= inc;
    this.runBaseH = this.runHoursAt(this.nowMs);
    this.segStartMs = this.nowMs;
  }

  private deliveredAt(t: number): number {
    return this.deliveredBaseMl + this.incrementAt(t);
  }

  /** mL delivered since the segment started, never beyond what is left */
  private incrementAt(t: number): number {
    const p = this.program;
    if (!p || this.state !== 'RUN' || this.occludedSinceMs !== null || !this.powered) return 0;
    const inc = p.rateMlH * ((t - this.segStartMs) / 1000 / 3600);
    return Math.max(0, Math.min(inc, this.vtbiLeftMl, this.reservoirLeftMl ?? Infinity));
  }

  private runHoursAt(t: number): number {
    return this.runBaseH + (this.state === 'RUN' && this.powered ? (t - this.segStartMs) / HOUR_MS : 0);
  }

  private batteryAt(t: number): number {
    return Math.max(0, Math.min(100, Math.round(this.o.batteryPct - this.runHoursAt(t) * this.o.batteryDrainPctH)));
  }

  private pressureAt(t: number, noisy = true): number {
    if (this.frozenPressure !== null) return this.frozenPressure;
    const base = this.o.baselinePressureMmHg;
    if (this.occludedSinceMs !== null && this.state === 'RUN') {
      return Math.round(base + (this.occlusionRampMmHgMin * (t - this.occludedSinceMs)) / 60_000);
    }
    const amp = noisy ? this.o.pressureNoiseMmHg : 0;
    return Math.max(0, Math.round(base + (amp > 0 ? this.rng.int(-amp, amp) : 0)));
  }

  private status(out: Emitted[]): void {
    // the firmware integrates delivery at each status: the captures carry its float rounding
    this.newSegment();
    const p = this.program;
    const infused = round2(this.deliveredBaseMl);
    const reservoir = p && this.reservoirLeftMl !== null ? round2(this.reservoirLeftMl) : null;
    this.emit(out, {
      type: 'status', ...this.common(), state: this.state,
      rateMlH: p?.rateMlH ?? 0, infusedMl: infused, vtbiMl: p ? round2(this.vtbiLeftMl) : 0,
      reservoirMl: reservoir === null ? null : Math.max(0, reservoir), pressureMmHg: this.pressureAt(this.nowMs),
      batteryPct: this.batteryAt(this.nowMs), alarms: [...this.alarms],
    });
    this.nextStatusMs = this.nowMs + this.o.statusIntervalS * 1000;
  }

  private event(out: Emitted[], code: string, detail: string): void {
    this.emit(out, { type: 'event', ...this.common(), code, detail });
  }

  private common(): { pump: string; seq: number; time: string } {
    return { pump: this.serial, seq: this.seq, time: formatPumpTime(this.pumpClockMs) };
  }

  private emit(out: Emitted[], s: Sentence): void {
    const line = encodeSentence(s);
    this.history.push(line, s.seq);
    out.push({ atMs: this.nowMs, line, seq: s.seq });
    this.seq = nextSeq(this.seq);
  }
}
