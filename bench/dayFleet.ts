/**
 * A day of a fleet, minute by minute, as contract payloads: each pump sends its program, START
 * and a status at minute 0, then one status a minute (1,440 in all), pauses for three minutes
 * once (EVT PAUSE, statuses PAUSE, EVT RESUME, each event in the same second as a status), and
 * duplicates arrive as they do in a deployment: a QoS 1 redelivery of a pump's last three
 * sentences once a day, and for one pump in twenty a `?HIST` replay of its last 991 minutes from
 * a gateway that lost its state. Everything is computed from (pump, minute), so nothing is kept.
 */
import { encodeSentence } from '../protocol/encode.ts';
import { toPumpMessage } from '../protocol/payloads.ts';
import type { Sentence } from '../protocol/sentence.ts';

export const DAY_MINUTES = 1440;
/** minutes of history a `?HIST` replay brings back (the pump keeps 1,000 sentences) */
const HIST_MINUTES = 991;

export interface DayMessage {
  topic: string;
  body: Buffer;
}

export const daySerial = (i: number): string => `DY-${String(i).padStart(6, '0')}`;
const topicOf = (i: number): string => `pumpwatch/day-gw-${i % 100}/pumps/${daySerial(i)}`;
const isoSec = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** the minute a pump pauses (for three minutes) */
const pauseMinute = (i: number): number => 200 + ((i * 7) % 900);
const redeliveryMinute = (i: number): number => 600 + (i % 300);
const histMinute = (i: number): number => (i % 20 === 0 ? 1200 + ((i / 20) % 200) : -1);

/** seq of the first sentence a pump sends in minute m */
function firstSeq(i: number, m: number): number {
  if (m === 0) return 0;
  const p = pauseMinute(i);
  return 3 + (m - 1) + (m > p ? 1 : 0) + (m > p + 3 ? 1 : 0);
}

/** the sentences of pump i in minute m, in the order it sends them */
export function minuteSentences(i: number, m: number, startMs: number): Sentence[] {
  const pump = daySerial(i);
  const time = isoSec(startMs + m * 60_000);
  let seq = firstSeq(i, m);
  const out: Sentence[] = [];
  if (m === 0) {
    out.push({ type: 'program', pump, seq: seq++, time, programId: `P${i}`, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 });
    out.push({ type: 'event', pump, seq: seq++, time, code: 'START', detail: `P${i}` });
  }
  const p = pauseMinute(i);
  if (m === p) out.push({ type: 'event', pump, seq: seq++, time, code: 'PAUSE', detail: '' });
  if (m === p + 3) out.push({ type: 'event', pump, seq: seq++, time, code: 'RESUME', detail: '' });
  const paused = m >= p && m < p + 3;
  const runMinutes = m - Math.max(0, Math.min(m, p + 3) - p);
  const infusedMl = Math.min(230, Math.round((runMinutes * 500) / 60) / 100);
  out.push({
    type: 'status', pump, seq, time, state: paused ? 'PAUSE' : 'RUN', rateMlH: 5, infusedMl, vtbiMl: Math.round((230 - infusedMl) * 100) / 100,
    reservoirMl: Math.round((230 - infusedMl) * 100) / 100, pressureMmHg: 36, batteryPct: 90 - Math.floor(m / 60), alarms: [],
  });
  return out;
}

function message(i: number, s: Sentence, startMs: number, m: number): DayMessage {
  const received = new Date(startMs + m * 60_000 + 400);
  return { topic: topicOf(i), body: Buffer.from(JSON.stringify(toPumpMessage(s, encodeSentence(s), received))) };
}

/** pump i's messages of minute m: its new sentences, then any duplicates that arrive in that minute */
export function* minuteMessages(i: number, m: number, startMs: number): Generator<DayMessage & { duplicate: boolean }> {
  for (const s of minuteSentences(i, m, startMs)) yield { ...message(i, s, startMs, m), duplicate: false };
  if (m === redeliveryMinute(i)) {
    // the gateway never saw the PUBACKs of its last three publishes and sends them again
    const last = [m - 2, m - 1, m].flatMap((k) => minuteSentences(i, k, startMs).map((s) => ({ s, k }))).slice(-3);
    for (const { s, k } of last) yield { ...message(i, s, startMs, k), duplicate: true };
  }
  if (m === histMinute(i)) {
    // a replaced gateway asks the pump for its history and forwards all of it
    for (let k = m - HIST_MINUTES + 1; k <= m; k++) {
      for (const s of minuteSentences(i, k, startMs)) yield { ...message(i, s, startMs, k), duplicate: true };
    }
  }
}
