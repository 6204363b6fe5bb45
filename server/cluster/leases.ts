/**
 * CLUSTER_MODE=lease: which partitions this instance judges now (docs/scaling.md, "Ownership by
 * lease"). Every LEASE_S/3 one round renews the leases held, records this instance's heartbeat,
 * reads the table and moves partitions by leasePlan. A partition is trusted only until
 * LEASE_S − margin after the renewal request was SENT: PostgreSQL's expiry is at least LEASE_S
 * after that moment, so this instance stops judging before anyone else may start — whatever the
 * offset between the two clocks, and even if the process slept (the check is against the clock,
 * not against a timer having fired). The store is injected: PostgreSQL in leaseStore.ts, a fake
 * in the unit tests.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { LEASE_PARTITIONS, partitionOf, planRound, type LeaseRow } from './leasePlan.ts';

export interface HeldLease {
  partition: number;
  token: number;
}

export interface LeaseStore {
  /** extends the leases still held under these tokens; returns the partitions extended */
  renew(me: string, held: readonly HeldLease[], leaseMs: number): Promise<number[]>;
  /** records this instance alive for aliveMs; returns the live instances and every lease row */
  heartbeat(me: string, aliveMs: number): Promise<{ live: string[]; rows: LeaseRow[] }>;
  /** takes the partitions that are free now; returns those obtained with their new tokens */
  acquire(me: string, partitions: readonly number[], leaseMs: number): Promise<HeldLease[]>;
  /** gives the leases up at once (owner cleared, token kept) */
  release(me: string, held: readonly HeldLease[]): Promise<void>;
  /** a clean stop: this instance is no longer counted */
  leave(me: string): Promise<void>;
}

export interface LeaseManagerOptions {
  store: LeaseStore;
  clock: Clock;
  instanceId: string;
  leaseMs: number;
  partitions?: number;
  log: Pick<Logger, 'info' | 'warn'>;
  /** partitions now held: rebuild their pumps and judge what was waiting */
  onAcquired(partitions: number[]): void;
  /** partitions no longer held (lease expired by this clock, or taken): forget their pumps at once */
  onLost(partitions: number[]): void;
  /** partitions about to be handed to another instance: already not judged here; store their state, then forget them */
  onReleasing(partitions: number[]): Promise<void>;
}

/** how long before its PostgreSQL expiry an instance stops trusting a lease */
export function leaseMarginMs(leaseMs: number): number {
  return Math.max(500, Math.round(leaseMs / 5));
}

export class LeaseManager {
  readonly partitions: number;
  /** partition → token and the local time until which it may be used */
  private readonly held = new Map<number, { token: number; validUntilMs: number }>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private failing = false;
  /** rounds completed */
  rounds = 0;
  acquired = 0;
  lost = 0;
  released = 0;

  constructor(private readonly o: LeaseManagerOptions) {
    this.partitions = o.partitions ?? LEASE_PARTITIONS;
  }

  /** the last round reached the lease table */
  get reachable(): boolean {
    return this.rounds > 0 && !this.failing;
  }

  get instanceId(): string {
    return this.o.instanceId;
  }

  /** true while this instance holds the pump's partition (by its own clock: the hot path of ingest) */
  owns(serial: string): boolean {
    return this.ownsPartition(partitionOf(serial, this.partitions));
  }

  ownsPartition(p: number): boolean {
    const h = this.held.get(p);
    return h !== undefined && this.o.clock.now() < h.validUntilMs;
  }

  /** the fencing token of the pump's partition while held; null otherwise */
  fence(serial: string): HeldLease | null {
    const partition = partitionOf(serial, this.partitions);
    const h = this.held.get(partition);
    if (!h || this.o.clock.now() >= h.validUntilMs) return null;
    return { partition, token: h.token };
  }

  /** the partitions held now, in order */
  owned(): number[] {
    const now = this.o.clock.now();
    return [...this.held].filter(([, h]) => now < h.validUntilMs).map(([p]) => p).sort((a, b) => a - b);
  }

  /** drops the partitions whose time ran out by this clock; call before judging on a timer */
  checkExpiry(): void {
    const now = this.o.clock.now();
    const lapsed = [...this.held].filter(([, h]) => now >= h.validUntilMs).map(([p]) => p);
    if (lapsed.length === 0) return;
    for (const p of lapsed) this.held.delete(p);
    this.lost += lapsed.length;
    this.o.log.warn({ partitions: lapsed.length }, 'leases not renewed in time: no longer judging their pumps');
    this.o.onLost(lapsed);
  }

  /** one round; returns the ms until the next one is due */
  async round(): Promise<number> {
    const { store, instanceId: me, leaseMs } = this.o;
    this.checkExpiry();
    const margin = leaseMarginMs(leaseMs);
    // 1. renew first: it is what keeps the pumps judged
    if (this.held.size > 0) {
      const sentMs = this.o.clock.now();
      const list = [...this.held].map(([partition, h]) => ({ partition, token: h.token }));
      const renewed = new Set(await store.renew(me, list, leaseMs));
      this.checkExpiry();
      const taken: number[] = [];
      for (const l of list) {
        const h = this.held.get(l.partition);
        if (renewed.has(l.partition)) {
          if (h) h.validUntilMs = sentMs + leaseMs - margin;
        } else if (h) {
          this.held.delete(l.partition);
          taken.push(l.partition);
        }
      }
      // renewed in PostgreSQL after this clock had already given them up: judge them again
      const back = list.filter((l) => renewed.has(l.partition) && !this.held.has(l.partition));
      for (const l of back) this.held.set(l.partition, { token: l.token, validUntilMs: sentMs + leaseMs - margin });
      if (taken.length > 0) {
        this.lost += taken.length;
        this.o.log.warn({ partitions: taken.length }, 'leases taken by another instance: no longer judging their pumps');
        this.o.onLost(taken);
      }
      if (back.length > 0) this.o.onAcquired(back.map((l) => l.partition));
    }
    // 2. heartbeat and the table
    // counted live for two rounds: a dead instance stops counting before its leases expire, so
    // the others' fair shares already cover its partitions the moment they become free
    const view = await store.heartbeat(me, Math.round((2 * leaseMs) / 3));
    const plan = planRound({ me, live: view.live, rows: view.rows, held: new Set(this.owned()), partitions: this.partitions });
    // 3. hand over the excess: not judged from here on, state stored, then the lease let go
    if (plan.release.length > 0) {
      const give = plan.release.flatMap((p) => {
        const h = this.held.get(p);
        return h ? [{ partition: p, token: h.token }] : [];
      });
      for (const g of give) this.held.delete(g.partition);
      await this.o.onReleasing(give.map((g) => g.partition));
      await store.release(me, give);
      this.released += give.length;
      this.o.log.info({ partitions: give.length, held: this.held.size }, 'leases handed over to a joining instance');
    }
    // 4. take free partitions
    if (plan.acquire.length > 0) {
      const sentMs = this.o.clock.now();
      const got = await store.acquire(me, plan.acquire, leaseMs);
      for (const g of got) this.held.set(g.partition, { token: g.token, validUntilMs: sentMs + leaseMs - margin });
      if (got.length > 0) {
        this.acquired += got.length;
        this.o.log.info({ partitions: got.length, held: this.held.size }, 'leases acquired');
        this.o.onAcquired(got.map((g) => g.partition));
      }
    }
    this.rounds++;
    // the next round: every third of a lease, or just after a lease of a silent instance expires
    let next = Math.round(leaseMs / 3);
    // (a live owner renews every third of a lease, so only a silent one's lease ends that soon)
    for (const r of view.rows) {
      if (r.owner !== null && r.owner !== me && r.expiresInMs > 0) next = Math.min(next, r.expiresInMs + 100);
    }
    return Math.max(100, next);
  }

  /** rounds until stop(); a failing round (PostgreSQL away) is retried, the held leases run out by the clock */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      // a round that hangs (a connection to a host that vanished) must not stop the next ones
      const limitMs = Math.max(5000, this.o.leaseMs);
      let limit: NodeJS.Timeout | null = null;
      const timedOut = new Promise<never>((_, reject) => {
        limit = setTimeout(() => reject(new Error(`lease round took over ${limitMs} ms`)), limitMs);
      });
      const run = Promise.race([this.round(), timedOut]).finally(() => {
        if (limit) clearTimeout(limit);
      }).then(
        (next) => {
          if (this.failing) this.o.log.info({ held: this.held.size }, 'lease table reachable again');
          this.failing = false;
          return next;
        },
        (err: unknown) => {
          if (!this.failing) this.o.log.warn({ err: (err as Error).message }, 'lease round failed; held leases run out unless renewed');
          this.failing = true;
          return Math.min(1000, Math.round(this.o.leaseMs / 3));
        },
      );
      this.running = run.then(() => undefined);
      void run.then((next) => {
        this.running = null;
        this.schedule(next);
      });
    }, ms);
  }

  /** stops the rounds; with `release`, gives every lease up after `beforeRelease` (state stored) */
  async stop(release?: { beforeRelease(): Promise<void> }): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    if (!release) return;
    const give = [...this.held].map(([partition, h]) => ({ partition, token: h.token }));
    this.held.clear();
    try {
      await release.beforeRelease();
      if (give.length > 0) await this.o.store.release(this.o.instanceId, give);
      await this.o.store.leave(this.o.instanceId);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'leases not released at stop; they expire by themselves');
    }
  }
}
