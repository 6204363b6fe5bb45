import { describe, expect, test } from 'vitest';
import { createEpisodeTracker, DEFAULT_BILLING_CONFIG, type CourseEpisode } from '../../../../server/billing/index.ts';
import { loadConfig } from '../../../../server/config.ts';
import { billingConfigOf } from '../../../../server/config/billingConfig.ts';
import { DEFAULT_DETECTION_CONFIG } from '../../../../server/thresholds/detectionConfig.ts';
import { feed, PumpScript } from '../billing/billingFixtures.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');

/** An hour of delivery, then a status stamped 5 minutes ahead of its arrival. */
function clockAheadBy5Min(env: Record<string, string>): { deliveryHours: number | undefined; clockAhead: number } {
  // clockAhead: re-anchorings of the pump clock on the arrival time (before courses: sentences dropped as evidence only)
  const t = createEpisodeTracker(billingConfigOf(loadConfig(env), DEFAULT_DETECTION_CONFIG));
  const s = new PumpScript('PW-40', T0).start().run(60);
  feed(t, s.out);
  const arrival = new Date(s.nowMs + 60_000).toISOString();
  s.advance(6 * 60_000);
  const ahead = s.status().out.at(-1);
  if (!ahead) throw new Error('no status');
  t.ingest({ ...ahead, received: arrival });
  const [e] = t.episodes({}) as CourseEpisode[];
  return { deliveryHours: e?.deliveryHours, clockAhead: e?.clockAnchors.length ?? 0 };
}

describe('billing configuration from the server settings', () => {
  test('defaults: the billing defaults, with the detection clock-ahead tolerance', () => {
    expect(billingConfigOf(loadConfig({}), DEFAULT_DETECTION_CONFIG)).toEqual(DEFAULT_BILLING_CONFIG);
    expect(Object.isFrozen(billingConfigOf(loadConfig({}), DEFAULT_DETECTION_CONFIG))).toBe(true);
  });

  test('CONTINUITY_TOLERANCE_MIN, SERVICE_DAY_RULE, BILLING_TIME_ZONE and CLOCK_AHEAD_TOLERANCE_S reach billing', () => {
    const c = billingConfigOf(loadConfig({
      CONTINUITY_TOLERANCE_MIN: '15', SERVICE_DAY_RULE: 'full_24h', BILLING_TIME_ZONE: 'America/New_York', CLOCK_AHEAD_TOLERANCE_S: '90',
    }), DEFAULT_DETECTION_CONFIG);
    expect(c).toEqual({ continuityToleranceMin: 15, serviceDayRule: 'full_24h', payerRules: {}, timeZone: 'America/New_York', maxPumpClockAheadS: 90, completeResidualMl: 5 });
  });

  test('BILLING_PAYER_RULES: a rule per payer name; a bad one stops the start with one line', () => {
    const c = billingConfigOf(loadConfig({ BILLING_PAYER_RULES: 'Acme=24h_up, Medicaid=calendar_day' }), DEFAULT_DETECTION_CONFIG);
    expect(c.payerRules).toEqual({ Acme: '24h_up', Medicaid: 'calendar_day' });
    expect(() => loadConfig({ BILLING_PAYER_RULES: 'Acme=weekly' })).toThrow(/BILLING_PAYER_RULES must be Payer=rule pairs/);
    expect(() => loadConfig({ SERVICE_DAY_RULE: 'weekly' })).toThrow(/SERVICE_DAY_RULE/);
  });

  test('COMPLETE_RESIDUAL_ML reaches billing, so detection and billing agree on which stops complete an infusion', () => {
    expect(billingConfigOf(loadConfig({ COMPLETE_RESIDUAL_ML: '2' }), DEFAULT_DETECTION_CONFIG).completeResidualMl).toBe(2);
  });

  test('a non-default CLOCK_AHEAD_TOLERANCE_S changes which sentences billing counts', () => {
    // 5 min ahead is within the default 10 min: the extra 6 minutes count as delivery
    const byDefault = clockAheadBy5Min({});
    expect(byDefault.clockAhead).toBe(0);
    expect(byDefault.deliveryHours).toBe(1.1);
    // with a 2 min tolerance the same sentence is re-anchored on its arrival: 1 min after the last, not 6
    const strict = clockAheadBy5Min({ CLOCK_AHEAD_TOLERANCE_S: '120' });
    expect(strict.clockAhead).toBe(1);
    expect(strict.deliveryHours).toBe(1.0166);
  });
});
