/**
 * Where a pump's record stands between two sentences, and how the time between them is counted.
 * Rules (docs/billing.md): time in RUN between two consecutive sentences is delivery; a gap in the
 * telemetry is delivery only when the volume counter proves it; everything else is an interruption
 * with a reason. Durations use the pump clock; a clock set back never yields negative time.
 */
import type { PumpMessage } from '../../protocol/payloads.ts';
import { isDelivering, type RunSoFar } from '../pumps/courseContinuity.ts';
import { addDelivery, addStop, type ClockAnchor, type EpisodeState, type GapCheck, type InterruptionReason } from './episodeState.ts';

/** What the pump was doing after the last sentence. */
export type Mode = 'run' | 'pause' | 'alarm' | 'rate_zero' | 'off' | 'idle';

export interface ProgramInfo {
  programId: string;
  drug: string;
  rateMlH: number;
  volumeMl: number;
  hours: number;
}

/** An episode closed by STOP (or IDLE) with volume left: a START of its program reopens it. */
export interface StoppedRun {
  episodeId: string;
  programId: string;
  /** mL still to give at the stop (vtbi of the last status) */
  leftMl: number;
}

/** A stretch with no telemetry, waiting for the status sentence that can prove it by volume. */
export interface PendingGap {
  fromMs: number;
  toMs: number;
  seconds: number;
  mode: Mode;
  /** mL, counter before the gap */
  viBefore: number | null;
  rateMlH: number | null;
  /** no sentence is missing (seq contiguous): a long gap then means the clock jumped */
  contiguous: boolean;
  /** seconds; gap threshold at the time */
  limitS: number;
}

export interface PumpCursor {
  pump: string;
  /** last in-order sentence */
  seq: number | null;
  timeMs: number | null;
  /** gateway clock of that sentence (epoch ms), to measure silence against a server "now" */
  receivedMs: number | null;
  mode: Mode;
  /** mL and mL/h from the last status sentence */
  vi: number | null;
  rateMlH: number | null;
  /** mL still to give, from the last status sentence (absent in records written before it was kept) */
  vtbiMl?: number | null;
  /** the last episode, when STOP closed it with volume left (absent in older records) */
  stopped?: StoppedRun | null;
  /** seconds; status interval seen (largest gap between consecutive status sentences, ≤ 300 s) */
  intervalS: number | null;
  lastWasStatus: boolean;
  /** pump time since when the counter has stood still in RUN, and how much of that is already counted as stalled (s) */
  stillSinceMs: number | null;
  stillCountedS: number;
  program: ProgramInfo | null;
  openId: string | null;
  /** END/STOP seen; a status sentence at the same second may still follow as evidence */
  closing: boolean;
  gap: PendingGap | null;
  /** ms the pump clock is found ahead of the server's (re-anchoring; 0 or absent: in step) */
  clockOffsetMs?: number;
  /** the re-anchoring in force, as evidence */
  anchor?: ClockAnchor | null;
  /** re-anchored time of the first sentence under the offset in force */
  anchorFromMs?: number | null;
  /** the pump's own time of the last sentence (before re-anchoring) */
  lastRawMs?: number | null;
}

/** No sentence for longer than this many status intervals is a telemetry gap. */
export const GAP_INTERVALS = 2.5;
export const DEFAULT_STATUS_INTERVAL_S = 60;
export const MAX_STATUS_INTERVAL_S = 300;
/** mL: counter rounding (2 decimals) at both ends, with margin */
export const VOLUME_TOLERANCE_ML = 0.015;
/** seconds of rate: pump timestamps are whole seconds at both ends */
export const VOLUME_TOLERANCE_S = 2;
/** fraction of the expected volume */
export const VOLUME_TOLERANCE_FRACTION = 0.01;

/** mL: a counter standing still in RUN while the rate should have moved it this much is a stall */
export const STALL_MIN_ML = 0.1;

export function newCursor(pump: string): PumpCursor {
  return {
    pump, seq: null, timeMs: null, receivedMs: null, mode: 'idle', vi: null, rateMlH: null, vtbiMl: null, stopped: null, intervalS: null,
    lastWasStatus: false, stillSinceMs: null, stillCountedS: 0, program: null, openId: null, closing: false, gap: null,
  };
}

/** Where the pump's last run stands when a START arrives (courseContinuity.ts, shared with detection). */
export function runSoFar(c: PumpCursor, open: EpisodeState | undefined): RunSoFar | null {
  if (open) return { programId: open.programId, active: true, stoppedLeftMl: 0 };
  const s = c.stopped;
  return s ? { programId: s.programId, active: false, stoppedLeftMl: s.leftMl } : null;
}

export function gapLimitS(c: PumpCursor): number {
  return GAP_INTERVALS * (c.intervalS ?? DEFAULT_STATUS_INTERVAL_S);
}

/** Largest difference between the volume counter and rate × time still counted as proof. */
export function volumeToleranceMl(rateMlH: number, expectedMl: number): number {
  return VOLUME_TOLERANCE_ML + (rateMlH * VOLUME_TOLERANCE_S) / 3600 + VOLUME_TOLERANCE_FRACTION * expectedMl;
}

export function reasonOf(mode: Mode): InterruptionReason {
  switch (mode) {
    case 'alarm': return 'alarm';
    case 'rate_zero': return 'rate_zero';
    case 'off': return 'power_cycle';
    default: return 'pause';
  }
}

/** Decides a telemetry gap once the counter after it is known (null: not known, so unproven). */
export function resolveGap(ep: EpisodeState, g: PendingGap, viAfter: number | null): void {
  const delta = viAfter !== null && g.viBefore !== null ? viAfter - g.viBefore : null;
  const rate = g.rateMlH ?? 0;
  const expected = g.mode === 'run' && rate > 0 ? (rate * g.seconds) / 3600 : null;
  const note = (verdict: GapCheck['verdict']): void => {
    (ep.gaps ??= []).push({
      fromMs: g.fromMs, toMs: g.toMs, seconds: g.seconds, rateMlH: g.rateMlH, viBeforeMl: g.viBefore, viAfterMl: viAfter,
      expectedMl: expected, toleranceMl: expected === null ? null : volumeToleranceMl(rate, expected), verdict,
    });
  };
  if (g.mode === 'run') {
    if (delta !== null && expected !== null) {
      if (Math.abs(delta - expected) <= volumeToleranceMl(rate, expected)) {
        addDelivery(ep, g.fromMs, g.toMs);
        return note('proven');
      }
      // nothing missing and about one interval's volume: the clock jumped forward; the jump is no time
      if (g.contiguous && delta >= 0 && delta <= (rate * g.limitS) / 3600 + volumeToleranceMl(rate, 0)) {
        addStop(ep, 'clock_change', g.fromMs, g.toMs, 0);
        return note('clock_jump');
      }
    }
    addStop(ep, 'telemetry_gap', g.fromMs, g.toMs, g.seconds, true);
    return note('unproven');
  }
  if (delta !== null && delta > volumeToleranceMl(g.rateMlH ?? 0, 0)) {
    // it ran for a while, but when is unknown
    addStop(ep, 'telemetry_gap', g.fromMs, g.toMs, g.seconds, true);
    return note('unproven');
  }
  addStop(ep, reasonOf(g.mode), g.fromMs, g.toMs, g.seconds);
  note('stopped');
}

/**
 * Counts [fromMs, toMs) on the pump clock, in the mode the cursor is in. Returns a gap that must
 * wait for the next status sentence, or null when the span is settled.
 */
export function countSpan(
  ep: EpisodeState, c: PumpCursor, fromMs: number, toMs: number, seqStep: number, viAfter: number | null | undefined,
): PendingGap | null {
  const seconds = (toMs - fromMs) / 1000;
  if (seconds < 0) {
    // clock went back without an EVT CLOCK: no time, just a marker
    addStop(ep, 'clock_change', fromMs, toMs, 0);
    return null;
  }
  const limitS = gapLimitS(c);
  if (seqStep <= 1 && seconds <= limitS) {
    if (c.mode === 'run') {
      if (seconds > 0) addDelivery(ep, fromMs, toMs);
    } else {
      addStop(ep, reasonOf(c.mode), fromMs, toMs, seconds);
    }
    return null;
  }
  const gap: PendingGap = {
    fromMs, toMs, seconds, mode: c.mode, viBefore: c.vi, rateMlH: c.rateMlH, contiguous: seqStep <= 1, limitS,
  };
  if (viAfter === undefined) return gap;
  resolveGap(ep, gap, viAfter);
  return null;
}

/**
 * Tracks RUN time with the counter standing still (the early sign of an occlusion). Informational:
 * the contract counts time in RUN as delivery; this shows an auditor where flow was not proven.
 */
export function trackStall(ep: EpisodeState | undefined, c: PumpCursor, state: string, rateMlH: number, vi: number, timeMs: number, contiguous: boolean): void {
  const running = state === 'RUN' && rateMlH > 0;
  if (!running || !contiguous || c.vi === null || vi !== c.vi || c.stillSinceMs === null) {
    c.stillSinceMs = running ? timeMs : null;
    c.stillCountedS = 0;
    return;
  }
  const stillS = Math.round((timeMs - c.stillSinceMs) / 1000);
  if (ep && stillS > c.stillCountedS && (rateMlH * stillS) / 3600 >= STALL_MIN_ML) {
    ep.stalledSec += stillS - c.stillCountedS;
    c.stillCountedS = stillS;
  }
}

/** Alarms that halt delivery; others (RES_LOW, BATT_LOW, unknown) leave the state to the next STS. */
const HALTING_ALARMS: ReadonlySet<string> = new Set(['OCCL_DN', 'OCCL_UP', 'AIR', 'RES_EMPTY', 'BATT_DEPL', 'CASS', 'FAULT']);
/** What the pump is doing after this sentence. */
export function modeAfter(msg: PumpMessage, before: Mode): Mode {
  if (msg.type === 'status') {
    switch (msg.state) {
      case 'RUN': return isDelivering(msg.state, msg.rateMlH) ? 'run' : 'rate_zero';
      case 'PAUSE': return 'pause';
      case 'ALARM': return 'alarm';
      default: return 'idle';
    }
  }
  if (msg.type !== 'event') return before;
  switch (msg.code) {
    case 'START': case 'RESUME': return 'run';
    case 'PAUSE': return 'pause';
    case 'ALARM_ON': return HALTING_ALARMS.has(msg.detail) ? 'alarm' : before;
    case 'POWER_OFF': case 'POWER_ON': return 'off';
    case 'STOP': case 'END': return 'idle';
    default: return before;
  }
}
