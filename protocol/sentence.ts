/** Decoded pump sentences (pump-serial-protocol.md, version 1). Field names match the MQTT payload. */

export const PUMP_STATES = ['IDLE', 'RUN', 'PAUSE', 'ALARM', 'END'] as const;
export type PumpState = (typeof PUMP_STATES)[number];

/** Alarm codes the pump documents. Others may appear in later firmware and are kept as-is. */
export const KNOWN_ALARMS = ['OCCL_DN', 'OCCL_UP', 'AIR', 'RES_LOW', 'RES_EMPTY', 'BATT_LOW', 'BATT_DEPL', 'CASS', 'FAULT'] as const;

export const EVENT_CODES = [
  'POWER_ON', 'POWER_OFF', 'PROGRAM', 'START', 'PAUSE', 'RESUME', 'STOP', 'END', 'ALARM_ON', 'ALARM_OFF', 'RATE', 'CLOCK',
] as const;
export type KnownEventCode = (typeof EVENT_CODES)[number];

/** Longest line, in bytes without the line end; anything longer is garbage. */
export const MAX_LINE_BYTES = 256;
/** Sequence counter modulus: 0–65535 then wraps. */
export const SEQ_MODULO = 65536;

export interface SentenceCommon {
  /** pump serial number, [A-Z0-9-]{3,20} */
  pump: string;
  /** 0–65535, +1 per sentence, wraps, 0 at power-on */
  seq: number;
  /** pump clock, `YYYY-MM-DDTHH:MM:SSZ` */
  time: string;
}

export interface StatusSentence extends SentenceCommon {
  type: 'status';
  state: PumpState;
  rateMlH: number;
  infusedMl: number;
  vtbiMl: number;
  /** null when the pump does not know */
  reservoirMl: number | null;
  /** null on pumps without a pressure sensor */
  pressureMmHg: number | null;
  batteryPct: number;
  alarms: string[];
}

export interface ProgramSentence extends SentenceCommon {
  type: 'program';
  programId: string;
  drug: string;
  rateMlH: number;
  volumeMl: number;
  hours: number;
}

export interface EventSentence extends SentenceCommon {
  type: 'event';
  /** one of EVENT_CODES; unknown codes from later firmware are kept */
  code: string;
  detail: string;
}

export type Sentence = StatusSentence | ProgramSentence | EventSentence;
export type SentenceType = Sentence['type'];

/** Identity of a sentence: (pump, seq, time). A ?HIST replay is byte-identical, so it has the same key. */
export function sentenceKey(s: SentenceCommon): string {
  return `${s.pump}|${s.seq}|${s.time}`;
}

/** Next sequence number after `seq`, across the wrap. */
export function nextSeq(seq: number): number {
  return (seq + 1) % SEQ_MODULO;
}

/** How far `to` is ahead of `from` counting across the wrap (0–65535). */
export function seqDistance(from: number, to: number): number {
  return (to - from + SEQ_MODULO) % SEQ_MODULO;
}
