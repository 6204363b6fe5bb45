import { crc32 } from 'node:zlib';

/**
 * On-disk framing of one record: u32 LE payload length, u32 LE CRC-32 of (length bytes + payload),
 * then the payload. Covering the length by the CRC means a zero-filled tail (what a power cut
 * often leaves) never passes as a valid empty record.
 */
export const FRAME_HEADER_BYTES = 8;
/** Anything longer is a torn or corrupt header, not a record. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

function frameCrc(lenBytes: Buffer, payload: Buffer): number {
  return crc32(payload, crc32(lenBytes));
}

export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrame(frame, 0, payload);
  return frame;
}

/** Writes the frame of `payload` into `buf` at `offset` (which has room for it); returns its end. */
export function writeFrame(buf: Buffer, offset: number, payload: Buffer): number {
  buf.writeUInt32LE(payload.length, offset);
  payload.copy(buf, offset + FRAME_HEADER_BYTES);
  buf.writeUInt32LE(frameCrc(buf.subarray(offset, offset + 4), payload), offset + 4);
  return offset + FRAME_HEADER_BYTES + payload.length;
}

export type FrameAt =
  | { kind: 'record'; payload: Buffer; end: number }
  /** not enough bytes in `buf` to tell; read more from `need` bytes at this offset */
  | { kind: 'partial'; need: number }
  | { kind: 'corrupt' };

/** Decodes the frame starting at `offset` in `buf` (which holds the file from some position). */
export function frameAt(buf: Buffer, offset: number, available: number): FrameAt {
  if (available - offset < FRAME_HEADER_BYTES) return { kind: 'partial', need: FRAME_HEADER_BYTES };
  const len = buf.readUInt32LE(offset);
  if (len > MAX_RECORD_BYTES) return { kind: 'corrupt' };
  const end = offset + FRAME_HEADER_BYTES + len;
  if (end > available) return { kind: 'partial', need: FRAME_HEADER_BYTES + len };
  const payload = buf.subarray(offset + FRAME_HEADER_BYTES, end);
  if (frameCrc(buf.subarray(offset, offset + 4), payload) !== buf.readUInt32LE(offset + 4)) return { kind: 'corrupt' };
  return { kind: 'record', payload, end };
}
