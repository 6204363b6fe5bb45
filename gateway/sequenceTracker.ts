import { nextSeq, seqDistance, SEQ_MODULO } from '../protocol/sentence.ts';

/** What the tracker needs to know of a sentence. */
export interface TrackedSentence {
  pump: string;
  seq: number;
  time: string;
  /** EVT POWER_ON: seq 0 after it is a power cycle, not a gap */
  powerOn: boolean;
}

export interface TrackerOptions {
  /** identities remembered per pump for de-duplication (≥ 2,000: a ?HIST replays up to 1,000) */
  windowSize?: number;
  /** ms a gap holds later sentences while the replay comes */
  holdMs?: number;
  /** held sentences per pump before the hold is released anyway (memory bound) */
  maxHeld?: number;
}

export type AcceptResult<T> =
  | { kind: 'duplicate' }
  | { kind: 'accepted'; release: T[]; histFrom: number | null };

/** Persisted per pump so de-duplication and gap detection survive a restart. */
export interface PumpSeqState {
  lastSeq: number;
  recent: string[];
}

interface Held<T> {
  time: string;
  item: T;
}

interface PumpTrack<T> {
  lastSeq: number;
  recent: string[];
  recentSet: Set<string>;
  /** seq → held sentence while a gap is open */
  held: Map<number, Held<T>>;
  holdUntilMs: number | null;
}

export interface TrackerCounters {
  duplicates: number;
  gapsFound: number;
  gapsRecovered: number;
  gapsUnrecovered: number;
}

const identity = (seq: number, time: string): string => `${seq}|${time}`;
/** a sentence more than half the counter behind is taken as "before", not "after" */
const HALF = SEQ_MODULO / 2;

/**
 * Per-pump sequence tracking (pure; the caller passes the time). Drops duplicates by identity
 * (seq, time), detects gaps in seq, holds later sentences while a ?HIST replay fills the gap, and
 * releases sentences in seq order.
 */
export class SequenceTracker<T> {
  private readonly pumps = new Map<string, PumpTrack<T>>();
  private readonly windowSize: number;
  private readonly holdMs: number;
  private readonly maxHeld: number;
  readonly counters: TrackerCounters = { duplicates: 0, gapsFound: 0, gapsRecovered: 0, gapsUnrecovered: 0 };

  constructor(opts: TrackerOptions = {}) {
    this.windowSize = opts.windowSize ?? 2048;
    this.holdMs = opts.holdMs ?? 5000;
    this.maxHeld = opts.maxHeld ?? 4096;
  }

  accept(s: TrackedSentence, item: T, nowMs: number): AcceptResult<T> {
    const key = identity(s.seq, s.time);
    let p = this.pumps.get(s.pump);
    if (!p) {
      p = this.newTrack(s.seq);
      this.pumps.set(s.pump, p);
      this.remember(p, key);
      return { kind: 'accepted', release: [item], histFrom: null };
    }
    if (p.recentSet.has(key) || p.held.get(s.seq)?.time === s.time) {
      this.counters.duplicates++;
      return { kind: 'duplicate' };
    }
    if (s.powerOn && s.seq === 0) {
      // power cycle: the counter restarts; whatever a hold still waits for will not come
      const release = this.releaseHeld(p, true);
      p.lastSeq = 0;
      this.remember(p, key);
      release.push(item);
      return { kind: 'accepted', release, histFrom: null };
    }
    const ahead = seqDistance(p.lastSeq, s.seq);
    if (ahead === 0 || ahead > HALF) {
      // behind us and not a known duplicate: the pump restarted without a POWER_ON we saw
      const release = this.releaseHeld(p, true);
      p.lastSeq = s.seq;
      this.remember(p, key);
      release.push(item);
      return { kind: 'accepted', release, histFrom: null };
    }
    if (ahead === 1) {
      p.lastSeq = s.seq;
      this.remember(p, key);
      const release = [item, ...this.drainContiguous(p)];
      if (p.held.size === 0 && p.holdUntilMs !== null) {
        p.holdUntilMs = null;
        this.counters.gapsRecovered++;
      }
      return { kind: 'accepted', release, histFrom: null };
    }
    // a gap: hold this one and ask the pump for what is missing
    p.held.set(s.seq, { time: s.time, item });
    let histFrom: number | null = null;
    if (p.holdUntilMs === null) {
      p.holdUntilMs = nowMs + this.holdMs;
      this.counters.gapsFound++;
      histFrom = nextSeq(p.lastSeq);
    }
    const release = p.held.size > this.maxHeld ? this.releaseHeld(p, true) : [];
    return { kind: 'accepted', release, histFrom };
  }

  /** Releases holds whose time is up, in seq order (the gap counts as unrecovered). */
  tick(nowMs: number): T[] {
    const out: T[] = [];
    for (const p of this.pumps.values()) {
      if (p.holdUntilMs !== null && nowMs >= p.holdUntilMs) out.push(...this.releaseHeld(p, true));
    }
    return out;
  }

  /** The seq expected next from a pump (for ?HIST after a reconnect), or null if unknown. */
  expectedSeq(pump: string): number | null {
    const p = this.pumps.get(pump);
    return p ? nextSeq(p.lastSeq) : null;
  }

  /** A ?HIST for an open gap was re-sent (the link dropped meanwhile): give the replay time again. */
  renewHold(pump: string, nowMs: number): void {
    const p = this.pumps.get(pump);
    if (p && p.holdUntilMs !== null) p.holdUntilMs = nowMs + this.holdMs;
  }

  /** Whether a gap hold is open for the pump (a ?HIST is already under way). */
  isHolding(pump: string): boolean {
    return (this.pumps.get(pump)?.holdUntilMs ?? null) !== null;
  }

  /**
   * Forgets sentences that were accepted but could not be kept (queue full) so that a later ?HIST
   * replay of them is not taken for duplicates, and rewinds the pump to before `fromSeq`.
   */
  rewind(pump: string, fromSeq: number, forgetKeys: Iterable<{ seq: number; time: string }>): void {
    const p = this.pumps.get(pump);
    if (!p) return;
    for (const k of forgetKeys) p.recentSet.delete(identity(k.seq, k.time));
    p.recent = p.recent.filter((k) => p.recentSet.has(k));
    p.lastSeq = (fromSeq - 1 + SEQ_MODULO) % SEQ_MODULO;
  }

  knownPumps(): string[] {
    return [...this.pumps.keys()];
  }

  snapshot(): Record<string, PumpSeqState> {
    const out: Record<string, PumpSeqState> = {};
    for (const [pump, p] of this.pumps) out[pump] = { lastSeq: p.lastSeq, recent: p.recent.slice() };
    return out;
  }

  restore(state: Record<string, PumpSeqState>): void {
    for (const [pump, st] of Object.entries(state)) {
      if (!Number.isInteger(st.lastSeq) || st.lastSeq < 0 || st.lastSeq >= SEQ_MODULO || !Array.isArray(st.recent)) continue;
      const p = this.newTrack(st.lastSeq);
      for (const k of st.recent.slice(-this.windowSize)) if (typeof k === 'string') this.remember(p, k);
      this.pumps.set(pump, p);
    }
  }

  private newTrack(lastSeq: number): PumpTrack<T> {
    return { lastSeq, recent: [], recentSet: new Set(), held: new Map(), holdUntilMs: null };
  }

  private remember(p: PumpTrack<T>, key: string): void {
    p.recent.push(key);
    p.recentSet.add(key);
    if (p.recent.length > this.windowSize * 2) {
      // trim in batches: one slice per windowSize sentences, not a shift per sentence
      for (const old of p.recent.slice(0, p.recent.length - this.windowSize)) p.recentSet.delete(old);
      p.recent = p.recent.slice(-this.windowSize);
      for (const k of p.recent) p.recentSet.add(k);
    }
  }

  private drainContiguous(p: PumpTrack<T>): T[] {
    const out: T[] = [];
    for (let next = nextSeq(p.lastSeq), h = p.held.get(next); h; next = nextSeq(p.lastSeq), h = p.held.get(next)) {
      p.held.delete(next);
      p.lastSeq = next;
      this.remember(p, identity(next, h.time));
      out.push(h.item);
    }
    return out;
  }

  /** Everything held, in seq order after lastSeq; ends the hold. */
  private releaseHeld(p: PumpTrack<T>, unrecovered: boolean): T[] {
    if (p.holdUntilMs === null && p.held.size === 0) return [];
    if (unrecovered && p.holdUntilMs !== null) this.counters.gapsUnrecovered++;
    const base = p.lastSeq;
    const seqs = [...p.held.keys()].sort((a, b) => seqDistance(base, a) - seqDistance(base, b));
    const out: T[] = [];
    for (const seq of seqs) {
      const h = p.held.get(seq) as Held<T>;
      this.remember(p, identity(seq, h.time));
      out.push(h.item);
      p.lastSeq = seq;
    }
    p.held.clear();
    p.holdUntilMs = null;
    return out;
  }
}
