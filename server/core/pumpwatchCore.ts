/**
 * The server's core service: journal entries (from the ingest pipeline, or read back at start-up)
 * are fed to the detection engine and the billing tracker, and what they decide is published as
 * facts on the bus (server/events/facts.ts). Everything here runs synchronously per entry; parsing,
 * de-duplication and journalling are the pipeline's (ingestPipeline.ts), checkpoints the
 * checkpointer's (checkpointer.ts).
 */
import type { Alert } from '../../protocol/api.ts';
import type { BillingAssignment, EpisodeRecord, EpisodeTracker } from '../billing/types.ts';
import type { DrugLimit, DetectionEngine, OrderTerms, PumpSnapshot } from '../engine/types.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { LiveChange } from '../events/facts.ts';
import type { JournalEntry } from '../ingest/journalEntry.ts';
import { AlertFacts } from './alertFacts.ts';
import { InfusionFacts } from './infusionFacts.ts';

export interface CoreOptions {
  engine: DetectionEngine;
  billing: EpisodeTracker;
  /** identifies this journal folder; stored with snapshots so a replay knows what they cover */
  journalEpoch: string;
  bus: EventBus;
  /** writes what was journalled before its consequences are published (JournalCommitter) */
  journal: { commit(): boolean };
  /** a STOP with no more than this left is a completed infusion (infusion facts; default 5 mL) */
  completeResidualMl?: number;
}

/** Skip marker from a restore: journal entries up to id are already inside the restored state. */
interface Covered { epoch: string; id: number }

export class PumpwatchCore {
  /** checkpoint keys (pump serial, or @gateway for gateway-level alerts) changed since the last one */
  private readonly dirty = new Set<string>();
  private readonly gateways = new Map<string, string>();
  private readonly engineCovered = new Map<string, Covered>();
  private readonly billingCovered = new Map<string, Covered>();
  private readonly alertFacts: AlertFacts;
  private readonly infusionFacts: InfusionFacts;
  private flushScheduled = false;
  private currentId = 0;
  private assignmentsForBilling: readonly BillingAssignment[] = [];
  private readonly flushSoon = (): void => this.flushChanges();

  constructor(private readonly o: CoreOptions) {
    this.alertFacts = new AlertFacts(o.bus);
    this.infusionFacts = new InfusionFacts(o.bus, o.completeResidualMl);
  }

  get engine(): DetectionEngine {
    return this.o.engine;
  }

  get billing(): EpisodeTracker {
    return this.o.billing;
  }

  get journalEpoch(): string {
    return this.o.journalEpoch;
  }

  /** feeds one entry to engine and billing; `replay` = read back from the journal at start-up */
  apply(e: JournalEntry, id: number, replay: boolean): void {
    this.currentId = id;
    if (e.k === 'm') {
      const m = e.m;
      this.gateways.set(m.pump, e.g);
      this.dirty.add(m.pump);
      if (!this.covers(this.engineCovered, m.pump, id, replay)) this.o.engine.ingest(m, { gateway: e.g, serverTimeMs: e.t });
      if (!this.covers(this.billingCovered, m.pump, id, replay)) this.o.billing.ingest(m);
    } else if (e.k === 'a') {
      this.o.engine.gatewayAvailability(e.g, e.state, e.t);
    } else if (e.k === 'visit') {
      // a restored snapshot already holds the visits journalled before it
      if (!this.covers(this.engineCovered, e.pump, id, replay)) this.o.engine.setVisit(e.pump, e.until, e.by, e.t);
      this.dirty.add(e.pump);
    } else {
      this.o.engine.acknowledge(e.id, e.by, e.t);
    }
    this.scheduleFlush();
  }

  // --- clinical records (§6): pushed into the engine, its re-verification published like any input's

  /** a pump's open assignment changed (null: it ended) */
  setAssignment(pump: string, terms: OrderTerms | null, nowMs: number): void {
    this.o.engine.setAssignment(pump, terms, nowMs);
    this.dirty.add(pump);
    this.scheduleFlush();
  }

  /** every assignment (open and ended) with its order and patient: billing's courses (pure, pushed in) */
  setBillingAssignments(assignments: readonly BillingAssignment[]): void {
    this.assignmentsForBilling = assignments;
    this.o.billing.setAssignments?.(assignments);
  }

  /** what setBillingAssignments was last given (the same array until it changes) */
  get billingAssignments(): readonly BillingAssignment[] {
    return this.assignmentsForBilling;
  }

  /** the assignments became known (loaded from the database) or unknown */
  setAssignmentsKnown(known: boolean, nowMs: number): void {
    this.o.engine.setAssignmentsKnown(known, nowMs);
    this.scheduleFlush();
  }

  setDrugLimits(limits: readonly DrugLimit[], nowMs: number): void {
    this.o.engine.setDrugLimits(limits, nowMs);
    this.scheduleFlush();
  }

  /**
   * Publishes these pumps' current views although the engine did not change them (what is laid
   * over them changed: a patient or order assigned, ended, renamed). Unknown pumps are skipped.
   */
  republishPumps(serials: Iterable<string>): void {
    const bus = this.o.bus;
    const views = [];
    for (const s of serials) {
      const view = this.o.engine.pump(s);
      if (view) views.push(view);
    }
    if (views.length === 0) return;
    if (bus.has('pumpChanged')) for (const p of views) bus.emit('pumpChanged', p);
    if (bus.has('changes')) bus.emit('changes', views.map((pump): LiveChange => ({ type: 'pump', pump })));
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushSoon);
    }
  }

  private covers(map: Map<string, Covered>, pump: string, id: number, replay: boolean): boolean {
    if (!replay) return false;
    const c = map.get(pump);
    return c !== undefined && c.epoch === this.o.journalEpoch && id <= c.id;
  }

  /** server-clock timers; about once a second */
  tick(nowMs: number): void {
    this.o.engine.tick(nowMs);
    this.flushChanges();
  }

  /** engine changes since the last flush, published as facts once what caused them is written */
  flushChanges(): void {
    this.flushScheduled = false;
    this.o.journal.commit();
    const ch = this.o.engine.takeChanges();
    if (ch.alerts.length === 0 && ch.pumps.length === 0) return;
    const bus = this.o.bus;
    for (const a of ch.alerts) {
      this.dirty.add(a.pump || `@${a.gateway}`);
      this.alertFacts.publish(a);
    }
    // pump views change with nearly every message: built into facts only while someone listens
    if (bus.has('pumpChanged')) for (const p of ch.pumps) bus.emit('pumpChanged', p);
    this.infusionFacts.publish(ch.pumps);
    if (bus.has('changes')) {
      const live: LiveChange[] = [];
      for (const a of ch.alerts) live.push({ type: 'alert', alert: a });
      for (const p of ch.pumps) live.push({ type: 'pump', pump: p });
      bus.emit('changes', live);
    }
  }

  /** checkpoint keys changed since the last call (the checkpointer takes them) */
  takeChangedKeys(): string[] {
    const keys = [...this.dirty];
    this.dirty.clear();
    return keys;
  }

  /** the gateway a pump was last heard through ('' when unknown) */
  gatewayOf(pump: string): string {
    return this.gateways.get(pump) ?? '';
  }

  // --- restore from storage (start-up for all pumps, handover for one) ---

  /** a stored checkpoint covers this pump's journal entries up to `covers`; replay skips those */
  restoreCheckpoint(pump: string, gateway: string, covers: Covered): void {
    if (gateway) this.gateways.set(pump, gateway);
    this.engineCovered.set(pump, covers);
  }

  /** throws when the engine refuses the snapshot (the pump then starts fresh) */
  restorePump(snapshot: PumpSnapshot): void {
    this.o.engine.restorePump(snapshot);
  }

  restoreAlert(alert: Alert): void {
    this.o.engine.restoreAlert(alert);
    this.alertFacts.restored(alert);
  }

  /** stored episodes, each with the journal entry its record covers; the newest marker per pump wins */
  restoreEpisodes(episodes: readonly { record: EpisodeRecord; journalEpoch: string; journalId: number }[]): void {
    for (const e of episodes) {
      const prev = this.billingCovered.get(e.record.pump);
      if (!prev || prev.epoch !== e.journalEpoch || e.journalId > prev.id) {
        this.billingCovered.set(e.record.pump, { epoch: e.journalEpoch, id: e.journalId });
      }
    }
    if (episodes.length > 0) this.o.billing.restore(episodes.map((e) => e.record));
  }

  /** restored alerts come back through takeChanges(); they are not news */
  endRestore(): void {
    this.o.engine.takeChanges();
    this.infusionFacts.seed(this.o.engine.pumps());
  }

  /** pumps with a restored checkpoint or episode */
  restoredPumps(): string[] {
    return [...new Set([...this.engineCovered.keys(), ...this.billingCovered.keys()])];
  }

  /** the journal folder a pump's restored checkpoint came from; undefined when it has none */
  restoredEpoch(pump: string): string | undefined {
    return this.engineCovered.get(pump)?.epoch;
  }

  /** drops a pump this instance no longer owns (its identities are the pipeline's: forget it there) */
  forgetPump(serial: string): void {
    this.o.engine.forgetPump(serial);
    this.o.billing.forgetPump(serial);
    this.gateways.delete(serial);
    this.engineCovered.delete(serial);
    this.billingCovered.delete(serial);
    this.alertFacts.forgetPump(serial);
    this.infusionFacts.forgetPump(serial);
  }

  get lastAppliedJournalId(): number {
    return this.currentId;
  }
}
