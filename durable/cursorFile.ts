import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

/** The persisted ack cursor: every record numbered <= acked has been consumed. */
export interface Cursor {
  acked: number;
}

export function readCursor(path: string): Cursor {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { acked?: unknown };
    return { acked: typeof parsed.acked === 'number' && Number.isSafeInteger(parsed.acked) && parsed.acked >= 0 ? parsed.acked : 0 };
  } catch {
    // missing or half-written: the segments' own numbering bounds what can be re-read
    return { acked: 0 };
  }
}

/** Write-to-temp, fsync, rename: the cursor file is always either the old or the new one. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function writeCursor(path: string, cursor: Cursor): void {
  writeFileAtomic(path, JSON.stringify(cursor));
}
