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

/** 24-h days of delivery, rounded as the rule says, dated from the local date delivery began. */
function roundedDays(segments: readonly DeliverySegment[], timeZone: string, round: (days: number) => number): string[] {
  let totalS = 0;
  let firstMs: number | null = null;
  for (const [from, to] of segments) {
    if (!(to > from)) continue;
    firstMs ??= from;
    totalS += Math.floor((to - from) / 1000);
  }
  if (firstMs === null) return [];
  const first = localDate(firstMs, timeZone);
  const days: string[] = [];
  for (let k = 0; k < round(totalS / DAY_S); k++) days.push(addDays(first, k));
  return days;
}

/** [start, end) without the stretches in `off` (sorted or not; they may overlap). */
export function subtractStretches(startMs: number, endMs: number, off: readonly DeliverySegment[]): DeliverySegment[] {
  const out: DeliverySegment[] = [];
  let at = startMs;
  for (const [from, to] of [...off].sort((a, b) => a[0] - b[0])) {
    if (to <= at || from >= endMs) continue;
    if (from > at) out.push([at, from]);
    at = Math.max(at, to);
  }
  if (endMs > at) out.push([at, endMs]);
  return out;
}

/**
 * Service days of one program's delivery (no course known). `nhia` is judged on the course
 * (courseServiceDays); for one program on its own it is its days with delivery.
 */
export function serviceDays(
  segments: readonly DeliverySegment[], rule: BillingConfig['serviceDayRule'], timeZone: string,
): string[] {
  switch (rule) {
    case 'full_24h': return fullDays(segments, timeZone);
    case '24h_down': return roundedDays(segments, timeZone, Math.floor);
    case '24h_up': return roundedDays(segments, timeZone, Math.ceil);
    case '24h_nearest': return roundedDays(segments, timeZone, Math.round);
    default: return calendarDays(segments, timeZone);
  }
}

export interface CourseDaysInput {
  rule: BillingConfig['serviceDayRule'];
  timeZone: string;
  /** proven delivery */
  segments: readonly DeliverySegment[];
  /** first START (pump clock, re-anchored) */
  startMs: number;
  /** permanent stop, or "now" while the course is open */
  endMs: number;
  /** stretches the record proves the patient was without the therapy (pause, alarm, pump off, between bags) */
  off: readonly DeliverySegment[];
}

/**
 * A course's service days. `nhia` (per diem): every local date from the first START to the
 * permanent stop on which the patient had the therapy, i.e. not wholly inside a proven stretch
 * without it (a telemetry gap we cannot prove counts as therapy: it is flagged for review instead).
 */
export function courseServiceDays(i: CourseDaysInput): string[] {
  if (i.rule !== 'nhia') return serviceDays(i.segments, i.rule, i.timeZone);
  if (!(i.endMs > i.startMs)) return [];
  return calendarDays(subtractStretches(i.startMs, i.endMs, i.off), i.timeZone);
}
