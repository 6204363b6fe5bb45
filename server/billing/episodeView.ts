/** The API shape of an episode (interfaces.md §4), computed from its accounting. */
import type { Episode, Interruption } from '../../protocol/api.ts';
import type { EpisodeState, Stretch } from './episodeState.ts';
import { serviceDays } from './serviceDays.ts';
import type { BillingConfig } from './types.ts';

/** Interruption with billing extensions. */
export interface BillingInterruption extends Interruption {
  /** delivery never resumed after it (the episode ended): listed, but it does not break continuity */
  final?: boolean;
  /** still going on at the time of the report */
  ongoing?: boolean;
}

export interface BillingEpisode extends Episode {
  id: string;
  unverifiedHours: number;
  interruptions: BillingInterruption[];
  /** extension: false when tracking began after the START (the episode may be longer) */
  startObserved: boolean;
  /** extension: minutes in RUN with the volume counter standing still (counted in deliveryHours) */
  stalledMinutes: number;
  /** extension: what ended it (END, STOP, IDLE, END_STATE, superseded) or null */
  endedBy: string | null;
  /**
   * extension: the infusion was given to its end: END, or a STOP with no more than
   * COMPLETE_RESIDUAL_ML left (overfill, line priming); false for a STOP with more left, a program
   * replaced, or nothing known of what was left; null while open
   */
  completed: boolean | null;
  /** extension: mL still to give when it ended (null: open or unknown) */
  leftMl: number | null;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
/** hours to 4 decimals, rounded down so 23 h 59 min 59 s never reads as 24 */
const hours = (seconds: number): number => Math.floor((seconds / 3600) * 10_000) / 10_000;
const minutes = (seconds: number): number => Math.round((seconds / 60) * 100) / 100;

function toInterruption(s: Stretch, extra: { final?: boolean; ongoing?: boolean }): BillingInterruption {
  return { from: iso(s.fromMs), to: iso(s.toMs), minutes: minutes(s.seconds), reason: s.reasons.join('+'), ...extra };
}

/**
 * `ongoing` is the open episode's current stretch without delivery, already extended to "now"
 * by the caller; it counts for continuity (it is real so far).
 */
export function episodeView(ep: EpisodeState, config: BillingConfig, ongoing: Stretch | null, extraUnverifiedSec = 0, withDays = true): BillingEpisode {
  const list: BillingInterruption[] = ep.interruptions.map((s) => toInterruption(s, {}));
  let longestSec = 0;
  for (const s of ep.interruptions) longestSec = Math.max(longestSec, s.seconds);
  if (ep.endMs === null && ongoing) {
    list.push(toInterruption(ongoing, { ongoing: true }));
    longestSec = Math.max(longestSec, ongoing.seconds);
  }
  if (ep.endMs !== null && ep.trailing) list.push(toInterruption(ep.trailing, { final: true }));
  const longestInterruptionMin = minutes(longestSec);
  const continuous24h = ep.deliverySec >= 24 * 3600 && longestSec <= config.continuityToleranceMin * 60;
  return {
    id: ep.id,
    pump: ep.pump,
    programId: ep.programId,
    drug: ep.drug,
    start: iso(ep.startMs),
    end: ep.endMs === null ? null : iso(ep.endMs),
    deliveryHours: hours(ep.deliverySec),
    interruptions: list,
    longestInterruptionMin,
    continuous24h,
    code: continuous24h ? 'S9330' : 'S9331',
    serviceDays: withDays ? serviceDays(ep.segments, config.serviceDayRule, config.timeZone) : [],
    evidence: { firstSeq: ep.firstSeq, lastSeq: ep.lastSeq, sentences: ep.sentences },
    unverifiedHours: hours(ep.unverifiedSec + extraUnverifiedSec),
    stalledMinutes: minutes(ep.stalledSec ?? 0),
    startObserved: ep.startObserved,
    endedBy: ep.endedBy,
    completed: completedInfusion(ep, config.completeResidualMl ?? 5),
    leftMl: ep.leftMl ?? null,
  };
}

function completedInfusion(ep: EpisodeState, residualMl: number): boolean | null {
  if (ep.endMs === null) return null;
  if (ep.endedBy === 'END' || ep.endedBy === 'END_STATE') return true;
  if (ep.endedBy === 'STOP' || ep.endedBy === 'IDLE') return ep.leftMl !== null && ep.leftMl !== undefined && ep.leftMl <= residualMl;
  return false;
}

export { iso as isoTime };
