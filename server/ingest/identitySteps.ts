/**
 * Sentence identities (seq, pump-time second) as steps from the identity before them: the
 * compact form of a pump's de-duplication window, in memory and in snapshots.
 *
 * A pump numbers its sentences +1 each and its clock moves forward, so almost every step is
 * "seq + 1, time + a few seconds" and fits one byte. Everything else (a gap, a power cycle, a
 * clock set back, sentences out of order) is spelt out in a few more bytes. Decoding gives the
 * identities back exactly: nothing is hashed or rounded.
 *
 * Step encoding (first byte):
 * - `0x00–0xEF`: seq + 1, time + that many seconds (0–239 s);
 * - `0xFE` + uvarint(Δt − 240): seq + 1, time + 240 s or more (a 300 s status interval);
 * - `0xFF` + uvarint(Δseq mod 65536) + zigzag varint(Δt): any other step.
 */

export const SEQ_SPAN = 65_536;
/** largest time step (s) of the one-byte form: a first byte up to this is the whole step */
export const SHORT_STEP_S = 0xef;
const TAG_LONG_TIME = 0xfe;
const TAG_ANY = 0xff;
/** most bytes one step can take: tag + 3 (seq) + 8 (time, |Δt| < 2^55) */
export const MAX_STEP_BYTES = 12;

/** seq part (0–65535) of an identity number (time s × 65536 + seq), safe integers only */
export function seqOf(id: number): number {
  return id - Math.floor(id / SEQ_SPAN) * SEQ_SPAN;
}

/** pump-time seconds of an identity number */
export function timeOf(id: number): number {
  return Math.floor(id / SEQ_SPAN);
}

/** Writes uvarint `v` (a non-negative safe integer) at `at`; returns the index after it. */
function putUvarint(buf: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    buf[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[at++] = v;
  return at;
}

/**
 * Appends the step from (prevSeq, prevTimeS) to (seq, timeS) at `at`; returns the index after it.
 * `buf` must have MAX_STEP_BYTES free from `at`.
 */
export function putStep(buf: Uint8Array, at: number, prevSeq: number, prevTimeS: number, seq: number, timeS: number): number {
  const dt = timeS - prevTimeS;
  if (seq === ((prevSeq + 1) & 0xffff) && dt >= 0) {
    if (dt <= SHORT_STEP_S) {
      buf[at] = dt;
      return at + 1;
    }
    buf[at] = TAG_LONG_TIME;
    return putUvarint(buf, at + 1, dt - SHORT_STEP_S - 1);
  }
  buf[at] = TAG_ANY;
  const next = putUvarint(buf, at + 1, (seq - prevSeq + SEQ_SPAN) % SEQ_SPAN);
  return putUvarint(buf, next, dt >= 0 ? dt * 2 : -dt * 2 - 1);
}

/**
 * A cursor over steps: `next()` moves `seq` and `timeS` to the identity of the step at `at`.
 * One object reused for a whole scan, so a scan allocates nothing.
 */
export class StepReader {
  seq = 0;
  timeS = 0;
  at = 0;

  constructor(private buf: Uint8Array) {}

  reset(buf: Uint8Array, at: number, seq: number, timeS: number): void {
    this.buf = buf;
    this.at = at;
    this.seq = seq;
    this.timeS = timeS;
  }

  next(): void {
    const b = this.buf[this.at++] as number;
    if (b <= SHORT_STEP_S) {
      this.seq = (this.seq + 1) & 0xffff;
      this.timeS += b;
    } else if (b === TAG_LONG_TIME) {
      this.seq = (this.seq + 1) & 0xffff;
      this.timeS += this.uvarint() + SHORT_STEP_S + 1;
    } else if (b === TAG_ANY) {
      this.seq = (this.seq + this.uvarint()) % SEQ_SPAN;
      const z = this.uvarint();
      this.timeS += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    } else {
      throw new RangeError(`identity steps: no step starts with byte ${b}`);
    }
  }

  private uvarint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.buf[this.at++];
      if (b === undefined) throw new RangeError('identity steps end inside a number');
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
  }
}
