/**
 * The clinical records wired into the server (docs/clinical.md, "Wiring"): the API's reads and
 * changes go to PostgreSQL (ClinicalStore, audited there), and every open assignment and the drug
 * limits are pushed into the detection engine through the core, so verification never queries.
 * Loaded when the database comes (back) up, when another instance notifies a change (LISTEN on
 * pumpwatch_records: recordsListener.ts) and every `reloadMs` as a safety net; a change made here
 * is pushed at once. While the database is down the engine keeps what it was
 * given last and the API answers DATABASE_UNAVAILABLE without waiting for a connection timeout.
 */
import type { Logger } from 'pino';
import type { ActiveAssignment, Assignment, DrugLimit, NewAssignment, NewOrder, NewPatient, Order, Patient, PatientChanges } from '../../protocol/clinical.ts';
import type { ActiveAssignments } from '../clinical/activeAssignments.ts';
import type { ClinicalStore } from '../clinical/clinicalStore.ts';
import type { EpisodeReview } from '../clinical/billingReviews.ts';
import { ClinicalError } from '../clinical/clinicalErrors.ts';
import type { DrugLimitStore } from '../clinical/drugLimits.ts';
import { listenClientFor, RecordsListener, type ListenClient } from '../clinical/recordsListener.ts';
import type { Clock } from '../clock.ts';
import type { ClinicalDatabase } from '../db/database.ts';
import type { OrderTerms } from '../engine/types.ts';
import type { ClinicalApi } from '../http/backend.ts';
import type { PumpwatchCore } from './pumpwatchCore.ts';

export interface ClinicalRecordsOptions {
  database: ClinicalDatabase;
  store: ClinicalStore;
  limits: DrugLimitStore;
  core: PumpwatchCore;
  clock: Clock;
  log: Logger;
  /** reload period, ms (default 30 000): the safety net behind the notifications */
  reloadMs?: number;
  /** opens the LISTEN connection (default: a client on the database's pool settings); null: do not listen */
  listenClient?: (() => Promise<ListenClient>) | null;
}

/** what the engine needs of an open assignment: ids and terms, no patient identifiers */
export function orderTermsOf(e: ActiveAssignment): OrderTerms {
  const o = e.order;
  return {
    assignmentId: e.assignment.id, orderId: o.id, patientId: e.patient.id, drug: o.drug,
    rateMlH: o.rateMlH, volumeMl: o.volumeMl, hours: o.hours, mode: o.mode, fromMs: Date.parse(e.assignment.from),
    timeZone: e.patient.timezone,
  };
}

const termsKey = (t: OrderTerms): string => `${t.assignmentId}|${t.orderId}|${t.drug}|${t.rateMlH}|${t.volumeMl}|${t.hours}|${t.mode}|${t.fromMs}|${t.timeZone ?? ''}`;
const viewKey = (e: ActiveAssignment): string => `${e.patient.mrn}|${e.patient.name}|${e.patient.phone}|${e.order.discontinuedAt}`;

export class ClinicalRecords implements ClinicalApi {
  /** pump → what the engine was last given, and what the views last showed */
  private readonly pushed = new Map<string, { terms: string; view: string }>();
  private known = false;
  private limitsKey: string | null = null;
  private billingKey: string | null = null;
  /** changes made through this instance; a reload that overlapped one is done again */
  private localChanges = 0;
  private timer: NodeJS.Timeout | null = null;
  private offUp: (() => void) | null = null;
  private reloading: Promise<void> | null = null;
  private readonly listener: RecordsListener | null;

  constructor(private readonly o: ClinicalRecordsOptions) {
    const pool = o.database.pool;
    const connect = o.listenClient === undefined ? (pool ? listenClientFor(pool) : null) : o.listenClient;
    this.listener = connect
      ? new RecordsListener({
        connect, log: o.log, onDatabaseUp: (cb) => o.database.onUp(cb),
        // a reload already under way may have read before the change committed: reload again after it
        reload: async () => {
          await this.reloading?.catch(() => undefined);
          await this.reload().catch((err: unknown) => this.failed(err));
        },
      })
      : null;
  }

  start(): void {
    this.offUp = this.o.database.onUp(() => this.reload());
    this.listener?.start();
    this.timer = setInterval(() => {
      if (this.o.database.status === 'up') this.reload().catch((err: unknown) => this.failed(err));
    }, this.o.reloadMs ?? 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.offUp?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.listener?.stop();
  }

  /** the open assignments by pump, in memory (what the pump views show) */
  get active(): ActiveAssignments {
    return this.o.store.active;
  }

  /** true once the open assignments were loaded at least once */
  get assignmentsKnown(): boolean {
    return this.known;
  }

  /** Reads the open assignments and drug limits and pushes what changed into the engine. */
  reload(): Promise<void> {
    this.reloading ??= this.reloadOnce().finally(() => { this.reloading = null; });
    return this.reloading;
  }

  private async reloadOnce(): Promise<void> {
    let limits: DrugLimit[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = this.localChanges;
      await this.o.store.loadActive();
      limits = await this.o.limits.list();
      if (before === this.localChanges) break;
    }
    const now = this.o.clock.now();
    const changed: string[] = [];
    const open = new Set<string>();
    for (const e of this.o.store.active.all()) {
      open.add(e.assignment.pump);
      if (this.pushPump(e.assignment.pump, now)) changed.push(e.assignment.pump);
    }
    for (const pump of [...this.pushed.keys()]) if (!open.has(pump) && this.pushPump(pump, now)) changed.push(pump);
    if (!this.known) {
      this.known = true;
      this.o.core.setAssignmentsKnown(true, now);
      this.o.log.info({ assignments: open.size, drugLimits: limits.length }, 'clinical records loaded into verification');
    }
    this.applyLimits(limits, now);
    this.o.core.republishPumps(changed);
    await this.reloadBilling();
  }

  /** billing groups programs into courses under orders: every assignment, ended ones too */
  private async reloadBilling(): Promise<void> {
    const list = await this.o.store.billingAssignments();
    // unchanged: billing keeps its course views (they are rebuilt when the assignments change)
    const key = JSON.stringify(list);
    if (key === this.billingKey) return;
    this.billingKey = key;
    this.o.core.setBillingAssignments(list);
  }

  /** pushes the pump's open assignment (or its end) when it differs from the last push; true when its view changed */
  private pushPump(pump: string, now: number): boolean {
    const e = this.o.store.active.forPump(pump);
    const last = this.pushed.get(pump);
    if (!e) {
      if (!last) return false;
      this.pushed.delete(pump);
      this.o.core.setAssignment(pump, null, now);
      return true;
    }
    const terms = orderTermsOf(e);
    const next = { terms: termsKey(terms), view: viewKey(e) };
    if (last?.terms !== next.terms) this.o.core.setAssignment(pump, terms, now);
    this.pushed.set(pump, next);
    return last?.terms !== next.terms || last.view !== next.view;
  }

  private applyLimits(limits: readonly DrugLimit[], now: number): void {
    const key = JSON.stringify(limits);
    if (key === this.limitsKey) return;
    this.limitsKey = key;
    this.o.core.setDrugLimits(limits, now);
  }

  /** re-pushes one pump after a handover rebuilt it (the engine forgot it) */
  repush(pump: string): void {
    this.pushed.delete(pump);
    if (this.pushPump(pump, this.o.clock.now())) this.o.core.republishPumps([pump]);
  }

  private failed(err: unknown): void {
    if (!this.o.database.reportFailure(err)) this.o.log.error({ err: (err as Error).message }, 'clinical records reload failed');
  }

  /** runs one API call: fails fast while the database is down, reports an outage it meets */
  private async call<T>(work: () => Promise<T>): Promise<T> {
    if (this.o.database.status !== 'up') throw new ClinicalError('DATABASE_UNAVAILABLE', 'the database cannot be reached');
    try {
      return await work();
    } catch (err) {
      this.o.database.reportFailure(err);
      throw err;
    }
  }

  /** after a change made here: the engine and the board see it at once */
  private changedPumps(pumps: Iterable<string>): void {
    this.localChanges++;
    const now = this.o.clock.now();
    const changed = [...pumps].filter((p) => this.pushPump(p, now));
    this.o.core.republishPumps(changed);
    this.reloadBilling().catch((err: unknown) => this.failed(err));
  }

  private pumpsOf(match: (e: ActiveAssignment) => boolean): string[] {
    return this.o.store.active.all().filter(match).map((e) => e.assignment.pump);
  }

  // ---- ClinicalApi

  createPatient(input: NewPatient, actor: string): Promise<Patient> {
    return this.call(() => this.o.store.createPatient(input, actor));
  }

  listPatients(actor: string): Promise<Patient[]> {
    return this.call(() => this.o.store.listPatients(actor));
  }

  getPatient(id: string, actor: string): Promise<Patient> {
    return this.call(() => this.o.store.getPatient(id, actor));
  }

  async updatePatient(id: string, changes: PatientChanges, actor: string): Promise<Patient> {
    const p = await this.call(() => this.o.store.updatePatient(id, changes, actor));
    this.changedPumps(this.pumpsOf((e) => e.patient.id === p.id));
    return p;
  }

  createOrder(input: NewOrder, actor: string): Promise<Order> {
    return this.call(() => this.o.store.createOrder(input, actor));
  }

  listOrders(filter: { patientId?: string }, actor: string): Promise<Order[]> {
    return this.call(() => this.o.store.listOrders(filter, actor));
  }

  getOrder(id: string, actor: string): Promise<Order> {
    return this.call(() => this.o.store.getOrder(id, actor));
  }

  async discontinueOrder(id: string, actor: string): Promise<Order> {
    const o = await this.call(() => this.o.store.discontinueOrder(id, actor));
    this.changedPumps(this.pumpsOf((e) => e.order.id === o.id));
    return o;
  }

  async createAssignment(input: NewAssignment, actor: string): Promise<Assignment> {
    const a = await this.call(() => this.o.store.createAssignment(input, actor));
    this.changedPumps([a.pump]);
    return a;
  }

  async endAssignment(id: string, actor: string): Promise<Assignment> {
    const a = await this.call(() => this.o.store.endAssignment(id, actor));
    this.changedPumps([a.pump]);
    return a;
  }

  listAssignments(filter: { pump?: string; active?: boolean }, actor: string): Promise<Assignment[]> {
    return this.call(() => this.o.store.listAssignments(filter, actor));
  }

  reviewEpisode(input: { episodeId: string; note: string; reasons: readonly string[]; patientId: string | null }, actor: string): Promise<EpisodeReview> {
    return this.call(() => this.o.store.reviewEpisode(input, actor));
  }

  episodeReviews(episodeIds: readonly string[]): Promise<Map<string, EpisodeReview>> {
    return this.call(() => this.o.store.episodeReviews(episodeIds));
  }

  drugLimits(): Promise<DrugLimit[]> {
    return this.call(() => this.o.limits.list());
  }

  async replaceDrugLimits(limits: readonly DrugLimit[], actor: string): Promise<DrugLimit[]> {
    const stored = await this.call(() => this.o.limits.replace(limits, actor));
    this.localChanges++;
    this.applyLimits(stored, this.o.clock.now());
    return stored;
  }
}
