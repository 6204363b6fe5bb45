/** `from`/`to` query parameters: ISO 8601, optional, default the last 30 days up to now. */
import { badRequest } from './errors.ts';

export const DEFAULT_RANGE_DAYS = 30;
/** longest range one request may ask for */
export const MAX_RANGE_DAYS = 400;
const DAY_MS = 86_400_000;

export const ISO_TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?$';

export const rangeQueryProperties = {
  from: { type: 'string', pattern: ISO_TIME_PATTERN, maxLength: 40 },
  to: { type: 'string', pattern: ISO_TIME_PATTERN, maxLength: 40 },
} as const;

function parseTime(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw badRequest(`${name} is not a valid ISO 8601 time`);
  return ms;
}

/** epoch ms bounds; 400 when malformed, reversed or too long */
export function parseRange(query: { from?: string; to?: string }, nowMs: number): { fromMs: number; toMs: number } {
  const toMs = parseTime('to', query.to) ?? nowMs;
  const fromMs = parseTime('from', query.from) ?? toMs - DEFAULT_RANGE_DAYS * DAY_MS;
  if (fromMs > toMs) throw badRequest('from is after to');
  if (toMs - fromMs > MAX_RANGE_DAYS * DAY_MS) throw badRequest(`range longer than ${MAX_RANGE_DAYS} days`);
  return { fromMs, toMs };
}
