/** The contract between the pure billing episode tracker and the server's I/O. */
import type { Episode } from '../../protocol/api.ts';
import type { PumpMessage } from '../../protocol/payloads.ts';

export interface BillingConfig {
  /** CONTINUITY_TOLERANCE_MIN: longest single interruption still counted as one continuous infusion */
  continuityToleranceMin: number;
  /** payer rule for service days */
  serviceDayRule: 'calendar_day' | 'full_24h';
  /** IANA zone of the agency, for calendar days (DST-correct) */
  timeZone: string;
  /**
   * seconds; a sentence whose pump time is further ahead of its `received` time is kept as
   * evidence but not used for durations (interfaces.md: clock_error). null disables the check.
   * Default 600.
   */
  maxPumpClockAheadS?: number | null;
  /**
   * COMPLETE_RESIDUAL_ML: a program stopped with no more than this left (overfill, line priming) is
   * a completed infusion, like END. Default 5.
   */
  completeResidualMl?: number;
}

/** Stored form of an episode: everything needed to rebuild the tracker after a restart. */
export interface EpisodeRecord {
  id: string;
  pump: string;
  version: 1;
  /** 'episode' (one episode) or 'pump' (the pump's cursor, id `pump:<serial>`) */
  kind?: 'episode' | 'pump';
  [key: string]: unknown;
}

/** Where an episode's raw sentences are, so storage can return them as evidence. */
export interface EvidenceRange {
  pump: string;
  /** pump-clock bounds, ISO */
  from: string;
  to: string;
  firstSeq: number;
  lastSeq: number;
}

export interface EpisodeQuery {
  /** epoch ms, pump clock; episodes overlapping [from, to] */
  fromMs?: number;
  toMs?: number;
  pump?: string;
  /** epoch ms, server clock; "now" for episodes still open: silence since the last sentence arrived is reported. Default: no silence. */
  nowMs?: number;
}

export interface EpisodeTracker {
  /** one validated, de-duplicated pump message, in arrival order */
  ingest(msg: PumpMessage): void;
  episodes(query: EpisodeQuery): Episode[];
  /** nowMs as in EpisodeQuery */
  episode(id: string, nowMs?: number): Episode | undefined;
  evidenceRange(id: string): EvidenceRange | undefined;
  /** records changed since the last call, to persist */
  takeChanged(): EpisodeRecord[];
  restore(records: EpisodeRecord[]): void;
  forgetPump(serial: string): void;
  /** inputs not used, counted by reason (for diagnostics; the tracker itself never logs) */
  dropped?(): Record<string, number>;
}
