/**
 * low_battery (medium): during an unfinished program the pump reports BATT_LOW/BATT_DEPL, or its
 * battery is at or below lowBatteryPct. Clears once the alarms are gone and the battery is back above
 * the threshold plus a hysteresis (so a reading wobbling around the threshold does not flap).
 */
import { hasUnfinishedProgram } from '../pumps/pumpRecord.ts';
import { hasAlarm, sentenceEvidence, type SentenceInput } from './types.ts';

export function detectLowBattery(d: SentenceInput): void {
  const { rec, store, at, cfg } = d;
  const active = store.isActive(rec.pump, 'low_battery');
  const unfinished = hasUnfinishedProgram(rec, cfg.volumeEpsilonMl);
  const depleted = hasAlarm(rec.alarms, 'BATT_DEPL');
  const alarm = depleted || hasAlarm(rec.alarms, 'BATT_LOW');
  const pct = rec.batteryPct;
  if (active) {
    const recovered = !alarm && (pct === null || pct > cfg.lowBatteryPct + cfg.lowBatteryHysteresisPct);
    if (!unfinished || recovered) store.clear(rec.pump, 'low_battery', at, { clearedSeq: d.msg.seq, clearedBatteryPct: pct });
    return;
  }
  if (!unfinished || !(alarm || (pct !== null && pct <= cfg.lowBatteryPct))) return;
  const level = pct === null ? '' : ` at ${pct}%`;
  const urgency = depleted ? 'the pump is about to stop' : 'the pump may stop before the infusion ends';
  store.raise(rec.pump, rec.gateway, 'low_battery', at,
    `Pump ${rec.pump}: battery low${level} during the infusion; ${urgency}. Ask the patient to change or charge the pump battery.`,
    { ...sentenceEvidence(d), batteryPct: pct, alarms: rec.alarms, thresholdPct: cfg.lowBatteryPct });
}
