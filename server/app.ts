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
import { Heartbeat } from './cluster/heartbeat.ts';
import { assertLease, PostgresLeaseStore, type Queryable } from './cluster/leaseStore.ts';
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
import { withPagingOff, withPagingViews } from './core/pagingViews.ts';
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
import type { PageChannel } from './paging/channel.ts';
import { createPushChannel } from './paging/pushChannel.ts';
import { PushSubscriptionStore } from './paging/pushSubscriptions.ts';
import { registerHl7Metrics } from './hl7/hl7Metrics.ts';
import { Hl7Output, parseReceiver } from './hl7/hl7Output.ts';
import type { Receiver } from './hl7/outbox.ts';
import { DurableJournal } from './ingest/durableJournal.ts';
import type { IngestJournal } from './ingest/journalEntry.ts';
import { MqttIngest } from './ingest/mqttIngest.ts';
import { ownsPump } from './ingest/shard.ts';
import { createMetricsRegistry, type Registry } from './metrics/registry.ts';
import { registerServerMetrics } from './metrics/serverMetrics.ts';
import { createPaging } from './paging/pagingSetup.ts';
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
  /** Web Push subscriptions of people's devices (Contact.push); null without DATABASE_URL */
  pushSubscriptions: PushSubscriptionStore | null;
  /** the Web Push paging channel; null without the VAPID keys */
  pushChannel: PageChannel | null;
  /** IHE PCD messages to the HL7_MLLP_TARGETS receivers; null without any */
  hl7: Hl7Output | null;
  /** true while this instance judges the pump (its SHARD; with CLUSTER_MODE=lease, its partition's lease held now) */
  ownsPump(serial: string): boolean;
  /**
   * Fencing for a PostgreSQL transaction written on behalf of a pump (paging): with
   * CLUSTER_MODE=lease it passes only while this instance holds the pump's lease under its current
   * token, and locks the lease row until COMMIT; throws LeaseLostError (code LEASE_LOST) otherwise.
   * Without leases it does nothing.
   */
  fenceInTransaction(tx: Queryable, serial: string): Promise<void>;
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
  const core = new PumpwatchCore({ engine, billing: tracker, journalEpoch, bus, journal: committer, completeResidualMl: billingConfig.completeResidualMl });
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
  // Web Push (docs/push.md): the devices people subscribed, and the channel that pages them; a
  // device its push service calls gone is removed
  const pushSubscriptions = database.pool ? new PushSubscriptionStore(database.pool) : null;
  const pushChannel = c.vapidPublicKey !== null && c.vapidPrivateKey !== null && c.vapidSubject !== null
    ? createPushChannel({
      publicKey: c.vapidPublicKey, privateKey: c.vapidPrivateKey, subject: c.vapidSubject,
      onGone: (endpoint) => pushSubscriptions?.removeGone(endpoint).then(() => undefined, (err: unknown) => {
        slog.warn({ err: (err as Error).message }, 'a gone Web Push subscription could not be removed; it will be tried again');
      }),
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
    ...(c.clusterMode === 'lease' && database.pool ? { lease: { store: new PostgresLeaseStore(database.pool), points: store, checkpointNow: () => writer.checkpointNow() } } : {}),
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
  registerClusterMetrics(metrics, cluster.relay, cluster.handover, cluster.lease);
  // HL7 to the hospital's systems: subscribed now, so facts replayed at start-up are sent too
  const hl7Receivers = c.hl7Targets.map(parseReceiver).filter((r): r is Receiver => r !== null);
  const hl7 = hl7Receivers.length > 0
    ? new Hl7Output({
      receivers: hl7Receivers, stateDir: c.journalDir, bus, clock, log,
      pumps: () => core.engine.pumps(),
      patientOf: (pump) => {
        const e = clinical?.active.forPump(pump);
        return e ? { mrn: e.patient.mrn, name: e.patient.name, drug: e.order.drug } : null;
      },
      observationS: c.hl7ObservationS, aeRetries: c.hl7AeRetries, retryMaxMs: c.hl7RetryMaxS * 1000,
    })
    : null;
  if (hl7) {
    hl7.subscribe();
    registerHl7Metrics(metrics, hl7);
  }
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
  const clinicalBackend = clinical ? { ...withClinicalViews(labelled, clinical.active), clinical } : labelled;
  // health shows each HL7 receiver's backlog, last error and connection
  const hl7Backend: ApiBackend = hl7
    ? { ...clinicalBackend, health: async () => ({ ...(await clinicalBackend.health()), hl7: hl7.health() }) }
    : clinicalBackend;
  // which pumps this instance judges, and the lease fence on PostgreSQL writes made for a pump
  const ownsPumpNow = (serial: string): boolean => (cluster.lease ? cluster.lease.owns(serial) : ownsPump(c.shard, serial));
  const fenceInTransaction = async (tx: Queryable, serial: string): Promise<void> => {
    const lease = cluster.lease?.leases;
    if (lease) await assertLease(tx, serial, c.instanceId, lease.fence(serial), lease.partitions);
  };
  // paging (§7): only with PostgreSQL; the facts are heard from now on, handled once it is up
  const patients = database.pool ? new ClinicalStore({ pool: database.pool, clock }) : null;
  const paging = database.pool && patients
    ? createPaging({
      pool: database.pool, settings: c, bus, clock, log, metrics,
      whenUp: () => database.whenUp(),
      openAlerts: () => core.engine.openAlerts(),
      // scale-out: an instance drives the chains of the pumps it judges (its SHARD, its leases, or the shared group's pumps it has)
      owns: (pump) => ownsPumpNow(pump) && (c.sharedGroup === null || core.engine.pump(pump) !== undefined),
      fence: (tx, pump) => fenceInTransaction(tx, pump),
      // a pump taken over is owned before it is rebuilt: until then its alerts are not in openAlerts
      holds: (pump) => core.engine.pump(pump) !== undefined,
      ...(pushChannel ? { extraChannels: [pushChannel] } : {}),
      patientOf: async (a) => {
        if (!a.patientId) return null;
        const p = await patients.getPatient(a.patientId, 'paging');
        return { mrn: p.mrn, name: p.name, phone: p.phone };
      },
    })
    : null;
  const backend = paging ? withPagingViews(hl7Backend, paging.service, paging.api) : withPagingOff(hl7Backend);
  const app = Fastify({ logger: false, ...(deps.fastify ?? {}) } as FastifyServerOptions);
  const http = await deps.registerHttp(app, backend, {
    tokens: c.apiTokens, usersFile: c.usersFile, https: false, clock: () => clock.now(), metrics, database, timeZone: c.serverTimeZone,
    push: { publicKey: c.vapidPublicKey, store: pushSubscriptions }, ...(deps.http ?? {}),
  });

  const heartbeat = c.heartbeatUrl !== null
    ? new Heartbeat({
      url: c.heartbeatUrl, method: c.heartbeatMethod === 'POST' ? 'POST' : 'GET', periodMs: c.heartbeatS * 1000, instanceId: c.instanceId,
      health: () => backend.health(), log: log.child({ component: 'heartbeat' }),
      ...(cluster.lease ? { leasesReachable: () => cluster.lease?.leases.reachable === true } : {}),
    })
    : null;

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
    app, bus, core, pipeline, backend, writer, ingest, journal, cluster, rebuildPump, metrics, database, clinical, pushSubscriptions, pushChannel, hl7,
    ownsPump: ownsPumpNow,
    fenceInTransaction,
    async start() {
      // the HL7 queues open first: any fact published from here on is queued for the receivers
      hl7?.start();
      // never waited for: the alarm path runs without PostgreSQL
      clinical?.start();
      database.start();
      await journal.open();
      const restored = await restore();
      const replayed = pipeline.replayJournal();
      if (replayed > 0) slog.info({ entries: replayed }, 'journal replayed');
      paging?.start();
      if (c.shard !== null || c.sharedGroup !== null || cluster.lease) slog.info({ ...cluster.afterRestore(restored), shard: c.shard, sharedGroup: c.sharedGroup, clusterMode: c.clusterMode, instance: c.instanceId }, 'pumps of this instance kept');
      cluster.start();
      if (cluster.lease) unsubscribe.push(database.onUp(() => cluster.startLeases()));
      core.tick(clock.now());
      writer.start();
      ticker = setInterval(() => {
        cluster.checkLeases();
        core.tick(clock.now());
      }, 1000);
      heartbeat?.start();
      ingest.start((topic, payload) => {
        if (!labels.handleMessage(topic, payload)) cluster.accept(topic, payload);
      });
    },
    async stop() {
      if (ticker) clearInterval(ticker);
      ticker = null;
      heartbeat?.stop();
      cluster.publishPending();
      await ingest.stop();
      await cluster.stop();
      core.flushChanges();
      // the last facts are queued: give the receivers a moment to take them (the rest stays on disk)
      await hl7?.stop();
      await http.stop();
      await clinical?.stop();
      await paging?.stop();
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
