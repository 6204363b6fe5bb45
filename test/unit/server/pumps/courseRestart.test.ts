/** A START of the program already under way continues its course: delivered hours, volumes and start carry on. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createDetectionEngine, type PumpSnapshot } from '../../../../server/engine/index.ts';
import { startContinuesCourse } from '../../../../server/pumps/courseContinuity.ts';
import { byType, ids, PumpFeed, replay } from '../engine/feed.ts';

const RESERVOIR = { reservoirMl: 230 };

describe('startContinuesCourse', () => {
  test('same program active, or stopped with volume left: continues; anything else is a new course', () => {
    assert.equal(startContinuesCourse({ programId: 'P1', active: true, stoppedLeftMl: 0 }, 'P1'), true);
    assert.equal(startContinuesCourse({ programId: 'P1', active: false, stoppedLeftMl: 100 }, 'P1'), true);
    assert.equal(startContinuesCourse({ programId: 'P1', active: false, stoppedLeftMl: 0 }, 'P1'), false, 'ended, or stopped empty');
    assert.equal(startContinuesCourse({ programId: 'P1', active: false, stoppedLeftMl: 0.05 }, 'P1'), false, 'the residual is nothing left');
    assert.equal(startContinuesCourse({ programId: 'P1', active: true, stoppedLeftMl: 0 }, 'P2'), false);
    assert.equal(startContinuesCourse({ programId: null, active: false, stoppedLeftMl: 0 }, 'P1'), false);
    assert.equal(startContinuesCourse(null, 'P1'), false);
    assert.equal(startContinuesCourse({ programId: 'P1', active: false, stoppedLeftMl: 4 }, 'P1', 5), false, 'a larger residual is honoured');
  });
});

describe('a restart of the same program', () => {
  test('paused and started again mid-way (vi kept): no projection, no reservoir flash, no "finished after 23 h"', () => {
    const f = new PumpFeed('CS7-130701', '2026-12-03T08:00:00Z');
    f.status.reservoirMl = RESERVOIR.reservoirMl;
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(23 * 60)];
    msgs.push(f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), ...f.hold(3));
    // the patient starts the same program again: the pump says START, not RESUME, and keeps vi
    msgs.push(f.evt('START', 'P1'), f.sts({ state: 'RUN' }), ...f.run(23 * 60 + 1));
    msgs.push(f.evt('END', 'P1'), f.sts({ state: 'END', rateMlH: 5 }));
    const engine = createDetectionEngine();
    const changes = replay(engine, msgs);
    assert.deepEqual(changes.map((a) => `${a.type}:${a.status}`), []);
    const view = engine.pump('CS7-130701');
    assert.equal(view?.state, 'END');
    assert.ok(Math.abs((view?.deliveredHours ?? 0) - 46) < 0.02, `delivered ${view?.deliveredHours} h`);
  });

  test('at START itself the readings are kept: the reservoir is not compared with the full program volume', () => {
    const f = new PumpFeed('CS7-130702', '2026-12-03T08:00:00Z');
    f.status.reservoirMl = RESERVOIR.reservoirMl;
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(20 * 60), f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), f.evt('START', 'P1')];
    const engine = createDetectionEngine();
    assert.deepEqual(replay(engine, msgs), []);
    const view = engine.pump('CS7-130702');
    assert.equal(view?.vtbiMl, 130);
    assert.equal(view?.infusedMl, 100);
    assert.equal(view?.state, 'RUN');
  });

  test('stopped with volume left, the same program loaded with what was left and started: one course', () => {
    const f = new PumpFeed('CS7-130703', '2026-12-03T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(23 * 60)];
    msgs.push(f.evt('STOP'), f.sts({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0 }), ...f.hold(2));
    // the STOP cleared the program: the nurse loads it again with the 115 mL left; vi restarts at 0
    msgs.push(...f.start('P1', 5, 115, 46), ...f.run(23 * 60 + 1), f.evt('END', 'P1'), f.sts({ state: 'END' }));
    const engine = createDetectionEngine();
    const changes = replay(engine, msgs);
    const short = byType(changes, 'delivery_below_24h');
    // the stop itself was short and said so; starting the same program again withdrew it, and the end is not short
    assert.deepEqual(short.map((a) => `${String(a.detail.projected)}:${a.status}`), ['false:active', 'false:cleared']);
    assert.equal(short.at(-1)!.detail.clearedBecause, 'the same program was started again');
    assert.equal(ids(short).length, 1);
    assert.deepEqual(byType(changes, 'low_reservoir'), []);
    assert.deepEqual(byType(changes, 'infusion_stopped'), []);
    assert.ok(Math.abs((engine.pump('CS7-130703')?.deliveredHours ?? 0) - 46) < 0.02);
  });

  test('negative twin: a START of another program is a new course, and so is the same program after END', () => {
    const f = new PumpFeed('CS7-130704', '2026-12-03T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(10 * 60), f.evt('PAUSE'), f.sts({ state: 'PAUSE' })];
    msgs.push(...f.start('P2', 5, 100, 20), ...f.run(60));
    const engine = createDetectionEngine();
    replay(engine, msgs);
    assert.ok(Math.abs((engine.pump('CS7-130704')?.deliveredHours ?? 0) - 1) < 0.02, 'P2 counts from its own START');

    const g = new PumpFeed('CS7-130705', '2026-12-03T08:00:00Z');
    const m2 = [...g.start('P1', 50, 100, 2), ...g.run(121), g.evt('END', 'P1'), g.sts({ state: 'END' })];
    m2.push(...g.start('P1', 50, 100, 2), ...g.run(30));
    const e2 = createDetectionEngine();
    replay(e2, m2);
    assert.ok(Math.abs((e2.pump('CS7-130705')?.deliveredHours ?? 0) - 0.5) < 0.02, 'a finished program started again is a new course');
  });

  test('a START of another program (a new bag) does not compare the reservoir of the old bag with the new program', () => {
    const f = new PumpFeed('CS7-130708', '2026-12-03T08:00:00Z');
    f.status.reservoirMl = 230;
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(20 * 60), f.evt('PAUSE'), f.sts({ state: 'PAUSE' })];
    msgs.push(f.prg('P2', 5, 230, 46), f.evt('PROGRAM', 'P2'), f.evt('START', 'P2'));
    msgs.push(f.sts({ state: 'RUN', infusedMl: 0, vtbiMl: 230, reservoirMl: 230 }), ...f.run(5));
    assert.deepEqual(replay(createDetectionEngine(), msgs).map((a) => `${a.type}:${a.status}`), []);
  });

  test('negative twin: stopped with nothing left, the same program started again is a new course', () => {
    const f = new PumpFeed('CS7-130706', '2026-12-03T08:00:00Z');
    const msgs = [...f.start('P1', 50, 100, 2), ...f.run(120), f.evt('STOP'), f.sts({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0 })];
    msgs.push(...f.start('P1', 50, 100, 2), ...f.run(30));
    const engine = createDetectionEngine();
    replay(engine, msgs);
    assert.ok(Math.abs((engine.pump('CS7-130706')?.deliveredHours ?? 0) - 0.5) < 0.02);
  });

  test('under an order: the volume the pump kept counting is not counted twice (no false delivery_above_order)', () => {
    const engine = createDetectionEngine();
    engine.setAssignmentsKnown(true, 0);
    engine.setAssignment('CS7-130707', {
      assignmentId: 'as-1', orderId: 'ord-1', patientId: 'pat-1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46,
      mode: 'continuous', fromMs: Date.parse('2026-12-01T00:00:00Z'),
    }, 0);
    const f = new PumpFeed('CS7-130707', '2026-12-03T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(20 * 60), f.evt('PAUSE'), f.sts({ state: 'PAUSE' })];
    msgs.push(f.evt('START', 'P1'), f.sts({ state: 'RUN' }), ...f.run(5));
    assert.deepEqual(replay(engine, msgs).map((a) => a.type), []);
    const snap = engine.exportPump('CS7-130707') as PumpSnapshot & { record: { course: { doneMl: number; currentMl: number } } };
    assert.equal(snap.record.course.doneMl + snap.record.course.currentMl, engine.pump('CS7-130707')?.infusedMl);
  });
});
