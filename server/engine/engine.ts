/**
 * The pure detection engine: pump messages, gateway availability and server-clock ticks in; pump
 * views and alert changes out. No clock, timer or I/O of its own.
 */
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { PumpMessage } from '../../protocol/payloads.ts';
import { AlertStore, type AlertRecord, type Stamp } from '../alerts/alertStore.ts';
import {
  clearGatewayOffline, clearSignalLost, detectDrugLimit, detectPumpOffAfterVisit, detectSignalLost, drugKey, endAssignmentAlerts, raiseGatewayOffline, recordsStamp,
  runSentenceDetectors, verifyPumpNow,
} from '../detectors/index.ts';
import type { ClinicalContext, SentenceInput, VerifyInput } from '../detectors/types.ts';
import { applyMessage, newMessageEffects } from '../pumps/applyMessage.ts';
import { reconcileCourse } from '../pumps/orderCourse.ts';
import { classifyTime, newTimeVerdict } from '../pumps/pumpClock.ts';
import { createPumpRecord, type PumpRecord } from '../pumps/pumpRecord.ts';
import { toPumpView } from '../pumps/pumpView.ts';
import { endVisit, expireVisit, startVisit } from '../pumps/visit.ts';
import type { ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
import type { DetectionEngine, DrugLimit, EngineChanges, EngineOptions, EngineStats, IngestContext, OrderTerms, PumpSnapshot } from './types.ts';

/** What exportPump() returns: the record as is, plus the pump's current alerts with their lifecycle state. */
export interface PumpSnapshotV1 extends PumpSnapshot {
  record: PumpRecord;
  alerts: AlertRecord[];
}

function isSnapshotV1(s: PumpSnapshot): s is PumpSnapshotV1 {
  const r = s.record as Partial<PumpRecord> | undefined;
  return s.version === 1 && typeof r === 'object' && r !== null && r.pump === s.pump && Array.isArray(s.alerts);
}

export class Engine implements DetectionEngine {
  private readonly records = new Map<string, PumpRecord>();
  private readonly pumpsByGateway = new Map<string, Set<string>>();
  private readonly gatewayOnline = new Map<string, boolean>();
  private readonly dirty = new Set<string>();
  private readonly store: AlertStore;
  private readonly counts = { staleSentences: 0, clockAheadSentences: 0, historicSentences: 0 };
  // reused for every message: ingest allocates nothing it does not keep
  private readonly input: SentenceInput;
  /** Verification is off until the core says the assignments are known: a server with no database never turns it on. */
  private readonly clinical: ClinicalContext;
  /** the latest assignment the core gave for each pump, heard or not (pumps are assigned before they connect) */
  private readonly told = new Map<string, OrderTerms | null>();

  constructor(private readonly cfg: ResolvedDetectionConfig, options: EngineOptions = {}) {
    this.clinical = { assignmentsKnown: false, drugLimits: new Map(), serverTimeZone: options.timeZone ?? 'UTC' };
    this.store = new AlertStore(cfg, (pump) => {
      const rec = this.records.get(pump);
      return (rec ? rec.course?.terms : this.told.get(pump)) ?? null;
    });
    const at: Stamp = { ms: 0, clock: 'pump', iso: '', idMs: 0, serverMs: 0, historic: false };
    this.input = {
      rec: createPumpRecord('-', '-'), msg: undefined as unknown as PumpMessage, t: newTimeVerdict(), fx: newMessageEffects(),
      cfg, store: this.store, at, clinical: this.clinical,
    };
  }

  ingest(msg: PumpMessage, ctx: IngestContext): void {
    const rec = this.recordFor(msg.pump, ctx.gateway);
    if (this.gatewayOnline.get(ctx.gateway) === false) this.gatewayAvailability(ctx.gateway, 'online', ctx.serverTimeMs);
    rec.lastSeenServerMs = ctx.serverTimeMs;
    this.dirty.add(rec.pump);
    clearSignalLost(rec, ctx.serverTimeMs, msg.seq, this.store);

    const d = this.input;
    const t = classifyTime(rec, msg, ctx.serverTimeMs, this.cfg, d.t);
    if (t.stale) {
      this.counts.staleSentences++;
      return;
    }
    if (!t.trusted) this.counts.clockAheadSentences++;
    if (t.historic) this.counts.historicSentences++;
    d.rec = rec;
    d.msg = msg;
    d.at.ms = t.effMs;
    d.at.iso = t.trusted ? msg.time : new Date(ctx.serverTimeMs).toISOString();
    d.at.idMs = t.pumpMs;
    d.at.serverMs = ctx.serverTimeMs;
    d.at.historic = t.historic;
    expireVisit(rec, ctx.serverTimeMs); // before the tick that would end it: this sentence is after the visit
    applyMessage(rec, msg, t, this.cfg.volumeEpsilonMl, d.fx, this.cfg.completeResidualMl);
    runSentenceDetectors(d);
    if (!t.historic) this.store.flushDeferred(rec.pump);
  }

  gatewayAvailability(gateway: string, state: 'online' | 'offline', serverTimeMs: number): void {
    const online = state === 'online';
    this.gatewayOnline.set(gateway, online);
    const pumps = this.pumpsByGateway.get(gateway);
    if (!pumps) return;
    for (const pump of pumps) {
      const rec = this.records.get(pump);
      if (!rec) continue;
      this.dirty.add(pump);
      if (online) clearGatewayOffline(rec, serverTimeMs, this.store);
      else raiseGatewayOffline(rec, serverTimeMs, this.cfg, this.store, this.clinical.serverTimeZone);
    }
  }

  tick(serverTimeMs: number): void {
    for (const rec of this.records.values()) {
      // a visit ends by itself; what still holds counts from its end
      if (expireVisit(rec, serverTimeMs)) this.dirty.add(rec.pump);
      detectPumpOffAfterVisit(rec, serverTimeMs, this.cfg, this.store, this.clinical.serverTimeZone);
      detectSignalLost(rec, serverTimeMs, this.cfg, this.store, this.clinical.serverTimeZone);
    }
    const quietMs = this.cfg.historyQuietS * 1000;
    const done: string[] = [];
    for (const pump of this.store.pumpsWithDeferred()) {
      const rec = this.records.get(pump);
      if (!rec || rec.lastSeenServerMs === null || serverTimeMs - rec.lastSeenServerMs >= quietMs) done.push(pump);
    }
    for (const pump of done) {
      const rec = this.records.get(pump);
      // The backlog is drained: its newest sentence is the live edge, whatever the pump clock's offset.
      if (rec) rec.liveLagMs = rec.lastLagMs;
      this.store.flushDeferred(pump);
    }
    this.store.escalate(serverTimeMs);
  }

  acknowledge(alertId: string, by: string, serverTimeMs: number): Alert | undefined {
    return this.store.acknowledge(alertId, by, serverTimeMs);
  }

  pumps(): PumpView[] {
    const out: PumpView[] = [];
    for (const rec of this.records.values()) out.push(this.view(rec));
    return out;
  }

  pump(serial: string): PumpView | undefined {
    const rec = this.records.get(serial);
    return rec ? this.view(rec) : undefined;
  }

  openAlerts(): Alert[] {
    return this.store.open();
  }

  alert(id: string): Alert | undefined {
    return this.store.get(id);
  }

  takeChanges(): EngineChanges {
    const alerts = this.store.takeChanges();
    for (const a of alerts) if (this.records.has(a.pump)) this.dirty.add(a.pump);
    const pumps: PumpView[] = [];
    for (const serial of this.dirty) {
      const rec = this.records.get(serial);
      if (rec) pumps.push(this.view(rec));
    }
    this.dirty.clear();
    return { alerts, pumps };
  }

  exportPump(serial: string): PumpSnapshot | undefined {
    const rec = this.records.get(serial);
    if (!rec) return undefined;
    const snapshot: PumpSnapshotV1 = { pump: serial, version: 1, record: { ...rec, alarms: [...rec.alarms] }, alerts: this.store.exportPump(serial) };
    return structuredClone(snapshot);
  }

  restorePump(snapshot: PumpSnapshot): void {
    if (!isSnapshotV1(snapshot)) return;
    const copy = structuredClone(snapshot);
    const rec: PumpRecord = { ...createPumpRecord(copy.pump, copy.record.gateway), ...copy.record, restored: true };
    // what the core said since this engine started wins over the snapshot; the same assignment keeps its course
    const told = this.told.get(rec.pump);
    if (told !== undefined) rec.course = reconcileCourse(rec.course, told, rec);
    this.forgetIndex(rec.pump);
    this.records.set(rec.pump, rec);
    this.index(rec.pump, rec.gateway);
    this.store.restoreRecords(rec.pump, copy.alerts);
  }

  restoreAlert(alert: Alert): void {
    this.recordFor(alert.pump, alert.gateway);
    this.store.restoreAlert(alert);
  }

  forgetPump(serial: string): void {
    this.forgetIndex(serial);
    this.records.delete(serial);
    this.dirty.delete(serial);
    this.store.forget(serial);
  }

  setVisit(pump: string, untilMs: number | null, by: string, serverTimeMs: number): boolean {
    const rec = this.records.get(pump);
    if (!rec) return false;
    if (untilMs === null || untilMs <= serverTimeMs) endVisit(rec, serverTimeMs);
    else startVisit(rec, untilMs, by);
    this.dirty.add(pump);
    return true;
  }

  setAssignment(pump: string, terms: OrderTerms | null, serverTimeMs: number): void {
    const copy = terms === null ? null : { ...terms };
    this.told.set(pump, copy);
    const rec = this.records.get(pump);
    if (!rec) return; // applied when the pump is first heard or restored
    const before = rec.course;
    rec.course = reconcileCourse(before, copy, rec);
    const v = this.verifyInput(rec, 'assignment', serverTimeMs);
    if (before !== null && rec.course !== before) {
      endAssignmentAlerts(v, copy === null ? 'the assignment ended' : 'the pump was assigned to another order');
    }
    verifyPumpNow(v, false);
  }

  setAssignmentsKnown(known: boolean, serverTimeMs: number): void {
    const was = this.clinical.assignmentsKnown;
    this.clinical.assignmentsKnown = known;
    // What stayed unchecked meanwhile is checked now; alerts already raised stay as they are while unknown.
    if (known && !was) for (const rec of this.records.values()) verifyPumpNow(this.verifyInput(rec, 'assignments loaded', serverTimeMs), true);
  }

  setDrugLimits(limits: readonly DrugLimit[], serverTimeMs: number): void {
    const map = this.clinical.drugLimits;
    map.clear();
    for (const l of limits) map.set(drugKey(l.drug), { ...l });
    for (const rec of this.records.values()) {
      if (rec.programActive || rec.programPending || this.store.isActive(rec.pump, 'drug_limit')) {
        detectDrugLimit(this.verifyInput(rec, 'drug limits', serverTimeMs));
      }
    }
  }

  stats(): EngineStats {
    return { ...this.counts, pumps: this.records.size, openAlerts: this.store.openCount() };
  }

  private view(rec: PumpRecord): PumpView {
    return toPumpView(rec, this.store.activeCount(rec.pump), this.gatewayOnline.get(rec.gateway) ?? null);
  }

  private verifyInput(rec: PumpRecord, trigger: string, serverMs: number): VerifyInput {
    return { rec, cfg: this.cfg, store: this.store, clinical: this.clinical, at: recordsStamp(rec.effMs, serverMs), trigger, evidence: null };
  }

  private recordFor(pump: string, gateway: string): PumpRecord {
    let rec = this.records.get(pump);
    if (!rec) {
      rec = createPumpRecord(pump, gateway);
      const told = this.told.get(pump);
      if (told) rec.course = reconcileCourse(null, told, rec);
      this.records.set(pump, rec);
      this.index(pump, gateway);
    } else if (rec.gateway !== gateway) {
      this.forgetIndex(pump);
      rec.gateway = gateway;
      this.index(pump, gateway);
    }
    return rec;
  }

  private index(pump: string, gateway: string): void {
    let set = this.pumpsByGateway.get(gateway);
    if (!set) this.pumpsByGateway.set(gateway, (set = new Set()));
    set.add(pump);
  }

  private forgetIndex(pump: string): void {
    const rec = this.records.get(pump);
    if (!rec) return;
    const set = this.pumpsByGateway.get(rec.gateway);
    set?.delete(pump);
    if (set?.size === 0) this.pumpsByGateway.delete(rec.gateway);
  }
}
