/** Billing configuration defaults. The server builds its BillingConfig from its settings (server/config/billingConfig.ts). */
import type { BillingConfig } from './types.ts';

export const DEFAULT_BILLING_CONFIG: Readonly<BillingConfig> = Object.freeze({
  continuityToleranceMin: 30,
  serviceDayRule: 'nhia',
  payerRules: Object.freeze({}),
  timeZone: 'UTC',
  maxPumpClockAheadS: 600,
  completeResidualMl: 5,
});
