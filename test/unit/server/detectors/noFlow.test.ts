import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createDetectionEngine, DEFAULT_DETECTION_CONFIG } from '../../../../server/engine/index.ts';
import { byType, captureMessages, ids, PumpFeed, replay, seededRandom, deliverStatuses } from '../engine/feed.ts';

const START = '2026-12-01T08:00:00Z';
const minutesAfter = (iso: string, min: number): string => new Date(Date.parse(iso) + min * 60_000).toISOString().replace('.000Z', 'Z');

describe('no_flow', () => {
  test('vi frozen during RUN with the pressure flat: raised after 20 min of RUN, cleared when vi advances', () => {
    const f = new PumpFeed('CS7-200001', START);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(120)];
    const frozenIso = f.iso;
    msgs.push(...f.hold(45), ...f.run(5));
    const changes = replay(createDetectionEngine(), msgs);
    assert.deepEqual(ids(changes), ids(byType(changes, 'no_flow')), 'nothing but no_flow');
    const nf = byType(changes, 'no_flow');
    assert.equal(ids(nf).length, 1);
    const raised = nf[0]!;
    assert.equal(raised.status, 'active');
    assert.equal(raised.severity, 'high');
    assert.equal(raised.raisedAt, minutesAfter(frozenIso, 20));
    assert.equal(raised.detail.frozenSincePumpTime, frozenIso);
    assert.equal(raised.detail.waitS, DEFAULT_DETECTION_CONFIG.noFlowMinS);
    assert.equal(raised.detail.pressureMmHg, 35);
    assert.match(raised.message, /^Pump CS7-200001: shows RUN at 5 mL\/h but has counted no medicine for 20 min since 10:00 UTC \(1\.7 mL due\); line pressure 35 mmHg/);
    const cleared = nf.at(-1)!;
    assert.equal(cleared.status, 'cleared');
    assert.equal(cleared.clearedAt, minutesAfter(frozenIso, 46), 'the first status with vi advanced');
  });

  test('a pump without a pressure sensor: no_flow still works', () => {
    const f = new PumpFeed('CS7-200002', START);
    f.status.pressureMmHg = null;
    const msgs = [...f.start('P1', 2, 96, 48), ...deliverStatuses(f, { ml: 0 }, 60, 60, () => null)];
    msgs.push(...f.hold(30, () => ({ pressureMmHg: null })));
    for (const m of msgs) if (m.type === 'status') assert.equal(m.pressureMmHg, null);
    const changes = replay(createDetectionEngine(), msgs);
    assert.deepEqual([...new Set(changes.map((a) => a.type))], ['no_flow']);
    assert.match(changes[0]!.message, /this pump has no line pressure sensor/);
  });

  test('0.5 mL/h for 24 h with the counter moving only every ~72 s (statuses every 10 s, 60 s and 300 s) stays silent', () => {
    for (const intervalS of [10, 60, 300]) {
      const rnd = seededRandom(intervalS);
      const f = new PumpFeed('CS7-200003', START);
      const exact = { ml: 0 };
      const msgs = [...f.start('P1', 0.5, 24, 48), ...deliverStatuses(f, exact, intervalS, (24 * 3600) / intervalS, () => Math.round(40 + (rnd() - 0.5) * 20))];
      const frozenRuns = msgs.filter((m, i) => i > 0 && m.type === 'status' && msgs[i - 1]!.type === 'status' && m.infusedMl === (msgs[i - 1] as typeof m).infusedMl);
      if (intervalS < 72) assert.ok(frozenRuns.length > 0, 'vi does stand still between some statuses');
      assert.deepEqual(replay(createDetectionEngine(), msgs), [], `statuses every ${intervalS} s`);
    }
  });

  test('0.5 mL/h with vi frozen: raised after 20 min; 0.1 mL/h waits for 0.1 mL to be due (60 min)', () => {
    for (const [rate, waitMin] of [[0.5, 20], [0.1, 60]] as const) {
      const f = new PumpFeed('CS7-200004', START);
      const exact = { ml: 0 };
      const msgs = [...f.start('P1', rate, 24, 48), ...deliverStatuses(f, exact, 60, 180)];
      const lastAdvance = [...msgs].reverse().find((m, i, all) => m.type === 'status' && all[i + 1]?.type === 'status' && m.infusedMl !== (all[i + 1] as typeof m).infusedMl)!;
      msgs.push(...f.hold(waitMin + 10));
      const nf = byType(replay(createDetectionEngine(), msgs), 'no_flow');
      assert.equal(ids(nf).length, 1, `${rate} mL/h`);
      assert.equal(nf[0]!.detail.frozenSincePumpTime, lastAdvance.time);
      assert.equal(nf[0]!.raisedAt, minutesAfter(lastAdvance.time, waitMin), `${rate} mL/h`);
      assert.equal(nf[0]!.detail.waitS, waitMin * 60);
    }
  });

  test('a pressure climb with vi frozen stays an occlusion (5 mL/h: no no_flow at all)', () => {
    const f = new PumpFeed('CS7-200005', START);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(120)];
    msgs.push(...f.hold(40, (i) => ({ pressureMmHg: 35 + (i + 1) * 19 })));
    const changes = replay(createDetectionEngine(), msgs);
    assert.deepEqual([...new Set(changes.map((a) => a.type))], ['occlusion']);
  });

  test('0.5 mL/h with a sensor: no_flow first, cleared when the slow pressure climb makes it an occlusion', () => {
    const f = new PumpFeed('CS7-200006', START);
    const exact = { ml: 0 };
    const msgs = [...f.start('P1', 0.5, 24, 48), ...deliverStatuses(f, exact, 60, 120)];
    msgs.push(...f.hold(70, (i) => ({ pressureMmHg: Math.round(35 + (i + 1) * 1.9) })));
    const changes = replay(createDetectionEngine(), msgs);
    const nf = byType(changes, 'no_flow');
    const occl = byType(changes, 'occlusion');
    assert.equal(ids(nf).length, 1);
    assert.equal(ids(occl).length, 1);
    assert.ok(Date.parse(nf[0]!.raisedAt) < Date.parse(occl[0]!.raisedAt), 'no_flow is the earlier sign at 0.5 mL/h');
    assert.equal(nf.at(-1)!.status, 'cleared');
    assert.equal(nf.at(-1)!.clearedAt, occl[0]!.raisedAt);
    assert.equal(nf.at(-1)!.detail.clearedBecause, 'the occlusion alert reports it');
    assert.equal(occl.at(-1)!.status, 'active');
  });

  test('a pause clears it (a halt is infusion_stopped\'s); still frozen after the resume, it is back at once', () => {
    const f = new PumpFeed('CS7-200007', START);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(60), ...f.hold(25)];
    msgs.push(f.evt('PAUSE'), f.sts({ state: 'PAUSE' }));
    const pauseIso = f.iso;
    msgs.push(...f.hold(3), f.evt('RESUME'));
    const resumeIso = f.iso;
    msgs.push(f.sts({ state: 'RUN' }), ...f.hold(5), ...f.run(2));
    const changes = replay(createDetectionEngine(), msgs);
    assert.deepEqual([...new Set(changes.map((a) => a.type))], ['no_flow'], 'a 3-min pause is within the grace');
    const nf = byType(changes, 'no_flow');
    assert.equal(ids(nf).length, 1, 'the same problem, back within the flap window');
    const paused = nf.find((a) => a.status === 'cleared')!;
    assert.equal(paused.clearedAt, pauseIso);
    assert.equal(paused.detail.clearedBecause, 'the pump is no longer running (infusion_stopped watches a halt)');
    const back = nf.find((a) => a.status === 'active' && a.detail.flaps === 1)!;
    assert.ok(back, 'active again');
    assert.equal(back.detail.pumpTime, resumeIso, 'at the RESUME');
    assert.equal(back.detail.frozenMinutes, 25, 'RUN time only: the pause neither counts nor resets the wait');
    assert.equal(nf.at(-1)!.status, 'cleared');
  });

  test('a pause inside the wait neither counts nor resets it', () => {
    const f = new PumpFeed('CS7-200011', START);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(60)];
    const frozenIso = f.iso;
    msgs.push(...f.hold(15), f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), ...f.hold(4), f.evt('RESUME'), f.sts({ state: 'RUN' }), ...f.hold(10));
    const nf = byType(replay(createDetectionEngine(), msgs), 'no_flow');
    assert.equal(ids(nf).length, 1);
    assert.equal(nf[0]!.raisedAt, minutesAfter(frozenIso, 15 + 4 + 5), '20 min of RUN: 15 before the pause, 5 after');
    assert.equal(nf[0]!.detail.frozenMinutes, 20);
  });

  test('a rate change starts the wait again; the end of the volume is not a frozen counter', () => {
    const f = new PumpFeed('CS7-200008', START);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(60), ...f.hold(15), f.evt('RATE', '4'), ...f.hold(15, () => ({ rateMlH: 4 }))];
    assert.deepEqual(replay(createDetectionEngine(), msgs), []);
    const g = new PumpFeed('CS7-200009', START);
    const end = [...g.start('P1', 5, 10, 2), ...g.run(120), ...g.hold(30)];
    assert.equal((end.at(-1) as { vtbiMl: number }).vtbiMl, 0);
    assert.deepEqual(byType(replay(createDetectionEngine(), end), 'no_flow'), []);
  });

  test('NO_FLOW_MIN_S shortens the wait; a restart restored from a snapshot carries the frozen time on', () => {
    const f = new PumpFeed('CS7-200010', START);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(30), ...f.hold(3)];
    const engine = createDetectionEngine({ ...DEFAULT_DETECTION_CONFIG, noFlowMinS: 300 });
    replay(engine, msgs);
    const restored = createDetectionEngine({ ...DEFAULT_DETECTION_CONFIG, noFlowMinS: 300 });
    restored.restorePump(engine.exportPump('CS7-200010')!);
    const nf = byType(replay(restored, f.hold(3)), 'no_flow');
    assert.equal(ids(nf).length, 1);
    assert.equal(nf[0]!.detail.frozenMinutes, 5);
  });

  test('every capture gives no no_flow', () => {
    for (const name of ['folfox-46h-normal', 'occlusion-at-20h', 'pause-20min', 'early-end-19h', 'noisy-link']) {
      assert.deepEqual(byType(replay(createDetectionEngine(), captureMessages(name)), 'no_flow'), [], name);
    }
  });
});
