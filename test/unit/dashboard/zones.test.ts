/** The board's times: the patient's zone when known, else the server's, always named. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { ackText, clockTime, dateTime, projectedEndText, pumpZone, zoneNote } from '../../../dashboard/src/format.ts';

process.env.TZ = 'UTC';
const NOW = Date.parse('2026-11-27T12:00:00Z');
const CHICAGO = { patient: { id: 'p1', mrn: 'M1', name: 'Someone', timezone: 'America/Chicago' } };
const NO_ZONE = { patient: { id: 'p2', mrn: 'M2', name: 'Someone else', timezone: null } };

describe('times in a zone', () => {
  test('clockTime and dateTime in a zone are that zone\'s wall clock, named', () => {
    assert.equal(clockTime('2026-11-27T20:05:03Z', 'America/Chicago'), '14:05:03 CST');
    assert.equal(dateTime('2026-11-28T03:30:00Z', 'America/Chicago'), '27 Nov 21:30 CST', 'the date is the local one too');
    assert.equal(dateTime('2026-11-27T13:05:00Z', 'Europe/Paris'), '27 Nov 14:05 GMT+1');
    assert.equal(clockTime('2026-11-27T20:05:03Z', 'UTC'), '20:05:03 UTC');
  });

  test('across DST changes the name says which side of the change a time is on', () => {
    assert.equal(clockTime('2026-03-08T07:59:00Z', 'America/Chicago'), '01:59:00 CST');
    assert.equal(clockTime('2026-03-08T08:00:00Z', 'America/Chicago'), '03:00:00 CDT');
    assert.equal(clockTime('2026-11-01T06:30:00Z', 'America/Chicago'), '01:30:00 CDT');
    assert.equal(clockTime('2026-11-01T07:30:00Z', 'America/Chicago'), '01:30:00 CST');
  });

  test('no zone, or one this browser does not know: the browser\'s own time as before', () => {
    assert.equal(clockTime('2026-11-27T20:05:03Z'), '20:05:03');
    assert.equal(clockTime('2026-11-27T20:05:03Z', null), '20:05:03');
    assert.equal(clockTime('2026-11-27T20:05:03Z', 'Mars/Olympus'), '20:05:03');
  });

  test("a pump's zone is its patient's when on record, else the server's", () => {
    assert.equal(pumpZone(CHICAGO, 'America/New_York'), 'America/Chicago');
    assert.equal(pumpZone(NO_ZONE, 'America/New_York'), 'America/New_York');
    assert.equal(pumpZone({ patient: null }, 'America/New_York'), 'America/New_York');
    assert.equal(pumpZone(undefined, null), null);
    assert.match(zoneNote(CHICAGO, 'America/New_York'), /patient's zone, America\/Chicago/);
    assert.match(zoneNote(NO_ZONE, 'America/New_York'), /server's zone, America\/New_York/);
  });

  test('projected end and acknowledgement in the pump\'s zone', () => {
    assert.equal(projectedEndText('2026-11-27T15:10:00Z', NOW, 'America/Chicago'), '27 Nov 09:10 CST (in 3 h 10 min)');
    assert.equal(ackText({ acknowledged: true, ackedBy: 'anna', ackedAt: '2026-11-27T03:01:02Z' }, 'America/New_York'), 'Acknowledged by anna at 22:01:02 EST');
  });
});
