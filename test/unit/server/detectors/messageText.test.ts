/** Clock times in messages: the nurse's zone (the patient's, else the server's), named, right across DST changes. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { clockText, messageZone } from '../../../../server/detectors/messageText.ts';
import type { OrderTerms } from '../../../../server/engine/index.ts';
import { newCourse } from '../../../../server/pumps/orderCourse.ts';
import { createPumpRecord } from '../../../../server/pumps/pumpRecord.ts';

describe('clockText', () => {
  test('UTC stays as it always was', () => {
    assert.equal(clockText('2026-11-24T06:05:00Z'), '06:05 UTC');
    assert.equal(clockText('2026-11-24T06:05:00Z', 'UTC'), '06:05 UTC');
    assert.equal(clockText(null, 'America/Chicago'), 'an unknown time');
  });

  test('a zone gives its local time and the name it has at that moment', () => {
    assert.equal(clockText('2026-12-06T20:05:00Z', 'America/Chicago'), '14:05 CST');
    assert.equal(clockText('2026-07-06T19:05:00Z', 'America/Chicago'), '14:05 CDT');
    assert.equal(clockText('2026-12-06T13:05:00Z', 'Europe/Paris'), '14:05 GMT+1');
    assert.equal(clockText('2026-12-06T23:30:00Z', 'America/New_York'), '18:30 EST', 'a day boundary in UTC is not one locally');
  });

  test('spring forward: the minute before and the minute after the lost hour', () => {
    // 2026-03-08 in Chicago: 02:00 CST becomes 03:00 CDT
    assert.equal(clockText('2026-03-08T07:59:00Z', 'America/Chicago'), '01:59 CST');
    assert.equal(clockText('2026-03-08T08:00:00Z', 'America/Chicago'), '03:00 CDT');
  });

  test('fall back: the hour that happens twice is told apart by its zone name', () => {
    // 2026-11-01 in Chicago: 02:00 CDT becomes 01:00 CST, so 01:30 happens twice
    assert.equal(clockText('2026-11-01T06:30:00Z', 'America/Chicago'), '01:30 CDT');
    assert.equal(clockText('2026-11-01T07:30:00Z', 'America/Chicago'), '01:30 CST');
  });

  test('a zone this runtime does not know falls back to UTC instead of failing the alert', () => {
    assert.equal(clockText('2026-12-06T20:05:00Z', 'Mars/Olympus'), '20:05 UTC');
  });
});

describe('messageZone', () => {
  const terms: OrderTerms = {
    assignmentId: 'as-1', orderId: 'ord-1', patientId: 'pat-1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46,
    mode: 'continuous', fromMs: 0,
  };

  test("the patient's zone when the assignment gives one, else the server's", () => {
    const rec = createPumpRecord('CS7-1', 'gw-1');
    assert.equal(messageZone(rec, 'America/New_York'), 'America/New_York', 'unassigned');
    rec.course = newCourse({ ...terms }, rec);
    assert.equal(messageZone(rec, 'America/New_York'), 'America/New_York', 'assigned, the patient has no zone');
    rec.course = newCourse({ ...terms, timeZone: 'America/Chicago' }, rec);
    assert.equal(messageZone(rec, 'America/New_York'), 'America/Chicago');
  });
});
