/** BILLING_PAYER_RULES: `Payer=rule,...` — how each payer (as named on the order) counts service days. */
import { SERVICE_DAY_RULES, type ServiceDayRule } from '../billing/types.ts';
import { ConfigError, type Parser } from './parsers.ts';

export const payerRules: Parser<Readonly<Record<string, ServiceDayRule>>> = {
  accepts: `\`Payer=rule,...\`; rules ${SERVICE_DAY_RULES.map((r) => `\`${r}\``).join(', ')}`,
  numeric: false,
  parse(raw, name) {
    const out: Record<string, ServiceDayRule> = {};
    for (const item of raw.split(',').map((t) => t.trim()).filter((t) => t !== '')) {
      const eq = item.lastIndexOf('=');
      const payer = eq > 0 ? item.slice(0, eq).trim() : '';
      const rule = item.slice(eq + 1).trim() as ServiceDayRule;
      if (payer === '' || !SERVICE_DAY_RULES.includes(rule)) {
        throw new ConfigError(`${name} must be Payer=rule pairs separated by commas (rules: ${SERVICE_DAY_RULES.join(', ')}), got "${item}"`);
      }
      out[payer] = rule;
    }
    return Object.freeze(out);
  },
};
