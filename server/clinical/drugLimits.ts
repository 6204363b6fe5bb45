/**
 * The drug limits table (migration 003): drugs with a maximum rate (and optionally volume) that no
 * program may exceed, whatever its order says. Edited as a whole by a pharmacist (PUT
 * /api/drug-limits replaces the table); read by the server into the detection engine.
 */
import type pg from 'pg';
import type { DrugLimit } from '../../protocol/clinical.ts';
import { toClinicalError } from './clinicalErrors.ts';
import { audit, inTransaction, notifyRecords } from './transaction.ts';

interface DrugLimitRow {
  drug: string;
  max_rate_ml_h: number;
  max_volume_ml: number | null;
}

const fromRow = (r: DrugLimitRow): DrugLimit => ({ drug: r.drug, maxRateMlH: r.max_rate_ml_h, maxVolumeMl: r.max_volume_ml });
const SELECT = 'SELECT drug, max_rate_ml_h, max_volume_ml FROM drug_limits ORDER BY lower(drug)';

export class DrugLimitStore {
  constructor(private readonly pool: pg.Pool) {}

  /** the whole table, by drug name (not audited: no patient data) */
  async list(): Promise<DrugLimit[]> {
    try {
      return (await this.pool.query<DrugLimitRow>(SELECT)).rows.map(fromRow);
    } catch (err) {
      throw toClinicalError(err);
    }
  }

  /** Replaces the table with `limits` (names trimmed; each drug once, any case) in one transaction, audited. */
  async replace(limits: readonly DrugLimit[], actor: string): Promise<DrugLimit[]> {
    return inTransaction(this.pool, async (c) => {
      await c.query('DELETE FROM drug_limits');
      for (const l of limits) {
        await c.query('INSERT INTO drug_limits (drug, max_rate_ml_h, max_volume_ml) VALUES ($1, $2, $3)', [l.drug.trim(), l.maxRateMlH, l.maxVolumeMl]);
      }
      await audit(c, { actor, action: 'drug_limits.replace', detail: { drugs: limits.length } });
      await notifyRecords(c, { kind: 'drug_limits' });
      return (await c.query<DrugLimitRow>(SELECT)).rows.map(fromRow);
    });
  }
}
