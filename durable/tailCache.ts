/** One queued record and its number. */
export interface QueuedRecord {
  no: number;
  data: Buffer;
}

/**
 * The newest records in memory, bounded by bytes, so that a consumer keeping up never touches
 * the disk. Records are numbered consecutively.
 */
export class TailCache {
  private items: QueuedRecord[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get firstNo(): number | null {
    return this.items[this.head]?.no ?? null;
  }

  /** `owned`: data is the caller's to give away (not a view into a shared pool slab) */
  push(no: number, data: Buffer, owned = false): void {
    if (this.maxBytes <= 0) return;
    const last = this.items.at(-1);
    if (last && last.no + 1 !== no) this.clear();
    let own = data;
    if (!owned) {
      // an exact-size copy: a slice of a shared 8 kB pool slab would keep the whole slab alive
      own = Buffer.allocUnsafeSlow(data.length);
      data.copy(own);
    }
    this.items.push({ no, data: own });
    this.bytes += data.length;
    while (this.bytes > this.maxBytes && this.head < this.items.length) this.dropHead();
    this.compact();
  }

  /** Up to `max` cached records from `no` on; empty when `no` is not cached. */
  from(no: number, max: number): QueuedRecord[] {
    const first = this.firstNo;
    if (first === null || no < first) return [];
    const start = this.head + (no - first);
    if (start >= this.items.length) return [];
    return this.items.slice(start, start + max);
  }

  dropUpTo(no: number): void {
    while (this.head < this.items.length && (this.items[this.head] as QueuedRecord).no <= no) this.dropHead();
    this.compact();
  }

  private dropHead(): void {
    const item = this.items[this.head] as QueuedRecord;
    this.bytes -= item.data.length;
    this.head++;
  }

  private clear(): void {
    this.items = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** drops the consumed front of the array now and then, not at every shift */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
