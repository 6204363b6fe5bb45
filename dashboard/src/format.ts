/** Pure text formatting for the dashboard (no DOM), so it can be unit-tested. */
import type { PumpState } from '../../protocol/sentence.ts';
import type { Alert, PumpView } from '../../protocol/api.ts';

const pad2 = (n: number): string => String(n).padStart(2, '0');

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface ZonedParts { day: number; month: number; hh: string; mm: string; ss: string; name: string }

/** one formatter per zone; null for a zone this browser does not know */
const zoneFormats = new Map<string, Intl.DateTimeFormat | null>();

/** The wall-clock parts of `ms` in `zone`, with the zone's short name then (CST, CDT, GMT+1); null for an unknown zone. */
function zonedParts(ms: number, zone: string): ZonedParts | null {
  let f = zoneFormats.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
      });
    } catch {
      f = null;
    }
    zoneFormats.set(zone, f);
  }
  if (!f) return null;
  const out: ZonedParts = { day: 0, month: 0, hh: '', mm: '', ss: '', name: zone };
  for (const p of f.formatToParts(ms)) {
    if (p.type === 'day') out.day = Number(p.value);
    else if (p.type === 'month') out.month = Number(p.value) - 1;
    else if (p.type === 'hour') out.hh = p.value;
    else if (p.type === 'minute') out.mm = p.value;
    else if (p.type === 'second') out.ss = p.value;
    else if (p.type === 'timeZoneName') out.name = p.value;
  }
  return out;
}

/**
 * HH:MM:SS; '—' for a missing or bad time. With `zone` (IANA), the time there followed by the
 * zone's name ("14:05:09 CST"); without, the browser's local time.
 */
export function clockTime(iso: string | null | undefined, zone?: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const z = zone ? zonedParts(d.getTime(), zone) : null;
  if (z) return `${z.hh}:${z.mm}:${z.ss} ${z.name}`;
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** "27 Nov 14:05" style date-time; '—' for a missing time. With `zone`, there and named ("27 Nov 14:05 CST"). */
export function dateTime(iso: string | null | undefined, zone?: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const z = zone ? zonedParts(d.getTime(), zone) : null;
  if (z) return `${z.day} ${MONTHS[z.month] ?? ''} ${z.hh}:${z.mm} ${z.name}`;
  return `${d.getDate()} ${MONTHS[d.getMonth()] ?? ''} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** The zone a pump's times are shown in: its patient's when known, else the server's (null: the browser's own). */
export function pumpZone(p: Pick<PumpView, 'patient'> | undefined, serverZone: string | null): string | null {
  return p?.patient?.timezone ?? serverZone;
}

/** Says which zone a pump's times are in, for the detail view. */
export function zoneNote(p: Pick<PumpView, 'patient'> | undefined, serverZone: string | null): string {
  const patientZone = p?.patient?.timezone;
  if (patientZone) return `the patient's zone, ${patientZone}`;
  return serverZone ? `the server's zone, ${serverZone} (the patient's is not on record)` : "this browser's zone";
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

/** The state cell: "Switched off" while the pump's last word was POWER_OFF (its readings are from before), else the state and its alarms. */
export function pumpStateText(p: Pick<PumpView, 'state' | 'alarms' | 'poweredOff'>): string {
  if (p.poweredOff === true) return 'Switched off';
  return stateText(p.state) + (p.alarms.length ? ` · ${p.alarms.join(', ')}` : '');
}

/** CSS suffix of the state cell (`state-off`, `state-run`, ...). */
export function pumpStateClass(p: Pick<PumpView, 'state' | 'poweredOff'>): string {
  return p.poweredOff === true ? 'off' : (p.state ?? 'unknown').toLowerCase();
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
export function ackText(a: Pick<Alert, 'acknowledged' | 'ackedBy' | 'ackedAt'>, zone?: string | null): string {
  if (!a.acknowledged) return 'Not acknowledged';
  return `Acknowledged by ${a.ackedBy ?? 'unknown'} at ${clockTime(a.ackedAt, zone)}`;
}

/** The stale banner's text; the time is when live updates stopped. */
export function staleBannerText(sinceMs: number): string {
  return `Live updates lost since ${clockTime(new Date(sinceMs).toISOString())} — data may be out of date`;
}

/** Time left from now to a projected end, e.g. "in 3 h 10 min"; '—' when unknown. */
export function projectedEndText(iso: string | null | undefined, nowMs: number, zone?: string | null): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const min = (t - nowMs) / 60_000;
  return min <= 0 ? `${dateTime(iso, zone)} (due)` : `${dateTime(iso, zone)} (in ${durationText(min)})`;
}

/** "In visit until 14:30 CST (by anna)" in `zone` (the pump's: patient's, else server's), else local time; '' when there is no nurse visit */
export function visitText(visit: { until: string; by: string } | null | undefined, zone?: string | null): string {
  if (!visit) return '';
  const d = new Date(visit.until);
  if (Number.isNaN(d.getTime())) return '';
  const z = zone ? zonedParts(d.getTime(), zone) : null;
  const until = z ? `${z.hh}:${z.mm} ${z.name}` : `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  return `In visit until ${until} (by ${visit.by})`;
}
