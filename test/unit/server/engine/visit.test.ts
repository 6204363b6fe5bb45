/** Nurse visits: stops and silences do not page during one; what outlasts it is raised from its end. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { Alert } from '../../../../protocol/api.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import { createDetectionEngine, type DetectionEngine } from '../../../../server/engine/index.ts';
import { byType, LINK_DELAY_MS, PumpFeed, replay } from './feed.ts';

const GRACE_S = 300;
const MIN = 60_000;

/** a pump 30 min into a 46-h program, then paused; returns the pause's sentences separately */
function pausedPump(serial: string): { f: PumpFeed; before: PumpMessage[] } {
  const f = new PumpFeed(serial, '2026-12-03T08:00:00Z');
  const before = [...f.start('P1', 5, 230, 46), ...f.run(30), f.evt('PAUSE'), f.sts({ state: 'PAUSE' })];
  return { f, before };
}

const serverMsOf = (m: PumpMessage): number => Date.parse(m.time) + LINK_DELAY_MS;

/** minutes of a paused pump, each status fed with its server time; the engine ticks every 10 s between */
function feedMinutes(engine: DetectionEngine, f: PumpFeed, minutes: number): Alert[] {
  return replay(engine, f.hold(minutes));
}

describe('nurse visit', () => {
  test('a pause during a visit raises nothing; still paused when the visit ends by itself, infusion_stopped comes after the grace', () => {
    const engine = createDetectionEngine({ stoppedGraceS: GRACE_S });
    const { f, before } = pausedPump('CS7-320001');
    assert.deepEqual(replay(engine, before), []);
    const startMs = serverMsOf(before.at(-1)!);
    assert.equal(engine.setVisit('CS7-320001', startMs + 30 * MIN, 'anna', startMs), true);
    assert.equal(engine.pump('CS7-320001')!.visit!.by, 'anna');
    assert.equal(engine.pump('CS7-320001')!.visit!.until, new Date(startMs + 30 * MIN).toISOString());
    // 30 min paused, far past the grace: nothing
    assert.deepEqual(feedMinutes(engine, f, 30), []);
    assert.equal(engine.pump('CS7-320001')!.visit, null, 'the visit ended by itself');
    // still paused: the grace counts from the visit's end (5 min), not from the start of the pause
    assert.deepEqual(feedMinutes(engine, f, 5), []);
    const after = byType(feedMinutes(engine, f, 2), 'infusion_stopped');
    assert.equal(after.length, 1);
    assert.equal(after[0]!.detail.stoppedSincePumpTime, '2026-12-03T08:30:00Z');
    assert.equal(after[0]!.detail.visitBy, 'anna');
    assert.match(after[0]!.message, /nurse visit \(anna\) ended at 09:00 UTC/);
  });

  test('negative twin: the same pause without a visit raises infusion_stopped after the grace', () => {
    const engine = createDetectionEngine({ stoppedGraceS: GRACE_S });
    const { f, before } = pausedPump('CS7-320002');
    replay(engine, before);
    const stopped = byType(feedMinutes(engine, f, 6), 'infusion_stopped');
    assert.equal(stopped.length, 1);
    assert.equal(stopped[0]!.detail.visitBy, undefined);
  });

  test('the pump restarted before the visit ends: nothing is raised after it', () => {
    const engine = createDetectionEngine({ stoppedGraceS: GRACE_S });
    const { f, before } = pausedPump('CS7-320003');
    replay(engine, before);
    const startMs = serverMsOf(before.at(-1)!);
    engine.setVisit('CS7-320003', startMs + 20 * MIN, 'anna', startMs);
    const msgs = [...f.hold(15), f.evt('RESUME'), f.sts({ state: 'RUN' }), ...f.run(30)];
    assert.deepEqual(replay(engine, msgs), []);
  });

  test('ended early by a nurse: the grace counts from then', () => {
    const engine = createDetectionEngine({ stoppedGraceS: GRACE_S });
    const { f, before } = pausedPump('CS7-320004');
    replay(engine, before);
    const startMs = serverMsOf(before.at(-1)!);
    engine.setVisit('CS7-320004', startMs + 60 * MIN, 'anna', startMs);
    assert.deepEqual(feedMinutes(engine, f, 10), []);
    engine.setVisit('CS7-320004', null, 'bea', startMs + 10 * MIN + 30_000);
    assert.equal(engine.pump('CS7-320004')!.visit, null);
    assert.deepEqual(feedMinutes(engine, f, 5), []);
    assert.equal(byType(feedMinutes(engine, f, 1), 'infusion_stopped').length, 1);
  });

  test('a STOP with volume left during a visit does not page; it does once the visit is over and the grace has run', () => {
    const engine = createDetectionEngine({ stoppedGraceS: GRACE_S });
    const f = new PumpFeed('CS7-320005', '2026-12-03T08:00:00Z');
    const start = [...f.start('P1', 5, 230, 46), ...f.run(30)];
    replay(engine, start);
    const startMs = serverMsOf(start.at(-1)!);
    engine.setVisit('CS7-320005', startMs + 15 * MIN, 'anna', startMs);
    const during = [f.advance(60).evt('STOP'), f.sts({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0 }), ...f.hold(13)];
    assert.deepEqual(byType(replay(engine, during), 'infusion_stopped'), []);
    assert.equal(byType(feedMinutes(engine, f, 7), 'infusion_stopped').length, 1);
  });

  test('silence during a visit is no signal_lost; a silence that outlasts it is, signalLostS after its end', () => {
    const engine = createDetectionEngine({ signalLostS: 300 });
    const f = new PumpFeed('CS7-320006', '2026-12-03T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(30)];
    replay(engine, msgs);
    const lastMs = serverMsOf(msgs.at(-1)!);
    engine.setVisit('CS7-320006', lastMs + 20 * MIN, 'anna', lastMs);
    const raised: Alert[] = [];
    for (let t = lastMs + 10_000; t <= lastMs + 30 * MIN; t += 10_000) {
      engine.tick(t);
      raised.push(...engine.takeChanges().alerts);
      if (t < lastMs + 25 * MIN) assert.deepEqual(raised, [], `nothing at +${(t - lastMs) / 1000} s`);
    }
    const lost = byType(raised, 'signal_lost');
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.raisedAt, new Date(lastMs + 25 * MIN).toISOString());
  });

  test('switched off during a visit: no pump_off while it lasts; still off the grace after it ended by itself, pump_off then', () => {
    const engine = createDetectionEngine({ signalLostS: 300, stoppedGraceS: GRACE_S });
    const f = new PumpFeed('CS7-320010', '2026-12-03T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(30)];
    replay(engine, msgs);
    const lastMs = serverMsOf(msgs.at(-1)!);
    engine.setVisit('CS7-320010', lastMs + 20 * MIN, 'anna', lastMs);
    f.advance(60);
    assert.deepEqual(replay(engine, [f.evt('POWER_OFF')]), []);
    const raised: Alert[] = [];
    for (let t = lastMs + 70_000; t <= lastMs + 40 * MIN; t += 10_000) {
      engine.tick(t);
      raised.push(...engine.takeChanges().alerts);
      if (t < lastMs + 25 * MIN) assert.deepEqual(raised, [], `nothing at +${(t - lastMs) / 1000} s`);
    }
    // one alert (re-pushed once as escalated, nobody acknowledging it), and no signal_lost
    assert.deepEqual([...new Set(raised.map((a) => `${a.id} ${a.type}:${a.status}`))].length, 1);
    assert.equal(raised[0]!.type, 'pump_off');
    assert.equal(raised[0]!.raisedAt, new Date(lastMs + 25 * MIN).toISOString());
    assert.match(raised[0]!.message, /switched off at 08:31 UTC during the nurse visit \(anna\) and is still off since the visit ended at 08:50 UTC/);
  });

  test('negative twin: switched off and on again during a visit, or the visit ended early after power-on: nothing', () => {
    const engine = createDetectionEngine({ signalLostS: 300 });
    const f = new PumpFeed('CS7-320011', '2026-12-03T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(30)];
    replay(engine, msgs);
    const lastMs = serverMsOf(msgs.at(-1)!);
    engine.setVisit('CS7-320011', lastMs + 20 * MIN, 'anna', lastMs);
    f.advance(60);
    const cycle = [f.evt('POWER_OFF'), f.advance(120).evt('POWER_ON', '4.2.1')];
    f.seq = 1;
    cycle.push(...f.run(3));
    assert.deepEqual(replay(engine, cycle), []);
    const atMs = serverMsOf(cycle.at(-1)!);
    engine.setVisit('CS7-320011', null, 'anna', atMs);
    engine.tick(atMs + 1000);
    assert.deepEqual(engine.takeChanges().alerts, []);
  });

  test('negative twin: the same silence without a visit is signal_lost after signalLostS', () => {
    const engine = createDetectionEngine({ signalLostS: 300 });
    const f = new PumpFeed('CS7-320007', '2026-12-03T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(30)];
    replay(engine, msgs);
    const lastMs = serverMsOf(msgs.at(-1)!);
    engine.tick(lastMs + 5 * MIN);
    assert.equal(byType(engine.takeChanges().alerts, 'signal_lost').length, 1);
  });

  test('a visit does not silence a real alarm: an occlusion during a visit is raised at once', () => {
    const engine = createDetectionEngine();
    const f = new PumpFeed('CS7-320008', '2026-12-03T08:00:00Z');
    const start = [...f.start('P1', 5, 230, 46), ...f.run(30)];
    replay(engine, start);
    const startMs = serverMsOf(start.at(-1)!);
    engine.setVisit('CS7-320008', startMs + 30 * MIN, 'anna', startMs);
    const msgs = [f.advance(60).evt('ALARM_ON', 'OCCL_DN'), f.sts({ state: 'ALARM', alarms: ['OCCL_DN'] })];
    assert.deepEqual(replay(engine, msgs).map((a) => `${a.type}:${a.status}`), ['occlusion:active']);
  });

  test('the visit is in the pump view pushed by takeChanges, and in the snapshot: it ends by itself after a restore', () => {
    const engine = createDetectionEngine({ stoppedGraceS: GRACE_S });
    const { f, before } = pausedPump('CS7-320009');
    replay(engine, before);
    const startMs = serverMsOf(before.at(-1)!);
    engine.setVisit('CS7-320009', startMs + 20 * MIN, 'anna', startMs);
    const pushed = engine.takeChanges().pumps.find((p) => p.pump === 'CS7-320009');
    assert.deepEqual(pushed?.visit, { until: new Date(startMs + 20 * MIN).toISOString(), by: 'anna' });

    const restored = createDetectionEngine({ stoppedGraceS: GRACE_S });
    restored.restorePump(engine.exportPump('CS7-320009')!);
    assert.equal(restored.pump('CS7-320009')!.visit!.by, 'anna');
    assert.deepEqual(feedMinutes(restored, f, 19), []);
    restored.tick(startMs + 20 * MIN);
    assert.ok(restored.takeChanges().pumps.some((p) => p.pump === 'CS7-320009' && p.visit === null), 'its end is pushed');
    assert.deepEqual(feedMinutes(restored, f, 6), []);
    assert.equal(byType(feedMinutes(restored, f, 1), 'infusion_stopped').length, 1);
  });

  test('an unknown pump is refused; a time already past ends the visit', () => {
    const engine = createDetectionEngine();
    assert.equal(engine.setVisit('CS7-399999', 1, 'anna', 0), false);
    const { before } = pausedPump('CS7-320010');
    replay(engine, before);
    const nowMs = serverMsOf(before.at(-1)!);
    engine.setVisit('CS7-320010', nowMs + MIN, 'anna', nowMs);
    engine.setVisit('CS7-320010', nowMs - 1, 'anna', nowMs);
    assert.equal(engine.pump('CS7-320010')!.visit, null);
  });
});
