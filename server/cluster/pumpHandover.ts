/**
 * Handover: a pump this instance does not hold (new to it, or silent here long enough that another
 * instance may have judged it since) is rebuilt from storage BEFORE its next sentence is judged.
 * Its messages wait in a per-pump queue while it loads, and go on in arrival order; other pumps
 * are not held up. Static SHARD ownership keeps a pump held for good; shared subscriptions let a
 * pump move, so there a pump is re-read after `staleAfterMs` of silence or when another instance
 * announces it.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { judgedPrefix } from './judgedPrefix.ts';

export interface HandoverOptions {
  clock: Clock;
  /** shared mode: a pump silent this long here is rebuilt before use; null = static ownership */
  staleAfterMs: number | null;
  /** false for pumps of another SHARD (the core counts and drops them) */
  owns(serial: string): boolean;
  /** forgets the pump and reloads it from storage */
  rebuild(serial: string): Promise<void>;
  /** the core: validates, de-duplicates, journals and judges one message synchronously */
  accept(topic: string, payload: Buffer): void;
  /** drops a pump from the core */
  forget(serial: string): void;
  log: Pick<Logger, 'warn' | 'info'>;
  /** messages one loading pump may queue; beyond it the oldest waiting is dropped and counted */
  maxQueued?: number;
  /** the oldest queued message of a loading pump was dropped (counted and logged by the caller) */
  dropped?(serial: string): void;
  /** lease mode: true when storage is known to hold nothing of this pump (nothing to read before judging it) */
  fresh?(serial: string): boolean;
  /**
   * lease mode: the identity of the last sentence the state just rebuilt covers (null: none). The
   * waiting messages up to its first copy were judged by the previous owner and are dropped.
   */
  lastJudged?(serial: string): number | null;
  /** a waiting message the rebuilt state already covers was dropped (counted and logged by the caller) */
  covered?(serial: string): void;
}

interface Queued {
  topic: string;
  payload: Buffer;
  /** lease mode: kept for a takeover (bounded by the replay buffer, never pushed out of the queue) */
  kept?: true;
}

/** `pumpwatch/<gateway>/pumps/<serial>` → serial; null for any other topic */
export function pumpSerialOfTopic(topic: string): string | null {
  const parts = topic.split('/');
  return parts.length === 4 && parts[2] === 'pumps' && parts[3] !== '' ? (parts[3] as string) : null;
}

export class PumpHandover {
  rebuilds = 0;
  rebuildFailures = 0;
  queuedDropped = 0;
  /** lease mode: waiting messages dropped because the rebuilt state already covered them */
  alreadyJudged = 0;
  /** pump → server ms of its last message here */
  private readonly held = new Map<string, number>();
  private readonly loading = new Map<string, Queued[]>();
  /** loading pump → how many of its waiting messages were kept for a takeover */
  private readonly keptWaiting = new Map<string, number>();
  /** static mode after a complete start-up restore: pumps not held are new, nothing to read */
  private trustHeld = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly o: HandoverOptions) {}

  /** the pumps the start-up restore kept; `complete` = storage answered */
  startedWith(serials: Iterable<string>, complete: boolean): void {
    const now = this.o.clock.now();
    for (const s of serials) this.held.set(s, now);
    this.trustHeld = complete && this.o.staleAfterMs === null;
  }

  get loadingPumps(): number {
    return this.loading.size;
  }

  get heldPumps(): number {
    return this.held.size;
  }

  /** `kept`: lease mode, a message another instance judged, kept for this takeover */
  accept(topic: string, payload: Buffer, kept = false): void {
    const serial = pumpSerialOfTopic(topic);
    if (serial === null || !this.o.owns(serial)) {
      this.o.accept(topic, payload);
      return;
    }
    const item: Queued = kept ? { topic, payload, kept } : { topic, payload };
    const queue = this.loading.get(serial);
    if (queue) {
      const keptN = this.keptWaiting.get(serial) ?? 0;
      if (!kept && queue.length - keptN >= (this.o.maxQueued ?? 10_000)) {
        // the oldest live one goes: the kept ones may be what the rebuilt state covers (judgedPrefix)
        queue.splice(queue.findIndex((q) => q.kept !== true), 1);
        this.queuedDropped++;
        this.o.dropped?.(serial);
      }
      if (kept) this.keptWaiting.set(serial, keptN + 1);
      queue.push(item);
      return;
    }
    const now = this.o.clock.now();
    if (this.needsRebuild(serial, now)) {
      if (kept) this.keptWaiting.set(serial, 1);
      this.loading.set(serial, [item]);
      const p = this.load(serial);
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
      return;
    }
    this.held.set(serial, now);
    this.o.accept(topic, payload);
  }

  private needsRebuild(serial: string, now: number): boolean {
    const last = this.held.get(serial);
    if (last === undefined) return !this.trustHeld && this.o.fresh?.(serial) !== true;
    return this.o.staleAfterMs !== null && now - last > this.o.staleAfterMs;
  }

  private async load(serial: string): Promise<void> {
    try {
      await this.o.rebuild(serial);
      this.rebuilds++;
    } catch (err) {
      // storage unreachable: judging with what we have beats holding a pump's alarms back
      this.rebuildFailures++;
      this.o.log.warn({ pump: serial, err: (err as Error).message }, 'pump rebuild from storage failed; continuing without stored state');
    }
    const queue = this.loading.get(serial) ?? [];
    this.loading.delete(serial);
    this.keptWaiting.delete(serial);
    if (!this.o.owns(serial)) {
      // lease mode: the partition went elsewhere while the pump loaded; its new owner judges these
      this.o.forget(serial);
      return;
    }
    this.held.set(serial, this.o.clock.now());
    const covered = this.o.lastJudged ? judgedPrefix(this.o.lastJudged(serial), queue) : 0;
    for (let i = 0; i < covered; i++) this.o.covered?.(serial);
    this.alreadyJudged += covered;
    for (let i = covered; i < queue.length; i++) this.o.accept((queue[i] as Queued).topic, (queue[i] as Queued).payload);
  }

  /** lease mode: a pump of a partition just taken, rebuilt now (its open alerts shown, its silence watched) */
  take(serial: string): void {
    if (this.loading.has(serial) || this.held.has(serial)) return;
    this.loading.set(serial, []);
    const p = this.load(serial);
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** lease mode: a pump of a partition no longer held; forgotten at once (a loading one when it has loaded) */
  release(serial: string): void {
    this.held.delete(serial);
    if (!this.loading.has(serial)) this.o.forget(serial);
  }

  /** the pumps held or loading here */
  pumps(): string[] {
    return [...new Set([...this.held.keys(), ...this.loading.keys()])];
  }

  /** another instance announced the pump (shared mode): it is theirs now, stop watching it here */
  releasedTo(serial: string, instance: string): void {
    if (this.o.staleAfterMs === null || !this.held.has(serial) || this.loading.has(serial)) return;
    this.held.delete(serial);
    this.o.forget(serial);
    this.o.log.info({ pump: serial, to: instance }, 'pump handed over to another instance');
  }

  /** lets the rebuilds under way finish and hand their queued messages to the core */
  async stop(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
