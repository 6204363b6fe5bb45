import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { validateNewOrder, validateNewPatient } from '../../../protocol/clinicalValidation.ts';
import { reasonsFor, serverReasons } from '../../../dashboard/src/formErrors.ts';

const ORDER_FIELDS = ['drug', 'rateMlH', 'volumeMl', 'hours', 'mode', 'start', 'stop', 'payer', 'prescriber'];

describe('form reasons', () => {
  test("the validators' errors go next to their fields; the rest is said above the button", () => {
    const v = validateNewOrder({ drug: 'X', rateMlH: 0, volumeMl: 'ten', hours: 4, mode: 'continuous', start: '2026-01-01T00:00:00Z' });
    assert.equal(v.ok, false);
    const r = reasonsFor(v.ok ? [] : v.errors, ORDER_FIELDS);
    assert.deepEqual(r.byField.get('rateMlH'), ['must be greater than 0']);
    assert.deepEqual(r.byField.get('volumeMl'), ['must be a number']);
    // patientId is no input of the form: said in general
    assert.deepEqual(r.general, ['patientId is required']);
  });

  test("the server's 400: its fields list when it has one, else its message split by field", () => {
    const listed = serverReasons({ status: 400, message: 'x', code: 'bad_request', fields: [{ field: 'hours', reason: 'is required' }] }, ORDER_FIELDS);
    assert.deepEqual(listed.byField.get('hours'), ['is required']);
    const v = validateNewPatient({ mrn: '', name: 'A', timezone: 'Mars/Olympus' });
    const message = v.ok ? '' : v.errors.map((e) => `${e.field} ${e.reason}`).join('; ');
    const r = serverReasons({ status: 400, message, code: 'bad_request' }, ['mrn', 'name', 'phone', 'timezone', 'notes']);
    assert.deepEqual(r.byField.get('mrn'), ['must not be empty']);
    assert.deepEqual(r.byField.get('timezone'), ['must be an IANA time zone, e.g. America/Chicago']);
    assert.deepEqual(r.general, []);
  });

  test('a 409 duplicate MRN or pump already assigned is shown at that field; a 503 says records are unavailable', () => {
    assert.deepEqual(serverReasons({ status: 409, message: 'a patient with this MRN exists', code: 'DUPLICATE_MRN' }, ['mrn', 'name']).byField.get('mrn'), ['a patient with this MRN exists']);
    assert.deepEqual(serverReasons({ status: 409, message: 'end it first', code: 'pump_already_assigned' }, ['pump', 'orderId']).byField.get('pump'), ['end it first']);
    const down = serverReasons({ status: 503, message: 'the database cannot be reached', code: 'database_unavailable' }, ['mrn']);
    assert.match(down.general[0]!, /unavailable.*Alarms keep working/);
  });
});
