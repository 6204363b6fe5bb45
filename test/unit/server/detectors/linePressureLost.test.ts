import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createDetectionEngine, DEFAULT_DETECTION_CONFIG } from '../../../../server/engine/index.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import { byType, captureMessages, ids, PumpFeed, replay, seededRandom, deliverStatuses } from '../engine/feed.ts';

const START = '2026-12-01T08:00:00Z';
const minutesAfter = (iso: string, min: number): string => new Date(Date.parse(iso) + min * 60_000).toISOString().replace('.000Z', 'Z');
const LOST_MIN = DEFAULT_DETECTION_CONFIG.linePressureLostS / 60;

describe('line_pressure_lost', () => {
  test('a disconnected line (pressure to 0, vi still counting): raised after 5 min, cleared when the pressure is back', () => {
    const f = new PumpFeed('CS7-300001', START);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(120)];
    const firstLostIso = minutesAfter(f.iso, 1);
    msgs.push(...f.run(30, () => 0), ...f.run(10, () => 36));
    const changes = replay(createDetectionEngine(), msgs);
    assert.deepEqual([...new Set(changes.map((a) => a.type))], ['line_pressure_lost'], 'vi keeps counting: nothing else sees it');
    const lost = byType(changes, 'line_pressure_lost');
    assert.equal(ids(lost).length, 1);
    const raised = lost[0]!;
    assert.equal(raised.severity, 'high');
    assert.equal(raised.status, 'active');
    assert.equal(raised.raisedAt, minutesAfter(firstLostIso, LOST_MIN));
    assert.equal(raised.detail.lostSincePumpTime, firstLostIso);
    assert.equal(raised.detail.baselineMmHg, 35);
    assert.equal(raised.detail.lostReadings, LOST_MIN + 1);
    assert.match(raised.message, /^Pump CS7-300001: line pressure fell to 0 mmHg \(usual 35\) while running, for 5 min since 10:01 UTC; .*disconnected or leaking/);
    assert.equal(lost.at(-1)!.status, 'cleared');
    assert.equal(lost.at(-1)!.clearedAt, minutesAfter(firstLostIso, 30));
  });

  test('a line disconnected during a nurse visit pages only if it is still lost at a reading after the visit', () => {
    const f = new PumpFeed('CS7-300009', START);
    const engine = createDetectionEngine();
    replay(engine, [...f.start('P1', 5, 230, 46), ...f.run(120)]);
    const visitFromMs = f.timeMs + 2000;
    engine.setVisit('CS7-300009', visitFromMs + 20 * 60_000, 'anna', visitFromMs);
    assert.deepEqual(byType(replay(engine, f.run(19, () => 0)), 'line_pressure_lost'), [], 'nothing during the visit');
    const after = byType(replay(engine, f.run(3, () => 0)), 'line_pressure_lost');
    assert.equal(ids(after).length, 1, 'still lost after it: raised');
    // negative twin: reconnected before the visit ends
    const g = new PumpFeed('CS7-300010', START);
    const twin = createDetectionEngine();
    replay(twin, [...g.start('P1', 5, 230, 46), ...g.run(120)]);
    twin.setVisit('CS7-300010', g.timeMs + 2000 + 20 * 60_000, 'anna', g.timeMs + 2000);
    assert.deepEqual(byType(replay(twin, [...g.run(15, () => 0), ...g.run(10, () => 36)]), 'line_pressure_lost'), []);
  });

  test('a leak at 4 mmHg counts; a dip of a few readings, one bad reading or 60 s of 10-s statuses does not', () => {
    const f = new PumpFeed('CS7-300002', START);
    const leak = [...f.start('P1', 2, 96, 48), ...f.run(60, () => 40), ...f.run(8, () => 4)];
    assert.equal(ids(byType(replay(createDetectionEngine(), leak), 'line_pressure_lost')).length, 1);

    const g = new PumpFeed('CS7-300003', START);
    const exact = { ml: 0 };
    const dips = [...g.start('P1', 2, 96, 48), ...deliverStatuses(g, exact, 60, 60, () => 40)];
    dips.push(...deliverStatuses(g, exact, 60, LOST_MIN, () => 0), ...deliverStatuses(g, exact, 60, 10, () => 40)); // 4 min at 0
    dips.push(...deliverStatuses(g, exact, 60, 1, () => 0), ...deliverStatuses(g, exact, 60, 10, () => 40)); // one bad reading
    dips.push(...deliverStatuses(g, exact, 10, 6, () => 0), ...deliverStatuses(g, exact, 10, 10, () => 40)); // 7 readings over 60 s
    assert.deepEqual(replay(createDetectionEngine(), dips), []);
  });

  test('46 h at 2 mL/h with movement spikes, noise and occasional dips stays silent', () => {
    const rnd = seededRandom(5);
    const f = new PumpFeed('CS7-300004', START);
    const pressure = (): number => {
      const r = rnd();
      if (r < 0.02) return 150 + Math.round(rnd() * 300); // the patient moves: a jump
      if (r < 0.04) return Math.round(rnd() * 5); // a dip or a bad reading
      return Math.round(35 + (rnd() - 0.5) * 30);
    };
    const msgs = [...f.start('P1', 2, 92, 46), ...f.run(46 * 60 - 1, pressure)];
    const low = (m: PumpMessage | undefined): boolean => m?.type === 'status' && m.pressureMmHg !== null && m.pressureMmHg <= 5;
    assert.ok(msgs.some((m, i) => low(m) && low(msgs[i + 1])), 'two low readings in a row occur');
    assert.deepEqual(replay(createDetectionEngine(), msgs), []);
  });

  test('a pump without a pressure sensor never raises it (a frozen vi is still no_flow)', () => {
    const f = new PumpFeed('CS7-300005', START);
    f.status.pressureMmHg = null;
    const msgs = [...f.start('P1', 5, 230, 46), ...deliverStatuses(f, { ml: 0 }, 60, 600, () => null), ...f.hold(30, () => ({ pressureMmHg: null }))];
    const changes = replay(createDetectionEngine(), msgs);
    assert.deepEqual([...new Set(changes.map((a) => a.type))], ['no_flow']);
  });

  test('no pressure while paused or before the line has built any; a low-pressure line (8 mmHg) never raises it', () => {
    const f = new PumpFeed('CS7-300006', START);
    f.status.pressureMmHg = 0;
    const exact = { ml: 0 };
    // the pressure builds over the first 20 min, then a 20-min pause with the sensor at 0
    const msgs = [...f.start('P1', 2, 96, 48), ...deliverStatuses(f, exact, 60, 20, (i) => i * 2), ...deliverStatuses(f, exact, 60, 60, () => 40)];
    msgs.push(f.evt('PAUSE'), f.sts({ state: 'PAUSE', pressureMmHg: 0 }), ...f.hold(20, () => ({ pressureMmHg: 0 })));
    msgs.push(f.evt('RESUME'), f.sts({ state: 'RUN', pressureMmHg: 35 }), ...deliverStatuses(f, exact, 60, 60, () => 38));
    const changes = replay(createDetectionEngine(), msgs);
    assert.deepEqual([...new Set(changes.map((a) => a.type))], ['infusion_stopped']);

    const g = new PumpFeed('CS7-300007', START);
    const central = [...g.start('P1', 2, 96, 48), ...g.run(120, () => 8), ...g.run(60, () => 0)];
    assert.deepEqual(replay(createDetectionEngine(), central), []);
  });

  test('stays active through a pause (nothing says the line is back); cleared by a normal reading or the end of the program', () => {
    const f = new PumpFeed('CS7-300008', START);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(60), ...f.run(10, () => 0)];
    msgs.push(f.evt('PAUSE'), f.sts({ state: 'PAUSE', pressureMmHg: 0 }), ...f.hold(3, () => ({ pressureMmHg: 0 })));
    const pauseEnd = f.iso;
    msgs.push(f.evt('STOP'), f.sts({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0 }));
    const lost = byType(replay(createDetectionEngine(), msgs), 'line_pressure_lost');
    assert.equal(ids(lost).length, 1);
    const cleared = lost.at(-1)!;
    assert.equal(cleared.status, 'cleared');
    assert.equal(cleared.clearedAt, pauseEnd);
    assert.equal(cleared.detail.clearedBecause, 'program ended or was stopped');
  });

  test('every capture gives no line_pressure_lost', () => {
    for (const name of ['folfox-46h-normal', 'occlusion-at-20h', 'pause-20min', 'early-end-19h', 'noisy-link']) {
      assert.deepEqual(byType(replay(createDetectionEngine(), captureMessages(name)), 'line_pressure_lost'), [], name);
    }
  });
});
