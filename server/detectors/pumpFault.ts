/**
 * pump_fault (high): the pump reports FAULT (internal fault) or CASS (reservoir cassette detached)
 * during a program. Either way delivery cannot be trusted until someone looks at the pump.
 */
import { hasUnfinishedProgram } from '../pumps/pumpRecord.ts';
import { clockText, messageZone } from './messageText.ts';
import { hasAlarm, sentenceEvidence, type SentenceInput } from './types.ts';

export function detectPumpFault(d: SentenceInput): void {
  const { rec, store, at, cfg } = d;
  const active = store.isActive(rec.pump, 'pump_fault');
  const fault = hasAlarm(rec.alarms, 'FAULT');
  const cassette = hasAlarm(rec.alarms, 'CASS');
  const unfinished = hasUnfinishedProgram(rec, cfg.volumeEpsilonMl);
  // The alarm going off while the pump still says ALARM is not the end yet: the next status tells.
  if (!((fault || cassette) && unfinished) && !(active && unfinished && rec.state === 'ALARM')) {
    if (active) store.clear(rec.pump, 'pump_fault', at, { clearedSeq: d.msg.seq, clearedPumpTime: d.msg.time });
    return;
  }
  if (active || !(fault || cassette)) return;
  const what = fault ? 'reports an internal fault' : 'reports the medicine cassette detached';
  store.raise(rec.pump, rec.gateway, 'pump_fault', at,
    `Pump ${rec.pump} ${what} since ${clockText(d.msg.time, messageZone(rec, d.clinical.serverTimeZone))}; delivery may have stopped. Call the patient; replace the pump if the fault does not clear.`,
    { ...sentenceEvidence(d), alarms: rec.alarms, state: rec.state, infusedMl: rec.infusedMl, code: fault ? 'FAULT' : 'CASS' });
}
