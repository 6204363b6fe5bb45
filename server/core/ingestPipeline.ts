/**
 * Ingest in front of the core: one MQTT message is parsed (topic, payload), validated,
 * de-duplicated by identity (pump, seq, time), appended to the journal and handed to the core.
 * Every rejection is counted by reason and logged once. Runs 20,000+ times a second: nothing here
 * allocates per message beyond the entry itself and its journal bytes.
 */
import type { Logger } from 'pino';
import type { Alert } from '../../protocol/api.ts';
import { parsePumpMessage, validateAvailability } from '../../protocol/payloads.ts';
import { parseTopic } from '../../protocol/topics.ts';
import type { Clock } from '../clock.ts';
import type { Shard } from '../config.ts';
import { DedupeWindows, identityNumber } from '../ingest/dedupeWindow.ts';
import { DropCounter } from '../ingest/dropCounter.ts';
import { INGEST_DROP_REASONS, validationDropReason, type IngestDropReason } from '../ingest/dropReasons.ts';
import { decodeEntry, encodeEntry, type IngestJournal, type JournalEntry } from '../ingest/journalEntry.ts';
import { ownsPump } from '../ingest/shard.ts';
import { pointLine, type PointOrLine } from '../storage/lineProtocol.ts';
import { availabilityPoint, messageLine } from '../storage/points.ts';
import type { JournalCommitter } from './journalCommitter.ts';
import type { PumpwatchCore } from './pumpwatchCore.ts';

export interface IngestPipelineOptions {
  core: PumpwatchCore;
  journal: IngestJournal;
  committer: JournalCommitter;
  clock: Clock;
  log: Logger;
  shard: Shard | null;
  /** identities remembered per pump */
  dedupeWindow: number;
  /** the InfluxDB line of a journalled entry (null: nothing to store), encoded while it is at hand */
  entryLine?(id: number, line: string | null): void;
}

/** the InfluxDB line that stores a journal entry (acknowledgements are stored through their alert change) */
function lineOfEntry(e: JournalEntry): string | null {
  if (e.k === 'm') return messageLine(e.m, e.g);
  if (e.k === 'a') return pointLine(availabilityPoint(e.g, e.state, e.time, e.t));
  return null;
}

/** a journal entry read back from disk → the line that stores it (none for an acknowledgement) */
export function entryPoints(_id: number, data: Buffer): PointOrLine[] {
  const e = decodeEntry(data);
  const line = e ? lineOfEntry(e) : null;
  return line === null ? [] : [line];
}

export class IngestPipeline {
  readonly drops: DropCounter<IngestDropReason>;
  /** pump messages accepted (valid, new) */
  accepted = 0;
  duplicates = 0;
  /** pump messages of another instance's shard */
  notMine = 0;
  private readonly dedupe: DedupeWindows;
  /** gateway → its last availability (state|time): a retained copy delivered again is not news */
  private readonly lastAvailability = new Map<string, string>();

  constructor(private readonly o: IngestPipelineOptions) {
    this.drops = new DropCounter(o.log, INGEST_DROP_REASONS);
    this.dedupe = new DedupeWindows(o.dedupeWindow);
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

  /** records who acknowledged an alert, written before the reply says it is done; undefined for an unknown id */
  acknowledge(alertId: string, by: string): Alert | undefined {
    const engine = this.o.core.engine;
    if (!engine.alert(alertId)) return undefined;
    this.journalAndApply({ k: 'ack', t: this.o.clock.now(), id: alertId, by });
    this.o.committer.commit();
    return engine.alert(alertId);
  }

  /**
   * A nurse visit on a pump (untilMs null: ended), journalled and written before the reply says it
   * is done, like an acknowledgement; false for a pump this server does not hold.
   */
  setVisit(pump: string, untilMs: number | null, by: string): boolean {
    if (!this.o.core.engine.pump(pump)) return false;
    this.journalAndApply({ k: 'visit', t: this.o.clock.now(), pump, until: untilMs, by });
    this.o.committer.commit();
    return true;
  }

  /** writes what accept() journalled; false when the write failed (acknowledgements wait) */
  commit(): boolean {
    return this.o.committer.commit();
  }

  /** true while the journal cannot take more */
  blocked(): boolean {
    return this.o.committer.blocked();
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
    this.o.core.apply(e, id, false);
  }

  /** start-up: every journal entry not yet stored is applied again, in order; returns how many */
  replayJournal(chunk = 10_000): number {
    let replayed = 0;
    for (let after = this.o.journal.ackedId(); ;) {
      const entries = this.o.journal.readAfter(after, chunk);
      if (entries.length === 0) return replayed;
      replayed += this.replay(entries);
      after = (entries[entries.length - 1] as { id: number }).id;
    }
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
      // entries in the journal passed de-duplication when they arrived; keep the window current
      else if (e.k === 'm') this.dedupe.seenOrAdd(e.m.pump, identityNumber(e.m.seq, e.m.time));
      this.o.core.apply(e, id, true);
      applied++;
    }
    this.o.core.flushChanges();
    return applied;
  }

  /** a pump's recent identities, oldest first, at most `max` (for its checkpoint) */
  recentIdentities(pump: string, max: number): number[] {
    return this.dedupe.export(pump).slice(-max);
  }

  /** the identity of the last sentence of this pump accepted here or recorded by the checkpoint restored; null when none */
  lastIdentity(pump: string): number | null {
    return this.dedupe.newest(pump);
  }

  /** identities from a stored checkpoint */
  restoreIdentities(pump: string, ids: readonly number[]): void {
    this.dedupe.restore(pump, ids);
  }

  /** drops a pump this instance no longer owns, here and in the core */
  forgetPump(serial: string): void {
    this.dedupe.forget(serial);
    this.o.core.forgetPump(serial);
  }
}
