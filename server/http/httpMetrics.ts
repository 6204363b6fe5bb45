/** The HTTP layer's metrics: WebSocket clients and refusals, login sessions, audit events. */
import type { LiveHub } from '../live/hub.ts';
import type { WsUpgradeDeps } from '../live/wsUpgrade.ts';
import { METRICS as M } from '../metrics/catalogue.ts';
import { exposeCounter, exposeCounterByLabel, exposeGauge, type Registry } from '../metrics/registry.ts';

export type WsRefusal = Parameters<NonNullable<WsUpgradeDeps['onRefused']>>[0];

export interface HttpMetricSources {
  hub: Pick<LiveHub, 'stats'>;
  sessions: { readonly size: number };
  audit: { stats(): { recorded: number; failed: number } };
}

/** registers the metrics; the returned function counts one refused WebSocket upgrade */
export function registerHttpMetrics(registry: Registry, s: HttpMetricSources): (reason: WsRefusal) => void {
  const refused: Record<WsRefusal, number> = { path: 0, unauthorized: 0, forbidden: 0, origin: 0 };
  const wsDropReasons = Object.keys(s.hub.stats().dropped) as (keyof ReturnType<LiveHub['stats']>['dropped'])[];
  exposeGauge(registry, M.wsClients, () => s.hub.stats().clients);
  exposeCounter(registry, M.wsMessagesSent, () => s.hub.stats().messagesSent);
  exposeCounterByLabel(registry, M.wsDropped, wsDropReasons, (r) => s.hub.stats().dropped[r]);
  exposeCounterByLabel(registry, M.wsRefused, Object.keys(refused) as WsRefusal[], (r) => refused[r]);
  exposeGauge(registry, M.httpSessions, () => s.sessions.size);
  exposeCounterByLabel(registry, M.auditEvents, ['recorded', 'failed'] as const, (r) => s.audit.stats()[r]);
  return (reason) => {
    refused[reason]++;
  };
}
