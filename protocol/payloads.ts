import { decodeSentence } from './decode.ts';
import type { DecodeErrorCode, PayloadErrorCode } from './errors.ts';
import type { EventSentence, ProgramSentence, Sentence, StatusSentence } from './sentence.ts';

/** Envelope the gateway adds around each sentence (interfaces.md §3). */
export interface Envelope {
  v: 1;
  /** gateway clock when the line was read, ISO 8601 UTC with ms */
  received: string;
  /** the sentence exactly as received, without line end */
  raw: string;
  /**
   * Optional (added after v1 shipped; absent means false): the gateway read this sentence in a
   * pump's answer to `?HIST`, i.e. it is replayed history, not something the pump just said.
   */
  replay?: true;
}
export type StatusMessage = StatusSentence & Envelope;
export type ProgramMessage = ProgramSentence & Envelope;
export type EventMessage = EventSentence & Envelope;
/** One MQTT message on `pumpwatch/<gatewayId>/pumps/<serial>`. */
export type PumpMessage = StatusMessage | ProgramMessage | EventMessage;

/** Retained on `pumpwatch/<gatewayId>/availability`. */
export interface AvailabilityMessage {
  state: 'online' | 'offline';
  time: string;
}

export function toPumpMessage(sentence: Sentence, raw: string, received: Date, replay = false): PumpMessage {
  const m: PumpMessage = { v: 1, ...sentence, received: received.toISOString(), raw };
  if (replay) m.replay = true;
  return m;
}

export type ValidationResult =
  | { ok: true; message: PumpMessage }
  | { ok: false; code: PayloadErrorCode; decodeCode?: DecodeErrorCode; reason: string };

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

function fail(code: PayloadErrorCode, reason: string, decodeCode?: DecodeErrorCode): ValidationResult {
  return decodeCode ? { ok: false, code, reason, decodeCode } : { ok: false, code, reason };
}

function sameAlarms(a: unknown, b: string[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The fields of `decoded` that the payload must repeat exactly. */
function mismatchedField(p: Record<string, unknown>, d: Sentence): string | null {
  if (p.type !== d.type) return 'type';
  if (p.pump !== d.pump) return 'pump';
  if (p.seq !== d.seq) return 'seq';
  if (p.time !== d.time) return 'time';
  switch (d.type) {
    case 'status':
      if (p.state !== d.state) return 'state';
      if (p.rateMlH !== d.rateMlH) return 'rateMlH';
      if (p.infusedMl !== d.infusedMl) return 'infusedMl';
      if (p.vtbiMl !== d.vtbiMl) return 'vtbiMl';
      if (p.reservoirMl !== d.reservoirMl) return 'reservoirMl';
      if (p.pressureMmHg !== d.pressureMmHg) return 'pressureMmHg';
      if (p.batteryPct !== d.batteryPct) return 'batteryPct';
      if (!sameAlarms(p.alarms, d.alarms)) return 'alarms';
      return null;
    case 'program':
      if (p.programId !== d.programId) return 'programId';
      if (p.drug !== d.drug) return 'drug';
      if (p.rateMlH !== d.rateMlH) return 'rateMlH';
      if (p.volumeMl !== d.volumeMl) return 'volumeMl';
      if (p.hours !== d.hours) return 'hours';
      return null;
    case 'event':
      if (p.code !== d.code) return 'code';
      if (p.detail !== d.detail) return 'detail';
      return null;
  }
}

/**
 * Runtime validator for a pump message. `raw` is decoded again and every field must say what
 * raw says, so a sentence corrupted or forged between pump and server is caught. Extra fields
 * are allowed (the contract may be extended) but dropped from the result.
 */
export function validatePumpMessage(payload: unknown, topicSerial?: string): ValidationResult {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return fail('NOT_OBJECT', 'payload is not a JSON object');
  const p = payload as Record<string, unknown>;
  if (p.v !== 1) return fail('BAD_VERSION', 'v must be 1');
  if (p.type !== 'status' && p.type !== 'program' && p.type !== 'event') return fail('BAD_TYPE', 'type must be status, program or event');
  if (typeof p.raw !== 'string') return fail('BAD_RAW', 'raw must be a string');
  if (typeof p.received !== 'string' || !ISO_RE.test(p.received) || Number.isNaN(Date.parse(p.received))) {
    return fail('BAD_RECEIVED', 'received must be an ISO 8601 time');
  }
  if (p.replay !== undefined && typeof p.replay !== 'boolean') return fail('BAD_REPLAY', 'replay must be true or false');
  const decoded = decodeSentence(p.raw);
  if (!decoded.ok) return fail('BAD_RAW', `raw is not a valid sentence (${decoded.code})`, decoded.code);
  const field = mismatchedField(p, decoded.sentence);
  if (field) return fail('RAW_MISMATCH', `${field} disagrees with raw`);
  if (topicSerial !== undefined && decoded.sentence.pump !== topicSerial) return fail('TOPIC_MISMATCH', 'pump differs from the topic serial');
  // the envelope is added to the decoded object itself: a copy per message costs more than the check
  const message = decoded.sentence as Sentence & Partial<Envelope>;
  message.v = 1;
  message.received = p.received;
  message.raw = p.raw;
  if (p.replay === true) message.replay = true;
  return { ok: true, message: message as PumpMessage };
}

/** Parses and validates a message body straight off the wire. */
export function parsePumpMessage(body: Buffer | string, topicSerial?: string): ValidationResult {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return fail('NOT_JSON', 'payload is not JSON');
  }
  return validatePumpMessage(json, topicSerial);
}

export function validateAvailability(payload: unknown): AvailabilityMessage | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  if ((p.state !== 'online' && p.state !== 'offline') || typeof p.time !== 'string' || Number.isNaN(Date.parse(p.time))) return null;
  return { state: p.state, time: p.time };
}
