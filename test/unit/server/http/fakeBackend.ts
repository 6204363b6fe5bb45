/** In-memory ApiBackend for the HTTP layer's tests: records audit events and acknowledgements. */
import type { Alert, Episode, PumpView, TelemetryPoint } from '../../../../protocol/api.ts';
import type {
  AlertQuery, ApiBackend, AuditEvent, AuditQuery, EpisodeQueryMs, HealthView, LiveChange, LiveSnapshot,
} from '../../../../server/http/backend.ts';

export function pumpView(serial: string, extra: Partial<PumpView> = {}): PumpView {
  return {
    pump: serial, gateway: 'gw-1', state: 'RUN', lastSeen: '2026-11-27T10:00:00.000Z', rateMlH: 2.1, infusedMl: 10,
    vtbiMl: 100, reservoirMl: 90, pressureMmHg: 120, batteryPct: 80, alarms: [], programId: 'P1',
    projectedEnd: null, activeAlerts: 0, ...extra,
  };
}

export function alertOf(id: string, extra: Partial<Alert> = {}): Alert {
  return {
    id, pump: 'PMP-001', gateway: 'gw-1', type: 'occlusion', severity: 'high', status: 'active', acknowledged: false,
    ackedBy: null, ackedAt: null, raisedAt: '2026-11-27T10:00:00.000Z', clearedAt: null,
    message: 'Line blocked downstream', detail: { inferred: false }, ...extra,
  };
}

export function episodeOf(id: string, extra: Partial<Episode> = {}): Episode {
  return {
    id, pump: 'PMP-001', programId: 'P1', drug: '=HYPERLINK("x")', start: '2026-11-25T08:00:00.000Z',
    end: '2026-11-27T06:00:00.000Z', deliveryHours: 46, interruptions: [], longestInterruptionMin: 0,
    continuous24h: true, code: 'S9330', serviceDays: ['2026-11-25', '2026-11-26'],
    evidence: { firstSeq: 1, lastSeq: 99, sentences: 99 }, ...extra,
  };
}

export class FakeBackend implements ApiBackend {
  pumpMap = new Map<string, PumpView>([['PMP-001', pumpView('PMP-001')], ['PMP-002', pumpView('PMP-002')]]);
  alertMap = new Map<string, Alert>([['a1', alertOf('a1')], ['a2', alertOf('a2', { status: 'cleared', type: 'low_battery', severity: 'low' })]]);
  episodeMap = new Map<string, Episode>([['e1', episodeOf('e1')]]);
  audits: AuditEvent[] = [];
  acks: { id: string; by: string }[] = [];
  lastAlertQuery: AlertQuery | undefined;
  lastEpisodeQuery: EpisodeQueryMs | undefined;
  lastTelemetry: { pump: string; fromMs: number; toMs: number } | undefined;
  labels = new Map<string, string | null>();
  healthView: HealthView = { status: 'ok', mqtt: 'up', influx: 'up', backlog: 0 };
  /** makes snapshot() wait, to test changes that arrive meanwhile */
  snapshotGate: Promise<void> | undefined;
  failNext = false;
  private listeners = new Set<(c: readonly LiveChange[]) => void>();

  get listenerCount(): number {
    return this.listeners.size;
  }

  emit(changes: readonly LiveChange[]): void {
    for (const l of this.listeners) l(changes);
  }

  pumps(): Promise<PumpView[]> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('influx said: connect ECONNREFUSED 127.0.0.1:8086 at /secret/path.ts:12'));
    }
    return Promise.resolve([...this.pumpMap.values()]);
  }
  pump(serial: string): Promise<PumpView | undefined> {
    return Promise.resolve(this.pumpMap.get(serial));
  }
  telemetry(pump: string, fromMs: number, toMs: number): Promise<TelemetryPoint[]> {
    this.lastTelemetry = { pump, fromMs, toMs };
    return Promise.resolve([{ time: '2026-11-27T10:00:00Z', seq: 1, state: 'RUN', rateMlH: 2, infusedMl: 1, vtbiMl: 100, reservoirMl: 99, pressureMmHg: 100, batteryPct: 90, alarms: [] }]);
  }
  alerts(query: AlertQuery): Promise<Alert[]> {
    this.lastAlertQuery = query;
    return Promise.resolve([...this.alertMap.values()].filter((a) => query.status === 'all' || a.status === 'active'));
  }
  acknowledge(alertId: string, by: string): Promise<Alert | undefined> {
    const a = this.alertMap.get(alertId);
    if (!a) return Promise.resolve(undefined);
    if (!a.acknowledged) Object.assign(a, { acknowledged: true, ackedBy: by, ackedAt: '2026-11-27T11:00:00.000Z' });
    this.acks.push({ id: alertId, by });
    return Promise.resolve({ ...a });
  }
  episodes(query: EpisodeQueryMs): Promise<Episode[]> {
    this.lastEpisodeQuery = query;
    return Promise.resolve([...this.episodeMap.values()]);
  }
  episode(id: string): Promise<Episode | undefined> {
    return Promise.resolve(this.episodeMap.get(id));
  }
  evidence(id: string): Promise<AsyncIterable<string> | undefined> {
    if (!this.episodeMap.has(id)) return Promise.resolve(undefined);
    async function* lines(): AsyncGenerator<string> {
      for (let seq = 1; seq <= 3; seq++) {
        await Promise.resolve();
        yield JSON.stringify({ seq, time: '2026-11-25T08:00:00Z', received: '2026-11-25T08:00:00.100Z', raw: `$PUMP,${seq}` });
      }
    }
    return Promise.resolve(lines());
  }
  health(): Promise<HealthView> {
    return Promise.resolve(this.healthView);
  }
  async snapshot(): Promise<LiveSnapshot> {
    if (this.snapshotGate) await this.snapshotGate;
    return { pumps: [...this.pumpMap.values()], alerts: [...this.alertMap.values()] };
  }
  subscribe(listener: (changes: readonly LiveChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  audit(event: AuditEvent): void {
    this.audits.push(event);
  }
  auditLog(query: AuditQuery): Promise<AuditEvent[]> {
    return Promise.resolve(this.audits.filter((e) => !query.action || e.action === query.action).reverse().slice(0, query.limit));
  }
  setPumpLabel(pump: string, label: string | null): Promise<PumpView | undefined> {
    const p = this.pumpMap.get(pump);
    if (!p) return Promise.resolve(undefined);
    this.labels.set(pump, label);
    p.label = label;
    return Promise.resolve(p);
  }
  readonly visits: { pump: string; minutes: number | null; by: string }[] = [];
  setPumpVisit(pump: string, minutes: number | null, by: string): Promise<PumpView | undefined> {
    const p = this.pumpMap.get(pump);
    if (!p) return Promise.resolve(undefined);
    this.visits.push({ pump, minutes, by });
    p.visit = minutes === null ? null : { until: new Date(Date.parse('2026-11-27T12:00:00Z') + minutes * 60_000).toISOString(), by };
    return Promise.resolve(p);
  }
}
