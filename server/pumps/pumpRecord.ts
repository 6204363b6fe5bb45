/**
 * Everything detection remembers about one pump. Plain JSON data only, so a snapshot is the record
 * itself. Fields ending in `EffMs` are on the duration clock (see pumpClock.ts).
 */
import type { PumpView } from '../../protocol/api.ts';
import type { OrderCourse } from './orderCourse.ts';

/** latest status (from STS, adjusted by events in between): the readings a PumpView shows */
type LatestReadings = Pick<PumpView, 'pump' | 'gateway' | 'state' | 'rateMlH' | 'infusedMl' | 'vtbiMl' | 'reservoirMl' | 'pressureMmHg' | 'batteryPct' | 'alarms'>;

export interface PumpRecord extends LatestReadings {

  // clocks
  lastSeq: number | null;
  /** pump time of the newest accepted sentence, epoch ms */
  lastPumpMs: number | null;
  /** pump time text of the newest accepted sentence */
  pumpTime: string | null;
  /** server time the last sentence of any kind arrived */
  lastSeenServerMs: number | null;
  /** restored from a snapshot: silence is counted from the first tick after the restore, not from before the restart */
  restored: boolean;
  /** server time silence is counted from when later than lastSeenServerMs (set after a restore) */
  watchFromServerMs: number | null;
  /** server time of the newest accepted sentence */
  lastAcceptedServerMs: number | null;
  /** duration clock: pump time when trusted, carried on by server time when not */
  effMs: number | null;
  clockUntrusted: boolean;
  /** how far the last sentence's pump time was ahead of the server clock, seconds */
  clockAheadS: number;
  /** server minus pump time of a live sentence (transport delay plus clock offset), ms */
  liveLagMs: number | null;
  lastLagMs: number | null;
  /** gateway (received) minus pump time at the pump's live edge, learned from live sentences, ms */
  liveOffsetMs: number | null;
  /** received time of the newest accepted sentence, epoch ms */
  lastReceivedMs: number | null;
  /** received time and offset of the first of the current run of live sentences in step; null: no run */
  liveRunFromReceivedMs: number | null;
  liveRunFromOffsetMs: number | null;
  /** how far the pump clock is behind the gateway clock, seconds, as last measured while heard live */
  clockBehindS: number;
  /** the newest accepted sentence was judged history */
  lastHistoric: boolean;

  // program
  programId: string | null;
  drug: string | null;
  programRateMlH: number | null;
  programVolumeMl: number | null;
  programHours: number | null;
  /** started and neither ended nor stopped */
  programActive: boolean;
  /** START seen for this episode (else the engine joined mid-program) */
  startSeen: boolean;
  /** program of the running (or stopped) episode; programId may since name a PRG not yet started */
  episodeProgramId: string | null;
  /** hours delivered before the engine first saw this program (joined mid-program) */
  priorDeliveryH: number;
  /** mL still to give when STOP cleared the program; 0 when nothing was left */
  stoppedLeftMl: number;
  episodeStartEffMs: number | null;
  /** ms spent in RUN at a rate above 0 this episode */
  runMs: number;
  /** RUN at a rate above 0 at the newest accepted sentence */
  running: boolean;
  /** re-check delivery_below_24h projection on the next sentence with data */
  projectionDue: boolean;
  /** a PRG loaded a program that has not started yet */
  programPending: boolean;
  /** EVT POWER_OFF seen and nothing heard since: not delivering, whatever the last status said */
  poweredOff: boolean;
  /** duration clock when the pump was switched on again after POWER_OFF: infusion_stopped's grace restarts there */
  poweredOnEffMs: number | null;

  // programming verification
  /** the open assignment and what was given under it; null: none (or none known) */
  course: OrderCourse | null;
  /** rate the program was last verified at: a status with another rate is checked again */
  verifiedRateMlH: number | null;

  // infusion_stopped
  stoppedSinceEffMs: number | null;
  stoppedSincePumpTime: string | null;
  stoppedSinceSeq: number | null;
  stoppedReason: string | null;

  // occlusion inference
  /** mmHg, running baseline while delivering */
  baselineMmHg: number | null;
  lastAdvanceEffMs: number | null;
  lastAdvanceViMl: number | null;
  lastAdvanceSeq: number | null;
  lastAdvancePumpTime: string | null;
  /** vi when the occlusion alert was raised, to see delivery resume */
  occlusionViMl: number | null;

  // no_flow: vi frozen during continuous RUN; anchors on runMs (RUN time), null while not tracking
  noFlowSinceRunMs: number | null;
  noFlowSinceViMl: number | null;
  noFlowRateMlH: number | null;
  noFlowSinceSeq: number | null;
  noFlowSincePumpTime: string | null;

  // line_pressure_lost
  /** the occlusion baseline at the last RUN reading with the pressure present: what "back to normal" means */
  pressureRefMmHg: number | null;
  /** runMs at the first of the consecutive RUN readings with the pressure lost; null: not lost */
  pressureLostSinceRunMs: number | null;
  pressureLostSamples: number;
  pressureLostSinceSeq: number | null;
  pressureLostSincePumpTime: string | null;

  // nurse visit (visit.ts): server clock, as the nurse set it
  visitUntilServerMs: number | null;
  visitBy: string | null;
  /** the last visit's end: a halt or a silence that outlasts it is counted from here */
  visitEndedServerMs: number | null;
  visitEndedEffMs: number | null;
  visitEndedBy: string | null;
  /** pump time of a POWER_OFF with volume left held back by a nurse visit; null when none is held */
  offDuringVisitPumpTime: string | null;
}

export function createPumpRecord(pump: string, gateway: string): PumpRecord {
  return {
    pump, gateway,
    state: null, rateMlH: null, infusedMl: null, vtbiMl: null, reservoirMl: null, pressureMmHg: null, batteryPct: null, alarms: [],
    lastSeq: null, lastPumpMs: null, pumpTime: null, lastSeenServerMs: null, restored: false, watchFromServerMs: null, lastAcceptedServerMs: null,
    effMs: null, clockUntrusted: false, clockAheadS: 0, liveLagMs: null, lastLagMs: null,
    liveOffsetMs: null, lastReceivedMs: null, liveRunFromReceivedMs: null, liveRunFromOffsetMs: null, clockBehindS: 0, lastHistoric: false,
    programId: null, drug: null, programRateMlH: null, programVolumeMl: null, programHours: null,
    programActive: false, startSeen: false, episodeProgramId: null, priorDeliveryH: 0, stoppedLeftMl: 0, episodeStartEffMs: null, runMs: 0, running: false,
    projectionDue: false, programPending: false, course: null, verifiedRateMlH: null,
    poweredOff: false, poweredOnEffMs: null,
    stoppedSinceEffMs: null, stoppedSincePumpTime: null, stoppedSinceSeq: null, stoppedReason: null,
    baselineMmHg: null, lastAdvanceEffMs: null, lastAdvanceViMl: null, lastAdvanceSeq: null, lastAdvancePumpTime: null, occlusionViMl: null,
    noFlowSinceRunMs: null, noFlowSinceViMl: null, noFlowRateMlH: null, noFlowSinceSeq: null, noFlowSincePumpTime: null,
    pressureRefMmHg: null, pressureLostSinceRunMs: null, pressureLostSamples: 0, pressureLostSinceSeq: null, pressureLostSincePumpTime: null,
    visitUntilServerMs: null, visitBy: null, visitEndedServerMs: null, visitEndedEffMs: null, visitEndedBy: null, offDuringVisitPumpTime: null,
  };
}

/** Moves every duration anchor by deltaMs, so a clock change neither adds nor removes elapsed time. */
export function rebaseAnchors(rec: PumpRecord, deltaMs: number): void {
  if (rec.effMs !== null) rec.effMs += deltaMs;
  if (rec.episodeStartEffMs !== null) rec.episodeStartEffMs += deltaMs;
  if (rec.stoppedSinceEffMs !== null) rec.stoppedSinceEffMs += deltaMs;
  if (rec.lastAdvanceEffMs !== null) rec.lastAdvanceEffMs += deltaMs;
  if (rec.poweredOnEffMs !== null) rec.poweredOnEffMs += deltaMs;
  if (rec.course?.startEffMs != null) rec.course.startEffMs += deltaMs;
  if (rec.visitEndedEffMs !== null) rec.visitEndedEffMs += deltaMs;
}

/** mL the current program still has to give (after STOP: what was left when it was stopped). */
export function volumeLeftMl(rec: PumpRecord): number {
  if (rec.programActive) return rec.vtbiMl ?? rec.programVolumeMl ?? 0;
  return rec.stoppedLeftMl;
}

/** A program with volume left that has not finished: the pump is worth watching. */
export function hasUnfinishedProgram(rec: PumpRecord, epsilonMl: number): boolean {
  return (rec.programActive || rec.stoppedLeftMl > epsilonMl) && volumeLeftMl(rec) > epsilonMl;
}

/** Hours of delivery this episode, including what happened before the engine joined. */
export function deliveredHours(rec: PumpRecord): number {
  return rec.priorDeliveryH + rec.runMs / 3_600_000;
}
