import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { PumpOrder } from '../../../protocol/clinical.ts';
import {
  alertPatientText, boardPatientText, matchesPatient, NO_ORDER_TEXT, num, programVsOrder, telHref,
} from '../../../dashboard/src/clinicalText.ts';
import { alert, pump } from './fixtures.ts';

const PATIENT = { id: '7', mrn: 'MRN-0042', name: 'Ada Byron', phone: '+1 (555) 010-4477' };
const ORDER: PumpOrder = { id: '12', drug: 'FLUOROURACIL', rateMlH: 1.2, volumeMl: 115.2, hours: 96, mode: 'continuous' };

describe('patient and order on the board', () => {
  test('an assigned pump shows name · MRN and the drug with its ordered rate', () => {
    assert.deepEqual(boardPatientText(pump('CS7-1', { patient: PATIENT, order: ORDER })), { patient: 'Ada Byron · MRN MRN-0042', order: 'FLUOROURACIL · 1.2 mL/h' });
  });

  test('an unassigned pump says no order is assigned; a server without records shows nothing', () => {
    assert.deepEqual(boardPatientText(pump('CS7-1', { patient: null, order: null })), { patient: NO_ORDER_TEXT, order: '' });
    assert.equal(boardPatientText(pump('CS7-1')), null);
  });

  test('an alert names the patient only while its pump is assigned to that patient', () => {
    assert.equal(alertPatientText(alert('a', { patientId: '7' }), pump('CS7-1', { patient: PATIENT })), 'Ada Byron · MRN MRN-0042');
    assert.equal(alertPatientText(alert('a'), pump('CS7-1', { patient: PATIENT })), 'Ada Byron · MRN MRN-0042');
    assert.equal(alertPatientText(alert('a', { patientId: '8' }), pump('CS7-1', { patient: PATIENT })), null);
    assert.equal(alertPatientText(alert('a', { patientId: '7' }), pump('CS7-1', { patient: null })), null);
    assert.equal(alertPatientText(alert('a'), undefined), null);
  });

  test('the phone becomes a dialable tel: link', () => {
    assert.equal(telHref(PATIENT.phone), 'tel:+15550104477');
    assert.equal(telHref('0612 34 56 78'), 'tel:0612345678');
    assert.equal(telHref(null), null);
    assert.equal(telHref('n/a'), null);
  });

  test('a search finds patients by MRN prefix or by any part of the name, any case', () => {
    assert.equal(matchesPatient(PATIENT, 'mrn-00'), true);
    assert.equal(matchesPatient(PATIENT, 'byr'), true);
    assert.equal(matchesPatient(PATIENT, '0042'), false);
    assert.equal(matchesPatient(PATIENT, '  '), true);
  });
});

describe('programmed vs ordered', () => {
  test('the ISMP case: 28.8 mL/h against an order of 1.2 mL/h highlights rate and hours, not the smaller volume', () => {
    const rows = programVsOrder(pump('CS7-1', { rateMlH: 28.8, programVolumeMl: 115.2, programHours: 4 }), ORDER);
    assert.deepEqual(rows.map((r) => [r.field, num(r.programmed), num(r.ordered), r.mismatch]), [
      ['rate', '28.8', '1.2', true], ['volume', '115.2', '115.2', false], ['hours', '4', '96', true],
    ]);
  });

  test('within the tolerance nothing is highlighted; a smaller bag is no mismatch, a bigger one is', () => {
    const ok = programVsOrder(pump('CS7-1', { rateMlH: 1.25, programVolumeMl: 100, programHours: 92 }), ORDER);
    assert.deepEqual(ok.map((r) => r.mismatch), [false, false, false]);
    const big = programVsOrder(pump('CS7-1', { rateMlH: 1.2, programVolumeMl: 230, programHours: 96 }), ORDER);
    assert.deepEqual(big.map((r) => r.mismatch), [false, true, false]);
  });

  test('a paused pump compares its program (volume ÷ hours), and unknown values are never a mismatch', () => {
    const paused = programVsOrder(pump('CS7-1', { state: 'PAUSE', rateMlH: 0, programVolumeMl: 115.2, programHours: 4 }), ORDER);
    assert.equal(paused[0]!.programmed, 28.8);
    assert.equal(paused[0]!.mismatch, true);
    const unknown = programVsOrder(pump('CS7-1', { rateMlH: null }), ORDER);
    assert.deepEqual(unknown.map((r) => r.mismatch), [false, false, false]);
  });

  test("the fields the server's program_mismatch alert names are highlighted too", () => {
    const p = pump('CS7-1', { rateMlH: 1.2, programVolumeMl: 115.2, programHours: 96 });
    const figures = { rateMlH: { programmed: 1.2, ordered: 1.2, mismatch: false }, volumeMl: { programmed: 300, ordered: 115.2, mismatch: true }, hours: null };
    assert.deepEqual(programVsOrder(p, ORDER, alert('m', { type: 'program_mismatch', detail: { ...figures, mismatched: ['volumeMl'] } })).map((r) => r.mismatch), [false, true, false]);
    assert.deepEqual(programVsOrder(p, ORDER, alert('m', { type: 'program_mismatch', detail: figures })).map((r) => r.mismatch), [false, true, false]);
    // figures that agree are named in the detail too, and are not highlighted
    assert.deepEqual(programVsOrder(p, ORDER, alert('m', { type: 'program_mismatch', detail: { ...figures, mismatched: [] } })).map((r) => r.mismatch), [false, false, false]);
  });
});
