import { encodeSentence } from '../../../protocol/encode.ts';
import type { Sentence } from '../../../protocol/sentence.ts';

/** Valid sentences of one made-up pump: POWER_ON at seq 0, then status lines a minute apart. */
export function syntheticSentences(pump: string, count: number, startMs = Date.UTC(2026, 10, 23, 9, 0, 0)): string[] {
  const out: string[] = [];
  for (let seq = 0; seq < count; seq++) {
    const time = new Date(startMs + seq * 60_000).toISOString().replace('.000Z', 'Z');
    const s: Sentence = seq === 0
      ? { type: 'event', pump, seq, time, code: 'POWER_ON', detail: '4.2.1' }
      : {
        type: 'status', pump, seq: seq % 65536, time, state: 'RUN', rateMlH: 5, infusedMl: Math.round(seq * 8.3) / 100,
        vtbiMl: 230, reservoirMl: 230, pressureMmHg: 35, batteryPct: 98, alarms: [],
      };
    out.push(encodeSentence(s));
  }
  return out;
}
