/**
 * pump_alarm: the pump reports an alarm code this server does not know (newer firmware; the
 * protocol says keep it and show it). No alarm is ever silent (interfaces.md §4): raised at once,
 * whether or not a program runs, with the code in `detail.code`; `high` while the pump is halted
 * (state ALARM), `medium` while it still delivers, following the pump as it halts or resumes.
 * Cleared when no unknown code is left.
 */
import type { Severity } from '../../protocol/api.ts';
import { KNOWN_ALARMS } from '../../protocol/sentence.ts';
import { clockText, messageZone } from './messageText.ts';
import { sentenceEvidence, type SentenceInput } from './types.ts';

const KNOWN: ReadonlySet<string> = new Set(KNOWN_ALARMS);

export function detectPumpAlarm(d: SentenceInput): void {
  const { rec, store, at } = d;
  const current = store.current(rec.pump, 'pump_alarm');
  const active = current?.alert.status === 'active';
  let unknown: string[] | null = null;
  for (const code of rec.alarms) {
    if (!KNOWN.has(code)) (unknown ??= []).push(code);
  }
  if (unknown === null) {
    if (active) store.clear(rec.pump, 'pump_alarm', at, { clearedSeq: d.msg.seq, clearedPumpTime: d.msg.time });
    return;
  }
  const halted = rec.state === 'ALARM';
  const severity: Severity = halted ? 'high' : 'medium';
  const code = unknown.join('+');
  if (active && current.alert.severity === severity && current.alert.detail.code === code) return;
  const held = active ? current.alert.detail.since : undefined;
  const since = typeof held === 'string' ? held : d.msg.time;
  const message = halted
    ? `Pump ${rec.pump} has stopped on alarm ${code} (a code pumpwatch does not know) since ${clockText(since, messageZone(rec, d.clinical.serverTimeZone))}. Call the patient and read the pump's screen.`
    : `Pump ${rec.pump} reports alarm ${code} (a code pumpwatch does not know) since ${clockText(since, messageZone(rec, d.clinical.serverTimeZone))}; it is still delivering. Read the pump's screen with the patient.`;
  const detail = { ...sentenceEvidence(d), since, code, alarms: rec.alarms, state: rec.state, infusedMl: rec.infusedMl };
  if (active) store.update(rec.pump, 'pump_alarm', message, detail, at.historic, severity);
  else store.raise(rec.pump, rec.gateway, 'pump_alarm', at, message, detail, severity);
}
