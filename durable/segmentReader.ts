import { closeSync, openSync, readSync } from 'node:fs';
import { frameAt } from './frame.ts';

const BLOCK_BYTES = 256 * 1024;

/**
 * Reads the records of one segment file in order from a byte offset. It stops at the first
 * incomplete or corrupt frame and reports where the valid data ends, which is what recovery
 * truncates to.
 */
export class SegmentReader {
  private fd: number;
  private buf = Buffer.allocUnsafe(BLOCK_BYTES);
  /** file position of buf[0] */
  private bufPos = 0;
  private bufLen = 0;
  /** file position of the next frame */
  position: number;
  /** set once a frame could not be read: the data from `position` on is torn or corrupt */
  corrupt = false;

  constructor(readonly path: string, startOffset = 0) {
    this.fd = openSync(path, 'r');
    this.position = startOffset;
  }

  /** The next record's payload (a copy), or null at the end of valid data. */
  next(): Buffer | null {
    for (;;) {
      const off = this.position - this.bufPos;
      if (off >= 0 && off <= this.bufLen) {
        const f = frameAt(this.buf, off, this.bufLen);
        if (f.kind === 'record') {
          this.position = this.bufPos + f.end;
          return Buffer.from(f.payload);
        }
        if (f.kind === 'corrupt') {
          this.corrupt = true;
          return null;
        }
        if (!this.fill(f.need)) return null;
      } else if (!this.fill(0)) {
        return null;
      }
    }
  }

  /** Refills the buffer from `position`; false when the file has no more bytes than before. */
  private fill(need: number): boolean {
    if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    const before = this.position - this.bufPos >= 0 && this.position - this.bufPos <= this.bufLen
      ? this.bufLen - (this.position - this.bufPos) : 0;
    const n = readSync(this.fd, this.buf, 0, this.buf.length, this.position);
    this.bufPos = this.position;
    this.bufLen = n;
    if (n > before) return true;
    // no new bytes: whatever is left is an incomplete frame (or clean end of file)
    if (n > 0) this.corrupt = true;
    return false;
  }

  close(): void {
    closeSync(this.fd);
  }
}
