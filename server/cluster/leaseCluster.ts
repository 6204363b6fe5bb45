/**
 * CLUSTER_MODE=lease around the core (docs/scaling.md): a pump message is judged here only while
 * this instance holds the pump's partition; otherwise it is kept in the replay buffer. When a
 * partition is acquired, its buffered messages go through the handover (each pump rebuilt from
 * storage first, then its messages judged in arrival order; those up to the last one its
 * checkpoint recorded were judged by the previous owner and are dropped, judgedPrefix.ts), and
 * the partition's stored pumps are rebuilt so their open alerts and their silence are watched here. When a partition is lost
 * its pumps are forgotten at once; when it is handed over, their state is stored first.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { LiveChange } from '../events/facts.ts';
import type { PointStore } from '../storage/influxStore.ts';
import { MEASUREMENTS } from '../storage/points.ts';
import { partitionOf } from './leasePlan.ts';
import { LeaseManager, type LeaseStore } from './leases.ts';
import { pumpSerialOfTopic, type PumpHandover } from './pumpHandover.ts';
import { ReplayBuffer } from './replayBuffer.ts';

export interface LeaseClusterOptions {
  store: LeaseStore;
  clock: Clock;
  instanceId: string;
  leaseMs: number;
  checkpointMs: number;
  log: Logger;
  handover: PumpHandover;
  /** the pumps the core holds now */
  localPumps(): string[];
  /** a message of a pump judged elsewhere (counted like another SHARD's) */
  notMine(): void;
  /** the serials of every pump with a stored snapshot */
  storedPumps(): Promise<string[]>;
  /** stores a checkpoint of every changed pump now (before a partition is handed over) */
  checkpointNow(): Promise<void>;
  /** messages kept for takeover at most (default 500,000) */
  maxBuffered?: number;
}

/** how long another instance's messages are kept: its last checkpoint may be this old when it dies, plus noticing it */
export function replayWindowMs(leaseMs: number, checkpointMs: number): number {
  return 2 * checkpointMs + 2 * leaseMs + 10_000;
}

/** the serial of every stored pump snapshot (one light row per pump) */
export async function storedPumpSerials(store: PointStore): Promise<string[]> {
  const series = await store.select(`SELECT last("journalId") FROM "${MEASUREMENTS.pumpState}" GROUP BY "pump"`);
  return series.map((s) => s.tags.pump ?? '').filter((k) => k !== '' && !k.startsWith('@'));
}

export class LeaseCluster {
  readonly leases: LeaseManager;
  readonly buffer: ReplayBuffer;
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;
  /** partitions held whose stored pumps are listed: a pump of one that is not stored has nothing to read */
  private readonly listed = new Map<number, Set<string>>();

  constructor(private readonly o: LeaseClusterOptions) {
    this.log = o.log.child({ component: 'leases' });
    this.buffer = new ReplayBuffer({ windowMs: replayWindowMs(o.leaseMs, o.checkpointMs), maxMessages: o.maxBuffered ?? 500_000 });
    this.leases = new LeaseManager({
      store: o.store, clock: o.clock, instanceId: o.instanceId, leaseMs: o.leaseMs, log: this.log,
      onAcquired: (ps) => this.acquired(ps),
      onLost: (ps) => this.letGo(ps),
      onReleasing: async (ps) => {
        // not judged since the manager dropped them: store what was judged, then forget
        await o.checkpointNow().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'checkpoint before a handover failed; the next owner replays from the previous one'));
        this.letGo(ps);
      },
    });
  }

  owns(serial: string): boolean {
    return this.leases.owns(serial);
  }

  /** a pump message: true when it was kept for another instance (not judged here) */
  keepIfNotMine(topic: string, payload: Buffer): boolean {
    const serial = pumpSerialOfTopic(topic);
    if (serial === null || this.leases.owns(serial)) return false;
    this.buffer.add(partitionOf(serial, this.leases.partitions), topic, payload, this.o.clock.now());
    this.o.notMine();
    return true;
  }

  /** the changes this instance may publish: only those of pumps it holds now (a stale owner is silent) */
  ownChanges(changes: readonly LiveChange[]): LiveChange[] {
    return changes.filter((c) => {
      const pump = c.type === 'alert' ? c.alert.pump : c.pump.pump;
      return pump === '' || this.leases.owns(pump);
    });
  }

  /** lease mode: storage holds nothing of this pump (its partition is listed and it is not there) */
  fresh(serial: string): boolean {
    return this.listed.get(partitionOf(serial, this.leases.partitions))?.has(serial) === false;
  }

  private acquired(ps: number[]): void {
    for (const p of ps) this.listed.delete(p);
    const waiting = this.buffer.take(ps, this.o.clock.now());
    // each pump rebuilt before its first buffered message, the rest queued behind it in order
    for (const m of waiting) this.o.handover.accept(m.topic, m.payload, true);
    if (waiting.length > 0) this.log.info({ partitions: ps.length, messages: waiting.length }, 'judging messages another instance had not finished with');
    void this.o.storedPumps().then(
      (serials) => {
        const stored = new Map<number, Set<string>>(ps.map((p) => [p, new Set<string>()]));
        for (const s of serials) stored.get(partitionOf(s, this.leases.partitions))?.add(s);
        for (const [p, list] of stored) {
          if (!this.leases.ownsPartition(p)) continue;
          this.listed.set(p, list);
          for (const s of list) this.o.handover.take(s);
        }
      },
      (err: unknown) => this.log.warn({ err: (err as Error).message }, 'stored pumps unreadable; pumps of taken partitions are rebuilt at their next message'),
    );
  }

  private letGo(ps: number[]): void {
    const set = new Set(ps);
    for (const p of ps) this.listed.delete(p);
    const pumps = new Set([...this.o.handover.pumps(), ...this.o.localPumps()]);
    for (const s of pumps) if (!s.startsWith('@') && set.has(partitionOf(s, this.leases.partitions))) this.o.handover.release(s);
  }

  /** starts the lease rounds (PostgreSQL reachable) and the local expiry check */
  start(): void {
    this.leases.start();
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.leases.checkExpiry();
      this.buffer.prune(this.o.clock.now());
    }, 250);
    this.timer.unref();
  }

  /** a clean stop: state stored, then the leases given up so others take them at once */
  async stop(checkpoint: () => Promise<void>): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.leases.stop({ beforeRelease: checkpoint });
  }
}
