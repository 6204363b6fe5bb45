/**
 * Checkpoints: what a restart or a handover needs to resume without replaying the whole journal.
 * Billing records first (their state at the journal entry given), then a snapshot of each pump
 * (and gateway) that changed since the last checkpoint: engine state, open alerts, recent
 * identities, and the journal entry the snapshot covers at the moment it is taken.
 */
import type { IPoint } from 'influx';
import type { Alert } from '../../protocol/api.ts';
import type { Clock } from '../clock.ts';
import { encodeIdentities } from '../ingest/dedupeWindow.ts';
import { episodePoint, episodeRecordTimestampNs, pumpStatePoint, ServerTimestamps } from '../storage/points.ts';
import type { IngestPipeline } from './ingestPipeline.ts';
import type { PumpwatchCore } from './pumpwatchCore.ts';

export interface CheckpointerOptions {
  core: PumpwatchCore;
  pipeline: IngestPipeline;
  journal: { lastId(): number };
  clock: Clock;
  /** identities kept in each snapshot */
  dedupeSnapshot?: number;
}

export class Checkpointer {
  private readonly stamps = new ServerTimestamps();

  constructor(private readonly o: CheckpointerOptions) {}

  /**
   * A checkpoint in slices: first the billing records (state at `journalId`), then snapshots of
   * the pumps that changed, a few hundred per slice so ingest keeps running in between. Each
   * snapshot carries the journal entry it covers at the moment it is taken.
   */
  *slices(journalId: number, sliceSize = 500): Generator<IPoint[]> {
    const { core } = this.o;
    const epoch = core.journalEpoch;
    // a record changed twice since the last checkpoint is stored once, in its latest form
    const records = [...new Map(core.billing.takeChanged().map((r) => [r.id, r])).values()];
    const now = this.o.clock.now();
    if (records.length === 0) yield [];
    // serialised a slice at a time: 10,000 pumps' records as JSON at once is a heap spike of tens of MB
    for (let i = 0; i < records.length; i += sliceSize) {
      yield records.slice(i, i + sliceSize).map((rec) => episodePoint(rec, epoch, journalId, episodeRecordTimestampNs(rec.id, now)));
    }
    const keys = core.takeChangedKeys();
    for (let i = 0; i < keys.length; i += sliceSize) yield this.snapshotPoints(keys.slice(i, i + sliceSize));
  }

  /** everything of a checkpoint at once (tests, shutdown) */
  points(journalId: number): IPoint[] {
    return [...this.slices(journalId, Number.MAX_SAFE_INTEGER)].flat();
  }

  private snapshotPoints(keys: string[]): IPoint[] {
    const { core, pipeline } = this.o;
    const covered = this.o.journal.lastId();
    const now = this.o.clock.now();
    const wanted = new Set(keys);
    const alertsByKey = new Map<string, Alert[]>();
    for (const a of core.engine.openAlerts()) {
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
        gateway: isGateway ? key.slice(1) : core.gatewayOf(key),
        engine: isGateway ? null : core.engine.exportPump(key) ?? null,
        alerts: alertsByKey.get(key) ?? [],
        dedupe: encodeIdentities(pipeline.recentIdentities(key, keep)),
        journalEpoch: core.journalEpoch, journalId: covered,
      }, this.stamps.next(now)));
    }
    return points;
  }
}
