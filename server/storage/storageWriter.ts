/**
 * Drains the ingest journal into InfluxDB in batches (by size and time), writes derived points
 * (alert changes, audit) in order, and takes checkpoints: engine snapshots and billing records
 * covering journal entry P are written after every entry up to P, and only then is P
 * acknowledged to the journal. While InfluxDB is down everything waits in the journal (bounded on
 * disk) and in a small derived queue; writes retry with backoff.
 */
import type { IPoint } from 'influx';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { PointStore } from './influxStore.ts';
import type { LineBatch } from './lineLog.ts';
import type { PointOrLine } from './lineProtocol.ts';

/**
 * What the writer needs of the ingest journal (server/ingest/journalEntry.ts implements it): read
 * entries in order and discard them once stored. Declared here so storage depends on no ingest code.
 */
export interface StoredJournal {
  /** id of the newest appended entry (0 when none yet) */
  lastId(): number;
  /** up to `max` entries with id > afterId, oldest first */
  readAfter(afterId: number, max: number): { id: number; data: Buffer }[];
  /** everything up to and including id is stored and may be discarded */
  ack(id: number): void;
  /** id of the newest acknowledged entry */
  ackedId(): number;
}

export interface StorageWriterOptions {
  store: PointStore;
  journal: StoredJournal;
  clock: Clock;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  batchSize: number;
  flushMs: number;
  checkpointMs: number;
  /** points for one journal entry; empty for entries that are not stored themselves */
  entryPoints(id: number, data: Buffer): PointOrLine[];
  /**
   * Checkpoint points in slices: together they cover every journal entry up to `journalId`
   * (each snapshot may cover more); the writer yields to ingest between slices.
   */
  checkpoint(journalId: number): Iterator<IPoint[]>;
  /** lines of recent entries encoded on arrival (server/storage/lineLog.ts); the rest is decoded */
  lines?: { take(afterId: number, max: number): LineBatch | null; release(id: number): void };
}

/** a batch of journal entries: their lines ready to send, or their points */
interface EntryBatch {
  lastId: number;
  /** more entries may be waiting right behind it */
  more: boolean;
  points: number;
  body: Buffer | PointOrLine[];
}

const MAX_BACKOFF_MS = 10_000;
/** derived points (snapshots, alerts, audit) per write */
const DERIVED_CHUNK = 1000;
/** how often an idle writer checks that InfluxDB is still there, ms */
const PING_EVERY_MS = 2_000;
/**
 * While waiting for a batch to fill, the writer looks this often whether ingest has paused; if it
 * has, what is waiting is written now instead of at the end of `flushMs` (a burst's tail, a lone
 * alarm). Under steady load the journal grows between looks and batches stay large.
 */
const IDLE_LOOK_MS = 40;

export class StorageWriter {
  private readonly derived: IPoint[] = [];
  private derivedEnqueued = 0;
  private derivedWritten = 0;
  private readId: number;
  private pending: { journalId: number; derivedMark: number } | null = null;
  private lastCheckpointMs: number;
  private lastPingMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private backoffMs = 0;
  private up = false;
  private everWritten = false;
  /** points written since start */
  writtenPoints = 0;
  writeFailures = 0;

  constructor(private readonly o: StorageWriterOptions) {
    this.readId = o.journal.ackedId();
    this.lastCheckpointMs = o.clock.now();
  }

  get influxUp(): boolean {
    return this.up;
  }

  /** journal entries not yet stored, plus derived points waiting */
  backlog(): number {
    return Math.max(0, this.o.journal.lastId() - this.readId) + this.derived.length;
  }

  enqueue(points: IPoint[]): void {
    for (const p of points) this.derived.push(p);
    this.derivedEnqueued += points.length;
    if (this.derived.length >= this.o.batchSize) this.kick();
  }

  /** new journal entries arrived; writes at once when a batch is full */
  notify(): void {
    if (this.o.journal.lastId() - this.readId >= this.o.batchSize) this.kick();
  }

  start(): void {
    this.stopped = false;
    this.scheduleWait();
  }

  /** writes everything, takes a last checkpoint; gives up after `timeoutMs` (data stays in the journal) */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    const deadline = this.o.clock.now() + timeoutMs;
    this.lastCheckpointMs = -Infinity;
    for (;;) {
      const ok = await this.cycle().then(() => true, () => false);
      if ((ok && this.pending === null && this.backlog() === 0) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** checkpoints taken (their points enqueued; written within the same cycle) */
  private checkpointsTaken = 0;

  /** a checkpoint taken after this call and written (lease handover); throws when InfluxDB refuses it */
  async checkpointNow(): Promise<void> {
    const before = this.checkpointsTaken;
    // a cycle takes no checkpoint while the previous one is still being written: at most a few
    for (let i = 0; i < 4 && this.checkpointsTaken === before; i++) await this.flushNow();
    if (this.checkpointsTaken === before) throw new Error('no checkpoint could be taken');
  }

  /** forces a checkpoint on the next cycle and runs it (tests, shutdown) */
  async flushNow(): Promise<void> {
    this.lastCheckpointMs = -Infinity;
    await this.running;
    await this.cycle();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.cycle().then(
        () => {
          this.backoffMs = 0;
        },
        (err: unknown) => {
          this.writeFailures++;
          this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(250, this.backoffMs * 2));
          if (this.up || !this.everWritten) this.o.log.warn({ err: (err as Error).message, retryInMs: this.backoffMs }, 'InfluxDB write failed; holding data in the journal');
          this.up = false;
        },
      ).finally(() => {
        this.running = null;
        const again = this.again;
        this.again = false;
        if (this.backoffMs > 0) this.schedule(this.backoffMs);
        else if (again) this.schedule(0);
        else this.scheduleWait();
      });
    }, ms);
  }

  /** the next cycle after `flushMs`, or sooner once ingest pauses with entries waiting */
  private scheduleWait(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const startedMs = this.o.clock.now();
    let seenId = this.o.journal.lastId();
    const look = (): void => {
      this.timer = null;
      const lastId = this.o.journal.lastId();
      const waiting = lastId > this.readId || this.derived.length > 0;
      const paused = lastId === seenId;
      const left = this.o.flushMs - (this.o.clock.now() - startedMs);
      if (left <= 0 || (waiting && paused)) {
        this.schedule(0);
        return;
      }
      seenId = lastId;
      this.timer = setTimeout(look, Math.min(IDLE_LOOK_MS, left));
    };
    this.timer = setTimeout(look, Math.min(IDLE_LOOK_MS, this.o.flushMs));
  }

  private async write(points: PointOrLine[]): Promise<void> {
    const n = points.length;
    await this.o.store.write(points);
    this.wrote(n);
  }

  private wrote(points: number): void {
    this.writtenPoints += points;
    if (!this.up) this.o.log.info({ points }, 'InfluxDB writes going through');
    this.up = true;
    this.everWritten = true;
  }

  /** InfluxDB answered (schema check at start, or a ping while idle) */
  markUp(): void {
    this.up = true;
    this.everWritten = true;
  }

  private async cycle(): Promise<void> {
    const j = this.o.journal;
    const writtenBefore = this.writtenPoints;
    if (this.pending === null && this.o.clock.now() - this.lastCheckpointMs >= this.o.checkpointMs) {
      const journalId = j.lastId();
      const slices = this.o.checkpoint(journalId);
      for (let r = slices.next(); !r.done; r = slices.next()) {
        this.enqueueSilently(r.value);
        if (this.derived.length >= DERIVED_CHUNK) await this.writeDerived(); // keeps memory flat
        else await new Promise((resolve) => setImmediate(resolve)); // let ingest run between slices
      }
      this.pending = { journalId, derivedMark: this.derivedEnqueued };
      this.lastCheckpointMs = this.o.clock.now();
      this.checkpointsTaken++;
    }
    for (;;) {
      // two batches in flight: InfluxDB answers one while the next is on the wire
      const first = this.nextBatch(this.readId);
      if (!first) break;
      const second = first.more ? this.nextBatch(first.lastId) : null;
      await Promise.all([first, second].flatMap((b) => (b ? [this.writeBatch(b)] : [])));
      const last = second ?? first;
      this.readId = last.lastId;
      this.o.lines?.release(this.readId);
      if (!last.more) break;
    }
    await this.writeDerived();
    if (this.writtenPoints === writtenBefore && this.o.clock.now() - this.lastPingMs >= PING_EVERY_MS) {
      this.lastPingMs = this.o.clock.now();
      if (!(await this.o.store.ping().catch(() => false))) throw new Error('InfluxDB does not answer /ping');
      if (!this.up) this.o.log.info({}, 'InfluxDB answers again');
      this.up = true;
    }
    const p = this.pending;
    if (p && this.readId >= p.journalId && this.derivedWritten >= p.derivedMark) {
      if (p.journalId > j.ackedId()) j.ack(p.journalId);
      this.pending = null;
    }
  }

  private async writeDerived(): Promise<void> {
    while (this.derived.length > 0) {
      // snapshots are large: smaller writes keep each serialisation short
      const chunk = this.derived.slice(0, Math.min(this.o.batchSize, DERIVED_CHUNK));
      await this.write(chunk);
      this.derived.splice(0, chunk.length);
      this.derivedWritten += chunk.length;
    }
  }

  private nextBatch(afterId: number): EntryBatch | null {
    const cached = this.o.lines?.take(afterId, this.o.batchSize);
    if (cached) return { lastId: cached.lastId, more: cached.lastId < this.o.journal.lastId(), points: cached.points, body: cached.body };
    const entries = this.o.journal.readAfter(afterId, this.o.batchSize);
    if (entries.length === 0) return null;
    const points = this.pointsOf(entries);
    return { lastId: (entries[entries.length - 1] as { id: number }).id, more: entries.length === this.o.batchSize, points: points.length, body: points };
  }

  private async writeBatch(b: EntryBatch): Promise<void> {
    if (Array.isArray(b.body)) return this.write(b.body);
    if (b.body.length > 0) await this.o.store.writeLines(b.body);
    this.wrote(b.points);
  }

  private pointsOf(batch: { id: number; data: Buffer }[]): PointOrLine[] {
    const points: PointOrLine[] = [];
    for (const e of batch) for (const p of this.o.entryPoints(e.id, e.data)) points.push(p);
    return points;
  }

  private enqueueSilently(points: IPoint[]): void {
    for (const p of points) this.derived.push(p);
    this.derivedEnqueued += points.length;
  }
}
