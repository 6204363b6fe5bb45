/**
 * One episode's accounting: delivery seconds, the stretches without delivery (interruptions) and
 * the evidence counters. Plain JSON data, so it is also the stored record.
 */

export type InterruptionReason = 'pause' | 'alarm' | 'power_cycle' | 'clock_change' | 'telemetry_gap' | 'rate_zero';

/** A stretch without delivery; `seconds` is elapsed pump time (0 for a clock set). */
export interface Stretch {
  fromMs: number;
  toMs: number;
  seconds: number;
  /** unique reasons in order of appearance */
  reasons: InterruptionReason[];
}

export interface EpisodeState {
  id: string;
  pump: string;
  programId: string;
  drug: string;
  /** false when the START was never seen (tracking began mid-infusion) */
  startObserved: boolean;
  startMs: number;
  /** null while open */
  endMs: number | null;
  /** how it ended: 'END', 'STOP', 'IDLE', 'END_STATE', 'superseded' */
  endedBy: string | null;
  /** mL the program still had to give when it ended (the last status before a STOP; 0 at END); null: unknown or open */
  leftMl?: number | null;
  /** seconds of proven delivery */
  deliverySec: number;
  /** seconds that might have been delivery but nothing proves it */
  unverifiedSec: number;
  /** seconds in RUN while the volume counter stood still (informational, still counted as RUN) */
  stalledSec: number;
  /** delivery stretches [fromMs, toMs) on the pump clock, in the order they happened */
  segments: [number, number][];
  /** stretches without delivery followed by more delivery */
  interruptions: Stretch[];
  /** the current stretch without delivery (delivery has not resumed yet) */
  pending: Stretch | null;
  /** a stretch without delivery after which the episode ended: listed, but no break in continuity */
  trailing: Stretch | null;
  firstSeq: number;
  lastSeq: number;
  sentences: number;
  minTimeMs: number;
  maxTimeMs: number;
  /** raw pump-clock bounds of the evidence (differ from min/maxTimeMs when the clock was re-anchored) */
  minRawMs?: number;
  maxRawMs?: number;
  /** the pump clock re-anchored on the server's clock while this episode was open (docs/billing.md, "Pump clock") */
  clockAnchors?: ClockAnchor[];
  /** every telemetry gap met, and how it was judged (evidence: an auditor redoes the arithmetic) */
  gaps?: GapCheck[];
}

/** A telemetry gap (sentences missing or too far apart) and the volume check that judged it. */
export interface GapCheck {
  fromMs: number;
  toMs: number;
  seconds: number;
  /** the last status rate before it, mL/h */
  rateMlH: number | null;
  /** counter before and after, mL (null: unknown) */
  viBeforeMl: number | null;
  viAfterMl: number | null;
  /** rate × gap, and the largest difference still counted as proof */
  expectedMl: number | null;
  toleranceMl: number | null;
  /** proven: delivery; clock_jump: no time; unproven: an interruption in unverifiedHours; stopped: the pump was not running */
  verdict: 'proven' | 'clock_jump' | 'unproven' | 'stopped';
}

/** One re-anchoring: from this sentence on, pump time − offsetS is the time used for durations. */
export interface ClockAnchor {
  seq: number;
  /** pump time as sent, ISO */
  pumpTime: string;
  /** arrival time (gateway clock), ISO */
  received: string;
  /** seconds the pump clock was found ahead (0: back in step) */
  offsetS: number;
  /** what set it: 'received' (server clock) or 'CLOCK' (the pump's clock set) */
  by: 'received' | 'CLOCK';
  /** at a CLOCK event: seconds the pump itself moved its clock (new − old) */
  clockSetS?: number;
}

export function newEpisode(id: string, pump: string, programId: string, drug: string, seq: number, timeMs: number, startObserved: boolean): EpisodeState {
  return {
    id, pump, programId, drug, startObserved, startMs: timeMs, endMs: null, endedBy: null,
    deliverySec: 0, unverifiedSec: 0, stalledSec: 0, segments: [], interruptions: [], pending: null, trailing: null,
    firstSeq: seq, lastSeq: seq, sentences: 1, minTimeMs: timeMs, maxTimeMs: timeMs,
  };
}

/** A sentence that belongs to the episode's evidence. */
export function addEvidence(ep: EpisodeState, seq: number, timeMs: number, rawMs = timeMs): void {
  ep.lastSeq = seq;
  ep.sentences++;
  if (timeMs < ep.minTimeMs) ep.minTimeMs = timeMs;
  if (timeMs > ep.maxTimeMs) ep.maxTimeMs = timeMs;
  ep.minRawMs = Math.min(ep.minRawMs ?? rawMs, rawMs);
  ep.maxRawMs = Math.max(ep.maxRawMs ?? rawMs, rawMs);
}

/** Proven delivery over [fromMs, toMs). Ends the current interruption, if any. */
export function addDelivery(ep: EpisodeState, fromMs: number, toMs: number): void {
  const seconds = Math.round((toMs - fromMs) / 1000);
  if (seconds < 0) return;
  let merge = true;
  if (ep.pending) {
    ep.interruptions.push(ep.pending);
    ep.pending = null;
    merge = false;
  }
  const last = ep.segments.at(-1);
  if (merge && last && last[1] === fromMs) last[1] = toMs;
  else ep.segments.push([fromMs, toMs]);
  ep.deliverySec += seconds;
}

/** Time without delivery; contiguous stretches (of any reason) form one interruption. */
export function addStop(ep: EpisodeState, reason: InterruptionReason, fromMs: number, toMs: number, seconds: number, unverified = false): void {
  const s = Math.max(0, Math.round(seconds));
  if (unverified) ep.unverifiedSec += s;
  const p = ep.pending;
  if (!p) {
    ep.pending = { fromMs, toMs, seconds: s, reasons: [reason] };
    return;
  }
  p.toMs = toMs;
  p.seconds += s;
  if (!p.reasons.includes(reason)) p.reasons.push(reason);
}

/** Closes the episode; an interruption still open becomes its trailing stretch. */
export function closeEpisode(ep: EpisodeState, endMs: number, endedBy: string, leftMl: number | null = null): void {
  ep.endMs = endMs;
  ep.endedBy = endedBy;
  ep.leftMl = leftMl;
}

/** A closed episode carries on (its program started again): the time it stood closed is a stretch without delivery. */
export function reopenEpisode(ep: EpisodeState, timeMs: number, reason: InterruptionReason): void {
  const closedAt = ep.endMs ?? timeMs;
  ep.endMs = null;
  ep.endedBy = null;
  ep.pending = ep.trailing;
  ep.trailing = null;
  if (timeMs > closedAt) addStop(ep, reason, closedAt, timeMs, (timeMs - closedAt) / 1000);
}

export function finishEpisode(ep: EpisodeState): void {
  if (ep.pending) {
    ep.trailing = ep.pending;
    ep.pending = null;
  }
}

/**
 * Moves every time at or after `fromMs` by `deltaMs`: the pump said (EVT CLOCK) by how much its
 * clock was really off, so what was re-anchored on the arrival time is laid where it happened.
 */
export function shiftEpisode(ep: EpisodeState, fromMs: number, deltaMs: number): void {
  const at = (t: number): number => (t >= fromMs ? t + deltaMs : t);
  const stretch = (x: Stretch | null): void => {
    if (!x) return;
    x.fromMs = at(x.fromMs);
    x.toMs = at(x.toMs);
  };
  ep.startMs = at(ep.startMs);
  if (ep.endMs !== null) ep.endMs = at(ep.endMs);
  ep.minTimeMs = at(ep.minTimeMs);
  ep.maxTimeMs = at(ep.maxTimeMs);
  ep.segments = ep.segments.map(([a, b]) => [at(a), at(b)]);
  ep.interruptions.forEach(stretch);
  stretch(ep.pending);
  stretch(ep.trailing);
  for (const g of ep.gaps ?? []) {
    g.fromMs = at(g.fromMs);
    g.toMs = at(g.toMs);
  }
}

/** Deep copy, for records handed out and taken back. */
export function copyEpisode(ep: EpisodeState): EpisodeState {
  const copyStretch = (s: Stretch | null): Stretch | null => (s ? { ...s, reasons: [...s.reasons] } : null);
  return {
    ...ep,
    segments: ep.segments.map(([a, b]) => [a, b]),
    interruptions: ep.interruptions.map((s) => copyStretch(s) as Stretch),
    pending: copyStretch(ep.pending),
    trailing: copyStretch(ep.trailing),
    ...(ep.clockAnchors ? { clockAnchors: ep.clockAnchors.map((a) => ({ ...a })) } : {}),
    ...(ep.gaps ? { gaps: ep.gaps.map((g) => ({ ...g })) } : {}),
  };
}
