/**
 * The server as `npm run server` builds it (same configuration, engine, billing, journal, InfluxDB
 * and MQTT session, bundled and run with the same V8 flags), plus one bench hook: on SIGUSR2 it
 * feeds the rest of a fleet's day (bench/dayFleet.ts) straight into the ingest pipeline, as fast as
 * the journal and storage take it, then stores a checkpoint of every pump and prints one JSON
 * line `{"msg":"day fed",...}`.
 *
 * While the day is fed, the pump messages' InfluxDB lines are counted, not sent: InfluxDB on this
 * machine needs about 30 µs per point, seven minutes for a day of 10,000 pumps. Checkpoints,
 * alerts and episodes still go to the real InfluxDB.
 *
 * Environment besides the server's: DAY_START_MS (minute 0 of the day), DAY_PUMPS.
 */
import pino from 'pino';
import { createEpisodeTracker } from '../server/billing/index.ts';
import { buildServer } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { createDetectionEngine, DEFAULT_DETECTION_CONFIG } from '../server/engine/index.ts';
import { registerHttp } from '../server/http/registerHttp.ts';
import { createInfluxStore, type PointStore } from '../server/storage/influxStore.ts';
import { DAY_MINUTES, minuteMessages } from './dayFleet.ts';

const config = loadConfig(process.env);
const startMs = Number(process.env.DAY_START_MS);
const pumps = Number(process.env.DAY_PUMPS);
/** minutes 0 and 1 arrive through MQTT before the feed (the warm-up) */
const FIRST_FED_MINUTE = 2;
/** messages fed between two turns of the event loop (journal commit, storage, timers) */
const SLICE = 2000;
const root = pino({ level: config.logLevel, base: { pid: process.pid } });

let discardLines = false;
let discardedLines = 0;
const influx = createInfluxStore({ url: config.influxUrl, database: config.influxDatabase, retentionDays: config.influxRetentionDays });
const store: PointStore = {
  ...influx,
  async writeLines(body) {
    if (!discardLines) return influx.writeLines(body);
    for (const b of body) if (b === 0x0a) discardedLines++;
  },
};

const server = await buildServer({
  config, log: root, store,
  createEngine: createDetectionEngine, detectionDefaults: DEFAULT_DETECTION_CONFIG,
  createTracker: createEpisodeTracker, registerHttp,
  fastify: { loggerInstance: root.child({ component: 'http' }, { level: 'warn' }) },
});
await server.start();
const address = await server.app.listen({ host: config.host, port: config.port });
root.info({ url: address }, 'listening');

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function feedDay(): Promise<void> {
  discardLines = true;
  const t0 = performance.now();
  const pipeline = server.pipeline;
  const before = { accepted: pipeline.accepted, duplicates: pipeline.duplicates };
  let fed = 0;
  let sentDuplicates = 0;
  let inSlice = 0;
  for (let m = FIRST_FED_MINUTE; m < DAY_MINUTES; m++) {
    for (let i = 0; i < pumps; i++) {
      for (const msg of minuteMessages(i, m, startMs)) {
        pipeline.accept(msg.topic, msg.body);
        fed++;
        if (msg.duplicate) sentDuplicates++;
        if (++inSlice < SLICE) continue;
        inSlice = 0;
        await turn();
        while (pipeline.blocked()) await sleep(20); // the journal is full: wait for storage, as MQTT ingest does
      }
    }
  }
  const feedMs = performance.now() - t0;
  // a checkpoint of every pump (engine snapshot, alerts, de-duplication window) into InfluxDB
  await server.writer.flushNow();
  while (server.writer.backlog() > 0) await sleep(100);
  discardLines = false;
  const mem = process.memoryUsage();
  root.info({
    fed, feedMs: Math.round(feedMs), accepted: pipeline.accepted - before.accepted, duplicates: pipeline.duplicates - before.duplicates, sentDuplicates,
    discardedLines, heapUsed: mem.heapUsed, arrayBuffers: mem.arrayBuffers, external: mem.external,
  }, 'day fed');
}

/**
 * After the day, the fleet goes on at its real rate (one status per pump a minute, 167 msg/s for
 * 10,000 pumps) for a minute, then one more line `{"msg":"real rate",...}`: the memory of a
 * deployment a day in, once the buffers a 15,000 msg/s feed fills (young generation, line log,
 * journal cache) are no longer in use.
 */
async function realRate(): Promise<void> {
  const pipeline = server.pipeline;
  const t0 = performance.now();
  const m = DAY_MINUTES;
  for (let i = 0; i < pumps; i++) {
    for (const msg of minuteMessages(i, m, startMs)) pipeline.accept(msg.topic, msg.body);
    // pacing to the fleet's real rate, not a wait for a condition
    const dueMs = ((i + 1) / pumps) * 60_000 - (performance.now() - t0);
    if (dueMs > 1) await sleep(dueMs);
  }
  const mem = process.memoryUsage();
  root.info({ pumps, heapUsed: mem.heapUsed, arrayBuffers: mem.arrayBuffers, external: mem.external }, 'real rate');
}

process.on('SIGUSR2', () => {
  feedDay().then(realRate).catch((err: unknown) => root.error({ err: (err as Error).message }, 'day feed failed'));
});
process.on('SIGTERM', () => {
  server.stop().then(() => process.exit(0), () => process.exit(1));
});
