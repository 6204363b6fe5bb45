/**
 * Service days under a payer rule, in the agency's IANA time zone. Local dates come from
 * Intl.DateTimeFormat, so days of 23 or 25 hours (DST changes) are handled by the zone data.
 */
import type { BillingConfig } from './types.ts';

/** A delivery stretch on the pump clock: [fromMs, toMs), epoch ms. */
export type DeliverySegment = readonly [number, number];

const HOUR_MS = 3_600_000;
const DAY_S = 86_400;
/** Sampling step inside a segment; every local day lasts at least 23 h, so none is skipped. */
const STEP_MS = 12 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows the IANA zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * Local dates by 15-minute UTC bucket: every zone offset in use is a multiple of 15 min, so local
 * midnights and DST changes fall on bucket edges and one lookup serves the whole bucket.
 */
const BUCKET_MS = 15 * 60_000;
const MAX_CACHED = 200_000;
const dateCache = new Map<string, Map<number, string>>();

/** The agency-local calendar date of an instant, `YYYY-MM-DD`. */
export function localDate(ms: number, timeZone: string): string {
  let cache = dateCache.get(timeZone);
  if (!cache) {
    cache = new Map();
    dateCache.set(timeZone, cache);
  }
  const bucket = Math.floor(ms / BUCKET_MS);
  let date = cache.get(bucket);
  if (date === undefined) {
    if (cache.size >= MAX_CACHED) cache.clear();
    date = formatDate(bucket * BUCKET_MS, timeZone);
    cache.set(bucket, date);
  }
  return date;
}

function formatDate(ms: number, timeZone: string): string {
  let y = '';
  let m = '';
  let d = '';
  for (const part of formatterFor(timeZone).formatToParts(ms)) {
    if (part.type === 'year') y = part.value;
    else if (part.type === 'month') m = part.value;
    else if (part.type === 'day') d = part.value;
  }
  return `${y.padStart(4, '0')}-${m}-${d}`;
}

/** `YYYY-MM-DD` plus whole calendar days (pure date arithmetic, no zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** 'calendar_day': every local date on which any delivery took place. */
function calendarDays(segments: readonly DeliverySegment[], timeZone: string): string[] {
  const days = new Set<string>();
  for (const [from, to] of segments) {
    if (!(to > from)) continue;
    // [from, to): the instant `to` itself is not delivery, so a stretch ending at midnight adds no day
    for (let t = from; t < to; t += STEP_MS) days.add(localDate(t, timeZone));
    days.add(localDate(to - 1, timeZone));
  }
  return [...days].sort();
}

/**
 * 'full_24h': one day per full 24 h of delivery (elapsed time, not wall-clock days). The k-th
 * such day is dated k calendar days after the local date on which delivery began.
 */
function fullDays(segments: readonly DeliverySegment[], timeZone: string): string[] {
  let totalS = 0;
  let firstMs: number | null = null;
  for (const [from, to] of segments) {
    if (!(to > from)) continue;
    firstMs ??= from;
    totalS += Math.floor((to - from) / 1000);
  }
  if (firstMs === null) return [];
  const blocks = Math.floor(totalS / DAY_S);
  const first = localDate(firstMs, timeZone);
  const days: string[] = [];
  for (let k = 0; k < blocks; k++) days.push(addDays(first, k));
  return days;
}

export function serviceDays(
  segments: readonly DeliverySegment[], rule: BillingConfig['serviceDayRule'], timeZone: string,
): string[] {
  return rule === 'full_24h' ? fullDays(segments, timeZone) : calendarDays(segments, timeZone);
}
