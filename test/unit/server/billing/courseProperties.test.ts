import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { feed, PumpScript, tracker } from './billingFixtures.ts';
import type { BillingAssignment, CourseEpisode } from '../../../../server/billing/index.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import { DedupeWindows, identityNumber } from '../../../../server/ingest/dedupeWindow.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');
const H_MS = 3_600_000;

type Step =
  | { k: 'run'; min: number } | { k: 'pause'; min: number } | { k: 'silent'; min: number; lost: number }
  | { k: 'power'; offMin: number } | { k: 'bag'; gapMin: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ k: fc.constant('run' as const), min: fc.integer({ min: 1, max: 900 }) }),
  fc.record({ k: fc.constant('pause' as const), min: fc.integer({ min: 1, max: 120 }) }),
  fc.record({ k: fc.constant('silent' as const), min: fc.integer({ min: 1, max: 240 }), lost: fc.integer({ min: 0, max: 240 }) }),
  fc.record({ k: fc.constant('power' as const), offMin: fc.integer({ min: 0, max: 120 }) }),
  fc.record({ k: fc.constant('bag' as const), gapMin: fc.integer({ min: 0, max: 60 }) }),
);

/** Plays a course under one order; returns its messages and the time the pump was on and running (ms). */
function play(steps: Step[]): { msgs: PumpMessage[]; runningMs: number } {
  const s = new PumpScript('PW-CP', T0).start('BAG1');
  let runningMs = 0;
  let bag = 1;
  for (const st of steps) {
    switch (st.k) {
      case 'run': {
        const before = s.nowMs;
        s.event('RESUME').set('RUN').status().run(st.min);
        runningMs += s.nowMs - before;
        break;
      }
      case 'pause': s.event('PAUSE').set('PAUSE').status().run(st.min); break;
      case 'silent': {
        const before = s.nowMs;
        s.silent(st.min, st.lost);
        if (s.state === 'RUN') runningMs += s.nowMs - before;
        s.status();
        break;
      }
      case 'power': {
        s.event('POWER_OFF');
        s.advance(st.offMin * 60_000);
        s.seq = 0;
        s.event('POWER_ON', '4.2.1').set('PAUSE').status();
        break;
      }
      case 'bag': {
        s.event('END', `BAG${bag}`).set('END').status().set('IDLE');
        s.advance(st.gapMin * 60_000);
        bag++;
        s.vi = 0;
        s.start(`BAG${bag}`);
        break;
      }
    }
  }
  s.event('END', `BAG${bag}`).set('END').status();
  return { msgs: s.out, runningMs };
}

const order = (): BillingAssignment => ({
  id: 'A1', pump: 'PW-CP', fromMs: T0 - 100 * H_MS, toMs: T0 + 400 * H_MS,
  order: { id: '9', drug: 'FLUOROURACIL', mode: 'continuous', payer: null, stoppedMs: null },
  patient: { id: '1', mrn: 'M1', name: 'P', timeZone: 'America/New_York' },
});

function course(msgs: readonly PumpMessage[]): CourseEpisode {
  const t = feed(tracker(), msgs);
  t.setAssignments?.([order()]);
  const list = t.episodes({}) as CourseEpisode[];
  assert.equal(list.length, 1, 'one course under one order');
  return list[0] as CourseEpisode;
}

/** what billing decides: everything but the count of sentences kept as evidence */
const decided = (e: CourseEpisode): unknown => ({
  start: e.start, end: e.end, deliveryHours: e.deliveryHours, unverifiedHours: e.unverifiedHours, interruptions: e.interruptions,
  code: e.code, serviceDays: e.serviceDays, units: e.units, reviewReasons: e.reviewReasons, programs: e.programs,
});

test('for any course: delivered hours never exceed the time the pump was on and running, whatever its clock was', () => {
  fc.assert(fc.property(fc.array(step, { maxLength: 20 }), fc.integer({ min: 0, max: 60 * 60 }), fc.double({ min: 0, max: 1, noNaN: true }), (steps, aheadMin, part) => {
    const { msgs, runningMs } = play(steps);
    // the pump clock is `aheadMin` ahead of the arrival stamps for the first part of the record
    const cut = Math.floor(part * msgs.length);
    const stamped = msgs.map((m, i) => ({ ...m, received: new Date(Date.parse(m.time) - (i < cut ? aheadMin * 60_000 : 0)).toISOString() }));
    const e = course(stamped);
    assert.ok(e.deliveryHours <= runningMs / H_MS + 1e-6, `${e.deliveryHours} h delivered, ${runningMs / H_MS} h running`);
    assert.ok(e.deliveryHours >= 0 && e.unverifiedHours >= 0);
    assert.equal(e.code, 'S9330', 'the order is continuous: never recoded');
    assert.equal(e.units, e.serviceDays.length);
  }), { numRuns: 120 });
});

test('for any course: the answer does not depend on how the sentences were split into batches, delayed or replayed', () => {
  fc.assert(fc.property(
    fc.array(step, { maxLength: 15 }),
    fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 30 }),
    fc.array(fc.integer({ min: 0, max: 3_600 }), { minLength: 1, maxLength: 30 }),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
    (steps, sizes, delaysS, replays) => {
      const { msgs } = play(steps);
      // what reaches billing: the server's ingest de-duplicates by identity (pump, seq, time), as in ingestPipeline.ts
      const deduped = (list: readonly PumpMessage[]): PumpMessage[] => {
        const dedupe = new DedupeWindows(1024);
        return list.filter((m) => !dedupe.seenOrAdd(m.pump, identityNumber(m.seq, m.time)));
      };
      const baseline = decided(course(deduped(msgs)));
      // batches: each arrives at once, after its last sentence was written plus a delay; some batches are sent again later
      const arrived: PumpMessage[] = [];
      let i = 0;
      let b = 0;
      let previous: PumpMessage[] = [];
      while (i < msgs.length) {
        const size = sizes[b % sizes.length] as number;
        const batch = msgs.slice(i, i + size);
        const last = batch[batch.length - 1] as PumpMessage;
        const at = new Date(Date.parse(last.time) + (delaysS[b % delaysS.length] as number) * 1000).toISOString();
        const stamped = batch.map((m) => ({ ...m, received: at }));
        arrived.push(...stamped);
        if (replays[b % replays.length] && previous.length > 0) arrived.push(...previous); // a redelivery of the batch before
        previous = stamped;
        i += size;
        b++;
      }
      assert.deepEqual(decided(course(deduped(arrived))), baseline);
    },
  ), { numRuns: 120 });
});
