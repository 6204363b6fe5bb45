/** An in-memory IngestJournal for unit tests. */
import type { IngestJournal } from '../../../../server/ingest/journalEntry.ts';

export class MemoryJournal implements IngestJournal {
  entries: { id: number; data: Buffer }[] = [];
  private next = 1;
  private acked = 0;
  maxEntries = Infinity;
  readonly epoch = 'test-epoch';

  open(): Promise<void> {
    return Promise.resolve();
  }
  append(data: Buffer): number {
    if (this.full()) throw new Error('QUEUE_FULL');
    const id = this.next++;
    this.entries.push({ id, data });
    this.uncommitted++;
    return id;
  }
  /** entries appended and not yet committed */
  uncommitted = 0;
  /** set to make the next commits fail */
  failCommit: Error | null = null;
  commit(): void {
    if (this.failCommit) throw this.failCommit;
    this.uncommitted = 0;
  }
  full(): boolean {
    return this.entries.length >= this.maxEntries;
  }
  lastId(): number {
    return this.next - 1;
  }
  readAfter(afterId: number, max: number): { id: number; data: Buffer }[] {
    return this.entries.filter((e) => e.id > afterId).slice(0, max);
  }
  ack(id: number): void {
    this.acked = Math.max(this.acked, id);
    this.entries = this.entries.filter((e) => e.id > id);
  }
  ackedId(): number {
    return this.acked;
  }
  pendingEntries(): number {
    return this.entries.length;
  }
  pendingBytes(): number {
    return this.entries.reduce((n, e) => n + e.data.length, 0);
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
