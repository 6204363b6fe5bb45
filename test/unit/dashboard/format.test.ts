import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import {
  ackText, ageText, alertTypeText, clockTime, durationText, ml, pressureText, projectedEndText, pumpName, rateText,
  staleBannerText, stateText,
} from '../../../dashboard/src/format.ts';

process.env.TZ = 'UTC';
const NOW = Date.parse('2026-11-27T12:00:00Z');

describe('format', () => {
  test('clockTime is HH:MM:SS local, dash when missing or bad', () => {
    assert.equal(clockTime('2026-11-27T09:05:03Z'), '09:05:03');
    assert.equal(clockTime(null), '—');
    assert.equal(clockTime('nonsense'), '—');
  });

  test('stale banner names the time live updates stopped', () => {
    assert.equal(staleBannerText(Date.parse('2026-11-27T03:14:15Z')), 'Live updates lost since 03:14:15 — data may be out of date');
  });

  test('ageText is coarse and never negative', () => {
    assert.equal(ageText('2026-11-27T11:59:30Z', NOW), 'just now');
    assert.equal(ageText('2026-11-27T11:55:00Z', NOW), '5 min ago');
    assert.equal(ageText('2026-11-27T09:00:00Z', NOW), '3 h ago');
    assert.equal(ageText('2026-11-25T12:00:00Z', NOW), '2 d ago');
    assert.equal(ageText('2026-11-27T12:10:00Z', NOW), 'just now');
    assert.equal(ageText(null, NOW), 'never');
  });

  test('durations, volumes, rates, pressure', () => {
    assert.equal(durationText(45), '45 min');
    assert.equal(durationText(185), '3 h 05 min');
    assert.equal(durationText(-1), '—');
    assert.equal(ml(12.345), '12.3 mL');
    assert.equal(ml(null), '—');
    assert.equal(rateText(5), '5.00 mL/h');
    assert.equal(pressureText(null), 'no sensor');
    assert.equal(pressureText(790), '790 mmHg');
  });

  test('state is always words, ALARM in capitals', () => {
    assert.equal(stateText('ALARM'), 'ALARM');
    assert.equal(stateText('RUN'), 'Running');
    assert.equal(stateText('PAUSE'), 'Paused');
    assert.equal(stateText('END'), 'Finished');
    assert.equal(stateText(null), 'Unknown');
  });

  test('pump name prefers the label', () => {
    assert.equal(pumpName({ pump: 'CS7-1', label: 'Bed 4' }), 'Bed 4');
    assert.equal(pumpName({ pump: 'CS7-1', label: null }), 'CS7-1');
    assert.equal(pumpName({ pump: 'CS7-1' }), 'CS7-1');
  });

  test('alert type and acknowledgement text', () => {
    assert.equal(alertTypeText('delivery_below_24h'), 'Delivery below 24 h');
    assert.equal(alertTypeText('occlusion'), 'Occlusion');
    assert.equal(ackText({ acknowledged: false, ackedBy: null, ackedAt: null }), 'Not acknowledged');
    assert.equal(ackText({ acknowledged: true, ackedBy: 'anna', ackedAt: '2026-11-27T03:01:02Z' }), 'Acknowledged by anna at 03:01:02');
  });

  test('projected end says how long is left', () => {
    assert.equal(projectedEndText('2026-11-27T15:10:00Z', NOW), '27 Nov 15:10 (in 3 h 10 min)');
    assert.equal(projectedEndText('2026-11-27T11:00:00Z', NOW), '27 Nov 11:00 (due)');
    assert.equal(projectedEndText(null, NOW), '—');
  });
});
