import { ftruncateSync, openSync, closeSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SegmentReader } from './segmentReader.ts';

/** One segment file: records numbered firstNo .. firstNo + count - 1. */
export interface Segment {
  firstNo: number;
  path: string;
  /** bytes of valid frames */
  bytes: number;
  count: number;
}

const SEGMENT_RE = /^(\d{16})\.seg$/;

export function segmentPath(dir: string, firstNo: number): string {
  return join(dir, `${String(firstNo).padStart(16, '0')}.seg`);
}

export interface RecoveryReport {
  segments: Segment[];
  /** bytes cut off torn or corrupt tails */
  truncatedBytes: number;
}

/**
 * Lists the segment files in order and counts their valid records. A torn or corrupt tail (a
 * power cut in the middle of a write) is truncated away so appends continue on clean framing.
 */
export function recoverSegments(dir: string): RecoveryReport {
  const names = readdirSync(dir).filter((n) => SEGMENT_RE.test(n)).sort();
  const segments: Segment[] = [];
  let truncatedBytes = 0;
  for (const name of names) {
    const path = join(dir, name);
    const firstNo = Number(SEGMENT_RE.exec(name)?.[1]);
    const size = statSync(path).size;
    const reader = new SegmentReader(path);
    let count = 0;
    try {
      while (reader.next() !== null) count++;
    } finally {
      reader.close();
    }
    if (reader.position < size) {
      truncatedBytes += size - reader.position;
      const fd = openSync(path, 'r+');
      try {
        ftruncateSync(fd, reader.position);
      } finally {
        closeSync(fd);
      }
    }
    segments.push({ firstNo, path, bytes: reader.position, count });
  }
  // empty segments other than the newest carry nothing
  const kept = segments.filter((s, i) => s.count > 0 || i === segments.length - 1);
  for (const s of segments) if (!kept.includes(s)) unlinkSync(s.path);
  return { segments: kept, truncatedBytes };
}
