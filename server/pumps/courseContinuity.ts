/**
 * When the pump is delivering and when a START carries on the course already under way: one answer
 * for detection (pumpRecord runMs) and billing (episode deliverySec), so both count the same hours
 * (docs/detection.md "A restart of the same program", docs/billing.md "Episode").
 */
import type { PumpState } from '../../protocol/sentence.ts';

/** mL: a program stopped with no more than this left was finished (detection's volumeEpsilonMl). */
export const STOPPED_LEFT_MIN_ML = 0.05;

/** Delivering: RUN at a rate above 0. Time in this state between two sentences is delivery. */
export function isDelivering(state: PumpState | null, rateMlH: number | null): boolean {
  return state === 'RUN' && (rateMlH ?? 0) > 0;
}

/** The pump's last program run, as it stands when a START arrives. */
export interface RunSoFar {
  /** the program of the run (not a PRG loaded since and never started) */
  programId: string | null;
  /** started, neither ended (END) nor stopped (STOP, IDLE) */
  active: boolean;
  /** mL left when it was stopped; 0 when it ended or nothing was left */
  stoppedLeftMl: number;
}

/**
 * A START of the program whose run is still active (after a pause, an alarm, a power cycle) or
 * was stopped with volume left (STOP, then the same program started again) continues that course:
 * its delivered hours, start time and what it infused carry on. A START of another program, or
 * after the program ended (END, or STOP with nothing left), is a new course.
 */
export function startContinuesCourse(run: RunSoFar | null, startProgramId: string, minLeftMl = STOPPED_LEFT_MIN_ML): boolean {
  if (run === null || run.programId === null || run.programId !== startProgramId) return false;
  return run.active || run.stoppedLeftMl > minLeftMl;
}
