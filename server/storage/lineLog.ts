/**
 * The InfluxDB lines of the newest journal entries, encoded once on arrival into large off-heap
 * chunks, so that the storage writer sends a slice of bytes instead of building a request body
 * from thousands of strings. Per message that spares a string and its bookkeeping living for the
 * second or so until it is written, which is what made the garbage collector copy it twice.
 *
 * Entries are kept for a contiguous run of journal ids; a gap, or the byte bound, starts the run
 * afresh, and the writer decodes from the journal whatever the log does not hold.
 */

/** bytes of one chunk: a batch of 5,000 status lines fits */
const CHUNK_BYTES = 2 * 1024 * 1024;
/** lines of one chunk at most */
const CHUNK_LINES = 16 * 1024;

interface Chunk {
  firstId: number;
  count: number;
  used: number;
  buf: Buffer;
  /** end offset of each line (with its newline), in buf */
  ends: Int32Array;
}

export interface LineBatch {
  /** id of the last entry in the batch */
  lastId: number;
  /** entries the batch covers, lines or not */
  entries: number;
  /** points in the body (entries with a line) */
  points: number;
  /** newline-terminated lines */
  body: Buffer;
}

export class LineLog {
  private chunks: Chunk[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number, private readonly chunkBytes = CHUNK_BYTES) {}

  /** bytes held */
  get size(): number {
    return this.bytes;
  }

  /** The line of entry `id` (null: an entry stored some other way); ids come in order. */
  append(id: number, line: string | null): void {
    if (this.maxBytes <= 0) return;
    let last = this.chunks.at(-1);
    if (last && last.firstId + last.count !== id) {
      this.clear();
      last = undefined;
    }
    const text = line === null ? '' : `${line}\n`;
    // a UTF-8 byte is at least a character and at most three per UTF-16 unit
    const room = text.length * 3;
    if (!last || last.count === CHUNK_LINES || last.used + room > last.buf.length) {
      if (this.bytes + Math.max(this.chunkBytes, room) > this.maxBytes) {
        this.clear(); // over the bound: the writer decodes these from the journal
        return;
      }
      const buf = Buffer.allocUnsafeSlow(Math.max(this.chunkBytes, room));
      last = { firstId: id, count: 0, used: 0, buf, ends: new Int32Array(CHUNK_LINES) };
      this.chunks.push(last);
      this.bytes += buf.length;
    }
    if (text.length > 0) last.used += last.buf.write(text, last.used, 'utf8');
    last.ends[last.count++] = last.used;
  }

  /** Up to `max` entries from afterId + 1 on, within one chunk; null when the log does not hold afterId + 1. */
  take(afterId: number, max: number): LineBatch | null {
    const from = afterId + 1;
    const chunk = this.chunks.find((c) => from >= c.firstId && from < c.firstId + c.count);
    if (!chunk || max < 1) return null;
    const first = from - chunk.firstId;
    const n = Math.min(max, chunk.count - first);
    const start = first === 0 ? 0 : (chunk.ends[first - 1] as number);
    let points = 0;
    let prev = start;
    for (let i = first; i < first + n; i++) {
      const end = chunk.ends[i] as number;
      if (end > prev) points++;
      prev = end;
    }
    return { lastId: from + n - 1, entries: n, points, body: chunk.buf.subarray(start, prev) };
  }

  /** entries up to `id` are stored: their chunks can go */
  release(id: number): void {
    while (this.chunks.length > 0) {
      const c = this.chunks[0] as Chunk;
      if (c.firstId + c.count - 1 > id) break;
      this.chunks.shift();
      this.bytes -= c.buf.length;
    }
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }
}
