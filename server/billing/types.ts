/** The contract between the pure billing episode tracker and the server's I/O. */
import type { Episode } from '../../protocol/api.ts';
import type { PumpMessage } from '../../protocol/payloads.ts';

/**
 * How a payer counts service days (docs/billing.md, "Service days"): `nhia` per diem (default),
 * `calendar_day` (days with delivery), or 24-h days of delivery rounded up/down/to the nearest
 * (`full_24h` is the older name of `24h_down`).
 */
export type ServiceDayRule = 'nhia' | 'calendar_day' | 'full_24h' | '24h_up' | '24h_down' | '24h_nearest';
export const SERVICE_DAY_RULES: readonly ServiceDayRule[] = ['nhia', 'calendar_day', 'full_24h', '24h_up', '24h_down', '24h_nearest'];

export interface BillingConfig {
  /** CONTINUITY_TOLERANCE_MIN: longest single interruption still counted as one continuous infusion */
  continuityToleranceMin: number;
  /** default payer rule for service days */
  serviceDayRule: ServiceDayRule;
  /** per payer name (as on the order, compared case-insensitively): its rule (BILLING_PAYER_RULES) */
  payerRules?: Readonly<Record<string, ServiceDayRule>>;
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

/**
 * A pump's assignment to an order, with what billing needs of the order and the patient (pushed in
 * by the server from the clinical records, ended ones too; no query per message).
 */
export interface BillingAssignment {
  id: string;
  pump: string;
  /** epoch ms, server clock */
  fromMs: number;
  /** null while the pump is on the patient */
  toMs: number | null;
  order: {
    id: string;
    drug: string;
    mode: 'continuous' | 'intermittent';
    payer: string | null;
    /** epoch ms: discontinued (or its stop passed); null: still prescribed */
    stoppedMs: number | null;
  };
  patient: { id: string; mrn: string; name: string; timeZone: string | null };
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
  /** `owned`: the records are the tracker's to keep (freshly parsed, used nowhere else): not copied */
  restore(records: EpisodeRecord[], opts?: { owned?: boolean }): void;
  forgetPump(serial: string): void;
  /** every assignment known (open and ended): episodes become courses under their orders */
  setAssignments?(assignments: readonly BillingAssignment[]): void;
  /** the raw-sentence ranges of every program of a course (one for an episode without an order) */
  evidenceRanges?(id: string): EvidenceRange[] | undefined;
  /** inputs not used, counted by reason (for diagnostics; the tracker itself never logs) */
  dropped?(): Record<string, number>;
}
