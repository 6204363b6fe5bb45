/**
 * occlusion (high): the pump reports OCCL_DN/OCCL_UP, or we infer it first. At 2–5 mL/h the pump's
 * own alarm (about 775 mmHg) can take an hour; the early sign is line pressure climbing well above
 * its running baseline while vi stops advancing against rate × time during RUN. Both are required,
 * so pressure noise alone (vi still advancing) or a pause (not RUN) never raises it.
 */
import type { StatusMessage } from '../../protocol/payloads.ts';
import type { ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
import type { PumpRecord } from '../pumps/pumpRecord.ts';
import { clockText, durationText, messageZone, mlText, round2 } from './messageText.ts';
import { sentenceEvidence, type SentenceInput } from './types.ts';

/** vi is reported to 0.01 mL; anything above half a step is an advance */
const VI_STEP_ML = 0.005;

function pumpOcclusionCode(alarms: readonly string[]): string | null {
  for (const a of alarms) if (a === 'OCCL_DN' || a === 'OCCL_UP') return a;
  return null;
}

/** Follows delivery on each status; true when the signs of an occlusion are all there. */
function trackDelivery(rec: PumpRecord, msg: StatusMessage, effMs: number, cfg: ResolvedDetectionConfig, alertActive: boolean): boolean {
  if (!rec.running) {
    rec.lastAdvanceEffMs = null;
    return false;
  }
  const p = msg.pressureMmHg;
  const last = rec.lastAdvanceViMl;
  if (rec.lastAdvanceEffMs === null || last === null || msg.infusedMl > last + VI_STEP_ML || msg.infusedMl < last - VI_STEP_ML) {
    rec.lastAdvanceEffMs = effMs;
    rec.lastAdvanceViMl = msg.infusedMl;
    rec.lastAdvanceSeq = msg.seq;
    rec.lastAdvancePumpTime = msg.time;
    if (p !== null && !alertActive) {
      rec.baselineMmHg = rec.baselineMmHg === null ? p : rec.baselineMmHg + cfg.occlusionBaselineAlpha * (p - rec.baselineMmHg);
    }
    return false;
  }
  if (p === null || rec.baselineMmHg === null) return false;
  const stallMs = effMs - rec.lastAdvanceEffMs;
  const expectedMl = (msg.rateMlH * stallMs) / 3_600_000;
  return stallMs >= cfg.occlusionStallS * 1000 && expectedMl >= cfg.occlusionStallMl && p - rec.baselineMmHg >= cfg.occlusionRiseMmHg;
}

function inferredDetail(d: SentenceInput): Record<string, unknown> {
  const { rec, t } = d;
  const stallMs = rec.lastAdvanceEffMs === null ? 0 : t.effMs - rec.lastAdvanceEffMs;
  return {
    inferred: true, ...sentenceEvidence(d),
    pressureMmHg: rec.pressureMmHg, baselineMmHg: rec.baselineMmHg === null ? null : Math.round(rec.baselineMmHg),
    infusedMl: rec.infusedMl, rateMlH: rec.rateMlH,
    stalledSinceSeq: rec.lastAdvanceSeq, stalledSincePumpTime: rec.lastAdvancePumpTime, stalledMinutes: Math.round(stallMs / 60_000),
    expectedMl: round2(((rec.rateMlH ?? 0) * stallMs) / 3_600_000), deliveredMl: 0,
  };
}

export function detectOcclusion(d: SentenceInput): void {
  const { rec, msg, store, at, cfg } = d;
  const current = store.current(rec.pump, 'occlusion');
  const active = current?.alert.status === 'active';
  const inferred = msg.type === 'status' ? trackDelivery(rec, msg, d.t.effMs, cfg, active) : false;
  if (msg.type !== 'status' && !rec.running) rec.lastAdvanceEffMs = null;

  if (!rec.programActive) {
    if (active) store.clear(rec.pump, 'occlusion', at, { clearedBecause: 'program ended or was stopped' });
    return;
  }
  const code = pumpOcclusionCode(rec.alarms);
  const where = code === 'OCCL_UP' ? 'between the medicine reservoir and the pump' : 'between the pump and the patient';
  if (code !== null) {
    const evidence = { pumpAlarm: code, pumpAlarmSeq: msg.seq, pumpAlarmPumpTime: msg.time, pumpAlarmPressureMmHg: rec.pressureMmHg };
    if (!active) {
      rec.occlusionViMl = rec.infusedMl;
      store.raise(rec.pump, rec.gateway, 'occlusion', at,
        `Pump ${rec.pump}: blocked line ${where}, pump alarm since ${clockText(msg.time, messageZone(rec, d.clinical.serverTimeZone))}; chemo is not flowing. Check for kinks, closed clamps and the catheter.`,
        { inferred: false, ...sentenceEvidence(d), ...evidence, infusedMl: rec.infusedMl, rateMlH: rec.rateMlH });
    } else if (current.alert.detail.pumpAlarm === undefined) {
      const zone = messageZone(rec, d.clinical.serverTimeZone);
      const leadS = Math.round((Date.parse(msg.time) - Date.parse(String(current.alert.detail.pumpTime))) / 1000);
      store.update(rec.pump, 'occlusion',
        `Pump ${rec.pump}: blocked line ${where}, suspected since ${clockText(current.alert.raisedAt, zone)} and confirmed by the pump alarm at ${clockText(msg.time, zone)}; chemo is not flowing. Check for kinks, closed clamps and the catheter.`,
        { ...current.alert.detail, ...evidence, pumpAlarmLeadS: leadS }, at.historic);
    }
    return;
  }
  if (active) {
    if (msg.type !== 'status') return;
    if (current.alert.detail.pumpAlarm !== undefined && rec.state !== 'ALARM' && !rec.running) {
      // The pump's alarm is over but it was left paused: the halt is now infusion_stopped's to report.
      store.clear(rec.pump, 'occlusion', at, { clearedSeq: msg.seq, clearedPumpTime: msg.time, clearedBecause: 'pump alarm over, not running' });
      return;
    }
    if (!rec.running) return;
    const advanced = rec.infusedMl !== null && rec.occlusionViMl !== null && rec.infusedMl > rec.occlusionViMl + VI_STEP_ML;
    const relieved = rec.pressureMmHg === null || rec.pressureMmHg < (rec.baselineMmHg ?? 0) + cfg.occlusionRiseMmHg / 2;
    if (advanced || relieved) {
      store.clear(rec.pump, 'occlusion', at, { clearedSeq: msg.seq, clearedPumpTime: msg.time, clearedPressureMmHg: rec.pressureMmHg });
    }
    return;
  }
  if (inferred) {
    rec.occlusionViMl = rec.infusedMl;
    const stallMs = rec.lastAdvanceEffMs === null ? 0 : d.t.effMs - rec.lastAdvanceEffMs;
    store.raise(rec.pump, rec.gateway, 'occlusion', at,
      `Pump ${rec.pump}: line looks blocked; pressure ${rec.pressureMmHg ?? '?'} mmHg (usual ${Math.round(rec.baselineMmHg ?? 0)}) and no medicine delivered for ${durationText(stallMs)} (${mlText(((rec.rateMlH ?? 0) * stallMs) / 3_600_000)} due) since ${clockText(rec.lastAdvancePumpTime, messageZone(rec, d.clinical.serverTimeZone))}. The pump has not alarmed yet. Check for kinks, closed clamps and the catheter.`,
      inferredDetail(d));
  }
}
