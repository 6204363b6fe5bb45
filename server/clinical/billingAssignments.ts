/**
 * Every assignment (open and ended) with what billing needs of its order and patient, in one query:
 * the billing tracker groups a pump's programs into courses under orders from these (pushed in,
 * never queried per message). Read by the server only: no audit entry per load, like the open
 * assignments the engine is given (activeAssignments.ts).
 */
import type pg from 'pg';
import type { BillingAssignment } from '../billing/types.ts';

interface Row {
  id: string;
  pump: string;
  from_at: Date;
  to_at: Date | null;
  order_id: string;
  drug: string;
  mode: 'continuous' | 'intermittent';
  payer: string | null;
  stop_at: Date | null;
  discontinued_at: Date | null;
  patient_id: string;
  mrn: string;
  name: string;
  timezone: string | null;
}

export async function loadBillingAssignments(db: pg.Pool | pg.PoolClient): Promise<BillingAssignment[]> {
  const { rows } = await db.query<Row>(
    `SELECT a.id, a.pump, a.from_at, a.to_at, o.id AS order_id, o.drug, o.mode, o.payer, o.stop_at, o.discontinued_at,
            p.id AS patient_id, p.mrn, p.name, p.timezone
       FROM assignments a JOIN orders o ON o.id = a.order_id JOIN patients p ON p.id = a.patient_id
      ORDER BY a.from_at, a.id`,
  );
  return rows.map((r) => {
    const stops = [r.stop_at, r.discontinued_at].filter((d): d is Date => d !== null).map((d) => d.getTime());
    return {
      id: r.id, pump: r.pump, fromMs: r.from_at.getTime(), toMs: r.to_at ? r.to_at.getTime() : null,
      order: { id: r.order_id, drug: r.drug, mode: r.mode, payer: r.payer, stoppedMs: stops.length > 0 ? Math.min(...stops) : null },
      patient: { id: r.patient_id, mrn: r.mrn, name: r.name, timeZone: r.timezone },
    };
  });
}
