/**
 * The API backend of one instance, completed with what the other instances publish: pumps and
 * open alerts held elsewhere appear in GET /api/pumps, /api/alerts and the WebSocket snapshot and
 * stream, and acknowledging an alert held elsewhere, or a nurse visit on a pump held elsewhere, is
 * asked of its owner over the broker.
 */
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { ApiBackend } from '../http/backend.ts';
import type { PointStore } from '../storage/influxStore.ts';
import { pumpTimeOf, sentences } from '../storage/queries.ts';
import type { ClusterRelay } from './clusterRelay.ts';
import type { FleetBilling } from './fleetBilling.ts';
import type { BillingHistory } from '../core/billingHistory.ts';

export interface ClusterBackendOptions {
  /** how long a non-owner waits for the owner to confirm an acknowledgement, ms */
  ackWaitMs?: number;
  now(): number;
  /** true when this instance's engine holds the alert */
  isLocalAlert(id: string): boolean;
  /** episodes of the pumps other instances hold, from storage */
  billing?: { fleet: FleetBilling; store: PointStore; history?: BillingHistory };
  /** an acknowledgement asked of another instance (lease mode keeps it in case this one takes the alert over) */
  askedAck?(alertId: string, by: string): void;
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
      o.askedAck?.(alertId, by);
      // the command waits in the owner's persistent session if it is down: answer with what it will be
      return (await confirmed) ?? { ...remote, acknowledged: true, ackedBy: by, ackedAt: new Date(o.now()).toISOString() };
    },
    async episodes(q) {
      // every instance answers from the same stored record (not its own memory): the same answer everywhere
      if (o.billing?.history) return o.billing.history.episodes(q);
      const local = await base.episodes(q);
      if (!o.billing) return local;
      const seen = new Set(local.map((e) => `${e.pump}|${e.programId}|${e.start}`));
      const remote = (await o.billing.fleet.episodes(q)).filter((e) => !seen.has(`${e.pump}|${e.programId}|${e.start}`));
      return [...local, ...remote].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.pump < b.pump ? -1 : 1));
    },
    async episode(id) {
      if (o.billing?.history) return o.billing.history.episode(id);
      return (await base.episode(id)) ?? (await o.billing?.fleet.episode(id));
    },
    async evidence(id) {
      const local = await base.evidence(id);
      if (local || !o.billing) return local;
      // a course of pumps other instances hold: its ranges from the stored record
      const ranges = o.billing.history ? await o.billing.history.evidenceRanges(id) : [await o.billing.fleet.evidenceRange(id)].filter((r) => r !== undefined);
      if (!ranges || ranges.length === 0) return undefined;
      const lines: string[] = [];
      for (const range of ranges) {
        const rows = await sentences(o.billing.store, range.pump, Date.parse(range.from), Date.parse(range.to));
        for (const r of rows) lines.push(JSON.stringify({ seq: r.seq, time: pumpTimeOf(r.timeUs), received: r.received, raw: r.raw, pump: range.pump }));
      }
      const it = lines[Symbol.iterator]();
      return { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(it.next()) }) };
    },
    async snapshot() {
      const s = await base.snapshot();
      return {
        pumps: mergeById(s.pumps, relay.remotePumpViews(), pumpKey),
        alerts: mergeById(s.alerts, relay.openRemoteAlerts(), alertKey),
      };
    },
    async setPumpVisit(serial, minutes, by) {
      const local = await base.setPumpVisit?.(serial, minutes, by);
      if (local) return local;
      const remote = relay.remotePump(serial);
      if (!remote) return undefined;
      // asked of the instance that holds the pump, with the end fixed here (the instances' clocks agree)
      const untilMs = minutes === null ? null : o.now() + minutes * 60_000;
      const visit = untilMs === null ? null : { until: new Date(untilMs).toISOString(), by };
      const confirmed = relay.waitForPump(serial, (p) => (p.visit ?? null)?.until === visit?.until, o.ackWaitMs ?? 3000);
      relay.requestVisit(serial, untilMs, by);
      return (await confirmed) ?? { ...remote, visit };
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
