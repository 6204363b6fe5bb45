/** What the ingest journal holds: everything that changes the server's state, in arrival order. */
import { decodeSentence } from '../../protocol/decode.ts';
import type { PumpMessage } from '../../protocol/payloads.ts';

export type JournalEntry =
  /** a validated, de-duplicated pump message */
  | { k: 'm'; g: string; t: number; m: PumpMessage }
  /** gateway availability */
  | { k: 'a'; g: string; t: number; state: 'online' | 'offline'; time: string }
  /** an alert acknowledged by a person or token */
  | { k: 'ack'; t: number; id: string; by: string }
  /** a nurse visit set (until: server ms it ends by itself) or ended (until: null) */
  | { k: 'visit'; t: number; pump: string; until: number | null; by: string };

/**
 * A pump message is kept as `M<TAB>gateway<TAB>t<TAB>received<TAB>raw`: every other field is what
 * raw decodes to (validation made sure of it), so it is decoded again on replay instead of
 * serialised here for every message. None of the four can hold a tab (topic ids, ISO time,
 * printable sentence). Other entries are JSON.
 */
const MESSAGE_MARK = 'M\t';

export function encodeEntry(e: JournalEntry): Buffer {
  // a replayed sentence (rare) keeps its flag in the JSON form: liveness is judged again on read-back
  if (e.k === 'm' && e.m.replay !== true) return Buffer.from(`${MESSAGE_MARK}${e.g}\t${e.t}\t${e.m.received}\t${e.m.raw}`, 'utf8');
  return Buffer.from(JSON.stringify(e), 'utf8');
}

function decodeMessageEntry(text: string): JournalEntry | null {
  const a = text.indexOf('\t', MESSAGE_MARK.length);
  const b = a < 0 ? -1 : text.indexOf('\t', a + 1);
  const c = b < 0 ? -1 : text.indexOf('\t', b + 1);
  if (c < 0) return null;
  const t = Number(text.slice(a + 1, b));
  const raw = text.slice(c + 1);
  const d = decodeSentence(raw);
  if (!d.ok || !Number.isFinite(t)) return null;
  return { k: 'm', g: text.slice(MESSAGE_MARK.length, a), t, m: { v: 1, ...d.sentence, received: text.slice(b + 1, c), raw } as PumpMessage };
}

/** null for an entry this version cannot read (counted by the caller, never fatal) */
export function decodeEntry(data: Buffer | string): JournalEntry | null {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  if (text.startsWith(MESSAGE_MARK)) return decodeMessageEntry(text);
  try {
    // entries of every kind were JSON before the compact message form
    const e = JSON.parse(text) as JournalEntry;
    if (typeof e !== 'object' || e === null || typeof e.t !== 'number') return null;
    if (e.k === 'm' && typeof e.m === 'object' && typeof e.g === 'string') return e;
    if (e.k === 'a' && (e.state === 'online' || e.state === 'offline')) return e;
    if (e.k === 'ack' && typeof e.id === 'string' && typeof e.by === 'string') return e;
    if (e.k === 'visit' && typeof e.pump === 'string' && typeof e.by === 'string' && (e.until === null || typeof e.until === 'number')) return e;
    return null;
  } catch {
    return null;
  }
}

/**
 * The durable queue the server journals into. append() numbers an entry; commit() writes every
 * entry appended since the last one in one write and returns once they are in the operating
 * system (survive kill -9). Whoever acknowledges an entry upstream (a PUBACK, an HTTP reply) does
 * so only after a commit; fsync runs in groups every few hundred ms.
 */
export interface IngestJournal {
  /** recovers what is on disk; entries not yet acknowledged are readable again */
  open(): Promise<void>;
  /** numbers an entry and makes it readable; throws when full (check full() first) */
  append(data: Buffer): number;
  /** writes the appended entries; throws on an I/O error, and the next commit tries them again */
  commit(): void;
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
