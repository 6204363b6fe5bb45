/**
 * A pump's recent identities in its checkpoint (`pump_state.dedupe`), as text.
 *
 * - Steps (written since the compact window): `v2:` + base64 of the oldest identity as a
 *   little-endian double, then one step per later identity (identitySteps.ts): about one byte
 *   per sentence.
 * - Doubles (written before, still read): base64 of one little-endian double per identity.
 *
 * `:` is not a base64 character, so the two can never be mistaken for each other. A list that is
 * not all safe integers is written as doubles, which hold any number.
 */
import { MAX_STEP_BYTES, putStep, seqOf, StepReader, timeOf } from './identitySteps.ts';

const STEPS_PREFIX = 'v2:';

export function encodeIdentities(ids: readonly number[]): string {
  if (ids.length === 0) return '';
  if (!ids.every((id) => Number.isSafeInteger(id))) return Buffer.from(new Float64Array(ids).buffer).toString('base64');
  const buf = Buffer.allocUnsafe(8 + (ids.length - 1) * MAX_STEP_BYTES);
  const first = ids[0] as number;
  buf.writeDoubleLE(first, 0);
  let at = 8;
  let seq = seqOf(first);
  let timeS = timeOf(first);
  for (let i = 1; i < ids.length; i++) {
    const id = ids[i] as number;
    at = putStep(buf, at, seq, timeS, seqOf(id), timeOf(id));
    seq = seqOf(id);
    timeS = timeOf(id);
  }
  return STEPS_PREFIX + buf.subarray(0, at).toString('base64');
}

/**
 * Identities of a stored window, oldest first. A damaged text gives none: the pump starts with an
 * empty window (a duplicate may pass once; no sentence is ever dropped for it).
 */
export function decodeIdentities(text: string): number[] {
  if (!text.startsWith(STEPS_PREFIX)) return decodeDoubles(text);
  const buf = Buffer.from(text.slice(STEPS_PREFIX.length), 'base64');
  if (buf.length < 8) return [];
  const first = buf.readDoubleLE(0);
  if (!Number.isSafeInteger(first)) return [];
  const out = [first];
  const reader = new StepReader(buf);
  reader.reset(buf, 8, seqOf(first), timeOf(first));
  try {
    while (reader.at < buf.length) {
      reader.next();
      out.push(reader.timeS * 65536 + reader.seq);
    }
  } catch {
    return [];
  }
  return out;
}

function decodeDoubles(text: string): number[] {
  const buf = Buffer.from(text, 'base64');
  const n = Math.floor(buf.length / 8);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(buf.readDoubleLE(i * 8));
  return out;
}
