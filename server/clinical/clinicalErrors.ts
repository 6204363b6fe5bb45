/**
 * Stable error codes of the clinical store, mapped from PostgreSQL's SQLSTATEs and constraint
 * names, with the HTTP status each one means (interfaces.md §6: 409 on a duplicate MRN or a pump
 * already assigned, 404 for an unknown id).
 */
import { isDatabaseUnavailable } from '../db/pool.ts';

export type ClinicalErrorCode =
  | 'DUPLICATE_MRN'
  | 'PUMP_ALREADY_ASSIGNED'
  | 'DUPLICATE_DRUG'
  | 'ORDER_DISCONTINUED'
  | 'NOT_FOUND'
  | 'INVALID_INPUT'
  | 'DATABASE_UNAVAILABLE'
  | 'DATABASE_ERROR';

export const HTTP_STATUS_BY_CODE: Readonly<Record<ClinicalErrorCode, number>> = Object.freeze({
  DUPLICATE_MRN: 409,
  PUMP_ALREADY_ASSIGNED: 409,
  DUPLICATE_DRUG: 409,
  ORDER_DISCONTINUED: 409,
  NOT_FOUND: 404,
  INVALID_INPUT: 400,
  DATABASE_UNAVAILABLE: 503,
  DATABASE_ERROR: 500,
});

export class ClinicalError extends Error {
  constructor(readonly code: ClinicalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClinicalError';
  }

  get httpStatus(): number {
    return HTTP_STATUS_BY_CODE[this.code];
  }
}

/** constraint name → code, for the unique and exclusion constraints of the migrations */
const CONSTRAINT_CODES: Readonly<Record<string, ClinicalErrorCode>> = {
  patients_mrn_unique: 'DUPLICATE_MRN',
  assignments_pump_no_overlap: 'PUMP_ALREADY_ASSIGNED',
  drug_limits_drug_unique: 'DUPLICATE_DRUG',
};

/** SQLSTATEs of a value the schema refuses (check, bad text for a type, too long, out of range) */
const INVALID_INPUT_SQLSTATES = new Set(['23502', '23514', '22P02', '22007', '22008', '22001', '22003', '22023']);

/** Any error from a query as a ClinicalError; the original stays as `cause` (never shown to clients). */
export function toClinicalError(err: unknown): ClinicalError {
  if (err instanceof ClinicalError) return err;
  const e = err as { code?: unknown; constraint?: unknown };
  const sqlstate = typeof e?.code === 'string' ? e.code : '';
  const constraint = typeof e?.constraint === 'string' ? e.constraint : '';
  if (sqlstate === '23505' || sqlstate === '23P01') {
    const code = CONSTRAINT_CODES[constraint];
    if (code === 'DUPLICATE_MRN') return new ClinicalError(code, 'a patient with this MRN exists', { cause: err });
    if (code === 'DUPLICATE_DRUG') return new ClinicalError(code, 'a drug is named twice', { cause: err });
    if (code === 'PUMP_ALREADY_ASSIGNED') return new ClinicalError(code, 'the pump has an assignment for that time (end it first)', { cause: err });
  }
  // a row referred to does not exist (an unknown patient for an order, an order for an assignment)
  if (sqlstate === '23503') return new ClinicalError('NOT_FOUND', 'a record it refers to does not exist', { cause: err });
  if (INVALID_INPUT_SQLSTATES.has(sqlstate)) return new ClinicalError('INVALID_INPUT', 'a value is not acceptable', { cause: err });
  if (isDatabaseUnavailable(err)) return new ClinicalError('DATABASE_UNAVAILABLE', 'the database cannot be reached', { cause: err });
  return new ClinicalError('DATABASE_ERROR', 'the database failed', { cause: err });
}
