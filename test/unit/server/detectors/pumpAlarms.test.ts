/** Alerts the pump's own alarm list drives: air_in_line, pump_fault, low_battery, low_reservoir. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createDetectionEngine } from '../../../../server/engine/index.ts';
import { byType, ids, PumpFeed, replay } from '../engine/feed.ts';

function running(pump: string): { f: PumpFeed; msgs: ReturnType<PumpFeed['run']> } {
  const f = new PumpFeed(pump, '2026-12-02T08:00:00Z');
  return { f, msgs: [...f.start('P1', 5, 230, 46), ...f.run(30)] };
}

describe('pump alarms', () => {
  test('air_in_line: high, raised on AIR, cleared when it is gone; no extra infusion_stopped for the halt', () => {
    const { f, msgs } = running('CS7-200001');
    msgs.push(f.evt('ALARM_ON', 'AIR'), f.sts({ state: 'ALARM', alarms: ['AIR'] }), ...f.hold(15));
    msgs.push(f.evt('ALARM_OFF', 'AIR'), f.sts({ state: 'RUN', alarms: [] }), ...f.run(5));
    const changes = replay(createDetectionEngine(), msgs);
    assert.deepEqual([...new Set(changes.map((a) => a.type))], ['air_in_line']);
    const [raised, last] = [changes[0]!, changes.at(-1)!];
    assert.equal(raised.severity, 'high');
    assert.equal(raised.status, 'active');
    assert.match(raised.message, /air in the line/);
    assert.equal(last.status, 'cleared');
  });

  test('pump_fault: FAULT and CASS', () => {
    for (const code of ['FAULT', 'CASS']) {
      const { f, msgs } = running('CS7-200002');
      msgs.push(f.sts({ state: 'ALARM', alarms: [code] }), ...f.hold(2), f.sts({ state: 'RUN', alarms: [] }));
      const changes = byType(replay(createDetectionEngine(), msgs), 'pump_fault');
      assert.equal(ids(changes).length, 1, code);
      assert.equal(changes[0]!.detail.code, code);
      assert.equal(changes.at(-1)!.status, 'cleared');
    }
  });

  test('low_battery: from the percentage with hysteresis, and from BATT_LOW', () => {
    const { f, msgs } = running('CS7-200003');
    msgs.push(...f.run(5).map((m) => m));
    msgs.push(f.sts({ batteryPct: 15 }), f.sts({ batteryPct: 17 }), f.sts({ batteryPct: 15 }), f.sts({ batteryPct: 21 }));
    const changes = byType(replay(createDetectionEngine(), msgs), 'low_battery');
    assert.deepEqual(changes.map((a) => a.status), ['active', 'cleared'], '17% stays inside the hysteresis band');
    assert.equal(changes[0]!.severity, 'medium');
    assert.equal(changes[0]!.detail.batteryPct, 15);

    const g = running('CS7-200004');
    g.msgs.push(g.f.evt('ALARM_ON', 'BATT_LOW'), g.f.sts({ alarms: ['BATT_LOW'], batteryPct: 40 }));
    assert.equal(byType(replay(createDetectionEngine(), g.msgs), 'low_battery').length, 1);
  });

  test('low_battery is not raised after the program has ended', () => {
    const f = new PumpFeed('CS7-200005', '2026-12-02T08:00:00Z');
    const msgs = [...f.start('P1', 5, 5, 1), ...f.run(61), f.evt('END', 'P1'), f.sts({ state: 'END', batteryPct: 5 })];
    assert.deepEqual(byType(replay(createDetectionEngine(), msgs), 'low_battery'), []);
  });

  test('low_reservoir: reservoir short of the volume still to give, and RES_EMPTY; RES_LOW at a normal end is ignored', () => {
    const f = new PumpFeed('CS7-200006', '2026-12-02T08:00:00Z');
    f.status.reservoirMl = 200;
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(5)];
    const changes = byType(replay(createDetectionEngine(), msgs), 'low_reservoir');
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.detail.reason, 'shortfall');
    assert.equal(changes[0]!.severity, 'medium');

    const g = new PumpFeed('CS7-200007', '2026-12-02T08:00:00Z');
    const m2 = [...g.start('P1', 5, 230, 46), ...g.run(5), g.sts({ state: 'ALARM', alarms: ['RES_EMPTY'], reservoirMl: 0 })];
    const c2 = byType(replay(createDetectionEngine(), m2), 'low_reservoir');
    assert.equal(c2.length, 1);
    assert.equal(c2[0]!.detail.reason, 'RES_EMPTY');

    const h = new PumpFeed('CS7-200008', '2026-12-02T08:00:00Z');
    const m3 = [...h.start('P1', 5, 10, 2), ...h.run(100)];
    m3.push(h.sts({ alarms: ['RES_LOW'] }), ...h.run(20), h.evt('END', 'P1'), h.sts({ state: 'END', alarms: [] }));
    assert.deepEqual(replay(createDetectionEngine(), m3), []);
  });

  test('an unknown alarm code is kept on the pump and raises pump_alarm, never nothing (contract §4; pumpAlarm.test.ts has the rest)', () => {
    const { f, msgs } = running('CS7-200009');
    msgs.push(f.sts({ alarms: ['XYZ_NEW'] }));
    const engine = createDetectionEngine();
    assert.deepEqual(replay(engine, msgs).map((a) => [a.type, a.severity, a.detail.code]), [['pump_alarm', 'medium', 'XYZ_NEW']]);
    assert.deepEqual(engine.pump('CS7-200009')?.alarms, ['XYZ_NEW']);
  });
});
