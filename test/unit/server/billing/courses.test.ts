import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { feed, PumpScript, tracker } from './billingFixtures.ts';
import type { BillingAssignment, BillingConfig, CourseEpisode, EpisodeTracker } from '../../../../server/billing/index.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');
const H = 60;
const HOUR_MS = 3_600_000;

function assignment(pump: string, over: Partial<BillingAssignment> & { mode?: 'continuous' | 'intermittent'; payer?: string | null; tz?: string | null } = {}): BillingAssignment {
  return {
    id: over.id ?? `A-${pump}`, pump, fromMs: over.fromMs ?? T0 - HOUR_MS, toMs: over.toMs ?? null,
    order: over.order ?? { id: '7', drug: 'FLUOROURACIL', mode: over.mode ?? 'continuous', payer: over.payer ?? 'Medicare', stoppedMs: null },
    patient: over.patient ?? { id: '3', mrn: 'MRN-1001', name: 'Ada Lovelace', timeZone: over.tz ?? 'UTC' },
  };
}

function courses(msgs: readonly PumpMessage[], assignments: BillingAssignment[], config: Partial<BillingConfig> = {}, nowMs?: number): CourseEpisode[] {
  const t: EpisodeTracker = feed(tracker(config), msgs);
  t.setAssignments?.(assignments);
  return t.episodes(nowMs === undefined ? {} : { nowMs }) as CourseEpisode[];
}
function only(list: CourseEpisode[]): CourseEpisode {
  assert.equal(list.length, 1, JSON.stringify(list.map((e) => e.id)));
  return list[0] as CourseEpisode;
}
/** a finished 46-h course under an order whose assignment ended at the end */
const ended = (pump: string, extra: Parameters<typeof assignment>[1] = {}): BillingAssignment => assignment(pump, { toMs: T0 + 47 * HOUR_MS, ...extra });

describe('courses under an order', () => {
  test('a 31-min pause in a 46-h continuous course: S9330 kept, flagged interrupted', () => {
    const s = new PumpScript('PW-1', T0).start().run(20 * H).set('PAUSE').event('PAUSE').run(31).set('RUN').event('RESUME').run(26 * H - 31)
      .event('END', 'P1').set('END').status();
    const e = only(courses(s.out, [ended('PW-1')]));
    assert.equal(e.code, 'S9330');
    assert.equal(e.mode, 'continuous');
    assert.equal(e.continuous24h, false);
    assert.equal(e.longestInterruptionMin, 31);
    assert.deepEqual(e.reviewReasons, ['interrupted']);
    assert.equal(e.needsReview, true);
    assert.equal(e.orderId, '7');
    assert.equal(e.id, 'order-7');
    assert.equal(e.mrn, 'MRN-1001');
    assert.equal(e.units, 3);
    assert.deepEqual(e.serviceDays, ['2026-11-23', '2026-11-24', '2026-11-25']);
    assert.equal(e.provisional, false);
  });

  test('a bag changed at 23.5 h is one course, not two intermittent episodes', () => {
    const s = new PumpScript('PW-2', T0).start('BAG1').run(23 * H + 30).event('END', 'BAG1').set('END').status();
    s.run(10).start('BAG2').run(22 * H + 20).event('END', 'BAG2').set('END').status();
    const e = only(courses(s.out, [ended('PW-2')]));
    assert.equal(e.code, 'S9330');
    assert.equal(e.programs.length, 2);
    assert.deepEqual(e.programs.map((p) => p.programId), ['BAG1', 'BAG2']);
    assert.equal(e.deliveryHours, 45.8333);
    assert.equal(e.interruptions.length, 1);
    assert.equal(e.interruptions[0]?.reason, 'bag_change');
    assert.equal(e.longestInterruptionMin, 10);
    assert.deepEqual(e.reviewReasons, []);
    assert.equal(e.needsReview, false);
  });

  test('46 h: 2 units for a payer counting 24-h days rounded up or to the nearest, 1 rounded down, 3 NHIA days', () => {
    const s = new PumpScript('PW-3', T0).start().run(46 * H).event('END', 'P1').set('END').status();
    const rules = { payerRules: { Acme: '24h_up', Beta: '24h_nearest', Gamma: '24h_down', Delta: 'calendar_day' } } as const;
    const units = (payer: string | null): [number, string] => {
      const e = only(courses(s.out, [ended('PW-3', { payer })], rules));
      return [e.units, e.dayRule];
    };
    assert.deepEqual(units('Acme'), [2, '24h_up']);
    assert.deepEqual(units('acme '), [2, '24h_up']);
    assert.deepEqual(units('Beta'), [2, '24h_nearest']);
    assert.deepEqual(units('Gamma'), [1, '24h_down']);
    assert.deepEqual(units('Delta'), [3, 'calendar_day']);
    assert.deepEqual(units('Other'), [3, 'nhia']);
    assert.deepEqual(units(null), [3, 'nhia']);
  });

  test('a pump clock 51 h ahead until hour 30 (then set right): 46 h, S9330, flagged clock, the re-anchoring in the evidence', () => {
    const aheadMs = 51 * HOUR_MS;
    const s = new PumpScript('PW-4', T0 + aheadMs).start().run(30 * H);
    const before = s.out.length;
    const old = new Date(s.nowMs).toISOString().replace('.000Z', 'Z');
    s.nowMs -= aheadMs;
    s.event('CLOCK', old).run(16 * H).event('END', 'P1').set('END').status();
    // arrival = real time: pump time − 51 h until the set, pump time after it
    const msgs = s.out.map((m, i) => ({ ...m, received: new Date(Date.parse(m.time) - (i < before ? aheadMs : 0)).toISOString() }));
    const e = only(courses(msgs, [ended('PW-4')]));
    assert.equal(e.deliveryHours, 46);
    assert.equal(e.code, 'S9330');
    assert.equal(e.start, '2026-11-23T09:00:00Z');
    assert.deepEqual(e.reviewReasons, ['clock']);
    assert.deepEqual(e.clockAnchors.map((a) => [a.offsetS, a.by]), [[51 * 3600, 'received'], [0, 'CLOCK']]);
    assert.equal(e.clockAnchors[1]?.clockSetS, -51 * 3600);
    // without an order: the record says continuous too
    const free = only(courses(msgs, []));
    assert.equal(free.deliveryHours, 46);
    assert.equal(free.code, 'S9330');
    assert.deepEqual(free.reviewReasons, ['no_order', 'clock']);
  });

  test('the same clock, its 46 h arriving at once (a backlog): hours kept, and the CLOCK set puts the course where it happened', () => {
    const aheadMs = 51 * HOUR_MS;
    const s = new PumpScript('PW-4B', T0 + aheadMs).start().run(30 * H);
    const old = new Date(s.nowMs).toISOString().replace('.000Z', 'Z');
    s.nowMs -= aheadMs;
    s.event('CLOCK', old).run(16 * H).event('END', 'P1').set('END').status();
    const arrival = new Date(T0 + 47 * HOUR_MS).toISOString();
    const e = only(courses(s.out.map((m) => ({ ...m, received: arrival })), [ended('PW-4B')]));
    assert.equal(e.deliveryHours, 46);
    assert.equal(e.start, '2026-11-23T09:00:00Z');
    assert.equal(e.end, '2026-11-25T07:00:00Z');
    assert.deepEqual(e.serviceDays, ['2026-11-23', '2026-11-24', '2026-11-25']);
    assert.deepEqual(e.reviewReasons, ['clock']);
    assert.equal(e.clockAnchors[1]?.by, 'CLOCK');
  });

  test('our own telemetry gap the record cannot prove: unverified_gap, the order code unchanged', () => {
    const s = new PumpScript('PW-5', T0).start().run(12 * H);
    s.set('PAUSE').silent(3 * H, 179).set('RUN').status().run(31 * H).event('END', 'P1').set('END').status();
    const e = only(courses(s.out, [ended('PW-5')]));
    assert.equal(e.code, 'S9330');
    assert.equal(e.unverifiedHours, 3);
    assert.deepEqual(e.reviewReasons, ['unverified_gap']);
    // the days: the unproven stretch is not proof the patient was without the therapy
    assert.equal(e.units, 3);
  });

  test('the pump swapped mid-course: the assignment moves to another pump, one course', () => {
    const swapMs = T0 + 20 * HOUR_MS + 30 * 60_000;
    const a = new PumpScript('PW-6A', T0).start().run(20 * H).event('STOP', 'P1').set('IDLE').status();
    const b = new PumpScript('PW-6B', swapMs + 10 * 60_000).start().run(26 * H).event('END', 'P1').set('END').status();
    const list = courses([...a.out, ...b.out], [
      assignment('PW-6A', { id: 'A1', toMs: swapMs }),
      assignment('PW-6B', { id: 'A2', fromMs: swapMs, toMs: T0 + 48 * HOUR_MS }),
    ]);
    const e = only(list);
    assert.deepEqual(e.pumps, ['PW-6A', 'PW-6B']);
    assert.equal(e.deliveryHours, 46);
    assert.equal(e.code, 'S9330');
    assert.equal(e.interruptions[0]?.reason, 'pump_change');
    assert.equal(e.longestInterruptionMin, 40);
    assert.deepEqual(e.reviewReasons, ['interrupted']);
  });

  test('no order: one program, code from the record, flagged no_order', () => {
    const s = new PumpScript('PW-7', T0).start('A').run(30 * H).event('END', 'A').set('END').status();
    s.run(5).start('B').run(2 * H).event('END', 'B').set('END').status();
    const list = courses(s.out, []);
    assert.deepEqual(list.map((e) => [e.programId, e.code, e.reviewReasons.join(','), e.orderId, e.mode]), [
      ['A', 'S9330', 'no_order', null, null], ['B', 'S9331', 'no_order', null, null],
    ]);
  });

  test('a continuous order delivered under 24 h: S9330 kept, flagged short_course', () => {
    const s = new PumpScript('PW-8', T0).start().run(19 * H).event('END', 'P1').set('END').status();
    const e = only(courses(s.out, [ended('PW-8')]));
    assert.equal(e.code, 'S9330');
    assert.deepEqual(e.reviewReasons, ['short_course']);
  });

  test('an intermittent order is S9331 whatever the record, never recoded', () => {
    const s = new PumpScript('PW-9', T0).start().run(30 * H).event('END', 'P1').set('END').status();
    const e = only(courses(s.out, [ended('PW-9', { mode: 'intermittent' })]));
    assert.equal(e.continuous24h, true);
    assert.equal(e.code, 'S9331');
    assert.deepEqual(e.reviewReasons, []);
  });

  test('an open course is provisional: days to now, flagged open', () => {
    const s = new PumpScript('PW-10', T0).start().run(30 * H);
    const e = only(courses(s.out, [assignment('PW-10')], {}, T0 + 30 * HOUR_MS + 30_000));
    assert.equal(e.provisional, true);
    assert.equal(e.end, null);
    assert.deepEqual(e.reviewReasons, ['open']);
    assert.deepEqual(e.serviceDays, ['2026-11-23', '2026-11-24']);
    // a finished bag with the assignment still open and the order prescribed: the course is still open
    s.event('END', 'P1').set('END').status();
    const waiting = only(courses(s.out, [assignment('PW-10')], {}, T0 + 40 * HOUR_MS));
    assert.equal(waiting.provisional, false, 'the bag was given to its end');
  });

  test('service days in the patient time zone', () => {
    // 2026-11-23 03:00Z is the 22nd in Los Angeles
    const s = new PumpScript('PW-11', Date.parse('2026-11-23T03:00:00Z')).start().run(10 * H).event('END', 'P1').set('END').status();
    const e = only(courses(s.out, [ended('PW-11', { tz: 'America/Los_Angeles' })]));
    assert.deepEqual(e.serviceDays, ['2026-11-22', '2026-11-23']);
    assert.equal(e.timeZone, 'America/Los_Angeles');
  });

  test('NHIA: a whole day the pump stood paused is not a service day', () => {
    const s = new PumpScript('PW-12', Date.parse('2026-11-23T20:00:00Z')).start().run(6 * H)
      .set('PAUSE').event('PAUSE').run(48 * H).set('RUN').event('RESUME').run(10 * H).event('END', 'P1').set('END').status();
    const e = only(courses(s.out, [assignment('PW-12', { toMs: Date.parse('2026-11-30T00:00:00Z') })]));
    assert.deepEqual(e.serviceDays, ['2026-11-23', '2026-11-24', '2026-11-26']);
    assert.ok(e.reviewReasons.includes('interrupted'));
  });
});
