import { checksumOf } from './checksum.ts';
import type { DecodeErrorCode } from './errors.ts';
import {
  MAX_LINE_BYTES, PUMP_STATES, type PumpState, type Sentence, type EventSentence, type ProgramSentence, type StatusSentence,
} from './sentence.ts';

export type DecodeResult =
  | { ok: true; sentence: Sentence }
  | { ok: false; code: DecodeErrorCode };

const SERIAL_RE = /^[A-Z0-9-]{3,20}$/;
const SEQ_RE = /^\d{1,5}$/;
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
/** volumes and rates: up to 4 integer digits, up to 2 decimals */
const AMOUNT_RE = /^\d{1,4}(?:\.\d{1,2})?$/;
const HOURS_RE = /^\d{1,4}(?:\.\d{1,3})?$/;
const INT_RE = /^\d{1,4}$/;
const PROGRAM_ID_RE = /^[A-Za-z0-9_-]{1,24}$/;
const DRUG_RE = /^[A-Za-z0-9 ./-]{0,32}$/;
const CODE_RE = /^[A-Z0-9_]{1,24}$/;
const DETAIL_RE = /^[\x20-\x7e]{0,64}$/;
const STATES: ReadonlySet<string> = new Set(PUMP_STATES);

class FieldError extends Error {
  constructor(readonly code: DecodeErrorCode) {
    super(code);
  }
}

/** the last text parsed and its value: a fleet's sentences of the same second share it */
let lastTimeText = '';
let lastTimeMs = NaN;

/** Pump clock text to epoch ms, or NaN when it is not a real `YYYY-MM-DDTHH:MM:SSZ` instant. */
export function parsePumpTime(text: string): number {
  if (text === lastTimeText) return lastTimeMs;
  const ms = parseTimeText(text);
  lastTimeText = text;
  lastTimeMs = ms;
  return ms;
}

function parseTimeText(text: string): number {
  const m = TIME_RE.exec(text);
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return NaN;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return new Date(ms).getUTCDate() === d ? ms : NaN; // rejects 31 Nov and friends
}

function amount(text: string, max: number): number {
  if (!AMOUNT_RE.test(text)) throw new FieldError('BAD_NUMBER');
  const n = Number(text);
  if (n > max) throw new FieldError('BAD_NUMBER');
  return n;
}

function optionalAmount(text: string, max: number): number | null {
  return text === '' ? null : amount(text, max);
}

function integer(text: string, max: number): number {
  if (!INT_RE.test(text)) throw new FieldError('BAD_NUMBER');
  const n = Number(text);
  if (n > max) throw new FieldError('BAD_NUMBER');
  return n;
}

function matching(text: string, re: RegExp): string {
  if (!re.test(text)) throw new FieldError('BAD_FIELD');
  return text;
}

function alarmList(text: string): string[] {
  if (text === '') return [];
  return text.split('+').map((code) => matching(code, CODE_RE));
}

function decodeStatus(f: string[], pump: string, seq: number, time: string): StatusSentence {
  if (f.length !== 12) throw new FieldError('BAD_FIELD_COUNT');
  const state = f[4] as string;
  if (!STATES.has(state)) throw new FieldError('UNKNOWN_STATE');
  return {
    type: 'status', pump, seq, time,
    state: state as PumpState,
    rateMlH: amount(f[5] as string, 500),
    infusedMl: amount(f[6] as string, 9999.99),
    vtbiMl: amount(f[7] as string, 9999.99),
    reservoirMl: optionalAmount(f[8] as string, 9999.99),
    pressureMmHg: (f[9] as string) === '' ? null : integer(f[9] as string, 2000),
    batteryPct: integer(f[10] as string, 100),
    alarms: alarmList(f[11] as string),
  };
}

function decodeProgram(f: string[], pump: string, seq: number, time: string): ProgramSentence {
  if (f.length !== 9) throw new FieldError('BAD_FIELD_COUNT');
  const rateMlH = amount(f[6] as string, 500);
  const volumeMl = amount(f[7] as string, 9999.99);
  if (!HOURS_RE.test(f[8] as string)) throw new FieldError('BAD_NUMBER');
  return {
    type: 'program', pump, seq, time,
    programId: matching(f[4] as string, PROGRAM_ID_RE),
    drug: matching(f[5] as string, DRUG_RE),
    rateMlH, volumeMl,
    hours: Number(f[8]),
  };
}

function decodeEvent(f: string[], pump: string, seq: number, time: string): EventSentence {
  if (f.length !== 6) throw new FieldError('BAD_FIELD_COUNT');
  return {
    type: 'event', pump, seq, time,
    code: matching(f[4] as string, CODE_RE),
    detail: matching(f[5] as string, DETAIL_RE),
  };
}

/**
 * Decodes one line (line end already stripped; a trailing CR is tolerated).
 * Never throws: every malformed input comes back as a stable error code.
 */
export function decodeSentence(input: string): DecodeResult {
  const line = input.endsWith('\r') ? input.slice(0, -1) : input;
  if (line.length === 0) return { ok: false, code: 'EMPTY' };
  if (line.length > MAX_LINE_BYTES) return { ok: false, code: 'TOO_LONG' };
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return { ok: false, code: 'BAD_CHARACTER' };
  }
  if (line.charCodeAt(0) !== 0x24 /* $ */) return { ok: false, code: 'NO_START' };
  const star = line.length - 3;
  if (star < 1 || line.charCodeAt(star) !== 0x2a /* * */) return { ok: false, code: 'NO_CHECKSUM' };
  const csText = line.slice(star + 1);
  if (!/^[0-9A-Fa-f]{2}$/.test(csText)) return { ok: false, code: 'NO_CHECKSUM' };
  const body = line.slice(1, star);
  if (checksumOf(body) !== parseInt(csText, 16)) return { ok: false, code: 'BAD_CHECKSUM' };

  const f = body.split(',');
  const type = f[0];
  if (type !== 'STS' && type !== 'PRG' && type !== 'EVT') return { ok: false, code: 'UNKNOWN_TYPE' };
  if (f.length < 4) return { ok: false, code: 'BAD_FIELD_COUNT' };
  const pump = f[1] as string;
  if (!SERIAL_RE.test(pump)) return { ok: false, code: 'BAD_SERIAL' };
  const seqText = f[2] as string;
  const seq = Number(seqText);
  if (!SEQ_RE.test(seqText) || seq > 65535) return { ok: false, code: 'BAD_SEQ' };
  const time = f[3] as string;
  if (Number.isNaN(parsePumpTime(time))) return { ok: false, code: 'BAD_TIME' };
  try {
    if (type === 'STS') return { ok: true, sentence: decodeStatus(f, pump, seq, time) };
    if (type === 'PRG') return { ok: true, sentence: decodeProgram(f, pump, seq, time) };
    return { ok: true, sentence: decodeEvent(f, pump, seq, time) };
  } catch (err) {
    if (err instanceof FieldError) return { ok: false, code: err.code };
    throw err;
  }
}
