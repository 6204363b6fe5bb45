/** Wording helpers for alert messages: plain words, UTC clock times, rounded amounts. */

/** `06:05 UTC` from an ISO time */
export function clockText(iso: string | null): string {
  if (iso === null || iso.length < 16) return 'an unknown time';
  return `${iso.slice(11, 16)} UTC`;
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
