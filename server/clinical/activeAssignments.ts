/**
 * The open assignments, by pump, in memory: the ingest hot path asks "which order does this pump
 * deliver?" per message and must not query the database for it. Loaded at start; the clinical
 * store updates it after each change it commits (no re-query, so a database that fails right after
 * a commit cannot leave it stale). Changes made by another instance are seen at the next `load()`.
 */
import type pg from 'pg';
import { ASSIGNMENT_COLUMNS, assignmentFromRow, orderFromRow, type AssignmentRow, type OrderRow } from './clinicalRows.ts';
import type { ActiveAssignment, Order, Patient } from '../../protocol/clinical.ts';

interface ActiveRow extends AssignmentRow {
  order: OrderRow & { start_at: string; stop_at: string | null; discontinued_at: string | null };
  patient_mrn: string;
  patient_name: string;
  patient_phone: string | null;
  patient_timezone: string | null;
}

export class ActiveAssignments {
  private byPump = new Map<string, ActiveAssignment>();

  /** the open assignment of `pump`, or undefined */
  forPump(pump: string): ActiveAssignment | undefined {
    return this.byPump.get(pump);
  }

  all(): ActiveAssignment[] {
    return [...this.byPump.values()];
  }

  get size(): number {
    return this.byPump.size;
  }

  /** Replaces the whole index with the database's open assignments (one query). */
  async load(db: pg.Pool | pg.PoolClient): Promise<void> {
    const cols = ASSIGNMENT_COLUMNS.split(', ').map((c) => `a.${c}`).join(', ');
    const { rows } = await db.query<ActiveRow>(
      `SELECT ${cols}, to_jsonb(o) AS order, p.mrn AS patient_mrn, p.name AS patient_name, p.phone AS patient_phone, p.timezone AS patient_timezone
         FROM assignments a JOIN orders o ON o.id = a.order_id JOIN patients p ON p.id = a.patient_id
        WHERE a.to_at IS NULL`,
    );
    const next = new Map<string, ActiveAssignment>();
    for (const r of rows) {
      // to_jsonb renders bigint as a number and times as text: back to the row's types
      const o = r.order;
      const order = orderFromRow({
        ...o, id: String(o.id), patient_id: String(o.patient_id), start_at: new Date(o.start_at),
        stop_at: o.stop_at ? new Date(o.stop_at) : null, discontinued_at: o.discontinued_at ? new Date(o.discontinued_at) : null,
      });
      next.set(r.pump, {
        assignment: assignmentFromRow(r), order,
        patient: { id: r.patient_id, mrn: r.patient_mrn, name: r.patient_name, phone: r.patient_phone, timezone: r.patient_timezone },
      });
    }
    this.byPump = next;
  }

  /** after an assignment was opened */
  put(entry: ActiveAssignment): void {
    this.byPump.set(entry.assignment.pump, entry);
  }

  /** after an assignment was ended (only when it is the one held) */
  remove(pump: string, assignmentId: string): void {
    if (this.byPump.get(pump)?.assignment.id === assignmentId) this.byPump.delete(pump);
  }

  /** after a patient changed: every open assignment of theirs shows the new name, MRN, phone, zone */
  patientChanged(p: Patient): void {
    for (const [pump, e] of this.byPump) {
      if (e.patient.id === p.id) this.byPump.set(pump, { ...e, patient: { id: p.id, mrn: p.mrn, name: p.name, phone: p.phone, timezone: p.timezone } });
    }
  }

  /** after an order changed (discontinued) */
  orderChanged(order: Order): void {
    for (const [pump, e] of this.byPump) {
      if (e.order.id === order.id) this.byPump.set(pump, { ...e, order });
    }
  }
}
