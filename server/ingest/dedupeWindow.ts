import { parsePumpTime } from '../../protocol/decode.ts';
import { MAX_STEP_BYTES, putStep, seqOf, SHORT_STEP_S, StepReader, timeOf } from './identitySteps.ts';

/** snapshots of a window: the core and restore import them from here */
export { decodeIdentities, encodeIdentities } from './identitySnapshot.ts';

/**
 * Identity (pump, seq, time) of a sentence as one number: pump-time seconds × 65536 + seq.
 * Exact (a safe integer) for pump times up to the year 6325; the pump is a separate map key.
 */
export function identityNumber(seq: number, time: string): number {
  return (parsePumpTime(time) / 1000) * 65536 + seq;
}

/** spare bytes kept after the newest step, so the buffer is compacted rarely (and never per add) */
function slackFor(liveBytes: number): number {
  return Math.max(64, liveBytes >> 3);
}

/**
 * The last `capacity` identities of one pump, oldest first, as steps (identitySteps.ts): about
 * one byte per sentence instead of an 8-byte double. The oldest identity is kept whole; each
 * later one is a step from the one before it. Exactly the identities a ring of doubles would hold.
 */
class PumpWindow {
  private buf: Uint8Array;
  /** bytes [start, end) hold the steps of the identities after the oldest */
  private start = 0;
  private end = 0;
  size = 0;
  private oldestSeq = 0;
  private oldestTimeS = 0;
  private newestSeq = 0;
  private newestTimeS = 0;
  /** no identity in the window has a later time (an upper bound: exact after a full scan) */
  private maxTimeS = -Infinity;

  constructor(initialBytes: number, private readonly capacity: number) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** `reader` is shared by every window: a scan allocates nothing */
  has(seq: number, timeS: number, reader: StepReader): boolean {
    if (this.size === 0 || timeS > this.maxTimeS) return false; // the common case: a new second
    if (this.oldestSeq === seq && this.oldestTimeS === timeS) return true;
    const buf = this.buf;
    const end = this.end;
    // times relative to the oldest stay small integers: a scan in V8 then allocates nothing
    const base = this.oldestTimeS;
    const wantT = timeS - base;
    let maxT = 0;
    let s = this.oldestSeq;
    let t = 0;
    let at = this.start;
    // a local: a module-level constant is loaded again on every step of a bundled build
    const shortStepS = SHORT_STEP_S;
    while (at < end) {
      const b = buf[at] as number;
      if (b <= shortStepS) {
        // the one-byte step, inline: this loop is the whole cost of a replayed duplicate
        s = (s + 1) & 0xffff;
        t += b;
        at++;
      } else {
        reader.reset(buf, at, s, t);
        reader.next();
        s = reader.seq;
        t = reader.timeS;
        at = reader.at;
      }
      if (s === seq && t === wantT) return true;
      if (t > maxT) maxT = t;
    }
    this.maxTimeS = base + maxT;
    return false;
  }

  add(seq: number, timeS: number, reader: StepReader): void {
    if (this.size === this.capacity) this.dropOldest(reader);
    if (this.size === 0) {
      this.oldestSeq = this.newestSeq = seq;
      this.oldestTimeS = this.newestTimeS = timeS;
      this.maxTimeS = timeS;
      this.size = 1;
      return;
    }
    if (this.end + MAX_STEP_BYTES > this.buf.length) this.makeRoom();
    this.end = putStep(this.buf, this.end, this.newestSeq, this.newestTimeS, seq, timeS);
    this.newestSeq = seq;
    this.newestTimeS = timeS;
    if (timeS > this.maxTimeS) this.maxTimeS = timeS;
    this.size++;
  }

  private dropOldest(reader: StepReader): void {
    if (this.size === 1) {
      this.size = 0;
      this.start = this.end = 0;
      return;
    }
    reader.reset(this.buf, this.start, this.oldestSeq, this.oldestTimeS);
    reader.next();
    this.oldestSeq = reader.seq;
    this.oldestTimeS = reader.timeS;
    this.start = reader.at;
    this.size--;
  }

  /** moves the live steps to the front, into a larger buffer when they fill most of this one */
  private makeRoom(): void {
    const live = this.end - this.start;
    const want = live + MAX_STEP_BYTES + slackFor(live);
    if (want <= this.buf.length) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      const bigger = new Uint8Array(want);
      bigger.set(this.buf.subarray(this.start, this.end));
      this.buf = bigger;
    }
    this.start = 0;
    this.end = live;
  }

  newest(): number | null {
    return this.size === 0 ? null : this.newestTimeS * 65536 + this.newestSeq;
  }

  /** oldest first */
  toArray(reader: StepReader): number[] {
    if (this.size === 0) return [];
    const out = [this.oldestTimeS * 65536 + this.oldestSeq];
    reader.reset(this.buf, this.start, this.oldestSeq, this.oldestTimeS);
    while (reader.at < this.end) {
      reader.next();
      out.push(reader.timeS * 65536 + reader.seq);
    }
    return out;
  }

  get bytes(): number {
    return this.buf.byteLength;
  }
}

/**
 * Per-pump bounded memory of sentences already accepted: the last `capacity` distinct identities
 * of each pump, forgotten oldest first. A sentence is a duplicate only when its exact identity is
 * among them; an identity that is not a safe integer (a pump time after the year 6325) is never
 * remembered, so it can never be taken for another.
 */
export class DedupeWindows {
  private readonly pumps = new Map<string, PumpWindow>();
  private readonly reader = new StepReader(new Uint8Array(0));

  /** `initialBytes`: buffer of a new pump, grown on demand (about one byte per identity) */
  constructor(private readonly capacity = 1024, private readonly initialBytes = 32) {}

  /** true when (pump, id) was seen; otherwise remembers it and returns false */
  seenOrAdd(pump: string, id: number): boolean {
    if (!Number.isSafeInteger(id)) return false;
    const seq = seqOf(id);
    const timeS = timeOf(id);
    let w = this.pumps.get(pump);
    if (!w) {
      w = new PumpWindow(this.initialBytes, this.capacity);
      this.pumps.set(pump, w);
    } else if (w.has(seq, timeS, this.reader)) {
      return true;
    }
    w.add(seq, timeS, this.reader);
    return false;
  }

  has(pump: string, id: number): boolean {
    if (!Number.isSafeInteger(id)) return false;
    return this.pumps.get(pump)?.has(seqOf(id), timeOf(id), this.reader) ?? false;
  }

  /** the identity remembered last for a pump (the last sentence accepted, or the newest restored); null when none */
  newest(pump: string): number | null {
    return this.pumps.get(pump)?.newest() ?? null;
  }

  /** identities of a pump, oldest first, for snapshots */
  export(pump: string): number[] {
    return this.pumps.get(pump)?.toArray(this.reader) ?? [];
  }

  /** replaces a pump's window with these identities (oldest first; the newest `capacity` are kept) */
  restore(pump: string, ids: readonly number[]): void {
    const kept = ids.slice(-this.capacity).filter((id) => Number.isSafeInteger(id));
    const w = new PumpWindow(Math.max(this.initialBytes, kept.length + slackFor(kept.length)), this.capacity);
    for (const id of kept) w.add(seqOf(id), timeOf(id), this.reader);
    this.pumps.set(pump, w);
  }

  forget(pump: string): void {
    this.pumps.delete(pump);
  }

  get pumpCount(): number {
    return this.pumps.size;
  }

  /** bytes of step buffers held for all pumps (off-heap) */
  bufferBytes(): number {
    let n = 0;
    for (const w of this.pumps.values()) n += w.bytes;
    return n;
  }
}
