/** air_in_line (high): the pump reports AIR during a program; delivery halts until the air is cleared. */
import { hasUnfinishedProgram } from '../pumps/pumpRecord.ts';
import { clockText, messageZone } from './messageText.ts';
import { hasAlarm, sentenceEvidence, type SentenceInput } from './types.ts';

export function detectAirInLine(d: SentenceInput): void {
  const { rec, store, at, cfg } = d;
  const active = store.isActive(rec.pump, 'air_in_line');
  const unfinished = hasUnfinishedProgram(rec, cfg.volumeEpsilonMl);
  const air = hasAlarm(rec.alarms, 'AIR') && unfinished;
  // The alarm going off while the pump still says ALARM is not the end yet: the next status tells.
  if (!air && !(active && unfinished && rec.state === 'ALARM')) {
    if (active) store.clear(rec.pump, 'air_in_line', at, { clearedSeq: d.msg.seq, clearedPumpTime: d.msg.time });
    return;
  }
  if (active || !air) return;
  store.raise(rec.pump, rec.gateway, 'air_in_line', at,
    `Pump ${rec.pump}: air in the line, pump alarm since ${clockText(d.msg.time, messageZone(rec, d.clinical.serverTimeZone))}; delivery is halted. Call the patient: the line needs checking and the air removing before restarting.`,
    { ...sentenceEvidence(d), alarms: rec.alarms, state: rec.state, infusedMl: rec.infusedMl });
}
