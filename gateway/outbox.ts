import type { Logger } from 'pino';
import { DurableQueue, DurableQueueError, type DurableErrorCode, type QueuedRecord } from '../durable/index.ts';
import { toPumpMessage } from '../protocol/payloads.ts';
import type { Sentence } from '../protocol/sentence.ts';
import { topics } from '../protocol/topics.ts';
import type { QueueHealthView } from './health.ts';
import { encodeRecord, type RecordSource } from './publisher.ts';

export interface OutboxOptions {
  gatewayId: string;
  dir: string;
  maxBytes: number;
  log: Logger;
  /** records became durable: the publisher may send them */
  onDurable: () => void;
  now?: () => number;
}

export type EnqueueResult = { ok: true } | { ok: false; code: 'QUEUE_FULL' | 'DISK_FULL' | 'IO_ERROR' | 'NOT_OPEN' };

/**
 * Accepted sentences → durable queue (`<topic>\n<payload JSON>`) → group-commit fsync → publisher.
 * Only fsynced records are handed out; a record leaves the queue on PUBACK.
 */
export class Outbox implements RecordSource {
  readonly queue: DurableQueue;
  private flushScheduled = false;
  private fullEpisode = false;
  private retryTimer: NodeJS.Timeout | null = null;
  /** ms: since when writes fail other than by the designed refusal of a full queue or disk */
  private failingSinceMs: number | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: OutboxOptions) {
    // the publisher window (1,000 × ~0.5 kB) fits the cache; a backlog is read back from disk
    this.queue = new DurableQueue({ dir: opts.dir, maxBytes: opts.maxBytes, cacheBytes: 1024 * 1024 });
    this.now = opts.now ?? Date.now;
  }

  /**
   * For the watchdog: a full queue or disk is refused by design and recovered through ?HIST;
   * an I/O error or a queue that is not open is a queue that cannot write.
   */
  healthView(): QueueHealthView {
    return { failingSinceMs: this.failingSinceMs };
  }

  get maxBytes(): number {
    return this.opts.maxBytes;
  }

  get full(): boolean {
    return this.fullEpisode;
  }

  start(): void {
    this.queue.start();
    if (this.queue.truncatedBytes > 0) {
      this.opts.log.warn({ event: 'queue_torn_tail', bytes: this.queue.truncatedBytes }, 'queue: torn tail truncated at start');
    }
    this.opts.log.info({ event: 'queue_open', depth: this.queue.depth, bytes: this.queue.bytes }, 'queue open');
  }

  enqueue(sentence: Sentence, raw: string, received: Date, replay = false): EnqueueResult {
    const payload = JSON.stringify(toPumpMessage(sentence, raw, received, replay));
    try {
      this.queue.append(encodeRecord(topics.pump(this.opts.gatewayId, sentence.pump), payload));
    } catch (err) {
      const code = err instanceof DurableQueueError ? err.code : 'IO_ERROR';
      this.noteWrite(code);
      if (!this.fullEpisode) {
        this.fullEpisode = true;
        this.opts.log.error({ event: 'queue_full', code, depth: this.queue.depth, bytes: this.queue.bytes, err: (err as Error).message },
          'queue refuses sentences');
      }
      return { ok: false, code };
    }
    if (this.fullEpisode) {
      this.fullEpisode = false;
      this.opts.log.info({ event: 'queue_space', depth: this.queue.depth, bytes: this.queue.bytes }, 'queue accepts sentences again');
    }
    this.scheduleFlush();
    return { ok: true };
  }

  /** Whether there is room again after a full episode (10 % head room, to avoid flapping). */
  hasRoom(): boolean {
    return this.queue.bytes < this.opts.maxBytes * 0.9;
  }

  readDurable(fromNo: number, max: number): QueuedRecord[] {
    const durable = this.queue.durableNo;
    if (fromNo > durable) return [];
    return this.queue.read(fromNo, Math.min(max, durable - fromNo + 1));
  }

  acked(no: number): void {
    this.queue.ack(no);
  }

  firstUnacked(): number {
    return this.queue.ackedUpTo + 1;
  }

  /** Resolves once everything queued so far is on disk. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  async stop(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.queue.stop();
  }

  /** `null`: a commit reached the disk */
  private noteWrite(failure: DurableErrorCode | null): void {
    if (failure === null) this.failingSinceMs = null;
    else if (failure === 'IO_ERROR' || failure === 'NOT_OPEN') this.failingSinceMs ??= this.now();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // one fsync for every sentence framed out of the same read
    setImmediate(() => {
      this.flushScheduled = false;
      this.queue.flush().then(() => {
        this.noteWrite(null);
        this.opts.onDurable();
      }, (err: unknown) => {
        this.noteWrite(err instanceof DurableQueueError ? err.code : 'IO_ERROR');
        this.opts.log.error({ event: 'queue_flush_failed', err: (err as Error).message }, 'queue fsync failed; will retry');
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = null;
          this.scheduleFlush();
        }, 1000);
      });
    });
  }
}
