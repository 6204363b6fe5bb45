import { describe, expect, it } from 'vitest';
import {
  describeErrors, validateDrugLimits, validateNewAssignment, validateNewOrder, validateNewPatient, validatePatientChanges,
} from '../../../protocol/clinicalValidation.ts';

const order = {
  patientId: '12', drug: 'fluorouracil', rateMlH: 1.2, volumeMl: 130, hours: 96, mode: 'continuous', start: '2024-05-01T08:00:00Z',
};

describe('clinical body validation', () => {
  it('accepts a full patient and keeps only what was given', () => {
    expect(validateNewPatient({ mrn: 'M1', name: 'Ann Lee', phone: '+1 555 0100', timezone: 'America/Chicago' })).toEqual({
      ok: true, value: { mrn: 'M1', name: 'Ann Lee', phone: '+1 555 0100', timezone: 'America/Chicago' },
    });
  });

  it('names every malformed patient field', () => {
    const r = validateNewPatient({ mrn: '', name: 7, timezone: 'Mars/Olympus', notes: 'x'.repeat(4001), age: 3 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.field).sort()).toEqual(['age', 'mrn', 'name', 'notes', 'timezone']);
    expect(describeErrors(r.errors)).toContain('timezone must be an IANA time zone');
  });

  it('refuses a body that is not an object', () => {
    for (const b of [null, [], 'x', 3]) expect(validateNewPatient(b)).toEqual({ ok: false, errors: [{ field: '', reason: 'the body must be a JSON object' }] });
  });

  it('patient changes: a subset, null clears an optional field, never mrn or name', () => {
    expect(validatePatientChanges({ phone: null })).toEqual({ ok: true, value: { phone: null } });
    const r = validatePatientChanges({ name: null });
    expect(r.ok ? [] : r.errors).toEqual([{ field: 'name', reason: 'must not be null' }]);
    expect(validatePatientChanges({}).ok).toBe(false);
  });

  it('accepts an order and names every malformed order field', () => {
    expect(validateNewOrder(order)).toEqual({ ok: true, value: order });
    const r = validateNewOrder({ ...order, patientId: 12, rateMlH: 0, volumeMl: '130', hours: Infinity, mode: 'bolus', start: '2024-05-01', stop: null });
    expect(r.ok ? [] : r.errors.map((e) => e.field)).toEqual(['mode', 'start', 'patientId', 'rateMlH', 'volumeMl', 'hours']);
    const s = validateNewOrder({ ...order, stop: '2024-05-01T07:00:00Z' });
    expect(s.ok ? [] : s.errors).toEqual([{ field: 'stop', reason: 'must be after start' }]);
  });

  it('assignments: a pump serial and an order id, from optional', () => {
    expect(validateNewAssignment({ pump: 'PW-0001', orderId: '3' })).toEqual({ ok: true, value: { pump: 'PW-0001', orderId: '3' } });
    const r = validateNewAssignment({ pump: 'pw 1', orderId: '0', from: 'yesterday' });
    expect(r.ok ? [] : r.errors.map((e) => e.field)).toEqual(['pump', 'orderId', 'from']);
  });

  it('drug limits: each entry checked, a drug named twice in any case refused', () => {
    expect(validateDrugLimits({ limits: [{ drug: 'Fluorouracil', maxRateMlH: 5, maxVolumeMl: null }] }).ok).toBe(true);
    const r = validateDrugLimits({ limits: [{ drug: 'fluorouracil', maxRateMlH: 5 }, { drug: 'FLUOROURACIL', maxRateMlH: -1, maxVolumeMl: 0 }, 4] });
    expect(r.ok ? [] : r.errors.map((e) => e.field)).toEqual(['limits[1].maxRateMlH', 'limits[1].maxVolumeMl', 'limits[1].drug', 'limits[2]']);
    expect(validateDrugLimits({}).ok).toBe(false);
  });
});
