import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { captureMessages, feed, PumpScript, tracker } from './billingFixtures.ts';
import type { BillingEpisode, CourseEpisode } from '../../../../server/billing/index.ts';

function only(t: ReturnType<typeof tracker>): BillingEpisode {
  const list = t.episodes({});
  assert.equal(list.length, 1, 'exactly one episode');
  return list[0] as BillingEpisode;
}

describe('billing on the shared captures', () => {
  test('folfox-46h-normal: one 46 h S9330 episode, START to END, no interruption', () => {
    const e = only(feed(tracker(), captureMessages('folfox-46h-normal.log')));
    assert.equal(e.pump, 'CS7-004512');
    assert.equal(e.programId, 'FOLFOX-C3');
    assert.equal(e.drug, 'FLUOROURACIL');
    assert.equal(e.start, '2026-11-23T09:00:00Z');
    assert.equal(e.end, '2026-11-25T07:00:00Z');
    assert.equal(e.deliveryHours, 46);
    assert.equal(e.unverifiedHours, 0);
    assert.equal(e.stalledMinutes, 0);
    assert.deepEqual(e.interruptions, []);
    assert.equal(e.continuous24h, true);
    assert.equal(e.code, 'S9330');
    assert.deepEqual(e.serviceDays, ['2026-11-23', '2026-11-24', '2026-11-25']);
    // START (seq 9) through the END status (seq 2771)
    assert.deepEqual(e.evidence, { firstSeq: 9, lastSeq: 2771, sentences: 2763 });
    assert.equal(e.id, 'CS7-004512_20261123T090000Z_9');
  });

  test('early-end-19h: reservoir empty after 19 h 10 min → S9331', () => {
    const e = only(feed(tracker(), captureMessages('early-end-19h.log')));
    assert.equal(e.end, '2026-11-24T04:10:00Z');
    assert.ok(Math.abs(e.deliveryHours - 19.1667) < 0.001, String(e.deliveryHours));
    assert.equal(e.longestInterruptionMin, 0);
    assert.equal(e.continuous24h, false);
    assert.equal(e.code, 'S9331');
  });

  test('occlusion-at-20h: the 35-min alarm halt is the interruption; S9331 at tolerance 30, S9330 at 45', () => {
    const msgs = captureMessages('occlusion-at-20h.log');
    const at30 = only(feed(tracker({ continuityToleranceMin: 30 }), msgs));
    assert.deepEqual(at30.interruptions, [{ from: '2026-11-24T06:40:00Z', to: '2026-11-24T07:15:00Z', minutes: 35, reason: 'alarm' }]);
    assert.equal(at30.longestInterruptionMin, 35);
    assert.ok(at30.deliveryHours >= 24);
    assert.equal(at30.code, 'S9331');
    // the 40 min of rising pressure before the alarm: RUN, counter still at 100.00 mL
    assert.equal(at30.stalledMinutes, 40);
    const at45 = only(feed(tracker({ continuityToleranceMin: 45 }), msgs));
    assert.equal(at45.code, 'S9330');
    assert.equal(at45.continuous24h, true);
  });

  describe('pause-20min (the capture stops 20 h 22 min into a 96 h program)', () => {
    test('as captured: pauses of 2 and 20 min, episode still open, 20 h delivered → S9331 whatever the tolerance', () => {
      const e = only(feed(tracker({ continuityToleranceMin: 30 }), captureMessages('pause-20min.log')));
      assert.equal(e.end, null);
      assert.equal(e.deliveryHours, 20);
      assert.deepEqual(e.interruptions.map((i) => [i.reason, i.minutes, i.from]), [
        ['pause', 2, '2026-11-23T18:00:00Z'], ['pause', 20, '2026-11-24T04:02:00Z'],
      ]);
      assert.equal(e.longestInterruptionMin, 20);
      assert.equal(e.code, 'S9331');
    });

    // the same record carried on for 6 more hours of RUN (constructed, same pump, seq and counter)
    const continued = (): ReturnType<typeof captureMessages> => {
      const msgs = captureMessages('pause-20min.log');
      const last = msgs.at(-1);
      assert.ok(last && last.type === 'status');
      const more = new PumpScript(last.pump, Date.parse(last.time), last.rateMlH, 240);
      more.seq = last.seq + 1;
      more.vi = last.infusedMl;
      more.set('RUN').run(6 * 60);
      return [...msgs, ...more.out];
    };

    test('carried past 24 h of delivery: tolerance 30 → S9330', () => {
      const e = only(feed(tracker({ continuityToleranceMin: 30 }), continued()));
      assert.equal(e.deliveryHours, 26);
      assert.equal(e.longestInterruptionMin, 20);
      assert.equal(e.code, 'S9330');
    });

    test('carried past 24 h of delivery: tolerance 15 → S9331 (the 20-min pause breaks it)', () => {
      const e = only(feed(tracker({ continuityToleranceMin: 15 }), continued()));
      assert.equal(e.deliveryHours, 26);
      assert.equal(e.code, 'S9331');
      assert.equal(e.continuous24h, false);
    });
  });

  test('noisy-link: the valid sentences still make an episode; nothing dropped by billing', () => {
    const t = feed(tracker(), captureMessages('noisy-link.log'));
    const e = only(t);
    assert.equal(e.end, null);
    assert.ok(e.deliveryHours > 0);
    assert.deepEqual(t.dropped?.(), {});
  });
});

describe('the shared captures as courses under a continuous order (issue "Billing the way payers do")', () => {
  const under = (name: string, overrides: Parameters<typeof tracker>[0] = {}): CourseEpisode => {
    const msgs = captureMessages(name);
    const t = feed(tracker(overrides), msgs);
    const first = msgs[0];
    assert.ok(first);
    t.setAssignments?.([{
      id: '1', pump: first.pump, fromMs: Date.parse(first.time) - 3_600_000, toMs: Date.parse(msgs.at(-1)?.time ?? first.time) + 3_600_000,
      order: { id: '42', drug: 'FLUOROURACIL', mode: 'continuous', payer: null, stoppedMs: null },
      patient: { id: '7', mrn: 'MRN-7', name: 'P', timeZone: 'UTC' },
    }]);
    return only(t) as CourseEpisode;
  };

  test('folfox-46h-normal: S9330, 3 NHIA days, nothing to review', () => {
    const e = under('folfox-46h-normal.log');
    assert.deepEqual([e.id, e.code, e.units, e.needsReview], ['order-42', 'S9330', 3, false]);
  });

  test('occlusion-at-20h: was S9331 at tolerance 30; the order keeps S9330 and the 35-min halt is flagged interrupted', () => {
    const e = under('occlusion-at-20h.log');
    assert.equal(e.code, 'S9330');
    assert.deepEqual(e.reviewReasons, ['interrupted']);
  });

  test('early-end-19h: was S9331; the order keeps S9330, flagged short_course', () => {
    const e = under('early-end-19h.log');
    assert.equal(e.code, 'S9330');
    assert.deepEqual(e.reviewReasons, ['short_course']);
  });

  test('pause-20min as captured: still open, provisional, S9330 so far, flagged open', () => {
    const e = under('pause-20min.log');
    assert.deepEqual([e.code, e.provisional, e.reviewReasons], ['S9330', true, ['open']]);
  });
});
