/**
 * The ingest journal on the shared durable queue (durable/): appends are staged and written by
 * commit() in one write (kept through kill -9 once it returns), fsync runs every `fsyncMs` for
 * all writes since the last one (power loss can take at most that much). The folder also holds an epoch file that
 * names this journal, so snapshots know which journal their entry numbers refer to.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DurableQueue } from '../../durable/index.ts';
import type { IngestJournal } from './journalEntry.ts';

export interface DurableJournalOptions {
  dir: string;
  maxBytes: number;
  fsyncMs: number;
  onFsyncError?(err: Error): void;
}

/** back-pressure starts this far below the byte bound, so an acknowledgement still fits */
const HEADROOM_BYTES = 64 * 1024;

export class DurableJournal implements IngestJournal {
  private readonly queue: DurableQueue;
  private timer: NodeJS.Timeout | null = null;
  readonly epoch: string;

  constructor(private readonly o: DurableJournalOptions) {
    mkdirSync(o.dir, { recursive: true });
    const epochFile = join(o.dir, 'epoch');
    if (!existsSync(epochFile)) writeFileSync(epochFile, randomUUID());
    this.epoch = readFileSync(epochFile, 'utf8').trim();
    // no memory cache: the storage writer sends recent entries from its own line log and reads
    // only a longer backlog back, which is on disk anyway
    this.queue = new DurableQueue({ dir: join(o.dir, 'queue'), maxBytes: o.maxBytes, cacheBytes: 0 });
  }

  open(): Promise<void> {
    this.queue.start();
    if (this.o.fsyncMs > 0) {
      this.timer = setInterval(() => {
        this.queue.flush().catch((err: unknown) => this.o.onFsyncError?.(err as Error));
      }, this.o.fsyncMs);
      this.timer.unref();
    }
    return Promise.resolve();
  }

  append(data: Buffer): number {
    return this.queue.stage(data);
  }

  commit(): void {
    if (this.queue.stagedCount === 0) return;
    this.queue.commit();
    if (this.o.fsyncMs === 0) this.queue.flush().catch((err: unknown) => this.o.onFsyncError?.(err as Error));
  }

  full(): boolean {
    return this.queue.bytes + HEADROOM_BYTES >= this.o.maxBytes;
  }

  lastId(): number {
    return this.queue.lastNo;
  }

  readAfter(afterId: number, max: number): { id: number; data: Buffer }[] {
    return this.queue.read(afterId + 1, max).map((r) => ({ id: r.no, data: r.data }));
  }

  ack(id: number): void {
    this.queue.ack(id);
  }

  ackedId(): number {
    return this.queue.ackedUpTo;
  }

  pendingEntries(): number {
    return this.queue.depth;
  }

  pendingBytes(): number {
    return this.queue.bytes;
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue.stop();
  }
}
