/**
 * low_reservoir (medium): during a program, the pump reports RES_EMPTY with volume still to give, or
 * the reservoir holds less than the program still has to give (it will run dry before the end).
 * RES_LOW near the normal end of a program is expected and says nothing new, so on its own it
 * raises nothing.
 */
import { clockText, messageZone, mlText } from './messageText.ts';
import { hasAlarm, sentenceEvidence, type SentenceInput } from './types.ts';

export function detectLowReservoir(d: SentenceInput): void {
  const { rec, store, at, cfg } = d;
  const active = store.isActive(rec.pump, 'low_reservoir');
  const left = rec.vtbiMl ?? 0;
  const empty = rec.programActive && hasAlarm(rec.alarms, 'RES_EMPTY') && left > cfg.volumeEpsilonMl;
  const short = rec.programActive && rec.reservoirMl !== null && left - rec.reservoirMl > cfg.reservoirShortfallMl;
  if (!empty && !short) {
    if (active) store.clear(rec.pump, 'low_reservoir', at, { clearedSeq: d.msg.seq, clearedPumpTime: d.msg.time });
    return;
  }
  if (active) return;
  const message = empty
    ? `Pump ${rec.pump}: medicine reservoir is empty since ${clockText(d.msg.time, messageZone(rec, d.clinical.serverTimeZone))} but ${mlText(left)} of the program is still to give. Check the reservoir and the prescription.`
    : `Pump ${rec.pump}: medicine reservoir holds ${mlText(rec.reservoirMl ?? 0)} but ${mlText(left)} is still to give; it will run dry before the program ends. Check the reservoir volume.`;
  store.raise(rec.pump, rec.gateway, 'low_reservoir', at, message, {
    ...sentenceEvidence(d), reason: empty ? 'RES_EMPTY' : 'shortfall', reservoirMl: rec.reservoirMl, vtbiMl: left,
    shortfallMl: rec.reservoirMl === null ? null : Math.round((left - rec.reservoirMl) * 100) / 100, alarms: rec.alarms,
  });
}
