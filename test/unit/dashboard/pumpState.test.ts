/** The board's state cell for a pump switched off mid-infusion. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { pumpStateClass, pumpStateText } from '../../../dashboard/src/format.ts';

describe('pump state cell', () => {
  test('a pump whose last word was POWER_OFF reads "Switched off", whatever its last status said', () => {
    assert.equal(pumpStateText({ state: 'RUN', alarms: ['BATT_LOW'], poweredOff: true }), 'Switched off');
    assert.equal(pumpStateClass({ state: 'RUN', poweredOff: true }), 'off');
  });

  test('otherwise the state and its alarms, as before (also from a server that sends no poweredOff)', () => {
    assert.equal(pumpStateText({ state: 'RUN', alarms: [], poweredOff: false }), 'Running');
    assert.equal(pumpStateText({ state: 'ALARM', alarms: ['OCCL_DN'] }), 'ALARM · OCCL_DN');
    assert.equal(pumpStateClass({ state: 'PAUSE' }), 'pause');
    assert.equal(pumpStateClass({ state: null, poweredOff: false }), 'unknown');
  });
});
