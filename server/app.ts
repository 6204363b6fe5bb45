/**
 * buildServer(deps): the whole server wired together, without listening. main.ts listens;
 * tests and benches build it in-process with their own clock, store or journal.
 * The parts are built in dependency order; what the core decides reaches the parts that act on
 * it as facts on the bus (server/events/facts.ts). A new output is a folder plus one line below.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { BillingConfig, EpisodeTracker } from './billing/types.ts';
import { Cluster, clusterSubscriptions } from './cluster/cluster.ts';
import { registerClusterMetrics } from './cluster/clusterMetrics.ts';
import { PumpLabels, withPumpLabels } from './cluster/pumpLabels.ts';
import { systemClock, type Clock } from './clock.ts';
import type { ServerConfig } from './config.ts';
import { billingConfigOf } from './config/billingConfig.ts';
import { BillingHistory } from './core/billingHistory.ts';
import { ClinicalStore } from './clinical/clinicalStore.ts';
import { DrugLimitStore } from './clinical/drugLimits.ts';
import { createApiBackend } from './core/apiBackend.ts';
import { Checkpointer } from './core/checkpointer.ts';
import { ClinicalRecords } from './core/clinicalRecords.ts';
import { withClinicalViews } from './core/clinicalViews.ts';
import { entryPoints, IngestPipeline } from './core/ingestPipeline.ts';
import { JournalCommitter } from './core/journalCommitter.ts';
import { PumpwatchCore } from './core/pumpwatchCore.ts';
import { restoreFromStorage, type RestoreReport } from './core/restore.ts';
import { ClinicalDatabase, type ClinicalDatabaseOptions } from './db/database.ts';
import type { DetectionConfig, DetectionEngine, EngineOptions } from './engine/types.ts';
import { EventBus } from './events/eventBus.ts';
import type { ApiBackend } from './http/backend.ts';
import type { HttpOptions } from './http/options.ts';
import type { HttpLayer } from './http/registerHttp.ts';
import { DurableJournal } from './ingest/durableJournal.ts';
import type { IngestJournal } from './ingest/journalEntry.ts';
import { MqttIngest } from './ingest/mqttIngest.ts';
import { createMetricsRegistry, type Registry } from './metrics/registry.ts';
import { registerServerMetrics } from './metrics/serverMetrics.ts';
import { storeAlertHistory } from './storage/alertHistory.ts';
import { createInfluxStore, type PointStore } from './storage/influxStore.ts';
import { LineLog } from './storage/lineLog.ts';
import { pumpLabelPoint, ServerTimestamps } from './storage/points.ts';
import { storedPumpLabels } from './storage/queries.ts';
import { StorageWriter } from './storage/storageWriter.ts';

export interface ServerDeps {
  config: Readonly<ServerConfig>;
  log: Logger;
  clock?: Clock;
  createEngine(config: DetectionConfig, options?: EngineOptions): DetectionEngine;
  detectionDefaults: Readonly<DetectionConfig>;
  createTracker(config: BillingConfig): EpisodeTracker;
  /** the HTTP, auth and WebSocket layer */
  registerHttp(app: FastifyInstance, backend: ApiBackend, options: HttpOptions): Promise<HttpLayer>;
  /** test seams */
  store?: PointStore;
  journal?: IngestJournal & { epoch: string };
  /** extra HTTP options (dashboard folder, TLS) */
  http?: Partial<HttpOptions>;
  /** fastify options (logger instance, trustProxy, and `https` key/cert for TLS) */
  fastify?: FastifyServerOptions & { https?: { key: Buffer; cert: Buffer } };
  /** how long start() waits for InfluxDB to rebuild state before carrying on without it, ms */
  restoreWaitMs?: number;
  /** PostgreSQL retry and probe periods (tests shorten them) */
  database?: Pick<ClinicalDatabaseOptions, 'retryMinMs' | 'retryMaxMs' | 'probeMs' | 'pool'>;
  /** how often the open assignments and drug limits are re-read (changes made by another instance), ms */
  clinicalReloadMs?: number;
}

export interface PumpwatchServer {
  app: FastifyInstance;
  /** the facts the core publishes; subscribe before start() to see the replayed ones too */
  bus: EventBus;
  core: PumpwatchCore;
  pipeline: IngestPipeline;
  backend: ApiBackend;
  writer: StorageWriter;
  ingest: MqttIngest;
  journal: IngestJournal;
  /** rebuilds state, starts storage, ingest and timers (not the HTTP listener) */
  start(): Promise<void>;
  /** stops ingest, flushes journal and storage, closes everything */
  stop(): Promise<void>;
  /** scale-out handover: reload one pump from storage before judging its next sentence */
  rebuildPump(serial: string): Promise<RestoreReport>;
  /** SHARD / shared-subscription wiring and the relay between instances */
  cluster: Cluster;
  /** this server's metrics, served at GET /metrics */
  metrics: Registry;
  /** PostgreSQL (status 'off' and no pool without DATABASE_URL); accounts and sessions use its pool too */
  database: ClinicalDatabase;
  /** clinical records wired into verification; null without DATABASE_URL */
  clinical: ClinicalRecords | null;
}

/** lines of entries not yet in InfluxDB kept ready to send; a longer backlog is decoded from the journal */
const LINE_LOG_BYTES = 32 * 1024 * 1024;

export async function buildServer(deps: ServerDeps): Promise<PumpwatchServer> {
  const { config: c, log } = deps;
  const clock = deps.clock ?? systemClock;
  const slog = log.child({ component: 'server' });
  const bus = new EventBus(log.child({ component: 'events' }));

  // storage and the journal
  const store = deps.store ?? createInfluxStore({
    url: c.influxUrl, database: c.influxDatabase, retentionDays: c.influxRetentionDays,
  });
  const journal = deps.journal ?? new DurableJournal({
    dir: c.journalDir, maxBytes: c.journalMaxBytes, fsyncMs: c.journalFsyncMs,
    onFsyncError: (err) => log.error({ component: 'journal', err: err.message }, 'journal fsync failed'),
  });
  const journalEpoch = journal instanceof DurableJournal ? journal.epoch : (deps.journal?.epoch ?? 'test');
  const lineLog = new LineLog(LINE_LOG_BYTES);

  // the pure domain
  const engine = deps.createEngine({
    ...deps.detectionDefaults,
    ...c.detection,
    stoppedGraceS: c.stoppedGraceS, signalLostS: c.signalLostS, escalateAfterS: c.escalateAfterS,
  }, { timeZone: c.serverTimeZone });
  const billingConfig = billingConfigOf(c, deps.detectionDefaults);
  const tracker = deps.createTracker(billingConfig);

  // the core: journal commits, the core itself, the ingest pipeline in front of it, checkpoints behind it
  const ilog = log.child({ component: 'ingest' });
  const committer = new JournalCommitter(journal, bus, ilog);
  const core = new PumpwatchCore({ engine, billing: tracker, journalEpoch, bus, journal: committer });
  const pipeline = new IngestPipeline({
    core, journal, committer, clock, log: ilog, shard: c.shard, dedupeWindow: c.dedupeWindow,
    entryLine: (id, line) => lineLog.append(id, line),
  });
  const checkpointer = new Checkpointer({ core, pipeline, journal, clock });
  const writer = new StorageWriter({
    store, journal, clock, log: log.child({ component: 'storage' }),
    batchSize: c.writeBatchSize, flushMs: c.writeFlushMs, checkpointMs: c.checkpointMs,
    entryPoints, checkpoint: (id) => checkpointer.slices(id), lines: lineLog,
  });
  // clinical records (PostgreSQL): pushed into the engine through the core, never queried per message
  const database = new ClinicalDatabase({ url: c.databaseUrl, log, ...(deps.database ?? {}) });
  const clinical = database.pool
    ? new ClinicalRecords({
      database, core, clock, log: log.child({ component: 'clinical' }),
      store: new ClinicalStore({ pool: database.pool, clock }),
      limits: new DrugLimitStore(database.pool),
      ...(deps.clinicalReloadMs !== undefined ? { reloadMs: deps.clinicalReloadMs } : {}),
    })
    : null;
  const rebuildPump = async (serial: string): Promise<RestoreReport> => {
    pipeline.forgetPump(serial);
    const report = await restoreFromStorage(core, pipeline, store, clock.now(), slog, serial);
    // the engine forgot the pump: give it its assignment again
    clinical?.repush(serial);
    return report;
  };

  // MQTT, and scale-out around the core
  const ingest = new MqttIngest({
    url: c.mqttUrl, clientId: c.mqttClientId, username: c.mqttUsername, password: c.mqttPassword, caFile: c.mqttCaFile,
    subscriptions: clusterSubscriptions(c),
    log: log.child({ component: 'mqtt' }),
    commit: () => pipeline.commit(),
    blocked: () => pipeline.blocked(),
  });
  // billing beyond memory, and every instance's answer, from the stored record (docs/billing.md, "History")
  const billingHistory = new BillingHistory({
    store, createTracker: () => deps.createTracker(billingConfig), assignments: () => core.billingAssignments, now: () => clock.now(),
  });
  const cluster = new Cluster({
    config: c, core, pipeline, bus, journalEpoch, clock, log,
    publish: (topic, payload, retain) => ingest.publish(topic, payload, retain),
    rebuild: rebuildPump,
    billing: { store, createTracker: () => deps.createTracker(billingConfig), history: billingHistory },
  });
  const labelStamps = new ServerTimestamps();
  const labels = new PumpLabels({
    instanceId: c.instanceId,
    persist: (pump, label) => writer.enqueue([pumpLabelPoint(pump, label, labelStamps.next(clock.now()))]),
    // retained, so an instance started later shows the label too (only instances that share views subscribe)
    publish: (topic, payload) => {
      if (c.clusterRelay) ingest.publish(topic, payload, true);
    },
    dropped: (topic) => cluster.relay?.drops.drop('BAD_CLUSTER_MESSAGE', { topic: topic.slice(0, 160) }),
  });

  // metrics, the API backend, HTTP and WebSocket
  const metrics = createMetricsRegistry();
  registerServerMetrics(metrics, {
    accepted: () => pipeline.accepted, duplicates: () => pipeline.duplicates, otherShard: () => pipeline.notMine, drops: pipeline.drops,
    heldBack: () => ingest.heldBack, storageBacklog: () => writer.backlog(), journalBytes: () => journal.pendingBytes(),
    pointsWritten: () => writer.writtenPoints, writeFailures: () => writer.writeFailures,
    engineStats: () => core.engine.stats(), mqttUp: () => ingest.up, influxUp: () => writer.influxUp,
  });
  registerClusterMetrics(metrics, cluster.relay, cluster.handover);
  // labels go over the whole fleet's view: a pump another instance holds can be labelled here too;
  // patient and order over that, where the views leave the server
  const labelled = withPumpLabels(cluster.wrapBackend(createApiBackend({
    core, pipeline, bus, store, writer, clock,
    mqttUp: () => ingest.up,
    ingestBlocked: () => pipeline.blocked(),
    databaseStatus: () => database.status,
    timeZone: c.serverTimeZone,
    history: billingHistory,
  })), labels);
  const backend = clinical ? { ...withClinicalViews(labelled, clinical.active), clinical } : labelled;
  const app = Fastify({ logger: false, ...(deps.fastify ?? {}) } as FastifyServerOptions);
  const http = await deps.registerHttp(app, backend, {
    tokens: c.apiTokens, usersFile: c.usersFile, https: false, clock: () => clock.now(), metrics, database, timeZone: c.serverTimeZone, ...(deps.http ?? {}),
  });

  // the facts that connect them (the live hub and the cluster relay subscribe to `changes` themselves)
  const unsubscribe = [
    bus.on('journalled', () => writer.notify()),
    storeAlertHistory(bus, writer, clock),
  ];

  let ticker: NodeJS.Timeout | null = null;

  /** true when storage answered */
  async function restore(): Promise<boolean> {
    const deadline = Date.now() + (deps.restoreWaitMs ?? 30_000);
    for (let attempt = 1; ; attempt++) {
      try {
        await store.ensureSchema();
        writer.markUp();
        const report = await restoreFromStorage(core, pipeline, store, clock.now(), slog);
        labels.load(await storedPumpLabels(store));
        slog.info({ ...report }, 'state rebuilt from storage');
        return true;
      } catch (err) {
        if (Date.now() > deadline) {
          slog.error({ err: (err as Error).message }, 'InfluxDB unreachable: starting without stored state (alerts may repeat once)');
          return false;
        }
        if (attempt === 1) slog.warn({ err: (err as Error).message }, 'InfluxDB unreachable at start-up; waiting to rebuild state');
        await new Promise((r) => setTimeout(r, Math.min(2000, 250 * attempt)));
      }
    }
  }

  return {
    app, bus, core, pipeline, backend, writer, ingest, journal, cluster, rebuildPump, metrics, database, clinical,
    async start() {
      // never waited for: the alarm path runs without PostgreSQL
      clinical?.start();
      database.start();
      await journal.open();
      const restored = await restore();
      const replayed = pipeline.replayJournal();
      if (replayed > 0) slog.info({ entries: replayed }, 'journal replayed');
      if (c.shard !== null || c.sharedGroup !== null) slog.info({ ...cluster.afterRestore(restored), shard: c.shard, sharedGroup: c.sharedGroup, instance: c.instanceId }, 'pumps of this instance kept');
      cluster.start();
      core.tick(clock.now());
      writer.start();
      ticker = setInterval(() => core.tick(clock.now()), 1000);
      ingest.start((topic, payload) => {
        if (!labels.handleMessage(topic, payload)) cluster.accept(topic, payload);
      });
    },
    async stop() {
      if (ticker) clearInterval(ticker);
      ticker = null;
      cluster.publishPending();
      await ingest.stop();
      await cluster.stop();
      core.flushChanges();
      await http.stop();
      clinical?.stop();
      await database.stop();
      await writer.stop();
      await journal.flush().catch(() => undefined);
      await journal.close();
      for (const off of unsubscribe) off();
      store.close();
      await app.close();
    },
  };
}
