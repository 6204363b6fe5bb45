/**
 * pump_off (high): EVT POWER_OFF while a program has volume left (interfaces.md §4). Raised at once:
 * nothing goes in until somebody switches the pump back on, and no pump alarm will sound while it is
 * off. Cleared by the next sentence from the pump (its POWER_ON, seq 0); delivery then resumes, or
 * infusion_stopped takes over with its usual grace counted from the power-on. While the pump is
 * known to be off, signal_lost stays quiet (signalLost.ts): the pump said why it went silent.
 */
import { deliveredHours, hasUnfinishedProgram, volumeLeftMl } from '../pumps/pumpRecord.ts';
import { clockText, messageZone, mlText, round2 } from './messageText.ts';
import { sentenceEvidence, type SentenceInput } from './types.ts';

export function detectPumpOff(d: SentenceInput): void {
  const { rec, msg, store, at, cfg } = d;
  const active = store.isActive(rec.pump, 'pump_off');
  if (!rec.poweredOff) {
    if (active) {
      const how = msg.type === 'event' && msg.code === 'POWER_ON' ? 'switched on' : 'heard again';
      store.clear(rec.pump, 'pump_off', at, { clearedBecause: how, clearedSeq: msg.seq, clearedPumpTime: msg.time });
    }
    return;
  }
  // only the POWER_OFF itself raises it: the volume left is the one it was switched off with
  if (active || msg.type !== 'event' || msg.code !== 'POWER_OFF') return;
  if (!hasUnfinishedProgram(rec, cfg.volumeEpsilonMl)) return;
  const left = volumeLeftMl(rec);
  store.raise(rec.pump, rec.gateway, 'pump_off', at,
    `Pump ${rec.pump} was switched off at ${clockText(msg.time, messageZone(rec, d.clinical.serverTimeZone))} with ${mlText(left)} still to give; no medicine is going in. Call the patient to switch it back on and restart the infusion.`,
    {
      ...sentenceEvidence(d), volumeLeftMl: round2(left), infusedMl: rec.infusedMl, rateMlH: rec.rateMlH, lastState: rec.state,
      programId: rec.programId, programActive: rec.programActive, deliveredHours: round2(deliveredHours(rec)),
    });
}
