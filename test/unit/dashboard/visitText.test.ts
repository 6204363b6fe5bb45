import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { visitText } from '../../../dashboard/src/format.ts';

process.env.TZ = 'UTC';

describe('visitText', () => {
  test('names the end (local HH:MM) and the nurse; empty without a visit', () => {
    assert.equal(visitText({ until: '2026-11-27T14:30:00.000Z', by: 'anna' }), 'In visit until 14:30 (by anna)');
    assert.equal(visitText(null), '');
    assert.equal(visitText(undefined), '');
    assert.equal(visitText({ until: 'nonsense', by: 'anna' }), '');
  });

  test('in the pump\'s zone, named, like the board\'s other times', () => {
    assert.equal(visitText({ until: '2026-11-27T14:30:00.000Z', by: 'anna' }, 'America/Chicago'), 'In visit until 08:30 CST (by anna)');
    assert.equal(visitText({ until: '2026-07-27T14:30:00.000Z', by: 'anna' }, 'America/Chicago'), 'In visit until 09:30 CDT (by anna)');
  });
});
