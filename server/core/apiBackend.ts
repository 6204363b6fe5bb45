/** The HTTP layer's backend: live state from the core, history from storage. */
import type { Alert } from '../../protocol/api.ts';
import type { Clock } from '../clock.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { ApiBackend, AuditEvent, HealthView } from '../http/backend.ts';
import type { PointStore } from '../storage/influxStore.ts';
import { auditPoint, ServerTimestamps } from '../storage/points.ts';
import { alertHistory, auditRecords, sentences, telemetry } from '../storage/queries.ts';
import type { StorageWriter } from '../storage/storageWriter.ts';
import type { IngestPipeline } from './ingestPipeline.ts';
import type { PumpwatchCore } from './pumpwatchCore.ts';
import type { BillingHistory } from './billingHistory.ts';
import { EPISODE_RESTORE_DAYS } from './restore.ts';

export interface BackendDeps {
  core: PumpwatchCore;
  /** acknowledgements are journalled like any input */
  pipeline: IngestPipeline;
  /** live changes are the `changes` fact */
  bus: EventBus;
  store: PointStore;
  writer: StorageWriter;
  clock: Clock;
  mqttUp(): boolean;
  /** true while the journal is full and PUBACKs are held back */
  ingestBlocked(): boolean;
  /** PostgreSQL for clinical records: 'off' without DATABASE_URL (default) */
  databaseStatus?(): 'up' | 'down' | 'off';
  /** the server's IANA zone (TZ), shown to signed-in callers of /api/health */
  timeZone?: string;
  /** billing beyond what memory holds (EPISODE_RESTORE_DAYS), from the stored record */
  history?: BillingHistory;
}

const newestFirst = (a: Alert, b: Alert): number => (a.raisedAt < b.raisedAt ? 1 : a.raisedAt > b.raisedAt ? -1 : a.id < b.id ? 1 : -1);

export function createApiBackend(d: BackendDeps): ApiBackend {
  const { core } = d;
  const auditStamps = new ServerTimestamps();
  return {
    pumps: () => Promise.resolve(core.engine.pumps()),
    pump: (serial) => Promise.resolve(core.engine.pump(serial)),
    telemetry: (pump, fromMs, toMs) => telemetry(d.store, pump, fromMs, toMs),
    async alerts(q) {
      const live = core.engine.openAlerts().filter((a) => q.pump === undefined || a.pump === q.pump);
      if (q.status === 'active') return live.filter((a) => a.status === 'active').sort(newestFirst);
      const merged = await alertHistory(d.store, q.fromMs, q.pump).catch(() => new Map<string, Alert>());
      for (const a of live) merged.set(a.id, a);
      return [...merged.values()]
        .filter((a) => {
          const t = Date.parse(a.raisedAt);
          return t >= q.fromMs && t <= q.toMs;
        })
        .sort(newestFirst);
    },
    acknowledge: (alertId, by) => Promise.resolve(d.pipeline.acknowledge(alertId, by)),
    setPumpVisit(pump, minutes, by) {
      const untilMs = minutes === null ? null : d.clock.now() + minutes * 60_000;
      return Promise.resolve(d.pipeline.setVisit(pump, untilMs, by) ? core.engine.pump(pump) : undefined);
    },
    // nowMs: an open episode reports the silence since its last sentence (unverified time) too
    episodes(q) {
      // a period older than memory holds (restored at start) is rebuilt from the stored record
      if (d.history && q.fromMs < d.clock.now() - EPISODE_RESTORE_DAYS * 86_400_000) return d.history.episodes(q);
      return Promise.resolve(core.billing.episodes({
        fromMs: q.fromMs, toMs: q.toMs, nowMs: d.clock.now(), ...(q.pump !== undefined ? { pump: q.pump } : {}),
      }));
    },
    async episode(id) {
      return core.billing.episode(id, d.clock.now()) ?? (await d.history?.episode(id));
    },
    async evidence(id) {
      // a course's programs may lie on several pumps: each range in turn, in course order
      let ranges = core.billing.evidenceRanges?.(id) ?? [core.billing.evidenceRange(id)].filter((r) => r !== undefined);
      if (ranges.length === 0 && d.history) ranges = (await d.history.evidenceRanges(id)) ?? [];
      if (ranges.length === 0) return undefined;
      const parts = await Promise.all(ranges.map(async (range) => ({ range, rows: await sentences(d.store, range.pump, Date.parse(range.from), Date.parse(range.to)) })));
      function* lines(): Iterable<string> {
        for (const { range, rows } of parts) {
          const fromMs = Date.parse(range.from);
          const toMs = Date.parse(range.to);
          for (const r of rows) {
            // the pump clock has 1-s resolution: in the first and last second keep only the episode's own seqs
            const ms = Math.floor(r.timeUs / 1_000_000) * 1000;
            if (ms === fromMs && r.seq < range.firstSeq) continue;
            if (ms === toMs && r.seq > range.lastSeq) continue;
            const time = new Date(ms).toISOString().replace('.000Z', 'Z');
            yield JSON.stringify({ seq: r.seq, time, received: r.received, raw: r.raw, pump: range.pump });
          }
        }
      }
      return {
        [Symbol.asyncIterator]: () => {
          const it = lines()[Symbol.iterator]();
          return { next: () => Promise.resolve(it.next()) };
        },
      };
    },
    health(): Promise<HealthView> {
      const mqtt = d.mqttUp() ? 'up' : 'down';
      const influx = d.writer.influxUp ? 'up' : 'down';
      const backPressure = d.ingestBlocked();
      const database = d.databaseStatus?.() ?? 'off';
      return Promise.resolve({
        // holding PUBACKs back means the broker, not the server, now holds the newest sentences
        status: mqtt === 'up' && influx === 'up' && !backPressure && database !== 'down' ? 'ok' : 'degraded',
        mqtt, influx, database, backPressure,
        writeBacklog: d.writer.backlog(),
        pumps: core.engine.stats().pumps,
        ...(d.timeZone !== undefined ? { timeZone: d.timeZone } : {}),
      });
    },
    snapshot: () => Promise.resolve({ pumps: core.engine.pumps(), alerts: core.engine.openAlerts() }),
    subscribe: (listener) => d.bus.on('changes', listener),
    audit(event: AuditEvent) {
      try {
        d.writer.enqueue([auditPoint(event, auditStamps.next(d.clock.now()))]);
      } catch {
        /* never throws: the HTTP layer does not wait for it */
      }
    },
    async auditLog(q) {
      return (await auditRecords(d.store, q.fromMs, q.toMs, q.action, q.limit)) as AuditEvent[];
    },
  };
}
