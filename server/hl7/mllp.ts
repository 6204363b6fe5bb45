/**
 * MLLP framing (0x0B message 0x1C 0x0D). Outgoing frames are written with node-hl7-client's
 * MLLPCodec; incoming bytes are split here, because the codec joins two frames that arrive in one
 * read into one message and trims every segment (a value's trailing space would be lost).
 */
import type { Socket } from 'node:net';
import { MLLPCodec } from 'node-hl7-client';

const START = 0x0b;
const END = 0x1c;
const CR = 0x0d;

const codec = new MLLPCodec('utf-8');

export function writeFrame(socket: Socket, message: string): void {
  codec.sendMessage(socket, message, 'utf-8');
}

/** splits a byte stream into MLLP frames; bytes outside a frame are counted and dropped */
export class MllpReader {
  private buf: Buffer = Buffer.alloc(0);
  /** bytes seen outside any frame (noise, or a peer that does not speak MLLP) */
  junkBytes = 0;

  constructor(private readonly maxBytes = 4 * 1024 * 1024) {}

  push(chunk: Buffer): string[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const start = this.buf.indexOf(START);
      if (start < 0) {
        this.junkBytes += this.buf.length;
        this.buf = Buffer.alloc(0);
        break;
      }
      if (start > 0) {
        this.junkBytes += start;
        this.buf = this.buf.subarray(start);
      }
      let end = this.buf.indexOf(END, 1);
      while (end >= 0 && end + 1 < this.buf.length && this.buf[end + 1] !== CR) end = this.buf.indexOf(END, end + 1);
      if (end < 0 || end + 1 >= this.buf.length) break;
      out.push(this.buf.subarray(1, end).toString('utf-8'));
      this.buf = this.buf.subarray(end + 2);
    }
    if (this.buf.length > this.maxBytes) {
      this.junkBytes += this.buf.length;
      this.buf = Buffer.alloc(0);
    }
    return out;
  }
}
