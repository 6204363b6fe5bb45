/**
 * infusion_stopped (high): a program with more than completeResidualMl left is not delivering (PAUSE, ALARM, IDLE after
 * STOP, RUN at rate 0) for longer than stoppedGraceS of pump time. While an occlusion, air-in-line
 * or pump-fault alert is active for the same pump, that alert already says why delivery halted and
 * this one is held back (one page per problem); if the halt outlasts its cause, it is raised then.
 * The same while pump_off is active; once the pump is switched on again, the grace restarts from the
 * power-on (the patient needs a moment to resume it), though the halt is still counted from its start.
 * Not raised during a nurse visit (visit.ts); a halt that outlasts the visit is raised after the
 * grace counted from the visit's end.
 */
import type { AlertStore } from '../alerts/alertStore.ts';
import type { PumpRecord } from '../pumps/pumpRecord.ts';
import { pumpToServerMs } from '../pumps/pumpClock.ts';
import { hasUnfinishedProgram, volumeLeftMl } from '../pumps/pumpRecord.ts';
import { graceFromEffMs, visitActive } from '../pumps/visit.ts';
import { clockText, durationText, messageZone, mlText } from './messageText.ts';
import { sentenceEvidence, type SentenceInput } from './types.ts';

function reasonOf(rec: PumpRecord): string {
  if (rec.poweredOff) return 'switched off';
  if (!rec.programActive) return 'stopped';
  if (rec.state === 'PAUSE') return 'paused';
  if (rec.state === 'ALARM') return 'alarm';
  if (rec.state === 'RUN') return 'rate 0';
  return rec.state === null ? 'unknown' : rec.state.toLowerCase();
}

function reasonText(reason: string, alarms: readonly string[]): string {
  switch (reason) {
    case 'paused': return 'paused on the pump';
    case 'alarm': return alarms.length > 0 ? `halted by a pump alarm (${alarms.join(', ')})` : 'halted by a pump alarm';
    case 'stopped': return 'stopped and cleared on the pump';
    case 'rate 0': return 'running at a rate of 0 mL/h';
    case 'switched off': return 'switched off';
    default: return `not running (${reason})`;
  }
}

export function detectInfusionStopped(d: SentenceInput): void {
  const { rec, store, at, cfg } = d;
  // no more than the residual left (overfill, line priming) is a completed infusion, not a stopped one
  const halted = hasUnfinishedProgram(rec, cfg.volumeEpsilonMl) && !rec.running && volumeLeftMl(rec) > cfg.completeResidualMl;
  const active = store.isActive(rec.pump, 'infusion_stopped');
  if (!halted) {
    rec.stoppedSinceEffMs = null;
    rec.stoppedSincePumpTime = null;
    rec.stoppedSinceSeq = null;
    rec.stoppedReason = null;
    rec.poweredOnEffMs = null;
    if (active) store.clear(rec.pump, 'infusion_stopped', at, { clearedSeq: d.msg.seq, clearedPumpTime: d.msg.time });
    return;
  }
  if (rec.stoppedSinceEffMs === null) {
    rec.stoppedSinceEffMs = d.t.effMs;
    rec.stoppedSincePumpTime = d.msg.time;
    rec.stoppedSinceSeq = d.msg.seq;
    rec.stoppedReason = reasonOf(rec);
  }
  if (active) return;
  const stoppedMs = d.t.effMs - rec.stoppedSinceEffMs;
  // a nurse visit: stopped on purpose; a halt that outlasts the visit gets its grace from the visit's end
  if (visitActive(rec, d.t.historic ? pumpToServerMs(rec, d.t.pumpMs) : d.t.serverMs)) return;
  const afterVisit = graceFromEffMs(rec, rec.stoppedSinceEffMs) !== rec.stoppedSinceEffMs;
  if (d.t.effMs - graceFromEffMs(rec, rec.stoppedSinceEffMs) <= cfg.stoppedGraceS * 1000) return;
  if (rec.poweredOnEffMs !== null && d.t.effMs - rec.poweredOnEffMs <= cfg.stoppedGraceS * 1000) return;
  if (store.isActive(rec.pump, 'pump_off') || store.isActive(rec.pump, 'occlusion') || store.isActive(rec.pump, 'air_in_line') || store.isActive(rec.pump, 'pump_fault')
    || haltingUnknownAlarm(store, rec.pump)) return;
  const reason = reasonOf(rec);
  const left = volumeLeftMl(rec);
  // a halt that began with a switch-off says so: the nurse who saw pump_off knows which event this is
  const zone = messageZone(rec, d.clinical.serverTimeZone);
  const since = rec.stoppedReason === 'switched off' && reason !== 'switched off' ? 'since it was switched off at' : 'since';
  store.raise(rec.pump, rec.gateway, 'infusion_stopped', at,
    `Pump ${rec.pump}: infusion ${reasonText(reason, rec.alarms)} ${since} ${clockText(rec.stoppedSincePumpTime, zone)} (${durationText(stoppedMs)}), ${mlText(left)} still to give${afterVisit ? `; the nurse visit (${rec.visitEndedBy ?? 'unknown'}) ended at ${clockText(visitEndIso(rec), zone)}` : ''}. Call the patient to check the pump and restart it.`,
    {
      ...sentenceEvidence(d), reason, firstReason: rec.stoppedReason, state: rec.state, alarms: rec.alarms, stoppedSinceSeq: rec.stoppedSinceSeq,
      stoppedSincePumpTime: rec.stoppedSincePumpTime, stoppedMinutes: Math.round(stoppedMs / 60_000), volumeLeftMl: left,
      infusedMl: rec.infusedMl, rateMlH: rec.rateMlH, graceS: cfg.stoppedGraceS,
      ...(afterVisit ? { visitEndedAt: visitEndIso(rec), visitBy: rec.visitEndedBy } : {}),
    });
}

/** an active pump_alarm raised high: the pump halted on an alarm we do not know, and that alert says so */
function haltingUnknownAlarm(store: AlertStore, pump: string): boolean {
  const a = store.current(pump, 'pump_alarm')?.alert;
  return a?.status === 'active' && a.severity === 'high';
}

function visitEndIso(rec: PumpRecord): string | null {
  return rec.visitEndedServerMs === null ? null : new Date(rec.visitEndedServerMs).toISOString();
}
