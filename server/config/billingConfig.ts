/** The billing tracker's configuration, from the server's settings. */
import type { BillingConfig } from '../billing/types.ts';
import type { DetectionConfig } from '../thresholds/detectionConfig.ts';
import type { ServerConfig } from '../config.ts';

/**
 * Billing judges a pump clock ahead by the same tolerance as detection (CLOCK_AHEAD_TOLERANCE_S,
 * else the detection default), so the two never disagree about which sentences are clock_error.
 */
export function billingConfigOf(config: Readonly<ServerConfig>, detectionDefaults: Readonly<DetectionConfig>): Readonly<BillingConfig> {
  return Object.freeze({
    continuityToleranceMin: config.continuityToleranceMin,
    serviceDayRule: config.serviceDayRule,
    payerRules: config.payerRules ?? {},
    timeZone: config.billingTimeZone,
    maxPumpClockAheadS: config.detection.clockAheadToleranceS ?? detectionDefaults.clockAheadToleranceS,
    // detection and billing agree on which stops complete an infusion
    completeResidualMl: config.detection.completeResidualMl ?? detectionDefaults.completeResidualMl ?? 5,
  });
}
