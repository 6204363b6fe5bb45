/**
 * Rebuilds what detection and billing need from storage: the newest checkpoint of every pump
 * (engine snapshot, open alerts, recent identities) and recent episodes. Used at start-up for
 * all pumps and on demand for one pump taken over from another instance.
 */
import type { Logger } from 'pino';
import type { EpisodeRecord } from '../billing/types.ts';
import type { PumpSnapshot } from '../engine/types.ts';
import { decodeIdentities } from '../ingest/dedupeWindow.ts';
import type { PointStore } from '../storage/influxStore.ts';
import { latestPumpStates, storedEpisodes } from '../storage/queries.ts';
import type { PumpwatchCore } from './pumpwatchCore.ts';

/** how far back (server clock) episodes are reloaded: billing reports cover 30 days and more */
export const EPISODE_RESTORE_DAYS = 62;

export interface RestoreReport {
  pumps: number;
  alerts: number;
  episodes: number;
}

export async function restoreFromStorage(core: PumpwatchCore, store: PointStore, nowMs: number, log: Pick<Logger, 'warn'>, pump?: string): Promise<RestoreReport> {
  const states = await latestPumpStates(store, pump);
  const episodes = await storedEpisodes(store, nowMs - EPISODE_RESTORE_DAYS * 86_400_000, pump);
  const report: RestoreReport = { pumps: 0, alerts: 0, episodes: 0 };
  for (const s of states) {
    const isGateway = s.key.startsWith('@');
    if (!isGateway && s.engine !== null) {
      try {
        core.engine.restorePump(s.engine as PumpSnapshot);
        report.pumps++;
      } catch (err) {
        log.warn({ pump: s.key, err: (err as Error).message }, 'stored pump snapshot refused; the pump starts fresh');
      }
    }
    for (const a of s.alerts) {
      core.engine.restoreAlert(a);
      report.alerts++;
    }
    if (!isGateway) {
      core.restoredGateway(s.key, s.gateway);
      if (s.dedupe) core.dedupe.restore(s.key, decodeIdentities(s.dedupe));
      core.engineCovered.set(s.key, { epoch: s.journalEpoch, id: s.journalId });
    }
  }
  const records: EpisodeRecord[] = [];
  for (const e of episodes) {
    records.push(e.record);
    const prev = core.billingCovered.get(e.record.pump);
    if (!prev || (prev.epoch === e.journalEpoch && e.journalId > prev.id) || prev.epoch !== e.journalEpoch) {
      core.billingCovered.set(e.record.pump, { epoch: e.journalEpoch, id: e.journalId });
    }
  }
  if (records.length > 0) core.billing.restore(records);
  report.episodes = records.length;
  // restored alerts come back through takeChanges(); they are not news
  core.engine.takeChanges();
  return report;
}
