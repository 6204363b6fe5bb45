/**
 * Patients, orders and assignments in PostgreSQL (interfaces.md §6), as domain objects. Every call
 * names its actor (account name or token label) and writes its audit entry in the same
 * transaction as the read or change: a change without its audit entry cannot happen. The schema
 * enforces the rules (unique MRN, one open assignment per pump, an assignment's patient is its
 * order's); this module maps their violations to stable codes (clinicalErrors.ts) and keeps the
 * in-memory index of open assignments (activeAssignments.ts) in step with what it commits.
 */
import type pg from 'pg';
import { systemClock, type Clock } from '../clock.ts';
import { ActiveAssignments } from './activeAssignments.ts';
import { loadBillingAssignments } from './billingAssignments.ts';
import { reviewsOf, saveReview, type EpisodeReview } from './billingReviews.ts';
import type { BillingAssignment } from '../billing/types.ts';
import { ClinicalError, toClinicalError } from './clinicalErrors.ts';
import { audit, inTransaction, notifyRecords } from './transaction.ts';
import {
  ASSIGNMENT_COLUMNS, ORDER_COLUMNS, PATIENT_COLUMNS, assignmentFromRow, isoTime, orderFromRow, patientFromRow, recordId,
  type AssignmentRow, type OrderRow, type PatientRow,
} from './clinicalRows.ts';
import type { ActiveAssignment, Assignment, NewAssignment, NewOrder, NewPatient, Order, Patient, PatientChanges } from '../../protocol/clinical.ts';

export interface ClinicalStoreOptions {
  pool: pg.Pool;
  clock?: Clock;
  /** the index to keep in step (default: a new one; call `loadActive()` at start) */
  active?: ActiveAssignments;
}

/** patient fields a PATCH may set, with their columns */
const PATIENT_FIELDS = ['mrn', 'name', 'phone', 'timezone', 'notes'] as const;

export class ClinicalStore {
  readonly active: ActiveAssignments;
  private readonly pool: pg.Pool;
  private readonly clock: Clock;

  constructor(opts: ClinicalStoreOptions) {
    this.pool = opts.pool;
    this.clock = opts.clock ?? systemClock;
    this.active = opts.active ?? new ActiveAssignments();
  }

  /** (Re)loads the in-memory index of open assignments; at start, and after the database returns. */
  async loadActive(): Promise<void> {
    try {
      await this.active.load(this.pool);
    } catch (err) {
      throw toClinicalError(err);
    }
  }

  /** every assignment with its order's and patient's billing terms (server reads: not audited per load) */
  async billingAssignments(): Promise<BillingAssignment[]> {
    try {
      return await loadBillingAssignments(this.pool);
    } catch (err) {
      throw toClinicalError(err);
    }
  }

  /** marks a billing episode reviewed with a note (audited in the same transaction) */
  reviewEpisode(input: { episodeId: string; note: string; reasons: readonly string[]; patientId: string | null }, actor: string): Promise<EpisodeReview> {
    return saveReview(this.pool, this.clock, input, actor);
  }

  episodeReviews(episodeIds: readonly string[]): Promise<Map<string, EpisodeReview>> {
    return reviewsOf(this.pool, episodeIds);
  }

  // ---- patients

  async createPatient(input: NewPatient, actor: string): Promise<Patient> {
    return this.tx(async (c) => {
      const { rows } = await c.query<PatientRow>(
        `INSERT INTO patients (mrn, name, phone, timezone, notes) VALUES ($1, $2, $3, $4, $5) RETURNING ${PATIENT_COLUMNS}`,
        [input.mrn, input.name, input.phone ?? null, input.timezone ?? null, input.notes ?? null],
      );
      const p = patientFromRow(one(rows, 'patient'));
      await audit(c, { actor, action: 'patient.create', entityId: p.id, patientId: p.id });
      return p;
    });
  }

  async listPatients(actor: string): Promise<Patient[]> {
    return this.tx(async (c) => {
      const { rows } = await c.query<PatientRow>(`SELECT ${PATIENT_COLUMNS} FROM patients ORDER BY id`);
      await audit(c, { actor, action: 'patient.list', detail: { ids: rows.map((r) => r.id) } });
      return rows.map(patientFromRow);
    });
  }

  async getPatient(id: string, actor: string): Promise<Patient> {
    const pid = recordId(id, 'patient');
    return this.tx(async (c) => {
      const { rows } = await c.query<PatientRow>(`SELECT ${PATIENT_COLUMNS} FROM patients WHERE id = $1`, [pid]);
      const p = patientFromRow(one(rows, 'patient'));
      await audit(c, { actor, action: 'patient.read', entityId: p.id, patientId: p.id });
      return p;
    });
  }

  async updatePatient(id: string, changes: PatientChanges, actor: string): Promise<Patient> {
    const pid = recordId(id, 'patient');
    const fields = PATIENT_FIELDS.filter((f) => changes[f] !== undefined);
    const sets = fields.map((f, i) => `${f} = $${i + 2}`);
    const p = await this.tx(async (c) => {
      const { rows } = await c.query<PatientRow>(
        `UPDATE patients SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${PATIENT_COLUMNS}`,
        [pid, ...fields.map((f) => changes[f])],
      );
      const updated = patientFromRow(one(rows, 'patient'));
      await audit(c, { actor, action: 'patient.update', entityId: updated.id, patientId: updated.id, detail: { fields } });
      await notifyRecords(c, { kind: 'patient', patient: updated.id });
      return updated;
    });
    this.active.patientChanged(p);
    return p;
  }

  // ---- orders

  async createOrder(input: NewOrder, actor: string): Promise<Order> {
    const patientId = recordId(input.patientId, 'patient');
    const start = isoTime(input.start, 'start');
    const stop = input.stop == null ? null : isoTime(input.stop, 'stop');
    return this.tx(async (c) => {
      const { rows } = await c.query<OrderRow>(
        `INSERT INTO orders (patient_id, drug, rate_ml_h, volume_ml, hours, mode, start_at, stop_at, payer, prescriber)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${ORDER_COLUMNS}`,
        [patientId, input.drug, input.rateMlH, input.volumeMl, input.hours, input.mode, start, stop, input.payer ?? null, input.prescriber ?? null],
      );
      const o = orderFromRow(one(rows, 'order'));
      await audit(c, { actor, action: 'order.create', entityId: o.id, patientId: o.patientId });
      return o;
    });
  }

  /** all orders, or one patient's; newest first */
  async listOrders(filter: { patientId?: string }, actor: string): Promise<Order[]> {
    const patientId = filter.patientId === undefined ? null : recordId(filter.patientId, 'patient');
    return this.tx(async (c) => {
      const { rows } = await c.query<OrderRow>(
        `SELECT ${ORDER_COLUMNS} FROM orders WHERE $1::bigint IS NULL OR patient_id = $1 ORDER BY id DESC`, [patientId],
      );
      await audit(c, { actor, action: 'order.list', patientId, detail: { ids: rows.map((r) => r.id) } });
      return rows.map(orderFromRow);
    });
  }

  async getOrder(id: string, actor: string): Promise<Order> {
    const oid = recordId(id, 'order');
    return this.tx(async (c) => {
      const o = orderFromRow(one((await c.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [oid])).rows, 'order'));
      await audit(c, { actor, action: 'order.read', entityId: o.id, patientId: o.patientId });
      return o;
    });
  }

  /**
   * Stops an order from now on (idempotent: a second call keeps the first time). Its open
   * assignment stays open: the pump is still on the patient until someone ends it.
   */
  async discontinueOrder(id: string, actor: string): Promise<Order> {
    const oid = recordId(id, 'order');
    const o = await this.tx(async (c) => {
      const { rows } = await c.query<OrderRow>(
        `UPDATE orders SET discontinued_at = coalesce(discontinued_at, $2), updated_at = now() WHERE id = $1 RETURNING ${ORDER_COLUMNS}`,
        [oid, new Date(this.clock.now())],
      );
      const order = orderFromRow(one(rows, 'order'));
      await audit(c, { actor, action: 'order.discontinue', entityId: order.id, patientId: order.patientId });
      await notifyRecords(c, { kind: 'order', order: order.id });
      return order;
    });
    this.active.orderChanged(o);
    return o;
  }

  // ---- assignments

  /** Puts a pump on an order (its patient follows from the order); PUMP_ALREADY_ASSIGNED when it has one for that time. */
  async createAssignment(input: NewAssignment, actor: string): Promise<Assignment> {
    const orderId = recordId(input.orderId, 'order');
    const from = input.from === undefined ? new Date(this.clock.now()) : isoTime(input.from, 'from');
    const entry = await this.tx(async (c) => {
      const { rows } = await c.query<AssignmentRow>(
        `INSERT INTO assignments (pump, order_id, patient_id, from_at)
         SELECT $1, o.id, o.patient_id, $3 FROM orders o WHERE o.id = $2 AND o.discontinued_at IS NULL
         RETURNING ${ASSIGNMENT_COLUMNS}`,
        [input.pump, orderId, from],
      );
      const row = rows[0];
      const order = orderFromRow(one((await c.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [orderId])).rows, 'order'));
      if (!row) throw new ClinicalError('ORDER_DISCONTINUED', 'the order is discontinued');
      const a = assignmentFromRow(row);
      const p = patientFromRow(one((await c.query<PatientRow>(`SELECT ${PATIENT_COLUMNS} FROM patients WHERE id = $1`, [a.patientId])).rows, 'patient'));
      await audit(c, { actor, action: 'assignment.create', entityId: a.id, patientId: a.patientId, detail: { pump: a.pump, orderId: a.orderId } });
      await notifyRecords(c, { kind: 'assignment', pump: a.pump });
      return { assignment: a, order, patient: { id: p.id, mrn: p.mrn, name: p.name, phone: p.phone, timezone: p.timezone } } satisfies ActiveAssignment;
    });
    this.active.put(entry);
    return entry.assignment;
  }

  /** Ends an assignment (the pump was taken off) at now; an ended one is returned as it is. */
  async endAssignment(id: string, actor: string): Promise<Assignment> {
    const aid = recordId(id, 'assignment');
    const a = await this.tx(async (c) => {
      const { rows } = await c.query<AssignmentRow>(
        `UPDATE assignments SET to_at = greatest(from_at, $2) WHERE id = $1 AND to_at IS NULL RETURNING ${ASSIGNMENT_COLUMNS}`,
        [aid, new Date(this.clock.now())],
      );
      if (!rows[0]) {
        const ended = await c.query<AssignmentRow>(`SELECT ${ASSIGNMENT_COLUMNS} FROM assignments WHERE id = $1`, [aid]);
        return assignmentFromRow(one(ended.rows, 'assignment'));
      }
      const ended = assignmentFromRow(rows[0]);
      await audit(c, { actor, action: 'assignment.end', entityId: ended.id, patientId: ended.patientId, detail: { pump: ended.pump } });
      await notifyRecords(c, { kind: 'assignment', pump: ended.pump });
      return ended;
    });
    if (a.to !== null) this.active.remove(a.pump, a.id);
    return a;
  }

  /** newest first; `active`: open ones only */
  async listAssignments(filter: { pump?: string; active?: boolean }, actor: string): Promise<Assignment[]> {
    return this.tx(async (c) => {
      const { rows } = await c.query<AssignmentRow>(
        `SELECT ${ASSIGNMENT_COLUMNS} FROM assignments
          WHERE ($1::text IS NULL OR pump = $1) AND (NOT $2 OR to_at IS NULL) ORDER BY id DESC`,
        [filter.pump ?? null, filter.active === true],
      );
      await audit(c, { actor, action: 'assignment.list', detail: { ids: rows.map((r) => r.id) } });
      return rows.map(assignmentFromRow);
    });
  }

  private tx<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }
}

function one<T>(rows: T[], what: string): T {
  const row = rows[0];
  if (!row) throw new ClinicalError('NOT_FOUND', `no such ${what}`);
  return row;
}
