/**
 * A nurse visit: for a chosen time a nurse may stop, pause or disconnect the pump on purpose, and
 * stops and silences do not page (infusion_stopped, signal_lost). Held on the pump's record, on the
 * server clock (the nurse chose it on the board). It ends by itself at `until` (the engine's tick)
 * or when a nurse ends it; a condition that still holds then is counted from the visit's end, with
 * its usual grace. A visit silences nothing else: a real alarm (occlusion, air, wrong program) is
 * not something a visit explains.
 */
import type { PumpVisit } from '../../protocol/api.ts';
import { isoFromMs } from './isoTime.ts';
import type { PumpRecord } from './pumpRecord.ts';

/** a visit is going on at this server time */
export function visitActive(rec: PumpRecord, serverMs: number): boolean {
  return rec.visitUntilServerMs !== null && serverMs < rec.visitUntilServerMs;
}

export function startVisit(rec: PumpRecord, untilServerMs: number, by: string): void {
  rec.visitUntilServerMs = untilServerMs;
  rec.visitBy = by;
}

/**
 * Ends the visit at endServerMs (its `until`, or when a nurse ended it). The duration clock's
 * equivalent is estimated from the newest sentence: the pump clock runs with the server's.
 */
export function endVisit(rec: PumpRecord, endServerMs: number): void {
  if (rec.visitUntilServerMs === null) return;
  rec.visitUntilServerMs = null;
  rec.visitEndedServerMs = endServerMs;
  rec.visitEndedBy = rec.visitBy;
  rec.visitBy = null;
  rec.visitEndedEffMs = rec.effMs === null || rec.lastAcceptedServerMs === null ? null : rec.effMs + (endServerMs - rec.lastAcceptedServerMs);
}

/** ends a visit whose time is up (at its `until`); true when it did */
export function expireVisit(rec: PumpRecord, serverMs: number): boolean {
  if (rec.visitUntilServerMs === null || serverMs < rec.visitUntilServerMs) return false;
  endVisit(rec, rec.visitUntilServerMs);
  return true;
}

/** the duration-clock time a halt's grace counts from: its start, or the end of a visit after it */
export function graceFromEffMs(rec: PumpRecord, haltSinceEffMs: number): number {
  return rec.visitEndedEffMs !== null && rec.visitEndedEffMs > haltSinceEffMs ? rec.visitEndedEffMs : haltSinceEffMs;
}

/** the server time silence counts from: the last sentence, or the end of a visit after it */
export function silenceFromServerMs(rec: PumpRecord, lastSeenServerMs: number): number {
  return rec.visitEndedServerMs !== null && rec.visitEndedServerMs > lastSeenServerMs ? rec.visitEndedServerMs : lastSeenServerMs;
}

export function visitView(rec: PumpRecord): PumpVisit | null {
  return rec.visitUntilServerMs === null ? null : { until: isoFromMs(rec.visitUntilServerMs), by: rec.visitBy ?? '' };
}
