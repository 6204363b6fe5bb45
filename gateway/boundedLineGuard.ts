import { Transform, type TransformCallback } from 'node:stream';
import { MAX_LINE_BYTES } from '../protocol/sentence.ts';

const LF = 0x0a;
/** a line may carry a CR before its LF on top of the 256 bytes */
export const MAX_FRAMED_BYTES = MAX_LINE_BYTES + 1;

/**
 * Sits in front of the line parser and keeps memory bounded: it passes on only complete lines
 * (with their LF) of at most 257 bytes. A longer line, or megabytes with no LF at all, is
 * dropped as it streams by (never buffered) and reported once; framing resumes after the next LF.
 */
export class BoundedLineGuard extends Transform {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private discarding = false;

  constructor(private readonly onTooLong: () => void, private readonly maxBytes = MAX_FRAMED_BYTES) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const out: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      if (nl < 0) {
        this.keep(chunk.subarray(start));
        break;
      }
      const piece = chunk.subarray(start, nl + 1);
      if (this.discarding) {
        this.discarding = false;
      } else if (this.partialBytes + piece.length - 1 > this.maxBytes) {
        this.onTooLong();
        this.resetPartial();
      } else {
        out.push(...this.partial, piece);
        this.resetPartial();
      }
      start = nl + 1;
    }
    if (out.length > 0) this.push(out.length === 1 ? Buffer.from(out[0] as Buffer) : Buffer.concat(out));
    done();
  }

  private keep(rest: Buffer): void {
    if (this.discarding || rest.length === 0) return;
    if (this.partialBytes + rest.length > this.maxBytes) {
      this.onTooLong();
      this.resetPartial();
      this.discarding = true;
      return;
    }
    this.partial.push(Buffer.from(rest)); // copy: the caller may reuse its buffer
    this.partialBytes += rest.length;
  }

  private resetPartial(): void {
    this.partial = [];
    this.partialBytes = 0;
  }

  /** A link that dropped mid-line: the fragment can never be completed. */
  reset(): void {
    this.resetPartial();
    this.discarding = false;
  }
}
