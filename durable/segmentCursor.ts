import { SegmentReader } from './segmentReader.ts';
import type { Segment } from './segments.ts';
import type { QueuedRecord } from './tailCache.ts';

/**
 * Reads records back from the segment files, for what the memory cache no longer holds. Keeps
 * one segment open and moves forward in it, so a consumer reading in order reads each file once.
 */
export class SegmentCursor {
  private reader: { seg: Segment; r: SegmentReader; nextNo: number } | null = null;

  /** record `no`, or null when the files do not hold it (yet) */
  read(segments: readonly Segment[], no: number): QueuedRecord | null {
    let idx = -1;
    for (let i = segments.length - 1; i >= 0; i--) {
      if ((segments[i] as Segment).firstNo <= no) {
        idx = i;
        break;
      }
    }
    const seg = segments[idx];
    if (!seg) return null;
    if (no >= seg.firstNo + seg.count) {
      // a hole left by a corrupt segment: carry on with the next one
      const next = segments[idx + 1];
      return next ? this.read(segments, next.firstNo) : null;
    }
    if (!this.reader || this.reader.seg !== seg || this.reader.nextNo > no) {
      this.close();
      this.reader = { seg, r: new SegmentReader(seg.path), nextNo: seg.firstNo };
    }
    const rd = this.reader;
    while (rd.nextNo <= no) {
      const payload = rd.r.next();
      if (!payload) return null;
      if (rd.nextNo++ === no) return { no, data: payload };
    }
    return null;
  }

  /** true while reading `seg` (which is about to be deleted) */
  isOn(seg: Segment): boolean {
    return this.reader?.seg === seg;
  }

  close(): void {
    this.reader?.r.close();
    this.reader = null;
  }
}
