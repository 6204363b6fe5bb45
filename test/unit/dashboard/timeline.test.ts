import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { buildTimeline, currentInfusion, toSeries } from '../../../dashboard/src/timeline.ts';
import { alert, point } from './fixtures.ts';

describe('timeline', () => {
  test('current infusion starts where the infused volume went back down', () => {
    const pts = [
      point('2026-11-27T01:00:00Z', { infusedMl: 200 }), point('2026-11-27T02:00:00Z', { infusedMl: 230, state: 'END' }),
      point('2026-11-27T03:00:00Z', { infusedMl: 0 }), point('2026-11-27T04:00:00Z', { infusedMl: 5 }),
    ];
    assert.deepEqual(currentInfusion(pts).map((p) => p.infusedMl), [0, 5]);
    assert.equal(currentInfusion([]).length, 0);
  });

  test('state changes, pump alarms and alert lifecycle, in time order', () => {
    const pts = [
      point('2026-11-27T01:00:00Z'), point('2026-11-27T02:00:00Z'),
      point('2026-11-27T03:00:00Z', { state: 'ALARM', alarms: ['OCCL_DN'] }), point('2026-11-27T04:00:00Z'),
    ];
    const al = alert('1', { raisedAt: '2026-11-27T02:30:00Z', clearedAt: '2026-11-27T04:00:00Z', status: 'cleared', acknowledged: true, ackedBy: 'anna', ackedAt: '2026-11-27T03:10:00Z' });
    const t = buildTimeline(pts, [al]);
    assert.deepEqual(t.map((e) => `${e.kind}:${e.text.split(' —')[0]}`), [
      'state:first seen RUN', 'alert:HIGH alert: Occlusion', 'state:RUN → ALARM', 'alarm:pump alarm OCCL_DN on',
      'ack:Occlusion acknowledged by anna', 'state:ALARM → RUN', 'alarm:pump alarm OCCL_DN off', 'cleared:Occlusion cleared',
    ]);
  });

  test('chart series: seconds on x, delivery rate 0 unless running, pressure gaps kept', () => {
    const s = toSeries([point('2026-11-27T01:00:00Z', { pressureMmHg: null }), point('2026-11-27T01:01:00Z', { state: 'PAUSE' }), point('bad')]);
    assert.deepEqual(s.x, [Date.parse('2026-11-27T01:00:00Z') / 1000, Date.parse('2026-11-27T01:01:00Z') / 1000]);
    assert.deepEqual(s.rate, [5, 0]);
    assert.deepEqual(s.pressure, [null, 35]);
  });
});
