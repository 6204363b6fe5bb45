/**
 * What the HTTP API and the WebSocket hub need from the rest of the server. The core service
 * implements it; the HTTP layer only authenticates, validates, authorises and formats.
 * All times given to the backend are epoch ms; everything returned uses the protocol/api.ts shapes.
 */
import type { AckOutcome, Alert, Episode, OnCallShift, PageRecord, PageTokenView, PumpView, Role, TelemetryPoint } from '../../protocol/api.ts';
import type { LiveChange, LiveSnapshot } from '../events/facts.ts';
import type {
  Assignment, DrugLimit, NewAssignment, NewOrder, NewPatient, Order, Patient, PatientChanges,
} from '../../protocol/clinical.ts';
import type { EpisodeReview } from '../clinical/billingReviews.ts';

/** the live shapes are the core's facts (server/events); named here too for the HTTP layer's callers */
export type { LiveChange, LiveSnapshot };

export interface AlertQuery {
  /** 'active' = status active now; 'all' = every alert raised in [fromMs, toMs] */
  status: 'active' | 'all';
  pump?: string;
  /** epoch ms, raisedAt bounds (ignored for status 'active') */
  fromMs: number;
  toMs: number;
}

export interface EpisodeQueryMs {
  /** epoch ms, pump clock; episodes overlapping [fromMs, toMs] */
  fromMs: number;
  toMs: number;
  pump?: string;
}

export interface HealthView {
  status: 'ok' | 'degraded';
  mqtt: 'up' | 'down';
  influx: 'up' | 'down';
  /** extensions (write backlog, version...) are passed through as they are */
  [key: string]: unknown;
}


export type AuditAction =
  | 'login' | 'login_failed' | 'login_locked' | 'logout'
  | 'ack' | 'billing_export' | 'evidence_export'
  | 'user_added' | 'user_removed' | 'user_changed'
  | 'pump_label' | 'pump_visit'
  | 'push_subscribe' | 'push_unsubscribe'
  | 'page_sent' | 'page_failed' | 'page_accepted' | 'page_declined' | 'oncall_changed' | 'contact_changed';

/** One audit record: who did what, when, from where. Never carries patient or clinical data. */
export interface AuditEvent {
  /** server clock, ISO */
  time: string;
  action: AuditAction;
  /** account name, token label ("token:1a2b3c4d"), "users-file" for file changes, or the attempted username */
  actor: string;
  role: Role | null;
  /** client IP as seen by the server; "local" for file changes */
  from: string;
  outcome: 'ok' | 'failed' | 'denied';
  /** alert id, episode id, username... */
  target?: string;
  /** small flat extras (export format, query range); no clinical values */
  detail?: Record<string, string | number | boolean>;
}

export interface AuditQuery {
  fromMs: number;
  toMs: number;
  action?: AuditAction;
  /** newest first, at most this many */
  limit: number;
}

export interface ApiBackend {
  pumps(): Promise<PumpView[]>;
  /** undefined for an unknown pump */
  pump(serial: string): Promise<PumpView | undefined>;
  /** stored status points in time order; the caller checked that the pump exists */
  telemetry(pump: string, fromMs: number, toMs: number): Promise<TelemetryPoint[]>;
  /** newest first */
  alerts(query: AlertQuery): Promise<Alert[]>;
  /** undefined for an unknown id; acknowledging twice keeps the first who/when */
  acknowledge(alertId: string, by: string): Promise<Alert | undefined>;
  episodes(query: EpisodeQueryMs): Promise<Episode[]>;
  /** undefined for an unknown id */
  episode(id: string): Promise<Episode | undefined>;
  /**
   * The raw sentences behind an episode, one NDJSON line each (without the line end):
   * {"seq","time","received","raw"}. undefined for an unknown episode id.
   */
  evidence(id: string): Promise<AsyncIterable<string> | undefined>;
  health(): Promise<HealthView>;
  /** current pumps and open alerts, for the first WebSocket message */
  snapshot(): Promise<LiveSnapshot>;
  /**
   * Live alert and pump changes, in batches as the core produces them (each alert/pump at most once
   * per batch, latest state). Returns the unsubscribe function.
   */
  subscribe(listener: (changes: readonly LiveChange[]) => void): () => void;
  /** stores one audit record; must not throw (the HTTP layer does not wait for it) */
  audit(event: AuditEvent): void;
  /** stored audit records, newest first (admin only) */
  auditLog(query: AuditQuery): Promise<AuditEvent[]>;
  /** optional: a nurse-facing label for a pump (no patient names); undefined for an unknown pump */
  setPumpLabel?(pump: string, label: string | null): Promise<PumpView | undefined>;
  /**
   * optional: a nurse visit on a pump for `minutes` from now (null: end it), by an account or token
   * label; the pump view after it, undefined for an unknown pump
   */
  setPumpVisit?(pump: string, minutes: number | null, by: string): Promise<PumpView | undefined>;
  /** clinical records (§6); absent when DATABASE_URL is unset (the routes answer 503 clinical_records_off) */
  clinical?: ClinicalApi;
  /** paging (§7); absent when DATABASE_URL is unset (the routes answer 503 paging_off) */
  paging?: PagingApi;
}

/** an event of the paging service for the audit trail (system actions, or the token's person) */
export interface PagingAuditEvent {
  action: 'page_sent' | 'page_failed' | 'page_accepted' | 'page_declined';
  actor: string;
  target: string;
  outcome: 'ok' | 'failed';
  detail: Record<string, string | number | boolean>;
}

/**
 * On-call rota, contacts, pages and the phone page (§7, server/paging/pagingApi.ts). Failures
 * with a stable code: PagingError UNKNOWN_USER, BAD_SHIFT.
 */
export interface PagingApi {
  shifts(): Promise<OnCallShift[]>;
  replaceShifts(shifts: readonly OnCallShift[]): Promise<void>;
  onCall(atMs: number): Promise<{ shift: OnCallShift | null; chain: string[] }>;
  /** null for an unknown account; `push`: how many devices are subscribed */
  contact(username: string): Promise<{ username: string; email: string | null; push: number } | null>;
  /** false for an unknown account */
  setContact(username: string, email: string | null): Promise<boolean>;
  pages(alertId: string): Promise<PageRecord[]>;
  /** null for an unknown token */
  tokenView(token: string): Promise<PageTokenView | null>;
  answer(token: string, what: 'accept' | 'decline'): Promise<{ result: 'ok' | 'not_found' | 'used' | 'expired' | 'already_accepted'; view: PageTokenView | null }>;
  /** keeps the acknowledgement's note and outcome; the alert as shown after it */
  recordAck(alert: Alert, by: string, note: string | null, outcome: AckOutcome | null): Promise<Alert>;
  decorate(alerts: readonly Alert[]): Promise<Alert[]>;
  onAudit(listener: (e: PagingAuditEvent) => void): () => void;
}

/**
 * Patients, orders, assignments and drug limits in PostgreSQL (§6). `actor` is the account name or
 * token label, written to the audit log with each read and change. Failures are ClinicalErrors
 * (server/clinical/clinicalErrors.ts) with stable codes: NOT_FOUND, DUPLICATE_MRN,
 * PUMP_ALREADY_ASSIGNED, DATABASE_UNAVAILABLE...
 */
export interface ClinicalApi {
  createPatient(input: NewPatient, actor: string): Promise<Patient>;
  listPatients(actor: string): Promise<Patient[]>;
  getPatient(id: string, actor: string): Promise<Patient>;
  updatePatient(id: string, changes: PatientChanges, actor: string): Promise<Patient>;
  createOrder(input: NewOrder, actor: string): Promise<Order>;
  listOrders(filter: { patientId?: string }, actor: string): Promise<Order[]>;
  getOrder(id: string, actor: string): Promise<Order>;
  discontinueOrder(id: string, actor: string): Promise<Order>;
  createAssignment(input: NewAssignment, actor: string): Promise<Assignment>;
  endAssignment(id: string, actor: string): Promise<Assignment>;
  listAssignments(filter: { pump?: string; active?: boolean }, actor: string): Promise<Assignment[]>;
  drugLimits(): Promise<DrugLimit[]>;
  /** replaces the whole table */
  replaceDrugLimits(limits: readonly DrugLimit[], actor: string): Promise<DrugLimit[]>;
  /** billing: marks an episode reviewed with a note (audited); the review replaces an earlier one */
  reviewEpisode?(input: { episodeId: string; note: string; reasons: readonly string[]; patientId: string | null }, actor: string): Promise<EpisodeReview>;
  /** billing: the reviews of these episodes, by episode id */
  episodeReviews?(episodeIds: readonly string[]): Promise<Map<string, EpisodeReview>>;
}
