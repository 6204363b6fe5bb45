/**
 * Clinical records for the benches, written in bulk into a real PostgreSQL before the server
 * starts: the schema through the server's own migrations, then one patient, one order and one open
 * assignment per pump in three INSERT … SELECT statements (10,000 pumps in well under a second).
 * The server then loads them as it does at any start (clinical records loaded into verification).
 */
import pg from 'pg';
import { migrate } from '../server/db/migrate.ts';

export interface SeedOrder {
  drug: string;
  rateMlH: number;
  volumeMl: number;
  hours: number;
}

export interface SeedOptions {
  /** the pumps to assign, one patient and order each */
  pumps: readonly string[];
  /** what every order prescribes */
  order: SeedOrder;
  /** assignments and orders start this long before now (default 1 h) */
  sinceMs?: number;
  /** these pumps' orders prescribe another rate: their programs contradict it (program_mismatch expected) */
  mismatched?: ReadonlyMap<string, number>;
}

/** Migrates the database at `url` and assigns every pump to a matching order of its own patient. */
export async function seedAssignments(url: string, o: SeedOptions): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrate(pool);
    const since = new Date(Date.now() - (o.sinceMs ?? 3_600_000)).toISOString();
    const pumps = [...o.pumps];
    const rates = pumps.map((p) => o.mismatched?.get(p) ?? o.order.rateMlH);
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      // the MRN carries the pump's serial so that orders and assignments can find their patient
      await c.query(
        `INSERT INTO patients (mrn, name, phone)
         SELECT 'MRN-' || s.pump, 'Patient ' || s.i, '+1 555 ' || lpad(s.i::text, 7, '0')
           FROM unnest($1::text[]) WITH ORDINALITY AS s(pump, i)`,
        [pumps],
      );
      await c.query(
        `INSERT INTO orders (patient_id, drug, rate_ml_h, volume_ml, hours, mode, start_at)
         SELECT p.id, $3, s.rate, $4, $5, 'continuous', $6
           FROM unnest($1::text[], $2::float8[]) AS s(pump, rate) JOIN patients p ON p.mrn = 'MRN-' || s.pump`,
        [pumps, rates, o.order.drug, o.order.volumeMl, o.order.hours, since],
      );
      await c.query(
        `INSERT INTO assignments (pump, order_id, patient_id, from_at)
         SELECT s.pump, o.id, o.patient_id, $2
           FROM unnest($1::text[]) AS s(pump) JOIN patients p ON p.mrn = 'MRN-' || s.pump JOIN orders o ON o.patient_id = p.id`,
        [pumps, since],
      );
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK');
      throw err;
    } finally {
      c.release();
    }
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM assignments WHERE to_at IS NULL');
    if (Number(rows[0]?.n) !== pumps.length) throw new Error(`seeded ${rows[0]?.n} open assignments, wanted ${pumps.length}`);
  } finally {
    await pool.end();
  }
}
