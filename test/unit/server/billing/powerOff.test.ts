/** A pump switched off mid-infusion: the time off is an interruption, never delivery hours, and detection counts the same. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import type { BillingEpisode } from '../../../../server/billing/index.ts';
import { createDetectionEngine } from '../../../../server/engine/index.ts';
import { feed, PumpScript, tracker } from './billingFixtures.ts';

const T0 = Date.parse('2026-12-07T08:00:00Z');
const H = 60;

/** 9 h delivered, POWER_OFF, `offMin` with nothing on the wire, POWER_ON (seq 0) held paused a minute, then resumed */
function switchedOff(pump: string, offMin: number): PumpScript {
  const s = new PumpScript(pump, T0).event('POWER_ON', '4.2.1').start().run(9 * H).event('POWER_OFF');
  s.silent(offMin);
  s.seq = 0;
  return s.event('POWER_ON', '4.2.1').set('PAUSE').status().run(1).event('RESUME').set('RUN').status();
}

/** the detection engine's delivered hours for the same sentences */
function detectionHours(msgs: readonly PumpMessage[]): number | null | undefined {
  const e = createDetectionEngine();
  for (const m of msgs) e.ingest(m, { gateway: 'gw-1', serverTimeMs: Date.parse(m.time) + 200 });
  return e.pump(msgs[0]!.pump)?.deliveredHours;
}

describe('billing: time switched off', () => {
  test('9 h, 2 h off, 2 h: one episode of 11 delivery hours with a power_cycle interruption; detection says 11 h too', () => {
    const s = switchedOff('PW-OFF1', 2 * H).run(2 * H).event('END', 'P1').set('END').status();
    const list = feed(tracker(), s.out).episodes({}) as BillingEpisode[];
    assert.equal(list.length, 1, 'the same program carries on: not a new episode');
    const e = list[0]!;
    assert.equal(e.deliveryHours, 11);
    assert.deepEqual(e.interruptions.map((i) => [i.reason, i.minutes]), [['power_cycle+pause', 121]]);
    assert.equal(e.unverifiedHours, 0, 'the pump said it was off: nothing unproven');
    assert.equal(detectionHours(s.out), 11);
  });

  test('still switched off: the open episode shows an ongoing power_cycle growing with now, never delivery or a telemetry gap', () => {
    const s = new PumpScript('PW-OFF2', T0).event('POWER_ON', '4.2.1').start().run(9 * H).event('POWER_OFF');
    const t = feed(tracker(), s.out);
    const [e] = t.episodes({ nowMs: s.nowMs + 3 * 60 * 60_000 }) as BillingEpisode[];
    assert.equal(e?.deliveryHours, 9);
    assert.deepEqual(e?.interruptions.map((i) => [i.reason, i.minutes, i.ongoing]), [['power_cycle', 180, true]]);
    assert.equal(e?.unverifiedHours, 0);
    assert.equal(e?.end, null);
  });

  test('restarted with START of the same program after the power-on: the same episode, totals carried on', () => {
    const s = new PumpScript('PW-OFF3', T0).event('POWER_ON', '4.2.1').start().run(9 * H).event('POWER_OFF');
    s.silent(45);
    s.seq = 0;
    s.event('POWER_ON', '4.2.1').set('PAUSE').status().event('START', 'P1').set('RUN').status().run(3 * H).event('END', 'P1');
    const list = feed(tracker(), s.out).episodes({}) as BillingEpisode[];
    assert.equal(list.length, 1);
    assert.equal(list[0]!.deliveryHours, 12);
    assert.deepEqual(list[0]!.interruptions.map((i) => [i.reason, i.minutes]), [['power_cycle+pause', 45]]);
  });

  test('short and long switch-offs: billing and detection agree on delivered hours', () => {
    for (const offMin of [1, 4, 30, 6 * H]) {
      const s = switchedOff(`PW-OFF${offMin}`, offMin).run(90);
      const [e] = feed(tracker(), s.out).episodes({}) as BillingEpisode[];
      assert.equal(e?.deliveryHours, 10.5, `${offMin} min off`);
      assert.equal(detectionHours(s.out), 10.5, `${offMin} min off`);
    }
  });
});
