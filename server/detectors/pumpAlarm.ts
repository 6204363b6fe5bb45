/**
 * pump_alarm: the pump reports an alarm code this server does not know (newer firmware; the
 * protocol says keep it and show it). No alarm is ever silent (interfaces.md §4): raised at once,
 * whether or not a program runs, with the code in `detail.code`; `high` while the pump is halted
 * (state ALARM), `medium` while it still delivers, following the pump as it halts or resumes.
 * Cleared when no unknown code is left.
 *
 * Also for an event code this server does not know that firmware names as an alarm (see
 * isAlarmEventCode): raised at the event; it holds until a status shows the pump out of ALARM (or
 * halted by a known alarm, whose own alert says why), since no status lists it as an alarm code.
 */
import type { Severity } from '../../protocol/api.ts';
import type { PumpMessage } from '../../protocol/payloads.ts';
import { EVENT_CODES, KNOWN_ALARMS } from '../../protocol/sentence.ts';
import type { PumpRecord } from '../pumps/pumpRecord.ts';
import { clockText, messageZone } from './messageText.ts';
import { sentenceEvidence, type SentenceInput } from './types.ts';

const KNOWN: ReadonlySet<string> = new Set(KNOWN_ALARMS);
const KNOWN_EVENTS: ReadonlySet<string> = new Set(EVENT_CODES);
/** ALARM as a word of the code: ALARM_PRESS, PRESS_ALARM, HIGH_ALARM_2 */
const ALARM_WORD = /(^|_)ALARM(_|$)/;
/** words that end an alarm rather than start one (as ALARM_OFF does) */
const ENDS_ALARM = /_(OFF|CLEAR|CLEARED)$/;

/** An event code not in the protocol whose name marks it as an alarm starting. */
export function isAlarmEventCode(code: string): boolean {
  return !KNOWN_EVENTS.has(code) && ALARM_WORD.test(code) && !ENDS_ALARM.test(code);
}

/** what the nurse is shown of an alarm event: its code, and its detail when it has one */
function eventCodeText(code: string, detail: string): string {
  return detail === '' ? code : `${code} ${detail}`;
}

/** An alarm known only from its event lasts until a status shows the pump out of ALARM, or halted by a known alarm. */
function eventAlarmHolds(rec: PumpRecord, msg: PumpMessage): boolean {
  if (msg.type !== 'status') return true;
  if (rec.state !== 'ALARM') return false;
  for (const a of rec.alarms) if (KNOWN.has(a)) return false;
  return true;
}

export function detectPumpAlarm(d: SentenceInput): void {
  const { rec, store, at, msg } = d;
  const current = store.current(rec.pump, 'pump_alarm');
  const active = current?.alert.status === 'active';
  let unknown: string[] | null = null;
  for (const code of rec.alarms) {
    if (!KNOWN.has(code)) (unknown ??= []).push(code);
  }
  let eventCode: string | null = null;
  if (msg.type === 'event' && isAlarmEventCode(msg.code)) eventCode = eventCodeText(msg.code, msg.detail);
  else if (active && typeof current.alert.detail.eventCode === 'string' && eventAlarmHolds(rec, msg)) eventCode = current.alert.detail.eventCode;
  if (eventCode !== null && !(unknown?.includes(eventCode) ?? false)) (unknown ??= []).push(eventCode);
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
  const zone = messageZone(rec, d.clinical.serverTimeZone);
  const message = halted
    ? `Pump ${rec.pump} has stopped on alarm ${code} (a code pumpwatch does not know) since ${clockText(since, zone)}. Call the patient and read the pump's screen.`
    : `Pump ${rec.pump} reports alarm ${code} (a code pumpwatch does not know) since ${clockText(since, zone)}; it is still delivering. Read the pump's screen with the patient.`;
  const detail = {
    ...sentenceEvidence(d), since, code, alarms: rec.alarms, state: rec.state, infusedMl: rec.infusedMl,
    ...(eventCode !== null ? { eventCode } : {}),
  };
  if (active) store.update(rec.pump, 'pump_alarm', message, detail, at.historic, severity);
  else store.raise(rec.pump, rec.gateway, 'pump_alarm', at, message, detail, severity);
}
