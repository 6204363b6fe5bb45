/** Programming verification: program_mismatch, delivery_above_order, program_unassigned and drug_limit on constructed pumps. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { Alert } from '../../../../protocol/api.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import { createDetectionEngine, type DetectionEngine, type OrderTerms } from '../../../../server/engine/index.ts';
import { byType, ids, PumpFeed, replay } from '../engine/feed.ts';

const T0 = '2026-12-03T08:00:00Z';
const T0_MS = Date.parse(T0);

export function orderTerms(o: Partial<OrderTerms> = {}): OrderTerms {
  return {
    assignmentId: 'as-1', orderId: 'ord-1', patientId: 'pat-1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46,
    mode: 'continuous', fromMs: T0_MS - 3_600_000, ...o,
  };
}

/** An engine told the assignments are known, with `terms` assigned to `pump` before it was ever heard. */
function assigned(pump: string, terms: OrderTerms | null): DetectionEngine {
  const e = createDetectionEngine();
  e.setAssignmentsKnown(true, T0_MS - 60_000);
  if (terms) e.setAssignment(pump, terms, T0_MS - 60_000);
  return e;
}

const programTypes = (alerts: Alert[]): string[] =>
  [...new Set(alerts.map((a) => a.type))].filter((t) => t.startsWith('program_') || t === 'delivery_above_order' || t === 'drug_limit');

/** statuses one minute apart reporting `reportedRateMlH` while vi really advances at `trueRateMlH` */
function deliverAt(f: PumpFeed, minutes: number, trueRateMlH: number, reportedRateMlH: number, fromMl = 0): PumpMessage[] {
  const out: PumpMessage[] = [];
  for (let i = 1; i <= minutes; i++) {
    f.advance(60);
    const vi = Math.round((fromMl + (trueRateMlH * i) / 60) * 100) / 100;
    out.push(f.sts({ state: 'RUN', rateMlH: reportedRateMlH, infusedMl: vi, vtbiMl: Math.max(0, Math.round((230 - vi) * 100) / 100), reservoirMl: null }));
  }
  return out;
}

describe('program_mismatch', () => {
  test('ISMP: fluorouracil ordered at 1.2 mL/h over 96 h, pump keyed 130 mL at 28.8 mL/h over 4.5 h: one high alert before START, naming each field', () => {
    const pump = 'CS7-400001';
    const e = assigned(pump, orderTerms({ rateMlH: 1.2, volumeMl: 115.2, hours: 96 }));
    const f = new PumpFeed(pump, T0);
    const [prg, program, start, firstRun] = f.start('FU-4D', 28.8, 130, 4.5);
    const atStart = replay(e, [prg!, program!, start!]);
    const mm = byType(atStart, 'program_mismatch');
    assert.equal(ids(mm).length, 1, 'raised at the PRG, in the same second as START');
    const a = mm[0]!;
    assert.match(a.message, /It has not started: do not start it/);
    assert.match(mm.at(-1)!.message, /The wrong dose is going in: call the patient to stop the pump/);
    assert.equal(a.severity, 'high');
    assert.equal(a.status, 'active');
    assert.equal(a.raisedAt, T0);
    assert.equal(a.patientId, 'pat-1');
    assert.equal(a.orderId, 'ord-1');
    assert.deepEqual(a.detail.mismatched, ['rateMlH', 'volumeMl', 'hours']);
    assert.deepEqual(a.detail.rateMlH, { programmed: 28.8, ordered: 1.2, mismatch: true });
    assert.deepEqual(a.detail.volumeMl, { programmed: 130, ordered: 115.2, orderVolumeMl: 115.2, givenBeforeMl: 0, mismatch: true });
    assert.deepEqual(a.detail.hours, { programmed: 4.5, ordered: 96, mismatch: true });
    assert.match(a.message, /^Pump CS7-400001 is programmed against its order for FLUOROURACIL: rate 28\.8 mL\/h, ordered 1\.2 mL\/h; volume 130 mL, the order has 115\.2 mL left; 4\.5 h, ordered 96 h\./);
    const later = replay(e, [firstRun!, ...f.run(120)]);
    assert.equal(ids(byType([...atStart, ...later], 'program_mismatch')).length, 1, 'one alert, not a storm');
    assert.deepEqual(byType(later, 'delivery_above_order'), [], 'held back: program_mismatch already says the dose is wrong');
    assert.ok(e.openAlerts().some((x) => x.type === 'program_mismatch' && x.status === 'active'));
  });

  for (const factor of [1.8, 0.5, 0.1]) {
    test(`a program at ${factor}× the ordered rate raises it at START; 1.05× does not`, () => {
      const pump = 'CS7-400002';
      const rate = Math.round(5 * factor * 100) / 100;
      const wrong = replay(assigned(pump, orderTerms()), [...new PumpFeed(pump, T0).start('P1', rate, 230, Math.round((230 / rate) * 10) / 10)]);
      const mm = byType(wrong, 'program_mismatch');
      assert.equal(ids(mm).length, 1);
      assert.ok((mm[0]!.detail.mismatched as string[]).includes('rateMlH'));
      assert.equal((mm[0]!.detail.rateMlH as { programmed: number }).programmed, rate);
      const near = replay(assigned(pump, orderTerms()), [...new PumpFeed(pump, T0).start('P1', 5.25, 230, 43.8)]);
      assert.deepEqual(programTypes(near), []);
    });
  }

  test('a 3× RATE mid-infusion is caught at the RATE, updated by another wrong RATE, cleared when the rate is back', () => {
    const pump = 'CS7-400003';
    const e = assigned(pump, orderTerms());
    const f = new PumpFeed(pump, T0);
    const before = replay(e, [...f.start('P1', 5, 230, 46), ...f.run(120)]);
    assert.deepEqual(programTypes(before), []);
    const rateAt = f.advance(30).iso;
    const changes = replay(e, [f.evt('RATE', '15.00'), f.sts({ rateMlH: 15 }), ...f.run(5), f.evt('RATE', '20.00'), f.sts({ rateMlH: 20 }), ...f.run(5)]);
    const mm = byType(changes, 'program_mismatch');
    assert.equal(ids(mm).length, 1);
    assert.deepEqual(byType(changes, 'delivery_below_24h'), [], 'the short projection is the mismatch\'s consequence: one alert, not two');
    assert.equal(mm[0]!.raisedAt, rateAt);
    assert.equal(mm[0]!.detail.check, 'RATE');
    assert.deepEqual(mm[0]!.detail.mismatched, ['rateMlH']);
    assert.equal(mm[0]!.detail.hours, null, 'planned hours mean nothing once the rate was changed');
    assert.match(mm.at(-1)!.message, /rate 20 mL\/h, ordered 5 mL\/h/);
    const back = replay(e, [f.evt('RATE', '5.00'), f.sts({ rateMlH: 5 }), ...f.run(5)]);
    const cleared = byType(back, 'program_mismatch');
    assert.equal(cleared.length, 1);
    assert.equal(cleared[0]!.status, 'cleared');
    assert.equal(cleared[0]!.detail.clearedBecause, 'the program matches its order');
  });

  test('the short projection held behind a 3× program_mismatch is raised once the mismatch ends with the rate still wrong', () => {
    const pump = 'CS7-400013';
    const e = assigned(pump, orderTerms());
    const f = new PumpFeed(pump, T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(60), f.evt('RATE', '15.00'), f.sts({ rateMlH: 15 }), ...f.run(2)]);
    e.setAssignment(pump, null, Date.parse(f.iso) + 1000);
    const after = [...e.takeChanges().alerts, ...replay(e, f.run(1))];
    assert.equal(byType(after, 'program_mismatch').at(-1)?.status, 'cleared');
    const short = byType(after, 'delivery_below_24h');
    assert.equal(short.length, 1);
    assert.equal(short[0]!.detail.projected, true);
  });

  test('a new rate seen only in a status (the RATE event never reached us) is checked too', () => {
    const pump = 'CS7-400004';
    const e = assigned(pump, orderTerms());
    const f = new PumpFeed(pump, T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(60)]);
    const changes = replay(e, [f.advance(60).sts({ rateMlH: 15 })]);
    const mm = byType(changes, 'program_mismatch');
    assert.equal(mm.length, 1);
    assert.equal(mm[0]!.detail.check, 'status');
  });

  test('across bags: a second bag of what the order has left matches, a second full bag does not', () => {
    const pump = 'CS7-400005';
    for (const [second, wrong] of [[115, false], [230, true]] as const) {
      const e = assigned(pump, orderTerms());
      const f = new PumpFeed(pump, T0);
      const msgs = [...f.start('BAG1', 5, 115, 23), ...f.run(23 * 60 + 5), f.evt('END', 'BAG1'), f.sts({ state: 'END', vtbiMl: 0 }), ...f.hold(30)];
      msgs.push(...f.start('BAG2', 5, second, second / 5), ...f.run(30));
      const mm = byType(replay(e, msgs), 'program_mismatch');
      if (!wrong) {
        assert.deepEqual(mm, []);
        continue;
      }
      assert.equal(ids(mm).length, 1);
      assert.deepEqual(mm[0]!.detail.mismatched, ['volumeMl', 'hours']);
      assert.deepEqual(mm[0]!.detail.volumeMl, { programmed: 230, ordered: 115, orderVolumeMl: 230, givenBeforeMl: 115, mismatch: true });
      assert.match(mm[0]!.message, /volume 230 mL, the order has 115 mL left/);
    }
  });

  test('a smaller bag is not a mismatch', () => {
    const pump = 'CS7-400006';
    const changes = replay(assigned(pump, orderTerms()), [...new PumpFeed(pump, T0).start('P1', 5, 100, 20)]);
    assert.deepEqual(programTypes(changes), []);
  });
});

describe('delivery_above_order', () => {
  test('a pump delivering 3× faster than ordered with a program that matches is caught while it runs', () => {
    const pump = 'CS7-400010';
    const e = assigned(pump, orderTerms());
    const f = new PumpFeed(pump, T0);
    const [prg, program, start, first] = f.start('P1', 5, 230, 46);
    const changes = replay(e, [prg!, program!, start!, first!, ...deliverAt(f, 60, 15, 5)]);
    assert.deepEqual(byType(changes, 'program_mismatch'), [], 'the program itself is right');
    const over = byType(changes, 'delivery_above_order');
    assert.equal(ids(over).length, 1);
    const a = over[0]!;
    assert.equal(a.severity, 'high');
    assert.equal(a.patientId, 'pat-1');
    // 15 t > 5 × 1.1 × t + 2 mL from about 12.6 min on
    assert.equal(a.raisedAt, '2026-12-03T08:13:00Z');
    assert.ok(Number(a.detail.deliveredMl) > Number(a.detail.allowedMl));
    assert.equal(a.detail.allowedMl, Math.round((5 * (13 / 60) * 1.1 + 2) * 100) / 100);
    assert.match(a.message, /^Pump CS7-400010 has given 3\.3 mL of FLUOROURACIL in 13 min since 08:00 UTC; at the ordered 5 mL\/h no more than 3\.2 mL should have gone in by now\./);
  });

  test('a line prime and vi rounding never fire it; delivery just inside the tolerance neither', () => {
    const pump = 'CS7-400011';
    const e = assigned(pump, orderTerms());
    const f = new PumpFeed(pump, T0);
    const [prg, program, start] = f.start('P1', 5, 230, 46);
    const changes = replay(e, [prg!, program!, start!, f.sts({ state: 'RUN', rateMlH: 5, infusedMl: 1.9, vtbiMl: 228.1 }), ...deliverAt(f, 46 * 60, 5.4, 5, 1.9)]);
    assert.deepEqual(programTypes(changes), []);
  });

  test('cleared when delivery is back within what the order allows by now', () => {
    const pump = 'CS7-400012';
    const e = assigned(pump, orderTerms());
    const f = new PumpFeed(pump, T0);
    const [prg, program, start] = f.start('P1', 5, 230, 46);
    const fast = replay(e, [prg!, program!, start!, ...deliverAt(f, 30, 15, 5)]);
    assert.equal(byType(fast, 'delivery_above_order')[0]?.status, 'active');
    // then it stands still (a pause) until the allowance has caught up with the 7.5 mL given
    const held = replay(e, [f.evt('PAUSE'), ...f.hold(70, () => ({ state: 'PAUSE' }))]);
    const cleared = byType(held, 'delivery_above_order');
    assert.equal(cleared.length, 1);
    assert.equal(cleared[0]!.status, 'cleared');
  });
});

describe('program_unassigned', () => {
  test('a program started on a pump with no assignment: low, says it cannot be checked; cleared at END', () => {
    const pump = 'CS7-400020';
    const e = assigned(pump, null);
    const f = new PumpFeed(pump, T0);
    const changes = replay(e, [...f.start('P1', 5, 230, 46), ...f.run(10)]);
    const u = byType(changes, 'program_unassigned');
    assert.equal(u.length, 1);
    assert.equal(u[0]!.severity, 'low');
    assert.equal(u[0]!.patientId, undefined);
    assert.match(u[0]!.message, /^Pump CS7-400020 started a program \(FLUOROURACIL 5 mL\/h, 230 mL\) but no order is assigned to it, so it cannot be checked/);
    const end = byType(replay(e, [f.evt('END', 'P1'), f.sts({ state: 'END' })]), 'program_unassigned');
    assert.equal(end.at(-1)!.status, 'cleared');
    assert.equal(end.at(-1)!.detail.clearedBecause, 'the program ended');
  });

  test('cleared when the pump is assigned, and the program is verified then', () => {
    const pump = 'CS7-400021';
    const e = assigned(pump, null);
    const f = new PumpFeed(pump, T0);
    replay(e, [...f.start('P1', 28.8, 130, 4.5), ...f.run(10)]);
    e.setAssignment(pump, orderTerms({ rateMlH: 1.2, volumeMl: 115.2, hours: 96 }), f.timeMs + 1000);
    const changes = e.takeChanges().alerts;
    assert.equal(byType(changes, 'program_unassigned')[0]?.status, 'cleared');
    const mm = byType(changes, 'program_mismatch');
    assert.equal(mm.length, 1);
    assert.equal(mm[0]!.detail.check, 'assignment');
    assert.equal(mm[0]!.orderId, 'ord-1');
  });
});

describe('drug_limit', () => {
  const limits = [{ drug: ' fluorouracil ', maxRateMlH: 10, maxVolumeMl: 300 }];

  test('an impossible rate on an unassigned pump (assignments not even known) is flagged at PRG; a RATE within clears it', () => {
    const pump = 'CS7-400030';
    const e = createDetectionEngine();
    e.setDrugLimits(limits, T0_MS - 1000);
    const f = new PumpFeed(pump, T0);
    const changes = replay(e, [...f.start('P1', 28.8, 130, 4.5), ...f.run(5)]);
    assert.deepEqual(programTypes(changes), ['drug_limit']);
    const a = byType(changes, 'drug_limit')[0]!;
    assert.equal(a.severity, 'high');
    assert.equal(a.detail.check, 'PRG');
    assert.deepEqual(a.detail.rateMlH, { programmed: 28.8, max: 10, over: true });
    assert.match(a.message, /^Pump CS7-400030: FLUOROURACIL is programmed at 28\.8 mL\/h, above the 10 mL\/h limit for this drug\./);
    const fixed = byType(replay(e, [f.evt('RATE', '1.20'), f.sts({ rateMlH: 1.2 })]), 'drug_limit');
    assert.equal(fixed.at(-1)!.status, 'cleared');
  });

  test('a volume above the limit, and limits changed while a program runs re-check it', () => {
    const pump = 'CS7-400031';
    const e = createDetectionEngine();
    const f = new PumpFeed(pump, T0);
    assert.deepEqual(programTypes(replay(e, [...f.start('P1', 5, 400, 80), ...f.run(5)])), []);
    e.setDrugLimits(limits, f.timeMs + 1000);
    const raised = byType(e.takeChanges().alerts, 'drug_limit');
    assert.equal(raised.length, 1);
    assert.equal(raised[0]!.detail.check, 'drug limits');
    assert.deepEqual(raised[0]!.detail.volumeMl, { programmed: 400, max: 300, over: true });
    e.setDrugLimits([], f.timeMs + 2000);
    assert.equal(byType(e.takeChanges().alerts, 'drug_limit')[0]?.status, 'cleared');
  });
});
