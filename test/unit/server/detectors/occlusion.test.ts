import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createDetectionEngine } from '../../../../server/engine/index.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import { byType, ids, PumpFeed, replay, seededRandom } from '../engine/feed.ts';

const PUMP_ALARM_MMHG = 775;
/** mmHg per minute a blocked line climbs: proportional to the rate (5 mL/h gives the capture's 19 mmHg/min) */
const climbPerMin = (rateMlH: number): number => 3.8 * rateMlH;

/** Runs `minutes` normally, then blocks the line until the pump's own alarm, then clears it and runs on. */
function occludedRun(rateMlH: number): { msgs: PumpMessage[]; pumpAlarmIso: string; stallIso: string } {
  const f = new PumpFeed('CS7-100001', '2026-12-01T08:00:00Z');
  const msgs = [...f.start('P1', rateMlH, rateMlH * 48, 48), ...f.run(600)];
  const stallIso = f.iso;
  let p = 35;
  while (p < PUMP_ALARM_MMHG) {
    p += climbPerMin(rateMlH);
    msgs.push(...f.hold(1, () => ({ pressureMmHg: Math.min(Math.round(p), 2000) })));
  }
  const pumpAlarmIso = f.iso;
  msgs.push(f.evt('ALARM_ON', 'OCCL_DN'), f.sts({ state: 'ALARM', alarms: ['OCCL_DN'] }));
  msgs.push(...f.hold(20));
  msgs.push(f.evt('ALARM_OFF', 'OCCL_DN'), f.sts({ state: 'RUN', alarms: [], pressureMmHg: 40 }), ...f.run(60, () => 40));
  return { msgs, pumpAlarmIso, stallIso };
}

describe('occlusion', () => {
  for (const rate of [2, 3, 5]) {
    test(`at ${rate} mL/h the inferred alert comes well before the pump's own alarm`, () => {
      const engine = createDetectionEngine();
      const { msgs, pumpAlarmIso, stallIso } = occludedRun(rate);
      const changes = replay(engine, msgs);
      const occl = byType(changes, 'occlusion');
      assert.equal(ids(occl).length, 1);
      const first = occl[0]!;
      assert.equal(first.detail.inferred, true);
      assert.equal(first.detail.stalledSincePumpTime, stallIso);
      const leadMin = (Date.parse(pumpAlarmIso) - Date.parse(first.raisedAt)) / 60_000;
      const pumpTookMin = (Date.parse(pumpAlarmIso) - Date.parse(stallIso)) / 60_000;
      assert.ok(leadMin >= 0.75 * pumpTookMin, `lead ${leadMin} min of ${pumpTookMin} min`);
      if (rate === 2) assert.ok(leadMin >= 60, `at 2 mL/h lead ${leadMin} min`);
      assert.equal(occl.at(-1)!.status, 'cleared');
      assert.deepEqual(ids(changes), ids(occl), 'nothing but the occlusion');
    });
  }

  test('a pump without a pressure sensor: raised by the pump alarm, inferred false', () => {
    const f2 = new PumpFeed('CS7-100002', '2026-12-01T08:00:00Z');
    f2.status.pressureMmHg = null;
    const clean = [...f2.start('P1', 5, 230, 46), ...f2.hold(60, () => ({ pressureMmHg: null }))];
    clean.push(f2.evt('ALARM_ON', 'OCCL_DN'), f2.sts({ state: 'ALARM', alarms: ['OCCL_DN'], pressureMmHg: null }));
    const engine = createDetectionEngine();
    const changes = replay(engine, clean);
    const occl = byType(changes, 'occlusion');
    assert.equal(occl.length, 1);
    assert.equal(occl[0]!.detail.inferred, false);
    assert.equal(occl[0]!.detail.pumpAlarm, 'OCCL_DN');
    assert.equal(occl[0]!.raisedAt, f2.iso);
  });

  test('no false alarm: 46 h at 2 mL/h with pressure noise and spikes', () => {
    const rnd = seededRandom(7);
    const f = new PumpFeed('CS7-100003', '2026-12-01T08:00:00Z');
    const msgs = [...f.start('P1', 2, 92, 46), ...f.run(46 * 60 - 1, () => 40 + (rnd() - 0.5) * 80 + (rnd() < 0.01 ? 300 : 0))];
    const changes = replay(createDetectionEngine(), msgs);
    assert.deepEqual(changes, []);
  });

  test('no false alarm at 0.5 mL/h where vi moves only every minute or two', () => {
    const rnd = seededRandom(11);
    const f = new PumpFeed('CS7-100004', '2026-12-01T08:00:00Z');
    const msgs = [...f.start('P1', 0.5, 24, 48), ...f.run(24 * 60, () => 60 + (rnd() - 0.5) * 150)];
    assert.deepEqual(replay(createDetectionEngine(), msgs), []);
  });

  test('a pause with pressure up is not an occlusion (it is infusion_stopped once past the grace)', () => {
    const f = new PumpFeed('CS7-100005', '2026-12-01T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(120)];
    msgs.push(f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), ...f.hold(30, (i) => ({ pressureMmHg: 35 + i * 20 })));
    msgs.push(f.evt('RESUME'), f.sts({ state: 'RUN', pressureMmHg: 35 }), ...f.run(60));
    const changes = replay(createDetectionEngine(), msgs);
    assert.deepEqual(byType(changes, 'occlusion'), []);
    assert.equal(ids(byType(changes, 'infusion_stopped')).length, 1);
  });

  test('a kink released before the pump alarm clears the inferred alert', () => {
    const f = new PumpFeed('CS7-100006', '2026-12-01T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(120)];
    msgs.push(...f.hold(12, (i) => ({ pressureMmHg: 35 + (i + 1) * 19 })));
    msgs.push(...f.run(10, () => 45));
    const changes = replay(createDetectionEngine(), msgs);
    const occl = byType(changes, 'occlusion');
    assert.equal(ids(occl).length, 1);
    assert.equal(occl[0]!.status, 'active');
    assert.equal(occl.at(-1)!.status, 'cleared');
  });
});
