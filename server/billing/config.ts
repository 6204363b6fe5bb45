/** Billing configuration: defaults and the one-time check of the environment. */
import { isValidTimeZone } from './serviceDays.ts';
import type { BillingConfig } from './types.ts';

export const DEFAULT_BILLING_CONFIG: Readonly<BillingConfig> = Object.freeze({
  continuityToleranceMin: 30,
  serviceDayRule: 'calendar_day',
  timeZone: 'UTC',
  maxPumpClockAheadS: 600,
});

export class BillingConfigError extends Error {
  readonly code = 'BAD_BILLING_CONFIG';
}

/**
 * Reads CONTINUITY_TOLERANCE_MIN, BILLING_SERVICE_DAY_RULE and BILLING_TIME_ZONE. Throws a
 * BillingConfigError whose message is one clear line; the result is frozen.
 */
export function billingConfigFromEnv(env: Record<string, string | undefined>): Readonly<BillingConfig> {
  const config: BillingConfig = { ...DEFAULT_BILLING_CONFIG };
  const tol = env.CONTINUITY_TOLERANCE_MIN;
  if (tol !== undefined && tol !== '') {
    const n = Number(tol);
    if (!Number.isFinite(n) || n < 0 || n > 24 * 60) throw new BillingConfigError(`CONTINUITY_TOLERANCE_MIN must be a number of minutes 0-1440, got "${tol}"`);
    config.continuityToleranceMin = n;
  }
  const rule = env.BILLING_SERVICE_DAY_RULE;
  if (rule !== undefined && rule !== '') {
    if (rule !== 'calendar_day' && rule !== 'full_24h') throw new BillingConfigError(`BILLING_SERVICE_DAY_RULE must be calendar_day or full_24h, got "${rule}"`);
    config.serviceDayRule = rule;
  }
  const tz = env.BILLING_TIME_ZONE;
  if (tz !== undefined && tz !== '') {
    if (!isValidTimeZone(tz)) throw new BillingConfigError(`BILLING_TIME_ZONE must be an IANA time zone, got "${tz}"`);
    config.timeZone = tz;
  }
  return Object.freeze(config);
}
