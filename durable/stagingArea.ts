import { FRAME_HEADER_BYTES, writeFrame } from './frame.ts';

const CHUNK_BYTES = 256 * 1024;

/**
 * Framed records waiting to be written together, back to back in a chunk. A chunk is replaced,
 * never reused, so the views of staged payloads handed out (to the memory cache) stay valid.
 */
export class StagingArea {
  private chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private from = 0;
  /** bytes staged and not yet written */
  bytes = 0;
  records = 0;

  /** frames `payload` behind what is staged; returns the view of its bytes in the chunk */
  add(payload: Buffer): Buffer {
    const frameBytes = FRAME_HEADER_BYTES + payload.length;
    if (this.from + this.bytes + frameBytes > this.chunk.length) {
      // a fresh chunk; what is staged and unwritten moves along (views keep the old one alive)
      const next = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, 2 * (this.bytes + frameBytes)));
      this.chunk.copy(next, 0, this.from, this.from + this.bytes);
      this.chunk = next;
      this.from = 0;
    }
    const start = this.from + this.bytes;
    this.bytes = writeFrame(this.chunk, start, payload) - this.from;
    this.records++;
    return this.chunk.subarray(start + FRAME_HEADER_BYTES, start + frameBytes);
  }

  /** the frames to write, in order */
  pending(): Buffer {
    return this.chunk.subarray(this.from, this.from + this.bytes);
  }

  /** everything pending is written */
  written(): void {
    this.from += this.bytes;
    this.bytes = 0;
    this.records = 0;
  }
}
