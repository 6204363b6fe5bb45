import { parsePumpTime } from '../../protocol/decode.ts';

/**
 * Identity (pump, seq, time) of a sentence as one number: pump-time seconds × 65536 + seq.
 * Exact in a double until the year 4000-odd; the pump is a separate map key.
 */
export function identityNumber(seq: number, time: string): number {
  return (parsePumpTime(time) / 1000) * 65536 + seq;
}

/**
 * The recent identities of one pump, in a ring that grows from a small size up to `capacity`.
 * A linear scan of at most `capacity` doubles is cheaper than a Set per pump and 10,000 pumps
 * stay within a few MB until their windows fill.
 */
class PumpWindow {
  ring: Float64Array;
  size = 0;
  head = 0;

  constructor(initial: number, private readonly capacity: number) {
    this.ring = new Float64Array(Math.min(initial, capacity));
  }

  has(id: number): boolean {
    const r = this.ring;
    for (let i = 0; i < this.size; i++) if (r[i] === id) return true;
    return false;
  }

  add(id: number): void {
    if (this.size < this.ring.length) {
      this.ring[this.size++] = id;
      return;
    }
    if (this.ring.length < this.capacity) {
      const bigger = new Float64Array(Math.min(this.ring.length * 2, this.capacity));
      // unroll the ring so insertion order is kept (oldest first)
      bigger.set(this.ring.subarray(this.head), 0);
      bigger.set(this.ring.subarray(0, this.head), this.ring.length - this.head);
      this.ring = bigger;
      this.head = 0;
      this.ring[this.size++] = id;
      return;
    }
    this.ring[this.head] = id;
    this.head = (this.head + 1) % this.ring.length;
  }

  /** oldest first */
  toArray(): number[] {
    const out: number[] = [];
    const n = this.size;
    for (let i = 0; i < n; i++) out.push(this.ring[(this.head + i) % n] as number);
    return out;
  }
}

/** Per-pump bounded memory of sentences already accepted. */
export class DedupeWindows {
  private readonly pumps = new Map<string, PumpWindow>();

  constructor(private readonly capacity = 1024, private readonly initial = 32) {}

  /** true when (pump, id) was seen; otherwise remembers it and returns false */
  seenOrAdd(pump: string, id: number): boolean {
    let w = this.pumps.get(pump);
    if (!w) {
      w = new PumpWindow(this.initial, this.capacity);
      this.pumps.set(pump, w);
    } else if (w.has(id)) {
      return true;
    }
    w.add(id);
    return false;
  }

  has(pump: string, id: number): boolean {
    return this.pumps.get(pump)?.has(id) ?? false;
  }

  /** identities of a pump, oldest first, for snapshots */
  export(pump: string): number[] {
    return this.pumps.get(pump)?.toArray() ?? [];
  }

  restore(pump: string, ids: readonly number[]): void {
    const w = new PumpWindow(Math.max(this.initial, ids.length), this.capacity);
    for (const id of ids.slice(-this.capacity)) w.add(id);
    this.pumps.set(pump, w);
  }

  forget(pump: string): void {
    this.pumps.delete(pump);
  }

  get pumpCount(): number {
    return this.pumps.size;
  }
}

/** compact form of identities for a snapshot */
export function encodeIdentities(ids: readonly number[]): string {
  return Buffer.from(new Float64Array(ids).buffer).toString('base64');
}

export function decodeIdentities(text: string): number[] {
  const buf = Buffer.from(text, 'base64');
  const n = Math.floor(buf.length / 8);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(buf.readDoubleLE(i * 8));
  return out;
}
