import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../durable/cursorFile.ts';
import type { PumpSeqState } from './sequenceTracker.ts';

/** What the gateway remembers per pump across restarts. */
export interface PumpRecord extends PumpSeqState {
  /** the serial port the pump was last heard on */
  port: string | null;
}

export type PumpStateFile = Record<string, PumpRecord>;

const FILE = 'pumps.json';

export function loadPumpState(dir: string): PumpStateFile {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as PumpStateFile) : {};
  } catch {
    return {};
  }
}

/** Atomic (temp + fsync + rename): after a crash the file is the old or the new state. */
export function savePumpState(dir: string, state: PumpStateFile): void {
  writeFileAtomic(join(dir, FILE), JSON.stringify(state));
}
