/** What the ingest journal holds: everything that changes the server's state, in arrival order. */
import type { PumpMessage } from '../../protocol/payloads.ts';

export type JournalEntry =
  /** a validated, de-duplicated pump message */
  | { k: 'm'; g: string; t: number; m: PumpMessage }
  /** gateway availability */
  | { k: 'a'; g: string; t: number; state: 'online' | 'offline'; time: string }
  /** an alert acknowledged by a person or token */
  | { k: 'ack'; t: number; id: string; by: string };

export function encodeEntry(e: JournalEntry): Buffer {
  return Buffer.from(JSON.stringify(e), 'utf8');
}

/** null for an entry this version cannot read (counted by the caller, never fatal) */
export function decodeEntry(data: Buffer | string): JournalEntry | null {
  try {
    const e = JSON.parse(typeof data === 'string' ? data : data.toString('utf8')) as JournalEntry;
    if (typeof e !== 'object' || e === null || typeof e.t !== 'number') return null;
    if (e.k === 'm' && typeof e.m === 'object' && typeof e.g === 'string') return e;
    if (e.k === 'a' && (e.state === 'online' || e.state === 'offline')) return e;
    if (e.k === 'ack' && typeof e.id === 'string' && typeof e.by === 'string') return e;
    return null;
  } catch {
    return null;
  }
}

/**
 * The durable queue the server journals into. append() is synchronous and returns once the entry
 * is in the operating system (survives kill -9); fsync runs in groups every few hundred ms.
 */
export interface IngestJournal {
  /** recovers what is on disk; entries not yet acknowledged are readable again */
  open(): Promise<void>;
  /** throws when full; check full() first */
  append(data: Buffer): number;
  full(): boolean;
  /** id of the newest appended entry (0 when none yet) */
  lastId(): number;
  /** up to `max` entries with id > afterId, oldest first */
  readAfter(afterId: number, max: number): { id: number; data: Buffer }[];
  /** everything up to and including id is stored elsewhere and may be discarded */
  ack(id: number): void;
  /** id of the newest acknowledged entry */
  ackedId(): number;
  /** entries and bytes not yet acknowledged */
  pendingEntries(): number;
  pendingBytes(): number;
  /** fsync now */
  flush(): Promise<void>;
  close(): Promise<void>;
}
