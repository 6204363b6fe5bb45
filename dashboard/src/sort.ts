/** Pure ordering rules: which pumps and alerts a nurse must see first. */
import type { Alert, PumpView, Severity } from '../../protocol/api.ts';
import type { LinkStatus } from './format.ts';

const SEVERITY_RANK: Record<Severity, number> = { high: 0, medium: 1, low: 2 };

/** An alert still asks for a nurse: active, or cleared but nobody acknowledged it yet. */
export function needsAttention(a: Alert): boolean {
  return a.status === 'active' || !a.acknowledged;
}

/** Per pump: the worst severity among its alerts that still need attention, and its link. */
export interface PumpAlertSummary {
  worst: Severity | null;
  unacknowledged: number;
  link: LinkStatus;
}

export function summarizeAlerts(alerts: Iterable<Alert>): Map<string, PumpAlertSummary> {
  const out = new Map<string, PumpAlertSummary>();
  for (const a of alerts) {
    if (!needsAttention(a)) continue;
    let s = out.get(a.pump);
    if (!s) {
      s = { worst: null, unacknowledged: 0, link: 'ok' };
      out.set(a.pump, s);
    }
    if (s.worst === null || SEVERITY_RANK[a.severity] < SEVERITY_RANK[s.worst]) s.worst = a.severity;
    if (!a.acknowledged) s.unacknowledged++;
    if (a.status === 'active' && a.type === 'signal_lost' && s.link === 'ok') s.link = 'no_signal';
    if (a.status === 'active' && a.type === 'gateway_offline') s.link = 'gateway_offline';
  }
  return out;
}

export function linkStatus(p: PumpView, s: PumpAlertSummary | undefined): LinkStatus {
  if (p.gatewayOnline === false) return 'gateway_offline';
  if (s && s.link !== 'ok') return s.link;
  if (p.lastSeen === null) return 'unknown';
  return 'ok';
}

/**
 * Attention rank, 0 first: a high alert or a pump in ALARM; then medium alerts or a lost link;
 * then low alerts or a paused pump; then running; then idle/finished.
 */
export function attentionRank(p: PumpView, s: PumpAlertSummary | undefined): number {
  const link = linkStatus(p, s);
  if (s?.worst === 'high' || p.state === 'ALARM') return 0;
  if (s?.worst === 'medium' || link === 'gateway_offline' || link === 'no_signal') return 1;
  if (s?.worst === 'low' || p.state === 'PAUSE' || p.state === null) return 2;
  if (p.state === 'RUN') return 3;
  return 4;
}

export interface BoardKey {
  rank: number;
  name: string;
  pump: string;
}

export function compareBoardKeys(a: BoardKey, b: BoardKey): number {
  return a.rank - b.rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.pump < b.pump ? -1 : a.pump > b.pump ? 1 : 0);
}

/** Panel order: unacknowledged first, escalated first, most severe first, newest first. */
export function compareAlerts(a: Alert, b: Alert): number {
  const ack = Number(a.acknowledged) - Number(b.acknowledged);
  if (ack) return ack;
  const esc = Number(b.escalated === true) - Number(a.escalated === true);
  if (esc) return esc;
  const sev = SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
  if (sev) return sev;
  const ta = Date.parse(a.raisedAt), tb = Date.parse(b.raisedAt);
  return (tb || 0) - (ta || 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Alerts shown in the panel, in order: every alert that still needs attention, then up to
 * `resolvedKept` of the newest resolved ones (cleared and acknowledged), so everyone sees who
 * acknowledged what.
 */
export function panelAlerts(alerts: Iterable<Alert>, resolvedKept = 20): Alert[] {
  const open: Alert[] = [];
  const resolved: Alert[] = [];
  for (const a of alerts) (needsAttention(a) ? open : resolved).push(a);
  open.sort(compareAlerts);
  resolved.sort((a, b) => Date.parse(b.ackedAt ?? b.raisedAt) - Date.parse(a.ackedAt ?? a.raisedAt));
  return open.concat(resolved.slice(0, resolvedKept));
}

/** Sound and a notification only for a high alert that is new, or newly escalated, and still open. */
export function shouldAnnounce(prev: Alert | undefined, next: Alert): boolean {
  if (next.severity !== 'high' || next.status !== 'active' || next.acknowledged) return false;
  return prev === undefined || (next.escalated === true && prev.escalated !== true);
}
