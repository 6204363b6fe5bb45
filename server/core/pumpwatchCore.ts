/**
 * The server's core service: validated, de-duplicated input is journalled, then fed to the
 * detection engine and the billing tracker; their changes go to live subscribers and storage.
 * Everything here runs synchronously per message; I/O lives in the ingest and storage adapters.
 */
import type { IPoint } from 'influx';
import type { Logger } from 'pino';
import type { Alert } from '../../protocol/api.ts';
import { parsePumpMessage, validateAvailability } from '../../protocol/payloads.ts';
import { parseTopic } from '../../protocol/topics.ts';
import type { EpisodeTracker } from '../billing/types.ts';
import type { Clock } from '../clock.ts';
import type { Shard } from '../config.ts';
import type { DetectionEngine } from '../engine/types.ts';
import type { LiveChange } from '../http/backend.ts';
import { DedupeWindows, encodeIdentities, identityNumber } from '../ingest/dedupeWindow.ts';
import { DropCounter } from '../ingest/dropCounter.ts';
import { INGEST_DROP_REASONS, validationDropReason, type IngestDropReason } from '../ingest/dropReasons.ts';
import { decodeEntry, encodeEntry, type IngestJournal, type JournalEntry } from '../ingest/journalEntry.ts';
import { ownsPump } from '../ingest/shard.ts';
import {
  alertPoint, availabilityPoint, episodePoint, messageLine, pumpStatePoint, ServerTimestamps,
} from '../storage/points.ts';
import { pointLine, type PointOrLine } from '../storage/lineProtocol.ts';

export interface CoreOptions {
  engine: DetectionEngine;
  billing: EpisodeTracker;
  journal: IngestJournal;
  /** identifies this journal folder; stored with snapshots so a replay knows what they cover */
  journalEpoch: string;
  clock: Clock;
  log: Logger;
  shard: Shard | null;
  dedupeWindow: number;
  /** identities kept in each snapshot */
  dedupeSnapshot?: number;
  /** derived points (alert changes, audit) to storage */
  store(points: IPoint[]): void;
  /** new journal entries are waiting */
  journalled(): void;
  /** the InfluxDB line of a journalled entry (null: nothing to store), encoded while it is at hand */
  entryLine?(id: number, line: string | null): void;
}

/** Skip markers from a restore: journal entries up to id are already inside the restored state. */
interface Covered { epoch: string; id: number }

/** the InfluxDB line that stores a journal entry (acknowledgements are stored through their alert change) */
function lineOfEntry(e: JournalEntry): string | null {
  if (e.k === 'm') return messageLine(e.m, e.g);
  if (e.k === 'a') return pointLine(availabilityPoint(e.g, e.state, e.time, e.t));
  return null;
}

export class PumpwatchCore {
  readonly drops: DropCounter<IngestDropReason>;
  readonly dedupe: DedupeWindows;
  accepted = 0;
  duplicates = 0;
  notMine = 0;
  private readonly listeners = new Set<(changes: readonly LiveChange[]) => void>();
  /** checkpoint keys (pump serial, or @gateway for gateway-level alerts) changed since the last one */
  private readonly dirty = new Set<string>();
  private readonly gatewayOf = new Map<string, string>();
  private readonly lastAvailability = new Map<string, string>();
  readonly engineCovered = new Map<string, Covered>();
  readonly billingCovered = new Map<string, Covered>();
  private readonly stamps = new ServerTimestamps();
  private flushScheduled = false;
  private currentId = 0;
  /** the last journal commit failed: ingest holds back until one succeeds */
  private commitFailing = false;

  constructor(private readonly o: CoreOptions) {
    this.drops = new DropCounter(o.log, INGEST_DROP_REASONS);
    this.dedupe = new DedupeWindows(o.dedupeWindow);
  }

  get engine(): DetectionEngine {
    return this.o.engine;
  }

  get billing(): EpisodeTracker {
    return this.o.billing;
  }

  blocked(): boolean {
    return this.commitFailing || this.o.journal.full();
  }

  /**
   * Writes the journal entries appended since the last commit; false when the write failed (they
   * stay staged, nothing after them may be acknowledged, and the next commit tries again).
   */
  commitJournal(): boolean {
    try {
      this.o.journal.commit();
      if (this.commitFailing) this.o.log.info('journal writes again');
      this.commitFailing = false;
      return true;
    } catch (err) {
      if (!this.commitFailing) this.o.log.error({ err: (err as Error).message, code: (err as { code?: string }).code }, 'journal write failed; holding acknowledgements back');
      this.commitFailing = true;
      return false;
    }
  }

  /** One MQTT message: validate, de-duplicate, journal, apply. Never throws on bad input. */
  accept(topic: string, payload: Buffer): void {
    const now = this.o.clock.now();
    const t = parseTopic(topic);
    if (!t || t.kind === 'diagnostics') {
      this.drops.drop('BAD_TOPIC', { topic: topic.slice(0, 120) });
      return;
    }
    if (t.kind === 'availability') {
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        body = null;
      }
      const a = validateAvailability(body);
      if (!a) {
        this.drops.drop('BAD_AVAILABILITY', { topic });
        return;
      }
      const key = `${a.state}|${a.time}`;
      if (this.lastAvailability.get(t.gateway) === key) return; // retained copy delivered again
      this.lastAvailability.set(t.gateway, key);
      this.journalAndApply({ k: 'a', g: t.gateway, t: now, state: a.state, time: a.time });
      return;
    }
    if (!ownsPump(this.o.shard, t.serial)) {
      this.notMine++;
      return;
    }
    const v = parsePumpMessage(payload, t.serial);
    if (!v.ok) {
      this.drops.drop(validationDropReason(v.code, v.decodeCode), { topic, reason: v.reason });
      return;
    }
    const msg = v.message;
    if (this.dedupe.seenOrAdd(msg.pump, identityNumber(msg.seq, msg.time))) {
      this.duplicates++;
      this.drops.drop('DUPLICATE', { pump: msg.pump, seq: msg.seq });
      return;
    }
    this.accepted++;
    this.journalAndApply({ k: 'm', g: t.gateway, t: now, m: msg });
  }

  /** records who acknowledged an alert; undefined for an unknown id */
  acknowledge(alertId: string, by: string): Alert | undefined {
    if (!this.o.engine.alert(alertId)) return undefined;
    this.journalAndApply({ k: 'ack', t: this.o.clock.now(), id: alertId, by });
    this.commitJournal(); // written before the reply says it is done
    return this.o.engine.alert(alertId);
  }

  private journalAndApply(e: JournalEntry): void {
    let id: number;
    try {
      id = this.o.journal.append(encodeEntry(e));
      this.o.entryLine?.(id, lineOfEntry(e));
    } catch (err) {
      // only an acknowledgement can get here while full (messages wait in MQTT); keep it in memory
      this.o.log.error({ err: (err as Error).message, kind: e.k }, 'journal append failed');
      id = this.o.journal.lastId();
    }
    this.o.journalled();
    this.apply(e, id, false);
  }

  /** feeds one entry to engine and billing; `replay` = read back from the journal at start-up */
  apply(e: JournalEntry, id: number, replay: boolean): void {
    this.currentId = id;
    if (e.k === 'm') {
      const m = e.m;
      // entries in the journal passed de-duplication when they arrived; keep the window current
      if (replay) this.dedupe.seenOrAdd(m.pump, identityNumber(m.seq, m.time));
      this.gatewayOf.set(m.pump, e.g);
      this.dirty.add(m.pump);
      if (!this.covers(this.engineCovered, m.pump, id, replay)) this.o.engine.ingest(m, { gateway: e.g, serverTimeMs: e.t });
      if (!this.covers(this.billingCovered, m.pump, id, replay)) this.o.billing.ingest(m);
    } else if (e.k === 'a') {
      this.o.engine.gatewayAvailability(e.g, e.state, e.t);
    } else {
      this.o.engine.acknowledge(e.id, e.by, e.t);
    }
    this.scheduleFlush();
  }

  private covers(map: Map<string, Covered>, pump: string, id: number, replay: boolean): boolean {
    if (!replay) return false;
    const c = map.get(pump);
    return c !== undefined && c.epoch === this.o.journalEpoch && id <= c.id;
  }

  /** journal entries from start-up recovery; decoded and applied in order */
  replay(entries: { id: number; data: Buffer }[]): number {
    let applied = 0;
    for (const { id, data } of entries) {
      const e = decodeEntry(data);
      if (!e) {
        this.drops.drop('BAD_JOURNAL_ENTRY', { id });
        continue;
      }
      if (e.k === 'a') this.lastAvailability.set(e.g, `${e.state}|${e.time}`);
      this.apply(e, id, true);
      applied++;
    }
    this.flushChanges();
    return applied;
  }

  /** server-clock timers; about once a second */
  tick(): void {
    this.o.engine.tick(this.o.clock.now());
    this.flushChanges();
  }

  subscribe(listener: (changes: readonly LiveChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushChanges());
  }

  /** engine changes to storage (alert history) and to live subscribers */
  flushChanges(): void {
    this.flushScheduled = false;
    this.commitJournal();
    const ch = this.o.engine.takeChanges();
    if (ch.alerts.length === 0 && ch.pumps.length === 0) return;
    const now = this.o.clock.now();
    const points: IPoint[] = [];
    const live: LiveChange[] = [];
    for (const a of ch.alerts) {
      points.push(alertPoint(a, this.stamps.next(now)));
      this.dirty.add(a.pump || `@${a.gateway}`);
      live.push({ type: 'alert', alert: a });
    }
    for (const p of ch.pumps) live.push({ type: 'pump', pump: p });
    if (points.length > 0) this.o.store(points);
    for (const l of this.listeners) {
      try {
        l(live);
      } catch (err) {
        this.o.log.error({ err: (err as Error).message }, 'live listener failed');
      }
    }
  }

  /** a journal entry read back from disk → the line that stores it (none for an acknowledgement) */
  entryPoints(id: number, data: Buffer): PointOrLine[] {
    const e = decodeEntry(data);
    const line = e ? lineOfEntry(e) : null;
    return line === null ? [] : [line];
  }

  /**
   * A checkpoint in slices: first the billing records (state at `journalId`), then snapshots of
   * the pumps that changed, a few hundred per slice so ingest keeps running in between. Each
   * snapshot carries the journal entry it covers at the moment it is taken.
   */
  *checkpointSlices(journalId: number, sliceSize = 500): Generator<IPoint[]> {
    const epoch = this.o.journalEpoch;
    // a record changed twice since the last checkpoint is stored once, in its latest form
    const records = [...new Map(this.o.billing.takeChanged().map((r) => [r.id, r])).values()];
    const now = this.o.clock.now();
    if (records.length === 0) yield [];
    // serialised a slice at a time: 10,000 pumps' records as JSON at once is a heap spike of tens of MB
    for (let i = 0; i < records.length; i += sliceSize) {
      yield records.slice(i, i + sliceSize).map((rec) => episodePoint(rec, epoch, journalId, this.stamps.next(now)));
    }
    const keys = [...this.dirty];
    this.dirty.clear();
    for (let i = 0; i < keys.length; i += sliceSize) yield this.snapshotPoints(keys.slice(i, i + sliceSize));
  }

  /** everything of a checkpoint at once (tests, shutdown) */
  checkpointPoints(journalId: number): IPoint[] {
    return [...this.checkpointSlices(journalId, Number.MAX_SAFE_INTEGER)].flat();
  }

  private snapshotPoints(keys: string[]): IPoint[] {
    const covered = this.o.journal.lastId();
    const now = this.o.clock.now();
    const wanted = new Set(keys);
    const alertsByKey = new Map<string, Alert[]>();
    for (const a of this.o.engine.openAlerts()) {
      const key = a.pump || `@${a.gateway}`;
      if (!wanted.has(key)) continue;
      const list = alertsByKey.get(key);
      if (list) list.push(a);
      else alertsByKey.set(key, [a]);
    }
    const keep = this.o.dedupeSnapshot ?? 256;
    const points: IPoint[] = [];
    for (const key of keys) {
      const isGateway = key.startsWith('@');
      points.push(pumpStatePoint(key, {
        gateway: isGateway ? key.slice(1) : this.gatewayOf.get(key) ?? '',
        engine: isGateway ? null : this.o.engine.exportPump(key) ?? null,
        alerts: alertsByKey.get(key) ?? [],
        dedupe: encodeIdentities(this.dedupe.export(key).slice(-keep)),
        journalEpoch: this.o.journalEpoch, journalId: covered,
      }, this.stamps.next(now)));
    }
    return points;
  }

  /** remembers which gateway a restored pump belongs to */
  restoredGateway(pump: string, gateway: string): void {
    if (gateway) this.gatewayOf.set(pump, gateway);
  }

  /** drops a pump this instance no longer owns */
  forgetPump(serial: string): void {
    this.o.engine.forgetPump(serial);
    this.o.billing.forgetPump(serial);
    this.dedupe.forget(serial);
    this.gatewayOf.delete(serial);
    this.engineCovered.delete(serial);
    this.billingCovered.delete(serial);
  }

  get lastAppliedJournalId(): number {
    return this.currentId;
  }
}
