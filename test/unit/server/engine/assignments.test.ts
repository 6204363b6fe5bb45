/** Assignments in the engine: the real captures under matching orders, records known late, ended, and handed over. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { Alert } from '../../../../protocol/api.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import { createDetectionEngine, type DetectionEngine, type OrderTerms, type PumpSnapshot } from '../../../../server/engine/index.ts';
import { byType, captureMessages, ids, LINK_DELAY_MS, PumpFeed, replay } from './feed.ts';

const verificationTypes = new Set(['program_mismatch', 'program_unassigned', 'drug_limit', 'delivery_above_order']);
const verification = (alerts: Alert[]): Alert[] => alerts.filter((a) => verificationTypes.has(a.type));
const typesOf = (alerts: Alert[]): string[] => [...new Set(alerts.map((a) => a.type))].sort();

function terms(o: Partial<OrderTerms> = {}): OrderTerms {
  return {
    assignmentId: 'as-7', orderId: 'ord-7', patientId: 'pat-7', drug: 'Fluorouracil', rateMlH: 5, volumeMl: 230, hours: 46,
    mode: 'continuous', fromMs: Date.parse('2026-11-20T00:00:00Z'), ...o,
  };
}

function serverMsOf(m: PumpMessage): number {
  return Date.parse(m.time) + LINK_DELAY_MS;
}

/** the uneventful captures and the order each pump was programmed for */
const MATCHING = [
  ['folfox-46h-normal', 'CS7-004512', { rateMlH: 5, volumeMl: 230, hours: 46 }],
  ['occlusion-at-20h', 'CS7-004513', { rateMlH: 5, volumeMl: 230, hours: 46 }],
  ['pause-20min', 'CS7-004514', { rateMlH: 2.5, volumeMl: 240, hours: 96 }],
  ['noisy-link', 'CS7-004516', { rateMlH: 5, volumeMl: 230, hours: 46 }],
] as const;

describe('assignments', () => {
  for (const [capture, pump, order] of MATCHING) {
    test(`${capture} under a matching order: no programming alert over the whole run, the other alerts unchanged and carrying the order`, () => {
      const plain = replay(createDetectionEngine(), captureMessages(capture));
      const e = createDetectionEngine();
      e.setAssignmentsKnown(true, 0);
      e.setAssignment(pump, terms(order), 0);
      const changes = replay(e, captureMessages(capture));
      assert.deepEqual(verification(changes), []);
      assert.deepEqual(typesOf(changes), typesOf(plain));
      for (const a of changes) {
        assert.equal(a.patientId, 'pat-7', `${a.type} names the patient`);
        assert.equal(a.orderId, 'ord-7');
      }
      const snap = e.exportPump(pump) as PumpSnapshot & { record: { course: { doneMl: number; currentMl: number } } };
      const given = snap.record.course.doneMl + snap.record.course.currentMl;
      assert.ok(given > 0);
      assert.equal(given, e.pump(pump)?.infusedMl, 'all the pump gave was counted under the order');
    });
  }

  test('folfox-46h-normal assigned half way through (the pharmacy forgot): nothing raised, the running program counted from its start', () => {
    const msgs = captureMessages('folfox-46h-normal');
    const e = createDetectionEngine();
    e.setAssignmentsKnown(true, 0);
    const first = replay(e, msgs.slice(0, 1400));
    assert.deepEqual(typesOf(first), ['program_unassigned']);
    e.setAssignment('CS7-004512', terms(), serverMsOf(msgs[1399]!) + 500);
    const assigned = e.takeChanges().alerts;
    assert.deepEqual(assigned.map((a) => [a.type, a.status]), [['program_unassigned', 'cleared']]);
    assert.deepEqual(verification(replay(e, msgs.slice(1400))), []);
  });

  test('early-end-19h (keyed at 12 mL/h) under a 5 mL/h order: one program_mismatch at START, nothing more from verification', () => {
    const e = createDetectionEngine();
    e.setAssignmentsKnown(true, 0);
    e.setAssignment('CS7-004515', terms(), 0);
    const changes = verification(replay(e, captureMessages('early-end-19h')));
    assert.deepEqual(typesOf(changes), ['program_mismatch']);
    assert.equal(ids(changes).length, 1);
    assert.equal(changes[0]!.raisedAt, '2026-11-23T09:00:00Z');
    assert.deepEqual(changes[0]!.detail.rateMlH, { programmed: 12, ordered: 5, mismatch: true });
    assert.equal(changes.at(-1)!.status, 'active', 'a wrong program that ran to its end keeps the alert');
  });

  test('a server with no database (assignments never known) raises nothing from verification, even with an order assigned', () => {
    const e = createDetectionEngine();
    e.setAssignment('CS7-004515', terms(), 0);
    assert.deepEqual(verification(replay(e, captureMessages('early-end-19h'))), []);
  });

  test('unknown → known: a program that started meanwhile, and a PRG loaded meanwhile, are checked at once', () => {
    const e = createDetectionEngine();
    e.setAssignment('CS7-500001', terms({ rateMlH: 1.2, volumeMl: 115.2, hours: 96 }), 0);
    const running = new PumpFeed('CS7-500001', '2026-12-03T08:00:00Z');
    const loaded = new PumpFeed('CS7-500002', '2026-12-03T08:00:00Z');
    const unassigned = new PumpFeed('CS7-500003', '2026-12-03T08:00:00Z');
    e.setAssignment('CS7-500002', terms({ assignmentId: 'as-8', orderId: 'ord-8' }), 0);
    const meanwhile = [
      ...replay(e, [...running.start('FU-4D', 28.8, 130, 4.5), ...running.run(20)]),
      ...replay(e, [loaded.prg('P2', 9, 230, 25.6)]),
      ...replay(e, [...unassigned.start('P3', 5, 230, 46), ...unassigned.run(2)]),
    ];
    assert.deepEqual(verification(meanwhile), []);
    const at = Date.parse('2026-12-03T08:30:00Z');
    e.setAssignmentsKnown(true, at);
    const now = e.takeChanges().alerts;
    const byPump = Object.fromEntries(now.map((a) => [a.pump, a]));
    assert.equal(byPump['CS7-500001']?.type, 'program_mismatch');
    assert.equal(byPump['CS7-500001']?.detail.check, 'assignments loaded');
    assert.equal(byPump['CS7-500001']?.raisedAt, new Date(at).toISOString());
    assert.match(byPump['CS7-500001'].message, /going in/);
    assert.equal(byPump['CS7-500002']?.type, 'program_mismatch');
    assert.match(byPump['CS7-500002'].message, /It has not started/);
    assert.equal(byPump['CS7-500002']?.orderId, 'ord-8');
    assert.equal(byPump['CS7-500003']?.type, 'program_unassigned');
    assert.equal(now.length, 3);
    e.setAssignmentsKnown(true, at + 1000);
    assert.deepEqual(e.takeChanges().alerts, [], 'known twice checks nothing twice');
  });

  test('a wrong program halted in ALARM while the records were away is still caught when they arrive', () => {
    const e = createDetectionEngine();
    e.setAssignment('CS7-500004', terms({ rateMlH: 1.2, volumeMl: 115.2, hours: 96 }), 0);
    const pump = new PumpFeed('CS7-500004', '2026-12-03T08:00:00Z');
    const meanwhile = replay(e, [
      ...pump.start('FU-4D', 28.8, 130, 4.5), ...pump.run(10),
      pump.evt('ALARM', 'OCCL_DN'), ...pump.hold(2, () => ({ state: 'ALARM', rateMlH: 0, alarms: ['OCCL_DN'] })),
    ]);
    assert.deepEqual(verification(meanwhile), []);
    e.setAssignmentsKnown(true, Date.parse('2026-12-03T08:15:00Z'));
    const now = verification(e.takeChanges().alerts);
    assert.equal(now.length, 1);
    assert.equal(now[0]?.type, 'program_mismatch');
    assert.deepEqual((now[0]?.detail.rateMlH as { programmed: number }).programmed, 28.8);
  });

  test('assignment ended, or the pump assigned to an order it matches: program_mismatch cleared', () => {
    for (const next of [null, terms({ assignmentId: 'as-9', orderId: 'ord-9', rateMlH: 28.8, volumeMl: 130, hours: 4.5 })]) {
      const e = createDetectionEngine();
      e.setAssignmentsKnown(true, 0);
      e.setAssignment('CS7-500010', terms({ rateMlH: 1.2, volumeMl: 115.2, hours: 96 }), 0);
      const f = new PumpFeed('CS7-500010', '2026-12-03T08:00:00Z');
      assert.equal(byType(replay(e, [...f.start('FU-4D', 28.8, 130, 4.5), ...f.run(3)]), 'program_mismatch')[0]?.status, 'active');
      e.setAssignment('CS7-500010', next, f.timeMs + 1000);
      const changes = e.takeChanges().alerts;
      assert.deepEqual(changes.map((a) => [a.type, a.status]), [['program_mismatch', 'cleared']]);
      assert.equal(changes[0]!.detail.clearedBecause, next === null ? 'the assignment ended' : 'the pump was assigned to another order');
      // later alerts carry the new assignment, or none
      const later = byType(replay(e, [f.evt('PAUSE'), ...f.hold(8, () => ({ state: 'PAUSE' }))]), 'infusion_stopped');
      assert.equal(later[0]?.orderId, next === null ? undefined : 'ord-9');
    }
  });

  test('the same assignment pushed again keeps its course; the alerts stay as they are', () => {
    const e = createDetectionEngine();
    e.setAssignmentsKnown(true, 0);
    e.setAssignment('CS7-500011', terms({ rateMlH: 1.2, volumeMl: 115.2, hours: 96 }), 0);
    const f = new PumpFeed('CS7-500011', '2026-12-03T08:00:00Z');
    replay(e, [...f.start('FU-4D', 28.8, 130, 4.5), ...f.run(3)]);
    e.setAssignment('CS7-500011', terms({ rateMlH: 1.2, volumeMl: 115.2, hours: 96 }), f.timeMs + 1000);
    assert.deepEqual(e.takeChanges().alerts, []);
  });
});

describe('assignments in snapshots', () => {
  function handover(from: DetectionEngine, pump: string, before?: (to: DetectionEngine) => void): DetectionEngine {
    const snapshot = JSON.parse(JSON.stringify(from.exportPump(pump))) as PumpSnapshot;
    const to = createDetectionEngine();
    before?.(to);
    to.restorePump(snapshot);
    for (const a of from.openAlerts()) to.restoreAlert(JSON.parse(JSON.stringify(a)) as Alert);
    to.setAssignmentsKnown(true, 0);
    return to;
  }

  /** bag 1 of 115 mL given under a 230-mL order, bag 2 loaded */
  function midCourse(): { e: DetectionEngine; f: PumpFeed; msgs: PumpMessage[] } {
    const e = createDetectionEngine();
    e.setAssignmentsKnown(true, 0);
    e.setAssignment('CS7-500020', terms(), 0);
    const f = new PumpFeed('CS7-500020', '2026-12-03T08:00:00Z');
    replay(e, [...f.start('BAG1', 5, 115, 23), ...f.run(23 * 60 + 5), f.evt('END', 'BAG1'), f.sts({ state: 'END', vtbiMl: 0 })]);
    return { e, f, msgs: [...f.start('BAG2', 5, 230, 46), ...f.run(5)] };
  }

  test('the snapshot holds the assignment by ids and what was given under it, no name or MRN; a restored engine goes on identically', () => {
    const { e, msgs } = midCourse();
    const snap = e.exportPump('CS7-500020') as PumpSnapshot & { record: { course: Record<string, unknown> } };
    assert.deepEqual(Object.keys(snap.record.course).sort(), ['currentMl', 'currentProgramId', 'doneMl', 'startEffMs', 'startPumpTime', 'terms']);
    assert.deepEqual(Object.keys(snap.record.course.terms as object).sort(), ['assignmentId', 'drug', 'fromMs', 'hours', 'mode', 'orderId', 'patientId', 'rateMlH', 'volumeMl']);
    const restored = handover(e, 'CS7-500020');
    const a = replay(e, msgs);
    const b = replay(restored, msgs);
    assert.deepEqual(b, a);
    const mm = byType(b, 'program_mismatch');
    assert.equal(mm[0]?.detail.volumeMl && (mm[0].detail.volumeMl as { ordered: number }).ordered, 115, 'bag 1 still counted after the handover');
    assert.equal(mm[0]?.patientId, 'pat-7');
  });

  test('an assignment the core gave before the restore wins over the snapshot: the same one keeps the course, another starts anew', () => {
    const same = midCourse();
    const keep = handover(same.e, 'CS7-500020', (to) => to.setAssignment('CS7-500020', terms(), 0));
    assert.equal(ids(byType(replay(keep, same.msgs), 'program_mismatch')).length, 1, 'bag 1 still counted');
    const other = midCourse();
    const fresh = handover(other.e, 'CS7-500020', (to) => to.setAssignment('CS7-500020', terms({ assignmentId: 'as-10', orderId: 'ord-10' }), 0));
    assert.deepEqual(byType(replay(fresh, other.msgs), 'program_mismatch'), [], 'a new course: the whole order is left');
  });

  test('an assignment given for a pump never heard is applied when it is first heard, and survives forgetPump', () => {
    const e = createDetectionEngine();
    e.setAssignmentsKnown(true, 0);
    e.setAssignment('CS7-500030', terms({ rateMlH: 1.2, volumeMl: 115.2, hours: 96 }), 0);
    assert.equal(e.pump('CS7-500030'), undefined, 'an assignment alone does not put a pump on the board');
    const f = new PumpFeed('CS7-500030', '2026-12-03T08:00:00Z');
    replay(e, [f.sts()]);
    e.forgetPump('CS7-500030');
    const mm = byType(replay(e, [...f.start('FU-4D', 28.8, 130, 4.5)]), 'program_mismatch');
    assert.equal(ids(mm).length, 1);
    assert.equal(mm[0]!.orderId, 'ord-7');
  });
});
