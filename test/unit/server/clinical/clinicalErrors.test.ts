import { describe, expect, test } from 'vitest';
import { ClinicalError, toClinicalError } from '../../../../server/clinical/clinicalErrors.ts';
import { isoTime, recordId } from '../../../../server/clinical/clinicalRows.ts';

const pgError = (code: string, constraint?: string): Error => Object.assign(new Error(`pg ${code}`), { code, constraint });

describe('toClinicalError', () => {
  test.each([
    [pgError('23505', 'patients_mrn_unique'), 'DUPLICATE_MRN', 409],
    [pgError('23P01', 'assignments_pump_no_overlap'), 'PUMP_ALREADY_ASSIGNED', 409],
    [pgError('23503', 'orders_patient_id_fkey'), 'NOT_FOUND', 404],
    [pgError('23514', 'assignments_pump_check'), 'INVALID_INPUT', 400],
    [pgError('22P02'), 'INVALID_INPUT', 400],
    [pgError('57P01'), 'DATABASE_UNAVAILABLE', 503],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'DATABASE_UNAVAILABLE', 503],
    // a unique violation of a constraint with no code of its own is not dressed up as one
    [pgError('23505', 'users_pkey'), 'DATABASE_ERROR', 500],
    [new Error('something else'), 'DATABASE_ERROR', 500],
  ])('%s → %s (%i)', (err, code, status) => {
    const mapped = toClinicalError(err);
    expect(mapped).toMatchObject({ code, httpStatus: status });
    expect(mapped.cause).toBe(err);
  });

  test('a ClinicalError passes through unchanged', () => {
    const e = new ClinicalError('ORDER_DISCONTINUED', 'x');
    expect(toClinicalError(e)).toBe(e);
  });
});

describe('ids and times', () => {
  test('decimal bigint ids pass; anything else is NOT_FOUND', () => {
    expect(recordId('1', 'patient')).toBe('1');
    expect(recordId('9223372036854775807', 'patient')).toBe('9223372036854775807');
    for (const bad of ['0', '01', '-1', '1.5', ' 1', 'abc', '', '9223372036854775808']) {
      expect(() => recordId(bad, 'patient')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    }
  });

  test('ISO times pass; other text is INVALID_INPUT naming the field', () => {
    expect(isoTime('2026-03-02T09:00:00Z', 'start').toISOString()).toBe('2026-03-02T09:00:00.000Z');
    for (const bad of ['yesterday', '2026-03-02', '2026-13-40T99:00:00Z']) {
      expect(() => isoTime(bad, 'start')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
      expect(() => isoTime(bad, 'start')).toThrow(/start/);
    }
  });
});
