/**
 * Alert lifecycle: one alert per (pump, type) at a time; raised → cleared when the condition ends;
 * acknowledgement independent; a condition returning within the flap window revives the same alert
 * (unless it was acknowledged: then it is a new one);
 * alerts raised by replayed history are held back until the history is over, so one raised and
 * cleared inside it is published once, already cleared.
 */
import type { Alert, AlertType, Severity } from '../../protocol/api.ts';
import type { ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
import { ALERT_SEVERITY, SERVER_CLOCK_TYPES, alertId } from './severity.ts';

/** When something happened, on the clock the alert type is timed with. */
export interface Stamp {
  /** epoch ms on `clock` (the pump's duration clock or the server clock) */
  ms: number;
  clock: 'pump' | 'server';
  /** shown as raisedAt / clearedAt */
  iso: string;
  /** ms the alert id is built from */
  idMs: number;
  serverMs: number;
  /** comes from replayed history */
  historic: boolean;
}

export interface AlertRecord {
  alert: Alert;
  clock: 'pump' | 'server';
  /** when it was cleared, on `clock`; null while active */
  clearedMs: number | null;
  raisedServerMs: number;
  escalationDone: boolean;
  /** active, raised or changed by history not yet published */
  deferred: boolean;
  flaps: number;
}

type Slots = Partial<Record<AlertType, AlertRecord>>;

/** The pump's open assignment as alerts carry it (§6); null when unassigned. */
export type AssignmentOf = (pump: string) => { patientId: string; orderId: string } | null;

export const isOpen = (a: Alert): boolean => a.status === 'active' || !a.acknowledged;
const copyAlert = (a: Alert): Alert => ({ ...a });

export class AlertStore {
  private readonly byId = new Map<string, AlertRecord>();
  private readonly slots = new Map<string, Slots>();
  private readonly changed = new Map<string, AlertRecord>();
  private readonly deferredByPump = new Map<string, Set<AlertRecord>>();
  /** active, unacknowledged, high or medium, not yet escalated */
  private readonly watch = new Set<AlertRecord>();

  constructor(private readonly cfg: ResolvedDetectionConfig, private readonly assignmentOf: AssignmentOf = () => null) {}

  /** Every alert raised on an assigned pump names its patient and order; an unassigned pump's carries neither. */
  private withAssignment(alert: Alert): Alert {
    const who = this.assignmentOf(alert.pump);
    if (who !== null) return { ...alert, patientId: who.patientId, orderId: who.orderId };
    if (alert.patientId === undefined && alert.orderId === undefined) return alert;
    return { ...alert, patientId: null, orderId: null };
  }

  current(pump: string, type: AlertType): AlertRecord | undefined {
    return this.slots.get(pump)?.[type];
  }

  isActive(pump: string, type: AlertType): boolean {
    return this.slots.get(pump)?.[type]?.alert.status === 'active';
  }

  /** `severity`: for a type whose severity depends on the pump's state (pump_alarm); default ALERT_SEVERITY */
  raise(pump: string, gateway: string, type: AlertType, at: Stamp, message: string, detail: Record<string, unknown>, severity?: Severity): AlertRecord {
    let slot = this.slots.get(pump);
    if (!slot) this.slots.set(pump, (slot = {}));
    const prev = slot[type];
    if (prev?.alert.status === 'active') return prev;
    const id = alertId(pump, type, at.idMs);
    const sameId = this.byId.get(id);
    // a condition back soon is the same problem, unless a nurse acknowledged it meanwhile: then it
    // alerts again as a new alert (sound, escalation and paging start over; §4)
    const flapping = prev !== undefined && prev.clearedMs !== null && prev.clock === at.clock
      && at.ms - prev.clearedMs <= this.cfg.flapWindowS * 1000 && !prev.alert.acknowledged;
    const revive = flapping ? prev : sameId; // same id: the same alert replayed after a restart
    if (revive) {
      if (flapping) revive.flaps += 1;
      revive.clearedMs = null;
      const shown = revive.flaps > 0 ? { ...detail, flaps: revive.flaps } : detail;
      revive.alert = this.withAssignment({ ...revive.alert, status: 'active', clearedAt: null, gateway, message, detail: shown, severity: severity ?? revive.alert.severity });
      slot[type] = revive;
      this.track(revive);
      this.touch(revive, at.historic);
      return revive;
    }
    if (prev && !isOpen(prev.alert)) this.byId.delete(prev.alert.id);
    const rec: AlertRecord = {
      alert: this.withAssignment({
        id, pump, gateway, type, severity: severity ?? ALERT_SEVERITY[type], status: 'active',
        acknowledged: false, ackedBy: null, ackedAt: null, raisedAt: at.iso, clearedAt: null, message, detail,
      }),
      clock: SERVER_CLOCK_TYPES.has(type) ? 'server' : 'pump',
      clearedMs: null, raisedServerMs: at.serverMs, escalationDone: false, deferred: false, flaps: 0,
    };
    slot[type] = rec;
    this.byId.set(id, rec);
    this.track(rec);
    this.touch(rec, at.historic);
    return rec;
  }

  /** New wording or evidence for an active alert (e.g. the pump confirmed what was inferred). */
  update(pump: string, type: AlertType, message: string, detail: Record<string, unknown>, historic: boolean, severity?: Severity): void {
    const rec = this.current(pump, type);
    if (rec?.alert.status !== 'active') return;
    rec.alert = { ...rec.alert, message, detail: rec.flaps > 0 ? { ...detail, flaps: rec.flaps } : detail, severity: severity ?? rec.alert.severity };
    // became high (the pump halted): it escalates from now on like any high alert
    this.track(rec);
    this.touch(rec, historic);
  }

  clear(pump: string, type: AlertType, at: Stamp, detailPatch?: Record<string, unknown>): void {
    const rec = this.current(pump, type);
    if (rec?.alert.status !== 'active') return;
    rec.clearedMs = rec.clock === at.clock ? at.ms : at.serverMs;
    const detail = detailPatch ? { ...rec.alert.detail, ...detailPatch } : rec.alert.detail;
    rec.alert = { ...rec.alert, status: 'cleared', clearedAt: at.iso, detail };
    this.watch.delete(rec);
    this.touch(rec, at.historic);
  }

  acknowledge(id: string, by: string, serverMs: number): Alert | undefined {
    const rec = this.byId.get(id);
    if (!rec) return undefined;
    if (!rec.alert.acknowledged) {
      rec.alert = { ...rec.alert, acknowledged: true, ackedBy: by, ackedAt: new Date(serverMs).toISOString() };
      this.watch.delete(rec);
      this.touch(rec, false);
    }
    return copyAlert(rec.alert);
  }

  get(id: string): Alert | undefined {
    const rec = this.byId.get(id);
    return rec ? copyAlert(rec.alert) : undefined;
  }

  open(): Alert[] {
    const out: Alert[] = [];
    for (const rec of this.byId.values()) if (isOpen(rec.alert)) out.push(copyAlert(rec.alert));
    return out;
  }

  openCount(): number {
    let n = 0;
    for (const rec of this.byId.values()) if (isOpen(rec.alert)) n++;
    return n;
  }

  activeCount(pump: string): number {
    const slot = this.slots.get(pump);
    if (!slot) return 0;
    let n = 0;
    for (const rec of Object.values(slot)) if (rec.alert.status === 'active') n++;
    return n;
  }

  /**
   * Unacknowledged high and medium alerts older than escalateAfterS are re-published once with
   * escalated: true (a medium alert starts paging then; a high one pages from the start).
   */
  escalate(serverMs: number): void {
    const limitMs = this.cfg.escalateAfterS * 1000;
    for (const rec of this.watch) {
      if (rec.deferred || serverMs - rec.raisedServerMs < limitMs) continue;
      rec.escalationDone = true;
      rec.alert = { ...rec.alert, escalated: true };
      this.watch.delete(rec);
      this.changed.set(rec.alert.id, rec);
    }
  }

  /** Pumps holding alerts from history not yet published. */
  pumpsWithDeferred(): IterableIterator<string> {
    return this.deferredByPump.keys();
  }

  /** History is over for this pump: publish what it raised and is still active. */
  flushDeferred(pump: string): void {
    const set = this.deferredByPump.get(pump);
    if (!set) return;
    this.deferredByPump.delete(pump);
    for (const rec of set) {
      if (!rec.deferred) continue;
      rec.deferred = false;
      this.changed.set(rec.alert.id, rec);
    }
  }

  takeChanges(): Alert[] {
    if (this.changed.size === 0) return [];
    const out: Alert[] = [];
    for (const rec of this.changed.values()) out.push(copyAlert(rec.alert));
    this.changed.clear();
    return out;
  }

  exportPump(pump: string): AlertRecord[] {
    const slot = this.slots.get(pump);
    return slot ? Object.values(slot).map((r) => ({ ...r, alert: copyAlert(r.alert) })) : [];
  }

  restoreRecords(pump: string, records: AlertRecord[]): void {
    for (const r of records) {
      if (r.alert.pump !== pump) continue;
      const known = this.byId.get(r.alert.id);
      if (known) {
        // restoreAlert came first: the stored alert is newer than the snapshot, the snapshot knows the timings
        known.clock = r.clock;
        known.clearedMs = known.alert.status === 'cleared' ? r.clearedMs ?? known.clearedMs : null;
        known.raisedServerMs = r.raisedServerMs;
        known.escalationDone = known.escalationDone || r.escalationDone;
        known.flaps = Math.max(known.flaps, r.flaps);
        this.watch.delete(known);
        this.place(known);
        continue;
      }
      this.place({ ...r, alert: copyAlert(r.alert), deferred: false });
    }
  }

  /** An alert as last stored: merged into what a snapshot restored, or placed on its own. */
  restoreAlert(alert: Alert): void {
    const known = this.byId.get(alert.id);
    if (known) {
      known.alert = copyAlert(alert);
      if (alert.status === 'cleared' && known.clearedMs === null) known.clearedMs = Date.parse(alert.clearedAt ?? alert.raisedAt);
      if (alert.escalated === true) known.escalationDone = true;
      this.watch.delete(known);
      this.track(known);
      return;
    }
    const flaps = typeof alert.detail.flaps === 'number' ? alert.detail.flaps : 0;
    this.place({
      alert: copyAlert(alert), clock: SERVER_CLOCK_TYPES.has(alert.type) ? 'server' : 'pump',
      clearedMs: alert.status === 'cleared' ? Date.parse(alert.clearedAt ?? alert.raisedAt) : null,
      raisedServerMs: Date.parse(alert.raisedAt), escalationDone: alert.escalated === true, deferred: false, flaps,
    });
  }

  forget(pump: string): void {
    this.slots.delete(pump);
    this.deferredByPump.delete(pump);
    for (const [id, rec] of this.byId) {
      if (rec.alert.pump !== pump) continue;
      this.byId.delete(id);
      this.watch.delete(rec);
      this.changed.delete(id);
    }
  }

  private place(rec: AlertRecord): void {
    this.byId.set(rec.alert.id, rec);
    let slot = this.slots.get(rec.alert.pump);
    if (!slot) this.slots.set(rec.alert.pump, (slot = {}));
    const held = slot[rec.alert.type];
    const takesSlot = !held || held.alert.id === rec.alert.id
      || (held.alert.status !== 'active' && (rec.alert.status === 'active' || rec.alert.raisedAt > held.alert.raisedAt));
    if (takesSlot) slot[rec.alert.type] = rec;
    this.track(rec);
  }

  private track(rec: AlertRecord): void {
    const a = rec.alert;
    if ((a.severity === 'high' || a.severity === 'medium') && a.status === 'active' && !a.acknowledged && !rec.escalationDone) this.watch.add(rec);
  }

  private touch(rec: AlertRecord, historic: boolean): void {
    if (historic && rec.alert.status === 'active') {
      rec.deferred = true;
      let set = this.deferredByPump.get(rec.alert.pump);
      if (!set) this.deferredByPump.set(rec.alert.pump, (set = new Set()));
      set.add(rec);
      return;
    }
    rec.deferred = false;
    this.changed.set(rec.alert.id, rec);
  }
}
