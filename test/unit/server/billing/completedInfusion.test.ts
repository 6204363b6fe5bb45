/** Billing agrees with detection: a STOP with no more than COMPLETE_RESIDUAL_ML left is a completed infusion, like END. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { feed, PumpScript, tracker } from './billingFixtures.ts';
import type { BillingConfig, BillingEpisode } from '../../../../server/billing/index.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');
const H = 60;

/** 46 h at 5 mL/h of a bag holding 230 mL + `leftMl`, stopped by the nurse at the visit */
function stoppedWith(leftMl: number, config: Partial<BillingConfig> = {}): BillingEpisode {
  const s = new PumpScript('PW-C1', T0, 5, 230 + leftMl).start().run(46 * H).event('STOP').set('IDLE').status();
  const list = feed(tracker(config), s.out).episodes({}) as BillingEpisode[];
  assert.equal(list.length, 1);
  return list[0]!;
}

describe('completed infusion in billing', () => {
  test('STOP with 2.6 mL left: completed', () => {
    const e = stoppedWith(2.6);
    assert.equal(e.endedBy, 'STOP');
    assert.equal(e.leftMl, 2.6);
    assert.equal(e.completed, true);
  });

  test('negative twin: STOP with 20 mL left is not a completed infusion', () => {
    const e = stoppedWith(20);
    assert.equal(e.leftMl, 20);
    assert.equal(e.completed, false);
  });

  test('the residual is configurable', () => {
    assert.equal(stoppedWith(2.6, { completeResidualMl: 1 }).completed, false);
  });

  test('END is completed; an open episode is neither', () => {
    const ended = new PumpScript('PW-C2', T0, 5, 230).start().run(46 * H).event('END').set('END').status();
    const e = feed(tracker(), ended.out).episodes({})[0] as BillingEpisode;
    assert.equal(e.completed, true);
    assert.equal(e.leftMl, 0);
    const open = new PumpScript('PW-C3', T0, 5, 230).start().run(2 * H);
    const o = feed(tracker(), open.out).episodes({})[0] as BillingEpisode;
    assert.equal(o.completed, null);
    assert.equal(o.leftMl, null);
  });

  test('what was left survives a restart of the tracker', () => {
    const s = new PumpScript('PW-C4', T0, 5, 232.6).start().run(46 * H).event('STOP').set('IDLE').status();
    const t = feed(tracker(), s.out);
    const again = tracker();
    again.restore(t.takeChanged());
    assert.equal((again.episodes({})[0] as BillingEpisode).completed, true);
  });
});
