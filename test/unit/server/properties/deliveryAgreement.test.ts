/**
 * Detection and billing count the same delivered hours: the same random sentence streams (START,
 * PAUSE/RESUME, ALARM, RATE, STOP and START of the same program, START of another, END, a status
 * every minute) go to the detection engine and to the billing tracker, and after every step the
 * pump's deliveredHours equals its current billing episode's deliveryHours within a second.
 * (Telemetry gaps are left out on purpose: billing counts a gap only when the volume counter proves
 * it, detection watches silence with signal_lost.)
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import { createEpisodeTracker, DEFAULT_BILLING_CONFIG, type BillingEpisode } from '../../../../server/billing/index.ts';
import { createDetectionEngine } from '../../../../server/engine/index.ts';
import { LINK_DELAY_MS, PumpFeed } from '../engine/feed.ts';

const PUMP = 'CS7-900713';
const VOLUME_ML = 230;

type Step =
  | { kind: 'run'; minutes: number }
  | { kind: 'pause'; minutes: number; restart: boolean }
  | { kind: 'alarm'; code: 'OCCL_DN' | 'AIR'; minutes: number; restart: boolean }
  | { kind: 'rate'; rateMlH: number }
  | { kind: 'stop'; minutes: number; restart: boolean }
  | { kind: 'other'; minutes: number }
  | { kind: 'end'; minutes: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('run' as const), minutes: fc.integer({ min: 1, max: 180 }) }), weight: 4 },
  fc.record({ kind: fc.constant('pause' as const), minutes: fc.integer({ min: 0, max: 40 }), restart: fc.boolean() }),
  fc.record({ kind: fc.constant('alarm' as const), code: fc.constantFrom('OCCL_DN' as const, 'AIR' as const), minutes: fc.integer({ min: 0, max: 40 }), restart: fc.boolean() }),
  fc.record({ kind: fc.constant('rate' as const), rateMlH: fc.constantFrom(0, 2, 5, 12) }),
  fc.record({ kind: fc.constant('stop' as const), minutes: fc.integer({ min: 0, max: 40 }), restart: fc.boolean() }),
  fc.record({ kind: fc.constant('other' as const), minutes: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ kind: fc.constant('end' as const), minutes: fc.integer({ min: 0, max: 20 }) }),
);

/** Plays the steps; `check` is called after each with the messages so far. */
function play(steps: Step[], check: (msgs: PumpMessage[], what: string) => void): void {
  const f = new PumpFeed(PUMP, '2026-12-07T08:00:00Z');
  let n = 1;
  let programId = 'P1';
  let rateMlH = 5;
  let active = true;
  const msgs: PumpMessage[] = [...f.start(programId, rateMlH, VOLUME_ML, 46)];
  const fresh = (): void => {
    programId = `P${++n}`;
    rateMlH = 5;
    msgs.push(...f.start(programId, rateMlH, VOLUME_ML, 46));
    active = true;
  };
  /** the program is started again: the pump says START (not RESUME) and keeps vi */
  const startSame = (): void => {
    msgs.push(f.evt('START', programId), f.sts({ state: 'RUN', alarms: [] }));
  };
  for (const s of steps) {
    if (!active && s.kind !== 'other') fresh();
    switch (s.kind) {
      case 'run': msgs.push(...f.run(s.minutes)); break;
      case 'pause':
        msgs.push(f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), ...f.hold(s.minutes));
        if (s.restart) startSame();
        else msgs.push(f.evt('RESUME'), f.sts({ state: 'RUN' }));
        break;
      case 'alarm':
        msgs.push(f.evt('ALARM_ON', s.code), f.sts({ state: 'ALARM', alarms: [s.code] }), ...f.hold(s.minutes));
        msgs.push(f.evt('ALARM_OFF', s.code), f.sts({ state: 'PAUSE', alarms: [] }));
        if (s.restart) startSame();
        else msgs.push(f.evt('RESUME'), f.sts({ state: 'RUN' }));
        break;
      case 'rate':
        rateMlH = s.rateMlH;
        msgs.push(f.evt('RATE', s.rateMlH.toFixed(2)), f.sts({ rateMlH: s.rateMlH }));
        break;
      case 'stop': {
        const leftMl = f.status.vtbiMl;
        msgs.push(f.evt('STOP'), f.sts({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0 }), ...f.hold(s.minutes));
        active = false;
        // the STOP cleared the program: loaded again with what was left, vi restarts at 0
        if (s.restart && leftMl > 0) {
          msgs.push(...f.start(programId, rateMlH > 0 ? rateMlH : 5, leftMl, 46));
          rateMlH = rateMlH > 0 ? rateMlH : 5;
          active = true;
        }
        break;
      }
      case 'other': msgs.push(...f.hold(s.minutes)); fresh(); break;
      case 'end':
        msgs.push(f.evt('END', programId), f.sts({ state: 'END' }), ...f.hold(s.minutes));
        active = false;
        break;
    }
    check(msgs, JSON.stringify(s));
  }
}

test('detection and billing agree on delivered hours for any stream of starts, pauses, alarms, stops and restarts', () => {
  let restarts = 0;
  fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 20 }), (steps) => {
    const engine = createDetectionEngine();
    const billing = createEpisodeTracker(DEFAULT_BILLING_CONFIG);
    let fed = 0;
    play(steps, (msgs, what) => {
      for (; fed < msgs.length; fed++) {
        const m = msgs[fed]!;
        engine.ingest(m, { gateway: 'gw-1', serverTimeMs: Date.parse(m.time) + LINK_DELAY_MS });
        billing.ingest(m);
      }
      engine.takeChanges();
      const detectionH = engine.pump(PUMP)?.deliveredHours ?? null;
      const episodes = billing.episodes({ pump: PUMP }) as BillingEpisode[];
      const billingH = episodes.at(-1)?.deliveryHours ?? null;
      assert.ok(detectionH !== null && billingH !== null, what);
      assert.ok(Math.abs(detectionH - billingH) <= 1 / 3600 + 1e-4, `after ${what}: detection ${detectionH} h, billing ${billingH} h`);
    });
    restarts += steps.filter((s) => 'restart' in s && s.restart).length;
  }), { numRuns: 120, seed: 20261213 });
  assert.ok(restarts > 50, `restarts exercised: ${restarts}`);
});
