import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { feed, PumpScript, tracker } from './billingFixtures.ts';
import type { BillingEpisode, EpisodeRecord } from '../../../../server/billing/index.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

type Step =
  | { k: 'run'; min: number } | { k: 'pause'; min: number } | { k: 'alarm'; min: number }
  | { k: 'silent'; min: number; lost: number; stopped: boolean } | { k: 'clock'; shiftMin: number; announced: boolean }
  | { k: 'power'; offMin: number } | { k: 'end' } | { k: 'start'; id: string };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ k: fc.constant('run' as const), min: fc.integer({ min: 1, max: 600 }) }),
  fc.record({ k: fc.constant('pause' as const), min: fc.integer({ min: 1, max: 90 }) }),
  fc.record({ k: fc.constant('alarm' as const), min: fc.integer({ min: 1, max: 90 }) }),
  fc.record({ k: fc.constant('silent' as const), min: fc.integer({ min: 1, max: 300 }), lost: fc.integer({ min: 0, max: 300 }), stopped: fc.boolean() }),
  fc.record({ k: fc.constant('clock' as const), shiftMin: fc.integer({ min: -1500, max: 1500 }), announced: fc.boolean() }),
  fc.record({ k: fc.constant('power' as const), offMin: fc.integer({ min: 0, max: 120 }) }),
  fc.record({ k: fc.constant('end' as const) }),
  fc.record({ k: fc.constant('start' as const), id: fc.constantFrom('A', 'B') }),
);

/** a pump clock set forward without EVT CLOCK by at most this much lands where the next sentence could have: no record can tell */
const UNDETECTABLE_SHIFT_MS = 2.5 * 60_000; // GAP_INTERVALS × the 60 s status interval

/**
 * Plays the steps; returns the script and the real elapsed time (clock sets excluded), ms, plus
 * the unannounced forward clock sets that look exactly like running time.
 */
function play(steps: Step[]): { s: PumpScript; realMs: number; indistinguishableMs: number } {
  const s = new PumpScript('PW-PROP', T0).start('A');
  let realMs = 0;
  let indistinguishableMs = 0;
  const timed = (min: number, fn: () => void): void => {
    const before = s.nowMs;
    fn();
    realMs += s.nowMs - before;
    void min;
  };
  for (const st of steps) {
    switch (st.k) {
      case 'run': timed(st.min, () => s.event('RESUME').set('RUN').status().run(st.min)); break;
      case 'pause': timed(st.min, () => s.event('PAUSE').set('PAUSE').status().run(st.min)); break;
      case 'alarm': timed(st.min, () => s.set('ALARM').event('ALARM_ON', 'OCCL_DN').status(['OCCL_DN']).run(st.min)); break;
      case 'silent': {
        const prev = s.state;
        if (st.stopped) s.set('PAUSE');
        timed(st.min, () => s.silent(st.min, st.lost));
        s.set(prev).status();
        break;
      }
      case 'clock': {
        const before = iso(s.nowMs);
        s.nowMs += st.shiftMin * 60_000;
        if (!st.announced && st.shiftMin > 0 && st.shiftMin * 60_000 <= UNDETECTABLE_SHIFT_MS) indistinguishableMs += st.shiftMin * 60_000;
        if (st.announced) s.event('CLOCK', before);
        s.status();
        break;
      }
      case 'power': {
        s.event('POWER_OFF');
        timed(st.offMin, () => s.advance(st.offMin * 60_000));
        s.seq = 0;
        s.event('POWER_ON', '4.2.1').set('PAUSE').status();
        break;
      }
      case 'end': s.event('END', 'A').set('END').status(); break;
      case 'start': s.start(st.id); break;
    }
  }
  return { s, realMs, indistinguishableMs };
}

test('for any record: no negative time, delivery never exceeds real elapsed time, code follows its rule', () => {
  fc.assert(fc.property(fc.array(step, { maxLength: 25 }), fc.integer({ min: 0, max: 120 }), (steps, tol) => {
    const { s, realMs, indistinguishableMs } = play(steps);
    const t = feed(tracker({ continuityToleranceMin: tol }), s.out);
    const list = t.episodes({}) as BillingEpisode[];
    let delivered = 0;
    for (const e of list) {
      assert.ok(e.deliveryHours >= 0 && e.unverifiedHours >= 0);
      for (const i of e.interruptions) assert.ok(i.minutes >= 0, JSON.stringify(i));
      assert.equal(e.code, e.deliveryHours >= 24 && e.longestInterruptionMin <= tol ? 'S9330' : 'S9331');
      delivered += e.deliveryHours;
    }
    const possibleMs = realMs + indistinguishableMs;
    assert.ok(delivered <= possibleMs / 3_600_000 + 1e-6, `${delivered} h delivered in ${realMs / 3_600_000} h (+ ${indistinguishableMs / 60_000} min of unannounced clock set)`);
  }), { numRuns: 150 });
});

test('for any record and any restart point, restore + the rest equals one uninterrupted run', () => {
  fc.assert(fc.property(fc.array(step, { maxLength: 15 }), fc.double({ min: 0, max: 1, noNaN: true }), (steps, at) => {
    const msgs = play(steps).s.out;
    const cut = Math.floor(at * msgs.length);
    const whole = feed(tracker(), msgs).episodes({});
    const first = feed(tracker(), msgs.slice(0, cut));
    const second = tracker();
    second.restore(JSON.parse(JSON.stringify(first.takeChanged())) as EpisodeRecord[]);
    assert.deepEqual(feed(second, msgs.slice(cut)).episodes({}), whole);
  }), { numRuns: 100 });
});
