/**
 * One transaction on the pool, and the audit entry written inside it: every clinical read or
 * change and its audit entry commit together or not at all. Any failure comes out as a
 * ClinicalError (clinicalErrors.ts).
 */
import type pg from 'pg';
import { toClinicalError } from './clinicalErrors.ts';

export interface AuditEntry {
  actor: string;
  /** `<entity>.<verb>`, e.g. patient.read, drug_limits.replace */
  action: string;
  entityId?: string | null;
  patientId?: string | null;
  /** ids and counts only: never names, MRNs or phone numbers */
  detail?: Record<string, unknown>;
}

/**
 * SQLSTATEs after which the same transaction may simply run again: a deadlock (two inserts that
 * conflict under the one-pump-one-order exclusion constraint are sometimes resolved this way rather
 * than as a violation) and a serialization failure. On the retry the winner has committed, so the
 * loser gets the constraint's answer (PUMP_ALREADY_ASSIGNED), not DATABASE_ERROR.
 */
const RETRY_SQLSTATES = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

export async function inTransaction<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(pool, work);
    } catch (err) {
      const sqlstate = (err as { cause?: { code?: unknown } }).cause?.code;
      if (attempt >= ATTEMPTS || typeof sqlstate !== 'string' || !RETRY_SQLSTATES.has(sqlstate)) throw err;
    }
  }
}

async function once<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw toClinicalError(err);
  }
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => { broken = true; });
    throw toClinicalError(err);
  } finally {
    client.release(broken);
  }
}

export async function audit(c: pg.PoolClient, e: AuditEntry): Promise<void> {
  await c.query('INSERT INTO audit_log (actor, action, entity_id, patient_id, detail) VALUES ($1, $2, $3, $4, $5)', [
    e.actor, e.action, e.entityId ?? null, e.patientId ?? null, JSON.stringify(e.detail ?? {}),
  ]);
}

/** the channel other instances LISTEN on for changes of the clinical records (recordsListener.ts) */
export const RECORDS_CHANNEL = 'pumpwatch_records';

/** what changed, ids only (never names, MRNs or phone numbers) */
export type RecordsChange =
  | { kind: 'assignment'; pump: string }
  | { kind: 'order'; order: string }
  | { kind: 'patient'; patient: string }
  | { kind: 'drug_limits' };

/** tells the other instances, inside the transaction: PostgreSQL delivers it on COMMIT only */
export async function notifyRecords(c: pg.PoolClient, change: RecordsChange): Promise<void> {
  await c.query('SELECT pg_notify($1, $2)', [RECORDS_CHANNEL, JSON.stringify(change)]);
}
