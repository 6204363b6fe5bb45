/** Folds one accepted sentence into the pump record: status, program, episode and delivery time. */
import type { PumpMessage } from '../../protocol/payloads.ts';
import { isDelivering, startContinuesCourse } from './courseContinuity.ts';
import { trackCourse } from './orderCourse.ts';
import type { TimeVerdict } from './pumpClock.ts';
import type { PumpRecord } from './pumpRecord.ts';

/** What this sentence changed that detectors react to once. Filled in place. */
export interface MessageEffects {
  /** a program started (EVT START, or a RUN seen mid-program for the first time) */
  started: boolean;
  /** the program ended on this sentence: 'end' complete (END, or STOP with no more than the residual left), 'stop' cleared with STOP */
  ended: 'end' | 'stop' | null;
  /** a PRG sentence loaded a different program */
  newProgram: boolean;
  /** the pump went into RUN from another state (after a pause or an alarm) */
  resumed: boolean;
  /** a START of the program already under way (or stopped with volume left): the episode carries on */
  restarted: boolean;
}

export function newMessageEffects(): MessageEffects {
  return { started: false, ended: null, newProgram: false, resumed: false, restarted: false };
}

/**
 * A STOP with no more than completeResidualMl left (overfill, line priming) is a completed
 * infusion, like END: nothing is left to give, so nothing is reported as stopped.
 */
function endProgram(rec: PumpRecord, how: 'end' | 'stop', leftMl: number | null, residualMl: number, fx: MessageEffects): void {
  if (!rec.programActive) return;
  rec.programActive = false;
  const left = leftMl ?? 0;
  const complete = how === 'end' || left <= residualMl;
  rec.stoppedLeftMl = complete ? 0 : left;
  fx.ended = complete ? 'end' : 'stop';
}

function startEpisode(rec: PumpRecord, t: TimeVerdict, fx: MessageEffects, seenStart: boolean): void {
  rec.programActive = true;
  rec.startSeen = seenStart;
  rec.stoppedLeftMl = 0;
  rec.runMs = 0;
  rec.priorDeliveryH = 0;
  rec.episodeStartEffMs = t.effMs;
  rec.episodeProgramId = rec.programId;
  rec.projectionDue = true;
  rec.programPending = false;
  rec.baselineMmHg = null;
  rec.lastAdvanceEffMs = null;
  fx.started = true;
}

/** The first sentence after POWER_OFF (POWER_ON, or anything if that was lost): the pump is on again. */
function switchedOn(rec: PumpRecord, t: TimeVerdict): void {
  rec.poweredOff = false;
  rec.poweredOnEffMs = t.effMs;
}

/**
 * The same program started again: delivered hours, the start time and the course carry on. vi is
 * the pump's counter: kept as it was (a restart after a pause keeps it), or 0 with the loaded
 * program's volume when a PRG came since (a STOP clears the program, and vi restarts with the next);
 * the order course folds a counter that goes back (orderCourse.ts), so no volume is lost or doubled.
 */
function continueEpisode(rec: PumpRecord, fx: MessageEffects): void {
  const loaded = rec.programPending && !rec.programActive;
  if (loaded) {
    rec.infusedMl = 0;
    if (rec.programVolumeMl !== null) rec.vtbiMl = rec.programVolumeMl;
    if (rec.programRateMlH !== null) rec.rateMlH = rec.programRateMlH;
  } else if (!rec.programActive) {
    rec.vtbiMl = rec.stoppedLeftMl; // stopped, started again without a new PRG: what was left
  }
  rec.programActive = true;
  rec.stoppedLeftMl = 0;
  rec.projectionDue = true;
  rec.programPending = false;
  rec.baselineMmHg = null;
  rec.lastAdvanceEffMs = null;
  fx.restarted = true;
}

/** residualMl: COMPLETE_RESIDUAL_ML, what a STOP may leave and still be a completed infusion */
export function applyMessage(rec: PumpRecord, msg: PumpMessage, t: TimeVerdict, epsilonMl: number, fx: MessageEffects, residualMl = epsilonMl): void {
  fx.started = false;
  fx.ended = null;
  fx.newProgram = false;
  fx.resumed = false;
  fx.restarted = false;
  const powerOn = msg.type === 'event' && msg.code === 'POWER_ON';
  // the pump was off before a POWER_ON (also when its POWER_OFF was lost): that time is no delivery
  if (rec.running && rec.programActive && !powerOn) rec.runMs += t.elapsedMs;
  if (rec.poweredOff && !(msg.type === 'event' && msg.code === 'POWER_OFF')) switchedOn(rec, t);
  const before = rec.state;

  switch (msg.type) {
    case 'status': {
      const leftBefore = rec.vtbiMl;
      // a rate changed on the pump without a RATE event reaching us still needs a fresh projection
      if (rec.programActive && rec.rateMlH !== null && msg.rateMlH !== rec.rateMlH) rec.projectionDue = true;
      rec.state = msg.state;
      rec.rateMlH = msg.rateMlH;
      rec.infusedMl = msg.infusedMl;
      rec.vtbiMl = msg.vtbiMl;
      rec.reservoirMl = msg.reservoirMl;
      rec.pressureMmHg = msg.pressureMmHg;
      rec.batteryPct = msg.batteryPct;
      rec.alarms = msg.alarms;
      if (!rec.programActive && msg.vtbiMl > epsilonMl && (msg.state === 'RUN' || msg.state === 'PAUSE' || msg.state === 'ALARM')) {
        // Joined mid-program (engine started late, or START was lost): count what was already given.
        startEpisode(rec, t, fx, false);
        rec.priorDeliveryH = msg.rateMlH > 0 ? msg.infusedMl / msg.rateMlH : 0;
      }
      if (msg.state === 'END') endProgram(rec, 'end', 0, residualMl, fx);
      else if (msg.state === 'IDLE') endProgram(rec, 'stop', leftBefore, residualMl, fx);
      break;
    }
    case 'program':
      // the running program re-sent or changed is still the running one; anything else waits for START
      rec.programPending = !(rec.programActive && msg.programId === rec.programId);
      if (msg.programId !== rec.programId) fx.newProgram = true;
      rec.programId = msg.programId;
      rec.drug = msg.drug;
      rec.programRateMlH = msg.rateMlH;
      rec.programVolumeMl = msg.volumeMl;
      rec.programHours = msg.hours;
      if (fx.newProgram) rec.stoppedLeftMl = 0;
      break;
    case 'event':
      switch (msg.code) {
        case 'START': {
          const run = {
            programId: rec.episodeProgramId ?? (rec.programPending ? null : rec.programId),
            active: rec.programActive, stoppedLeftMl: rec.stoppedLeftMl,
          };
          if (msg.detail !== '' && msg.detail !== rec.programId) {
            rec.programId = msg.detail;
            fx.newProgram = true;
          }
          rec.state = 'RUN';
          if (rec.programId !== null && startContinuesCourse(run, rec.programId, epsilonMl)) {
            continueEpisode(rec, fx);
            break;
          }
          startEpisode(rec, t, fx, true);
          if (rec.programRateMlH !== null) rec.rateMlH = rec.programRateMlH;
          rec.infusedMl = 0;
          if (rec.programVolumeMl !== null) rec.vtbiMl = rec.programVolumeMl;
          rec.reservoirMl = null; // the last bag's reading says nothing of this program's: unknown until its first status
          break;
        }
        case 'PAUSE':
          if (rec.programActive) rec.state = 'PAUSE';
          break;
        case 'RESUME':
          if (rec.programActive) rec.state = 'RUN';
          break;
        case 'STOP':
          endProgram(rec, 'stop', rec.vtbiMl, residualMl, fx);
          rec.state = 'IDLE';
          break;
        case 'END':
          endProgram(rec, 'end', 0, residualMl, fx);
          rec.state = 'END';
          break;
        case 'ALARM_ON':
          if (msg.detail !== '' && !rec.alarms.includes(msg.detail)) rec.alarms = [...rec.alarms, msg.detail];
          break;
        case 'ALARM_OFF':
          if (rec.alarms.includes(msg.detail)) rec.alarms = rec.alarms.filter((a) => a !== msg.detail);
          break;
        case 'POWER_OFF':
          rec.poweredOff = true;
          rec.lastAdvanceEffMs = null; // vi standing still while off is no stall
          break;
        case 'POWER_ON':
          // a program survives a power cut, held until someone resumes it; the status that follows says what the pump does
          if (rec.programActive && rec.state === 'RUN') rec.state = 'PAUSE';
          rec.lastAdvanceEffMs = null;
          break;
        case 'RATE': {
          const rate = Number(msg.detail);
          if (msg.detail !== '' && Number.isFinite(rate) && rate >= 0) {
            rec.rateMlH = rate;
            rec.projectionDue = true;
          }
          break;
        }
        default:
          break;
      }
      break;
  }
  rec.running = rec.programActive && isDelivering(rec.state, rec.rateMlH) && !rec.poweredOff;
  if (rec.state === 'RUN' && before !== 'RUN' && before !== null) fx.resumed = true;
  if (rec.course !== null) trackCourse(rec.course, rec, msg, fx, epsilonMl);
}
