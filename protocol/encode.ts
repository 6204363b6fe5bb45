import { checksumHex } from './checksum.ts';
import type { Sentence } from './sentence.ts';

const amount = (n: number): string => n.toFixed(2);
const hours = (n: number): string => (Number.isInteger(n * 10) ? n.toFixed(1) : String(n));

function fieldsOf(s: Sentence): string[] {
  switch (s.type) {
    case 'status':
      return [
        'STS', s.pump, String(s.seq), s.time, s.state, amount(s.rateMlH), amount(s.infusedMl), amount(s.vtbiMl),
        s.reservoirMl === null ? '' : amount(s.reservoirMl),
        s.pressureMmHg === null ? '' : String(Math.round(s.pressureMmHg)),
        String(Math.round(s.batteryPct)), s.alarms.join('+'),
      ];
    case 'program':
      return ['PRG', s.pump, String(s.seq), s.time, s.programId, s.drug, amount(s.rateMlH), amount(s.volumeMl), hours(s.hours)];
    case 'event':
      return ['EVT', s.pump, String(s.seq), s.time, s.code, s.detail];
  }
}

/** The sentence as the pump sends it, without line end: `$TYPE,...*CS`. */
export function encodeSentence(s: Sentence): string {
  const body = fieldsOf(s).join(',');
  return `$${body}*${checksumHex(body)}`;
}

/** `?HIST,<fromSeq>*CS`: gateway → pump history replay request, without line end. */
export function encodeHistRequest(fromSeq: number): string {
  const body = `HIST,${fromSeq}`;
  return `?${body}*${checksumHex(body)}`;
}

/** Parses a `?HIST` request line (the simulator's side). Returns the fromSeq or null. */
export function decodeHistRequest(line: string): number | null {
  const m = /^\?HIST,(\d{1,5})\*([0-9A-Fa-f]{2})\r?$/.exec(line);
  if (!m) return null;
  const from = Number(m[1]);
  if (from > 65535 || checksumHex(`HIST,${m[1]}`) !== (m[2] as string).toUpperCase()) return null;
  return from;
}
