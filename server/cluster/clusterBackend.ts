/**
 * The API backend of one instance, completed with what the other instances publish: pumps and
 * open alerts held elsewhere appear in GET /api/pumps, /api/alerts and the WebSocket snapshot and
 * stream, and acknowledging an alert held elsewhere is asked of its owner over the broker.
 */
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { ApiBackend } from '../http/backend.ts';
import type { ClusterRelay } from './clusterRelay.ts';

export interface ClusterBackendOptions {
  /** how long a non-owner waits for the owner to confirm an acknowledgement, ms */
  ackWaitMs?: number;
  now(): number;
  /** true when this instance's engine holds the alert */
  isLocalAlert(id: string): boolean;
  /** extra Prometheus lines appended to /metrics */
  metricsLines(): string;
}

function mergeById<T>(local: T[], remote: T[], key: (t: T) => string): T[] {
  const seen = new Set(local.map(key));
  return [...local, ...remote.filter((r) => !seen.has(key(r)))];
}

const newestFirst = (a: Alert, b: Alert): number => (a.raisedAt < b.raisedAt ? 1 : a.raisedAt > b.raisedAt ? -1 : a.id < b.id ? 1 : -1);

export function clusterBackend(base: ApiBackend, relay: ClusterRelay, o: ClusterBackendOptions): ApiBackend {
  const pumpKey = (p: PumpView): string => p.pump;
  const alertKey = (a: Alert): string => a.id;
  return {
    ...base,
    async pumps() {
      return mergeById(await base.pumps(), relay.remotePumpViews(), pumpKey);
    },
    async pump(serial) {
      return (await base.pump(serial)) ?? relay.remotePump(serial);
    },
    async alerts(q) {
      const local = await base.alerts(q);
      const remote = relay.openRemoteAlerts().filter((a) => {
        if (q.pump !== undefined && a.pump !== q.pump) return false;
        if (q.status === 'active') return a.status === 'active';
        const t = Date.parse(a.raisedAt);
        return t >= q.fromMs && t <= q.toMs;
      });
      // a remote alert's live state is newer than what storage returned for it
      const byId = new Map(local.map((a) => [a.id, a]));
      for (const r of remote) if (!o.isLocalAlert(r.id)) byId.set(r.id, r);
      return [...byId.values()].sort(newestFirst);
    },
    async acknowledge(alertId, by) {
      const local = await base.acknowledge(alertId, by);
      if (local) {
        relay.requestAck(alertId, by); // any other instance holding the same id acknowledges it too
        return local;
      }
      const remote = relay.remoteAlert(alertId);
      if (!remote) return undefined;
      if (remote.acknowledged) return remote;
      const confirmed = relay.waitForAlert(alertId, (a) => a.acknowledged, o.ackWaitMs ?? 3000);
      relay.requestAck(alertId, by);
      // the command waits in the owner's persistent session if it is down: answer with what it will be
      return (await confirmed) ?? { ...remote, acknowledged: true, ackedBy: by, ackedAt: new Date(o.now()).toISOString() };
    },
    async metricsText() {
      return `${await base.metricsText()}${o.metricsLines()}`;
    },
    async snapshot() {
      const s = await base.snapshot();
      return {
        pumps: mergeById(s.pumps, relay.remotePumpViews(), pumpKey),
        alerts: mergeById(s.alerts, relay.openRemoteAlerts(), alertKey),
      };
    },
    subscribe(listener) {
      const offLocal = base.subscribe(listener);
      const offRemote = relay.subscribe(listener);
      return () => {
        offLocal();
        offRemote();
      };
    },
  };
}
