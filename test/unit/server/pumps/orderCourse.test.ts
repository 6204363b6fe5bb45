/** What a pump gave under its order, across bags, stops, a late join and a clock change. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createDetectionEngine, type DetectionEngine, type OrderTerms } from '../../../../server/engine/index.ts';
import type { OrderCourse } from '../../../../server/pumps/orderCourse.ts';
import { PumpFeed, replay } from '../engine/feed.ts';

const PUMP = 'CS7-600001';
const T0 = '2026-12-03T08:00:00Z';
const TERMS: OrderTerms = {
  assignmentId: 'as-1', orderId: 'ord-1', patientId: 'pat-1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46,
  mode: 'continuous', fromMs: Date.parse(T0),
};

function course(e: DetectionEngine): OrderCourse {
  return (e.exportPump(PUMP) as unknown as { record: { course: OrderCourse } }).record.course;
}

function assignedEngine(): DetectionEngine {
  const e = createDetectionEngine();
  e.setAssignmentsKnown(true, 0);
  e.setAssignment(PUMP, TERMS, 0);
  return e;
}

describe('order course', () => {
  test('nothing counts before the first START; two bags add up; the course starts at the first START', () => {
    const e = assignedEngine();
    const f = new PumpFeed(PUMP, T0);
    replay(e, [f.sts(), ...f.hold(5)]);
    assert.equal(course(e).startEffMs, null);
    replay(e, [...f.start('BAG1', 5, 100, 20), ...f.run(60)]);
    assert.equal(course(e).startPumpTime, '2026-12-03T08:05:00Z');
    replay(e, [f.evt('END', 'BAG1'), f.sts({ state: 'END', infusedMl: 100, vtbiMl: 0 }), ...f.hold(3)]);
    assert.equal(course(e).currentMl, 100);
    replay(e, [...f.start('BAG2', 5, 130, 26), ...f.run(12)]);
    const c = course(e);
    assert.equal(c.doneMl, 100);
    assert.equal(c.currentMl, 1);
    assert.equal(c.currentProgramId, 'BAG2');
    assert.equal(c.startEffMs, Date.parse('2026-12-03T08:05:00Z'));
  });

  test('a STOP (vi back to 0 in IDLE) keeps what was given, and a START we never got (vi going back) closes the count too', () => {
    const e = assignedEngine();
    const f = new PumpFeed(PUMP, T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(60), f.evt('STOP'), f.sts({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0 })]);
    assert.deepEqual([course(e).doneMl, course(e).currentMl], [5, 0]);
    replay(e, [...f.start('P2', 5, 225, 45), ...f.run(60)]);
    // P3 starts with its START lost: the first status already shows its own small vi
    replay(e, [f.prg('P3', 5, 220, 44), f.advance(60).sts({ infusedMl: 0.08, vtbiMl: 219.92 })]);
    assert.deepEqual([course(e).doneMl, course(e).currentMl], [10, 0.08]);
  });

  test('a pump assigned mid-program counts the running program from its start, the hours before the engine joined too', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed(PUMP, T0);
    f.status = { ...f.status, state: 'RUN', rateMlH: 5, infusedMl: 50, vtbiMl: 180, reservoirMl: 180 };
    replay(e, [f.sts(), ...f.hold(1, () => ({ infusedMl: 50.08, vtbiMl: 179.92 }))]);
    e.setAssignment(PUMP, TERMS, Date.parse(T0) + 120_000);
    const c = course(e);
    assert.equal(c.currentMl, 50.08);
    assert.equal(c.startPumpTime, null, 'its START was never seen');
    assert.equal(c.startEffMs, Date.parse(T0) - 10 * 3_600_000, '50 mL at 5 mL/h: ten hours before it was first heard');
  });

  test('a clock set back during the course moves the course start with it', () => {
    const e = assignedEngine();
    const f = new PumpFeed(PUMP, T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(30)]);
    const before = f.iso;
    f.advance(-3600);
    replay(e, [f.evt('CLOCK', before), ...f.run(1)]);
    assert.equal(course(e).startEffMs, Date.parse(T0) - 3_600_000);
  });
});
