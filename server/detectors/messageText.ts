/**
 * Wording helpers for alert messages: plain words, clock times in the nurse's zone (the patient's,
 * else the server's), rounded amounts.
 */
import type { PumpRecord } from '../pumps/pumpRecord.ts';

/** one formatter per zone (building them is the costly part); null for a zone this runtime does not know */
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatterFor(zone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
    } catch {
      f = null;
    }
    formatters.set(zone, f);
  }
  return f;
}

/**
 * `06:05 UTC`, `14:05 CST`, `15:05 GMT+1` from an ISO time, in `zone` (IANA), named as the zone
 * calls itself at that moment (so a time across a DST change says CDT or CST as it was then).
 */
export function clockText(iso: string | null, zone = 'UTC'): string {
  if (iso === null || iso.length < 16) return 'an unknown time';
  const f = zone === 'UTC' ? null : formatterFor(zone);
  const ms = Date.parse(iso);
  // UTC, and the fallback for a zone unknown here: a message is never lost to a bad zone
  if (f === null || Number.isNaN(ms)) return `${iso.slice(11, 16)} UTC`;
  let hh = '';
  let mm = '';
  let name = zone;
  for (const p of f.formatToParts(ms)) {
    if (p.type === 'hour') hh = p.value;
    else if (p.type === 'minute') mm = p.value;
    else if (p.type === 'timeZoneName') name = p.value;
  }
  return `${hh}:${mm} ${name}`;
}

/** The zone a pump's messages are written in: its patient's when the assignment gives one, else the server's. */
export function messageZone(rec: PumpRecord, serverZone: string): string {
  return rec.course?.terms.timeZone ?? serverZone;
}

/** `35 min`, `2 h 05 min` */
export function durationText(ms: number): string {
  const totalMin = Math.max(0, Math.round(ms / 60_000));
  if (totalMin < 60) return `${totalMin} min`;
  const h = Math.floor(totalMin / 60);
  const m = totalMin % 60;
  return m === 0 ? `${h} h` : `${h} h ${String(m).padStart(2, '0')} min`;
}

/** `12.5 mL` */
export function mlText(ml: number): string {
  return `${Math.round(ml * 10) / 10} mL`;
}

/** `19.2 h` */
export function hoursText(h: number): string {
  return `${Math.round(h * 10) / 10} h`;
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
