/** The ingest, storage and engine metrics of one server, read from their owners at scrape time. */
import type { EngineStats } from '../engine/types.ts';
import type { DropCounter } from '../ingest/dropCounter.ts';
import type { IngestDropReason } from '../ingest/dropReasons.ts';
import { METRICS as M } from './catalogue.ts';
import { exposeCounter, exposeCounterByLabel, exposeGauge, type Registry } from './registry.ts';

export interface ServerMetricSources {
  accepted: () => number;
  duplicates: () => number;
  otherShard: () => number;
  drops: DropCounter<IngestDropReason>;
  heldBack: () => number;
  storageBacklog: () => number;
  journalBytes: () => number;
  pointsWritten: () => number;
  writeFailures: () => number;
  engineStats: () => EngineStats;
  mqttUp: () => boolean;
  influxUp: () => boolean;
}

export function registerServerMetrics(registry: Registry, s: ServerMetricSources): void {
  exposeCounter(registry, M.ingestAccepted, s.accepted);
  exposeCounter(registry, M.ingestDuplicates, s.duplicates);
  exposeCounter(registry, M.ingestOtherShard, s.otherShard);
  exposeCounterByLabel(registry, M.ingestDropped, s.drops.reasons, (r) => s.drops.count(r));
  exposeCounter(registry, M.ingestHeldBack, s.heldBack);
  exposeGauge(registry, M.storageBacklog, s.storageBacklog);
  exposeGauge(registry, M.journalBytes, s.journalBytes);
  exposeCounter(registry, M.storagePointsWritten, s.pointsWritten);
  exposeCounter(registry, M.storageWriteFailures, s.writeFailures);
  exposeGauge(registry, M.pumps, () => s.engineStats().pumps);
  exposeGauge(registry, M.alertsOpen, () => s.engineStats().openAlerts);
  exposeCounter(registry, M.engineStaleSentences, () => s.engineStats().staleSentences);
  exposeCounter(registry, M.engineClockAheadSentences, () => s.engineStats().clockAheadSentences);
  exposeCounter(registry, M.engineHistoricSentences, () => s.engineStats().historicSentences);
  exposeGauge(registry, M.mqttUp, () => (s.mqttUp() ? 1 : 0));
  exposeGauge(registry, M.influxUp, () => (s.influxUp() ? 1 : 0));
}
