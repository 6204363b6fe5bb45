/** Pure text formatting for the dashboard (no DOM), so it can be unit-tested. */
import type { PumpState } from '../../protocol/sentence.ts';
import type { Alert, PumpView } from '../../protocol/api.ts';

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** HH:MM:SS in the browser's local time zone; '—' for a missing or bad time. */
export function clockTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** "27 Nov 14:05" style local date-time; '—' for a missing time. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()] ?? '';
  return `${d.getDate()} ${month} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** Coarse age for "last seen": "just now", "4 min ago", "3 h ago", "2 d ago". */
export function ageText(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'never';
  const s = Math.max(0, Math.round((nowMs - t) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** Duration in minutes as "45 min" or "3 h 05 min". */
export function durationText(minutes: number): string {
  if (!Number.isFinite(minutes) || minutes < 0) return '—';
  const m = Math.round(minutes);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${pad2(m % 60)} min`;
}

export function ml(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(digits)} mL`;
}

export function rateText(rateMlH: number | null | undefined): string {
  return rateMlH === null || rateMlH === undefined ? '—' : `${rateMlH.toFixed(2)} mL/h`;
}

export function pctText(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${Math.round(v)} %`;
}

export function pressureText(mmHg: number | null | undefined): string {
  return mmHg === null || mmHg === undefined ? 'no sensor' : `${Math.round(mmHg)} mmHg`;
}

/** What a nurse reads for the pump's state (the colour is only a second cue). */
export function stateText(state: PumpState | null): string {
  switch (state) {
    case 'RUN': return 'Running';
    case 'PAUSE': return 'Paused';
    case 'ALARM': return 'ALARM';
    case 'END': return 'Finished';
    case 'IDLE': return 'Idle';
    default: return 'Unknown';
  }
}

/** The name the nurse knows the pump by: the assigned label, else the serial. */
export function pumpName(p: Pick<PumpView, 'pump' | 'label'>): string {
  return p.label ? p.label : p.pump;
}

export type LinkStatus = 'ok' | 'gateway_offline' | 'no_signal' | 'unknown';

export function linkText(link: LinkStatus): string {
  switch (link) {
    case 'ok': return 'Online';
    case 'gateway_offline': return 'Gateway offline';
    case 'no_signal': return 'No signal';
    default: return 'Unknown';
  }
}

export function severityText(sev: Alert['severity']): string {
  return sev === 'high' ? 'HIGH' : sev === 'medium' ? 'Medium' : 'Low';
}

/** Alert type as words: "infusion_stopped" → "Infusion stopped". */
export function alertTypeText(type: string): string {
  const s = type.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1).replace('24h', '24 h');
}

/** "Acknowledged by anna at 14:05:09", or the state of an unacknowledged alert. */
export function ackText(a: Pick<Alert, 'acknowledged' | 'ackedBy' | 'ackedAt'>): string {
  if (!a.acknowledged) return 'Not acknowledged';
  return `Acknowledged by ${a.ackedBy ?? 'unknown'} at ${clockTime(a.ackedAt)}`;
}

/** The stale banner's text; the time is when live updates stopped. */
export function staleBannerText(sinceMs: number): string {
  return `Live updates lost since ${clockTime(new Date(sinceMs).toISOString())} — data may be out of date`;
}

/** Time left from now to a projected end, e.g. "in 3 h 10 min"; '—' when unknown. */
export function projectedEndText(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const min = (t - nowMs) / 60_000;
  return min <= 0 ? `${dateTime(iso)} (due)` : `${dateTime(iso)} (in ${durationText(min)})`;
}

/** "In visit until 14:30 (by anna)", local time; '' when there is no nurse visit */
export function visitText(visit: { until: string; by: string } | null | undefined): string {
  if (!visit) return '';
  const d = new Date(visit.until);
  if (Number.isNaN(d.getTime())) return '';
  return `In visit until ${pad2(d.getHours())}:${pad2(d.getMinutes())} (by ${visit.by})`;
}
