/**
 * Stored records: one per episode (kind 'episode', id = episode id) and one per pump
 * (kind 'pump', id `pump:<serial>`) holding where the pump's record stands, so a restart resumes
 * mid-episode exactly. Records are plain JSON; unknown or damaged ones are refused on restore.
 */
import type { EpisodeState } from './episodeState.ts';
import type { PumpCursor } from './pumpCursor.ts';
import type { EpisodeRecord } from './types.ts';

const PUMP_PREFIX = 'pump:';

export function episodeRecord(ep: EpisodeState): EpisodeRecord {
  return { ...ep, version: 1, kind: 'episode' };
}

export function cursorRecord(c: PumpCursor): EpisodeRecord {
  const copy: PumpCursor = { ...c, program: c.program ? { ...c.program } : null, gap: c.gap ? { ...c.gap } : null, stopped: c.stopped ? { ...c.stopped } : null, anchor: c.anchor ? { ...c.anchor } : null };
  return { id: PUMP_PREFIX + c.pump, pump: c.pump, version: 1, kind: 'pump', cursor: copy };
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStretch = (v: unknown): boolean => {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return isNum(s.fromMs) && isNum(s.toMs) && isNum(s.seconds) && Array.isArray(s.reasons);
};

/** `owned`: the record is the caller's to give away (freshly parsed): used as it is, not copied */
export function episodeFromRecord(r: EpisodeRecord, owned = false): EpisodeState | null {
  if (r.version !== 1 || (r.kind !== undefined && r.kind !== 'episode')) return null;
  const ok = typeof r.id === 'string' && typeof r.pump === 'string' && typeof r.programId === 'string'
    && typeof r.drug === 'string' && isNum(r.startMs) && (r.endMs === null || isNum(r.endMs))
    && isNum(r.deliverySec) && isNum(r.unverifiedSec) && isNum(r.firstSeq) && isNum(r.lastSeq) && isNum(r.sentences)
    && isNum(r.minTimeMs) && isNum(r.maxTimeMs)
    && Array.isArray(r.segments) && r.segments.every((s) => Array.isArray(s) && s.length === 2 && isNum(s[0]) && isNum(s[1]))
    && Array.isArray(r.interruptions) && r.interruptions.every(isStretch)
    && (r.pending === null || isStretch(r.pending)) && (r.trailing === null || isStretch(r.trailing));
  if (!ok) return null;
  const { version: _v, kind: _k, ...rest } = r;
  const ep = (owned ? rest : structuredClone(rest)) as unknown as EpisodeState;
  ep.startObserved = r.startObserved !== false;
  ep.endedBy = typeof r.endedBy === 'string' ? r.endedBy : null;
  ep.leftMl = isNum(r.leftMl) ? r.leftMl : null;
  ep.stalledSec = isNum(r.stalledSec) ? r.stalledSec : 0;
  return ep;
}

export function cursorFromRecord(r: EpisodeRecord): PumpCursor | null {
  if (r.kind !== 'pump' || r.version !== 1 || !r.id.startsWith(PUMP_PREFIX)) return null;
  const c = r.cursor;
  if (typeof c !== 'object' || c === null) return null;
  const cur = structuredClone(c) as PumpCursor;
  if (cur.pump !== r.pump || typeof cur.mode !== 'string') return null;
  return cur;
}

export function sortByStart(list: EpisodeState[]): void {
  list.sort((a, b) => a.startMs - b.startMs);
}
