/**
 * pump_off (high): EVT POWER_OFF while a program has volume left (interfaces.md §4). Raised at once:
 * nothing goes in until somebody switches the pump back on, and no pump alarm will sound while it is
 * off. Cleared by the next sentence from the pump (its POWER_ON, seq 0); delivery then resumes, or
 * infusion_stopped takes over with its usual grace counted from the power-on. While the pump is
 * known to be off, signal_lost stays quiet (signalLost.ts): the pump said why it went silent.
 * A switch-off during a nurse visit is the nurse's: it is raised only if the pump is still off
 * stoppedGraceS after the visit ends, like a pause that outlasts one (detectPumpOffAfterVisit, from
 * the engine's tick).
 */
import type { AlertStore } from '../alerts/alertStore.ts';
import { deliveredHours, hasUnfinishedProgram, volumeLeftMl, type PumpRecord } from '../pumps/pumpRecord.ts';
import { visitActive } from '../pumps/visit.ts';
import type { ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
import { clockText, messageZone, mlText, round2 } from './messageText.ts';
import { serverStamp } from './signalLost.ts';
import { sentenceEvidence, type SentenceInput } from './types.ts';

export function detectPumpOff(d: SentenceInput): void {
  const { rec, msg, store, at, cfg } = d;
  const active = store.isActive(rec.pump, 'pump_off');
  if (!rec.poweredOff) {
    rec.offDuringVisitPumpTime = null;
    if (active) {
      const how = msg.type === 'event' && msg.code === 'POWER_ON' ? 'switched on' : 'heard again';
      store.clear(rec.pump, 'pump_off', at, { clearedBecause: how, clearedSeq: msg.seq, clearedPumpTime: msg.time });
    }
    return;
  }
  // only the POWER_OFF itself raises it: the volume left is the one it was switched off with
  if (active || msg.type !== 'event' || msg.code !== 'POWER_OFF') return;
  if (!hasUnfinishedProgram(rec, cfg.volumeEpsilonMl)) return;
  if (visitActive(rec, d.t.serverMs)) {
    rec.offDuringVisitPumpTime = msg.time;
    return;
  }
  const left = volumeLeftMl(rec);
  store.raise(rec.pump, rec.gateway, 'pump_off', at,
    `Pump ${rec.pump} was switched off at ${clockText(msg.time, messageZone(rec, d.clinical.serverTimeZone))} with ${mlText(left)} still to give; no medicine is going in. Call the patient to switch it back on and restart the infusion.`,
    {
      ...sentenceEvidence(d), volumeLeftMl: round2(left), infusedMl: rec.infusedMl, rateMlH: rec.rateMlH, lastState: rec.state,
      programId: rec.programId, programActive: rec.programActive, deliveredHours: round2(deliveredHours(rec)),
    });
}

/** Still switched off stoppedGraceS after the visit it was switched off in ended (by itself or by a nurse): now it pages. */
export function detectPumpOffAfterVisit(rec: PumpRecord, serverMs: number, cfg: ResolvedDetectionConfig, store: AlertStore, serverZone: string): void {
  const offAt = rec.offDuringVisitPumpTime;
  if (offAt === null || !rec.poweredOff || visitActive(rec, serverMs) || rec.visitEndedServerMs === null) return;
  if (serverMs - rec.visitEndedServerMs < cfg.stoppedGraceS * 1000) return;
  rec.offDuringVisitPumpTime = null;
  if (store.isActive(rec.pump, 'pump_off') || !hasUnfinishedProgram(rec, cfg.volumeEpsilonMl)) return;
  const left = volumeLeftMl(rec);
  const zone = messageZone(rec, serverZone);
  const endedIso = new Date(rec.visitEndedServerMs).toISOString();
  store.raise(rec.pump, rec.gateway, 'pump_off', serverStamp(serverMs, rec.lastPumpMs ?? serverMs),
    `Pump ${rec.pump} was switched off at ${clockText(offAt, zone)} during the nurse visit (${rec.visitEndedBy ?? 'unknown'}) and is still off since the visit ended at ${clockText(endedIso, zone)}, with ${mlText(left)} still to give. Call the patient to switch it back on and restart the infusion.`,
    {
      volumeLeftMl: round2(left), infusedMl: rec.infusedMl, rateMlH: rec.rateMlH, lastState: rec.state, programId: rec.programId,
      programActive: rec.programActive, deliveredHours: round2(deliveredHours(rec)), switchedOffPumpTime: offAt, visitEndedAt: endedIso, visitBy: rec.visitEndedBy,
    });
}
