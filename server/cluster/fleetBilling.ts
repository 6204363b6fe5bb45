/**
 * Billing for the pumps other instances hold: their episodes as last checkpointed in storage
 * (at most CHECKPOINT_MS old), rebuilt in a tracker of their own for each request. Billing
 * requests are rare and read a bounded window, so nothing is kept between them.
 */
import type { Episode } from '../../protocol/api.ts';
import type { EpisodeTracker, EvidenceRange } from '../billing/types.ts';
import { EPISODE_RESTORE_DAYS } from '../core/restore.ts';
import type { EpisodeQueryMs } from '../http/backend.ts';
import type { PointStore } from '../storage/influxStore.ts';
import { storedEpisodes } from '../storage/queries.ts';

export interface FleetBillingOptions {
  store: PointStore;
  createTracker(): EpisodeTracker;
  /** true for pumps this instance's own tracker holds */
  isLocalPump(serial: string): boolean;
  now(): number;
}

export class FleetBilling {
  constructor(private readonly o: FleetBillingOptions) {}

  private async remoteTracker(pump?: string): Promise<EpisodeTracker> {
    const stored = await storedEpisodes(this.o.store, this.o.now() - EPISODE_RESTORE_DAYS * 86_400_000, pump);
    const t = this.o.createTracker();
    const records = stored.map((s) => s.record).filter((r) => !this.o.isLocalPump(r.pump));
    if (records.length > 0) t.restore(records);
    return t;
  }

  async episodes(q: EpisodeQueryMs): Promise<Episode[]> {
    if (q.pump !== undefined && this.o.isLocalPump(q.pump)) return [];
    const t = await this.remoteTracker(q.pump);
    return t.episodes({ fromMs: q.fromMs, toMs: q.toMs, ...(q.pump !== undefined ? { pump: q.pump } : {}) });
  }

  async episode(id: string): Promise<Episode | undefined> {
    return (await this.remoteTracker()).episode(id);
  }

  async evidenceRange(id: string): Promise<EvidenceRange | undefined> {
    return (await this.remoteTracker()).evidenceRange(id);
  }
}
