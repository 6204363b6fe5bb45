/** Billing configuration defaults. The server builds its BillingConfig from its settings (server/config/billingConfig.ts). */
import type { BillingConfig } from './types.ts';

export const DEFAULT_BILLING_CONFIG: Readonly<BillingConfig> = Object.freeze({
  continuityToleranceMin: 30,
  serviceDayRule: 'calendar_day',
  timeZone: 'UTC',
  maxPumpClockAheadS: 600,
  completeResidualMl: 5,
});
