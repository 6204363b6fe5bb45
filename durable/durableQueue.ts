import { closeSync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readCursor, writeCursor } from './cursorFile.ts';
import { DurableQueueError, toDurableError } from './errors.ts';
import { encodeFrame, FRAME_HEADER_BYTES } from './frame.ts';
import { SegmentCursor } from './segmentCursor.ts';
import { recoverSegments, segmentPath, type Segment } from './segments.ts';
import { StagingArea } from './stagingArea.ts';
import { TailCache, type QueuedRecord } from './tailCache.ts';

const fsyncAsync = promisify(fsync);

export interface DurableQueueOptions {
  dir: string;
  /** bound on the bytes of all segment files; appends beyond it fail with QUEUE_FULL */
  maxBytes?: number;
  /** a segment is closed and a new one started past this size */
  segmentBytes?: number;
  /** newest records kept in memory for reading; older ones are read back from disk */
  cacheBytes?: number;
  /** how often a moved ack cursor is persisted, ms */
  cursorPersistMs?: number;
  /** test seam: the write used for appends */
  writeSync?: (fd: number, buf: Buffer) => number;
}

export type { QueuedRecord };


/**
 * An append-only durable FIFO: segment files of length+CRC framed records and a persisted ack
 * cursor. `append` writes synchronously (survives kill -9 once it returns); `stage` numbers a
 * record now and `commit` writes every staged record in one write (a group commit for callers
 * that can hold their acknowledgement until then); `flush` makes it survive power loss (one
 * fsync for all concurrent callers).
 */
export class DurableQueue {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly cursorPersistMs: number;
  private readonly write: (fd: number, buf: Buffer) => number;
  private readonly cache: TailCache;
  private segments: Segment[] = [];
  private fd: number | null = null;
  /** closed-for-writing segments still to fsync before they are closed */
  private unsyncedFds: number[] = [];
  private dirDirty = false;
  private nextNo = 1;
  private ackedNo = 0;
  private persistedAck = 0;
  private syncedNo = 0;
  private totalBytes = 0;
  private syncing: Promise<void> | null = null;
  private nextRound: Promise<void> | null = null;
  private rounds = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly disk = new SegmentCursor();
  private readonly staged = new StagingArea();
  /** bytes cut off a torn tail at the last start() */
  truncatedBytes = 0;

  constructor(opts: DurableQueueOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.segmentBytes = opts.segmentBytes ?? Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(this.maxBytes / 8)));
    this.cursorPersistMs = opts.cursorPersistMs ?? 1000;
    this.write = opts.writeSync ?? ((fd, buf) => writeSync(fd, buf));
    this.cache = new TailCache(opts.cacheBytes ?? 4 * 1024 * 1024);
  }

  /** records appended and not yet acknowledged */
  get depth(): number {
    return this.nextNo - 1 - this.ackedNo;
  }
  /** bytes of segment files on disk, and of staged records about to be */
  get bytes(): number {
    return this.totalBytes + this.staged.bytes;
  }
  /** records staged and not yet written */
  get stagedCount(): number {
    return this.staged.records;
  }
  /** number of the newest record made durable by a completed flush */
  get durableNo(): number {
    return this.syncedNo;
  }
  /** fsync rounds so far: concurrent flush() callers share one (group commit) */
  get syncRounds(): number {
    return this.rounds;
  }
  get lastNo(): number {
    return this.nextNo - 1;
  }
  get ackedUpTo(): number {
    return this.ackedNo;
  }

  start(): void {
    if (this.fd !== null) return;
    mkdirSync(this.dir, { recursive: true });
    const cursor = readCursor(this.cursorPath());
    const report = recoverSegments(this.dir);
    this.truncatedBytes = report.truncatedBytes;
    this.segments = report.segments;
    const first = this.segments[0];
    const last = this.segments.at(-1);
    this.ackedNo = Math.max(cursor.acked, first ? first.firstNo - 1 : 0);
    this.nextNo = Math.max(last ? last.firstNo + last.count : 1, this.ackedNo + 1);
    this.ackedNo = Math.min(this.ackedNo, this.nextNo - 1);
    this.persistedAck = this.ackedNo;
    this.syncedNo = this.nextNo - 1;
    this.totalBytes = this.segments.reduce((n, s) => n + s.bytes, 0);
    if (last && last.firstNo + last.count === this.nextNo && last.bytes < this.segmentBytes) {
      this.fd = openSync(last.path, 'a');
    } else {
      this.openNewSegment();
    }
    this.deleteAckedSegments();
    this.timer = setInterval(() => this.persistCursor(), this.cursorPersistMs);
    this.timer.unref();
  }

  /** Appends one record; returns its number. Throws DurableQueueError (QUEUE_FULL, DISK_FULL, IO_ERROR). */
  append(record: Buffer | string): number {
    if (this.fd === null) throw new DurableQueueError('NOT_OPEN', 'queue is not started');
    this.commit();
    const payload = typeof record === 'string' ? Buffer.from(record) : record;
    const frame = encodeFrame(payload);
    if (this.totalBytes + frame.length > this.maxBytes) {
      throw new DurableQueueError('QUEUE_FULL', `queue holds ${this.totalBytes} of ${this.maxBytes} bytes`);
    }
    const seg = this.segments.at(-1) as Segment;
    if (seg.bytes >= this.segmentBytes && seg.count > 0) this.rotate();
    this.writeFrames(frame, 1, 'append');
    const no = this.nextNo++;
    this.cache.push(no, payload);
    return no;
  }

  /**
   * Numbers one record and makes it readable now; it is written at the next commit() (or append,
   * flush, stop). Throws DurableQueueError (QUEUE_FULL, NOT_OPEN, or a failed commit on rotation).
   */
  stage(record: Buffer | string): number {
    if (this.fd === null) throw new DurableQueueError('NOT_OPEN', 'queue is not started');
    const payload = typeof record === 'string' ? Buffer.from(record) : record;
    const frameBytes = FRAME_HEADER_BYTES + payload.length;
    if (this.bytes + frameBytes > this.maxBytes) {
      throw new DurableQueueError('QUEUE_FULL', `queue holds ${this.bytes} of ${this.maxBytes} bytes`);
    }
    const seg = this.segments.at(-1) as Segment;
    if (seg.bytes + this.staged.bytes >= this.segmentBytes && seg.count + this.staged.records > 0) {
      this.commit();
      this.rotate();
    }
    const view = this.staged.add(payload);
    const no = this.nextNo++;
    this.cache.push(no, view, true);
    return no;
  }

  /**
   * Writes every staged record with one write (survives kill -9 once it returns). On failure the
   * records stay staged and the next commit writes them again; throws DISK_FULL or IO_ERROR.
   */
  commit(): void {
    if (this.staged.records === 0 || this.fd === null) return;
    this.writeFrames(this.staged.pending(), this.staged.records, 'commit');
    this.staged.written();
  }

  /** `records` whole frames to the current segment; a failed write is cut off again */
  private writeFrames(buf: Buffer, records: number, what: string): void {
    const fd = this.fd as number;
    const seg = this.segments.at(-1) as Segment;
    let written = 0;
    try {
      while (written < buf.length) written += this.write(fd, written === 0 ? buf : buf.subarray(written));
    } catch (err) {
      this.undoPartialWrite(fd, seg);
      throw toDurableError(err, what);
    }
    seg.bytes += buf.length;
    seg.count += records;
    this.totalBytes += buf.length;
  }

  /** Makes every record appended so far durable; concurrent callers share one fsync. */
  flush(): Promise<void> {
    try {
      this.commit();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.nextRound) return this.nextRound;
    if (!this.syncing) {
      if (this.syncedNo === this.nextNo - 1 && this.unsyncedFds.length === 0 && !this.dirDirty) return Promise.resolve();
      this.syncing = this.syncOnce();
      return this.syncing;
    }
    const again = (): Promise<void> => {
      this.nextRound = null;
      this.syncing = this.syncOnce();
      return this.syncing;
    };
    this.nextRound = this.syncing.then(again, again);
    return this.nextRound;
  }

  /**
   * Up to `max` unacknowledged records numbered >= fromNo, in order. Recent ones come from the
   * memory cache, older ones from disk.
   */
  read(fromNo: number, max: number): QueuedRecord[] {
    const out: QueuedRecord[] = [];
    let no = Math.max(fromNo, this.ackedNo + 1);
    while (out.length < max && no < this.nextNo) {
      const cached = this.cache.from(no, max - out.length);
      if (cached.length > 0) {
        out.push(...cached);
        no += cached.length;
        continue;
      }
      const rec = this.disk.read(this.segments, no);
      if (!rec) break;
      out.push(rec);
      no = rec.no + 1;
    }
    return out;
  }

  /** Acknowledges every record numbered <= upToNo (a contiguous prefix). */
  ack(upToNo: number): void {
    const upTo = Math.min(upToNo, this.nextNo - 1);
    if (upTo <= this.ackedNo) return;
    this.ackedNo = upTo;
    this.cache.dropUpTo(upTo);
    this.deleteAckedSegments();
  }

  /** Writes the cursor if it moved (atomic rename). Runs periodically and at stop(). */
  persistCursor(): void {
    if (this.ackedNo === this.persistedAck) return;
    try {
      writeCursor(this.cursorPath(), { acked: this.ackedNo });
      this.persistedAck = this.ackedNo;
    } catch {
      // retried at the next tick; a stale cursor only means re-reading acked records
    }
  }

  async stop(): Promise<void> {
    if (this.fd === null) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      await this.flush();
    } finally {
      this.persistCursor();
      this.disk.close();
      for (const fd of this.unsyncedFds) closeSync(fd);
      this.unsyncedFds = [];
      closeSync(this.fd);
      this.fd = null;
    }
  }

  private async syncOnce(): Promise<void> {
    this.rounds++;
    const upTo = this.nextNo - 1;
    const fds = this.unsyncedFds;
    this.unsyncedFds = [];
    const dirDirty = this.dirDirty;
    this.dirDirty = false;
    try {
      for (const fd of fds) {
        await fsyncAsync(fd);
        closeSync(fd);
      }
      if (this.fd !== null) await fsyncAsync(this.fd);
      if (dirDirty) this.syncDir();
      this.syncedNo = Math.max(this.syncedNo, upTo);
    } catch (err) {
      this.dirDirty ||= dirDirty;
      throw toDurableError(err, 'flush');
    } finally {
      this.syncing = null;
    }
  }

  private syncDir(): void {
    const fd = openSync(this.dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private rotate(): void {
    if (this.fd !== null) this.unsyncedFds.push(this.fd);
    this.fd = null;
    this.openNewSegment();
  }

  private openNewSegment(): void {
    const path = segmentPath(this.dir, this.nextNo);
    try {
      this.fd = openSync(path, 'a');
    } catch (err) {
      throw toDurableError(err, 'new segment');
    }
    const last = this.segments.at(-1);
    if (last && last.count === 0) {
      // an empty segment numbered like the new one: reuse the entry
      if (last.path === path) return;
      this.segments.pop();
      unlinkSync(last.path);
    }
    this.segments.push({ firstNo: this.nextNo, path, bytes: 0, count: 0 });
    this.dirDirty = true;
  }

  private undoPartialWrite(fd: number, seg: Segment): void {
    try {
      // keep the framing clean: cut the half-written frame off again
      ftruncateSync(fd, seg.bytes);
    } catch {
      // recovery at the next start truncates it instead
    }
  }

  private deleteAckedSegments(): void {
    while (this.segments.length > 1) {
      const first = this.segments[0] as Segment;
      const second = this.segments[1] as Segment;
      if (second.firstNo - 1 > this.ackedNo) break;
      if (this.disk.isOn(first)) this.disk.close();
      try {
        unlinkSync(first.path);
      } catch {
        break; // retried at the next ack
      }
      this.segments.shift();
      this.totalBytes -= first.bytes;
      this.dirDirty = true;
    }
  }

  private cursorPath(): string {
    return join(this.dir, 'cursor.json');
  }
}
