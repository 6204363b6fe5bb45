/**
 * Rebuilds what detection and billing need from storage: the newest checkpoint of every pump
 * (engine snapshot, open alerts, recent identities) and recent episodes. Used at start-up for
 * all pumps and on demand for one pump taken over from another instance.
 */
import type { Logger } from 'pino';
import type { PumpSnapshot } from '../engine/types.ts';
import { decodeIdentities } from '../ingest/dedupeWindow.ts';
import type { PointStore } from '../storage/influxStore.ts';
import { latestPumpStates, storedEpisodes } from '../storage/queries.ts';
import type { IngestPipeline } from './ingestPipeline.ts';
import type { PumpwatchCore } from './pumpwatchCore.ts';

/** how far back (server clock) episodes are reloaded: billing reports cover 30 days and more */
export const EPISODE_RESTORE_DAYS = 62;

export interface RestoreReport {
  pumps: number;
  alerts: number;
  episodes: number;
}

export async function restoreFromStorage(core: PumpwatchCore, pipeline: IngestPipeline, store: PointStore, nowMs: number, log: Pick<Logger, 'warn'>, pump?: string): Promise<RestoreReport> {
  const states = await latestPumpStates(store, pump);
  const episodes = await storedEpisodes(store, nowMs - EPISODE_RESTORE_DAYS * 86_400_000, pump);
  // what other pumps changed while the queries ran goes out now: endRestore() below discards the
  // engine's pending changes (the restored state is not news), and theirs must not go with it
  core.flushChanges();
  const report: RestoreReport = { pumps: 0, alerts: 0, episodes: 0 };
  for (const s of states) {
    const isGateway = s.key.startsWith('@');
    if (!isGateway && s.engine !== null) {
      try {
        core.restorePump(s.engine as PumpSnapshot);
        report.pumps++;
      } catch (err) {
        log.warn({ pump: s.key, err: (err as Error).message }, 'stored pump snapshot refused; the pump starts fresh');
      }
    }
    for (const a of s.alerts) {
      core.restoreAlert(a);
      report.alerts++;
    }
    if (!isGateway) {
      core.restoreCheckpoint(s.key, s.gateway, { epoch: s.journalEpoch, id: s.journalId });
      if (s.dedupe) pipeline.restoreIdentities(s.key, decodeIdentities(s.dedupe));
    }
  }
  core.restoreEpisodes(episodes);
  report.episodes = episodes.length;
  core.endRestore();
  return report;
}
