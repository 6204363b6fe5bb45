/** Minimal engine and billing doubles that record what the core feeds them. */
import type { Alert, Episode, PumpView } from '../../../../protocol/api.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import type { EpisodeRecord, EpisodeTracker, EvidenceRange } from '../../../../server/billing/types.ts';
import type { DetectionEngine, EngineChanges, IngestContext, PumpSnapshot } from '../../../../server/engine/types.ts';

export class FakeEngine implements DetectionEngine {
  ingested: { msg: PumpMessage; ctx: IngestContext }[] = [];
  availability: { gateway: string; state: string }[] = [];
  alerts = new Map<string, Alert>();
  restored: PumpSnapshot[] = [];
  private changes: EngineChanges = { alerts: [], pumps: [] };

  ingest(msg: PumpMessage, ctx: IngestContext): void {
    this.ingested.push({ msg, ctx });
    this.changes.pumps.push({ ...this.view(msg.pump, ctx.gateway), state: msg.type === 'status' ? msg.state : null });
    if (msg.type === 'status' && msg.alarms.includes('OCCL_DN')) {
      const a: Alert = {
        id: `${msg.pump}-occlusion`, pump: msg.pump, gateway: ctx.gateway, type: 'occlusion', severity: 'high', status: 'active',
        acknowledged: false, ackedBy: null, ackedAt: null, raisedAt: msg.time, clearedAt: null, message: 'Occlusion', detail: { inferred: false },
      };
      this.alerts.set(a.id, a);
      this.changes.alerts.push(a);
    }
  }
  gatewayAvailability(gateway: string, state: 'online' | 'offline'): void {
    this.availability.push({ gateway, state });
  }
  tick(): void {}
  acknowledge(alertId: string, by: string, serverTimeMs: number): Alert | undefined {
    const a = this.alerts.get(alertId);
    if (!a) return undefined;
    if (!a.acknowledged) Object.assign(a, { acknowledged: true, ackedBy: by, ackedAt: new Date(serverTimeMs).toISOString() });
    this.changes.alerts.push({ ...a });
    return { ...a };
  }
  private view(pump: string, gateway: string): PumpView {
    return {
      pump, gateway, state: null, lastSeen: null, rateMlH: null, infusedMl: null, vtbiMl: null, reservoirMl: null,
      pressureMmHg: null, batteryPct: null, alarms: [], programId: null, projectedEnd: null, activeAlerts: 0,
    };
  }
  pumps(): PumpView[] {
    return [...new Set(this.ingested.map((i) => i.msg.pump))].map((p) => this.view(p, 'gw'));
  }
  pump(serial: string): PumpView | undefined {
    return this.pumps().find((p) => p.pump === serial);
  }
  openAlerts(): Alert[] {
    return [...this.alerts.values()].filter((a) => a.status === 'active' || !a.acknowledged);
  }
  alert(id: string): Alert | undefined {
    return this.alerts.get(id);
  }
  takeChanges(): EngineChanges {
    const c = this.changes;
    this.changes = { alerts: [], pumps: [] };
    return c;
  }
  exportPump(serial: string): PumpSnapshot | undefined {
    const n = this.ingested.filter((i) => i.msg.pump === serial).length;
    return n === 0 ? undefined : { pump: serial, version: 1, sentences: n };
  }
  restorePump(snapshot: PumpSnapshot): void {
    this.restored.push(snapshot);
  }
  restoreAlert(alert: Alert): void {
    this.alerts.set(alert.id, alert);
    this.changes.alerts.push(alert);
  }
  forgetPump(): void {}
  setAssignment(): void {}
  setAssignmentsKnown(): void {}
  setDrugLimits(): void {}
  readonly visits: { pump: string; untilMs: number | null; by: string; serverTimeMs: number }[] = [];
  setVisit(pump: string, untilMs: number | null, by: string, serverTimeMs: number): boolean {
    this.visits.push({ pump, untilMs, by, serverTimeMs });
    return this.ingested.some((i) => i.msg.pump === pump);
  }
  stats() {
    return { staleSentences: 0, clockAheadSentences: 0, historicSentences: 0, pumps: this.pumps().length, openAlerts: this.openAlerts().length };
  }
}

export class FakeTracker implements EpisodeTracker {
  ingested: PumpMessage[] = [];
  restoredRecords: EpisodeRecord[] = [];
  private changed: EpisodeRecord[] = [];
  ingest(msg: PumpMessage): void {
    this.ingested.push(msg);
    if (msg.type === 'event' && msg.code === 'START') this.changed.push({ id: `${msg.pump}-${msg.detail}`, pump: msg.pump, version: 1 });
  }
  episodes(): Episode[] {
    return [];
  }
  episode(): Episode | undefined {
    return undefined;
  }
  evidenceRange(): EvidenceRange | undefined {
    return undefined;
  }
  takeChanged(): EpisodeRecord[] {
    const c = this.changed;
    this.changed = [];
    return c;
  }
  restore(records: EpisodeRecord[]): void {
    this.restoredRecords.push(...records);
  }
  forgetPump(): void {}
}
