/**
 * no_flow (high): the pump says RUN at a rate above 0, yet vi has not advanced for longer than the
 * rate allows: a stuck mechanism, or a blocked line on a pump without a pressure sensor. vi counts
 * in 0.01-mL steps (every ~72 s at 0.5 mL/h), so the wait comes from the rate: at least noFlowMinS
 * of RUN, and long enough for noFlowDueMl (several steps) to be due. Timed on RUN time (runMs, pump
 * clock), so a pause neither counts nor resets it (the pump's counter does not move while paused
 * either); a halt clears the alert (infusion_stopped watches halts), a rate change or a new program
 * starts the wait again. A pressure climb with vi frozen is an occlusion: while that alert is
 * active this one is held back and its wait restarts, and one raised first is cleared when the
 * occlusion takes over (one page per problem).
 */
import type { PumpRecord } from '../pumps/pumpRecord.ts';
import { volumeLeftMl } from '../pumps/pumpRecord.ts';
import type { ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
import { clockText, durationText, messageZone, mlText, round2 } from './messageText.ts';
import { sentenceEvidence, type SentenceInput } from './types.ts';

/** vi is reported to 0.01 mL; anything above half a step is a change */
const VI_HALF_STEP_ML = 0.005;

function stopTracking(rec: PumpRecord): void {
  rec.noFlowSinceRunMs = null;
  rec.noFlowSinceViMl = null;
  rec.noFlowRateMlH = null;
  rec.noFlowSinceSeq = null;
  rec.noFlowSincePumpTime = null;
}

function anchor(d: SentenceInput): void {
  const { rec, msg } = d;
  rec.noFlowSinceRunMs = rec.runMs;
  rec.noFlowSinceViMl = rec.infusedMl;
  rec.noFlowRateMlH = rec.rateMlH;
  rec.noFlowSinceSeq = msg.seq;
  rec.noFlowSincePumpTime = msg.time;
}

/** RUN seconds vi may stand still at this rate: noFlowDueMl must be due, and never less than noFlowMinS. */
export function noFlowWaitS(rateMlH: number, cfg: ResolvedDetectionConfig): number {
  const dueS = rateMlH > 0 ? (cfg.noFlowDueMl / rateMlH) * 3600 : Infinity;
  return Math.max(cfg.noFlowMinS, dueS);
}

function pressureNote(rec: PumpRecord): string {
  if (rec.pressureMmHg === null) return 'this pump has no line pressure sensor';
  const usual = rec.baselineMmHg === null ? '' : ` (usual ${Math.round(rec.baselineMmHg)})`;
  return `line pressure ${rec.pressureMmHg} mmHg${usual}, not rising`;
}

export function detectNoFlow(d: SentenceInput): void {
  const { rec, msg, store, at, cfg, fx } = d;
  const active = store.isActive(rec.pump, 'no_flow');
  const clearedBy = { clearedSeq: msg.seq, clearedPumpTime: msg.time };
  if (!rec.programActive) {
    stopTracking(rec);
    if (active) store.clear(rec.pump, 'no_flow', at, { ...clearedBy, clearedBecause: 'program ended or was stopped' });
    return;
  }
  if (!rec.running) {
    // RUN time stands still and so does the anchor; the halt itself is infusion_stopped's to report
    if (active) store.clear(rec.pump, 'no_flow', at, { ...clearedBy, clearedBecause: 'the pump is no longer running (infusion_stopped watches a halt)' });
    return;
  }
  if (store.isActive(rec.pump, 'occlusion')) {
    if (active) store.clear(rec.pump, 'no_flow', at, { ...clearedBy, clearedBecause: 'the occlusion alert reports it' });
    anchor(d); // the occlusion covers this stall; should vi stay frozen after it, the wait starts then
    return;
  }
  const vi = rec.infusedMl;
  const since = rec.noFlowSinceViMl;
  const moved = vi !== null && since !== null && Math.abs(vi - since) > VI_HALF_STEP_ML;
  if (fx.started || rec.noFlowSinceRunMs === null || vi === null || since === null || moved) {
    anchor(d);
    if (moved && active) store.clear(rec.pump, 'no_flow', at, { ...clearedBy, clearedInfusedMl: vi });
    return;
  }
  if (rec.rateMlH !== rec.noFlowRateMlH) {
    // the expected volume is rate × time: a new rate starts the wait again (vi is unchanged)
    anchor(d);
    return;
  }
  if (active) return;
  if (volumeLeftMl(rec) <= cfg.volumeEpsilonMl) return; // nothing left to give: END follows
  const rateMlH = rec.rateMlH ?? 0;
  const frozenMs = rec.runMs - rec.noFlowSinceRunMs;
  const waitS = noFlowWaitS(rateMlH, cfg);
  if (frozenMs < waitS * 1000) return;
  const dueMl = (rateMlH * frozenMs) / 3_600_000;
  store.raise(rec.pump, rec.gateway, 'no_flow', at,
    `Pump ${rec.pump}: shows RUN at ${rateMlH} mL/h but has counted no medicine for ${durationText(frozenMs)} since ${clockText(rec.noFlowSincePumpTime, messageZone(rec, d.clinical.serverTimeZone))} (${mlText(dueMl)} due); ${pressureNote(rec)}. Call the patient to check the line for kinks and closed clamps and that the pump is really delivering.`,
    {
      ...sentenceEvidence(d), rateMlH, infusedMl: vi, frozenSinceSeq: rec.noFlowSinceSeq, frozenSincePumpTime: rec.noFlowSincePumpTime,
      frozenMinutes: Math.round(frozenMs / 60_000), expectedMl: round2(dueMl), waitS: Math.round(waitS),
      pressureMmHg: rec.pressureMmHg, baselineMmHg: rec.baselineMmHg === null ? null : Math.round(rec.baselineMmHg),
    });
}
