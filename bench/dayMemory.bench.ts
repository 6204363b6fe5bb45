/**
 * Server memory after a day, not minutes: 10,000 pumps, each 1,440 statuses plus program, START,
 * a pause and the duplicates a deployment sees (bench/dayFleet.ts), 14.4 million messages.
 *
 * The server is bench/dayServer.ts: `npm run server`'s build with the same V8 flags, on a real
 * Mosquitto and influxd. The first two minutes of the day (40,000 messages: every pump created in
 * the engine and its series in InfluxDB) arrive through MQTT; the other 1,438 minutes are fed
 * straight into the core's ingest in that process, since through MQTT and InfluxDB they would
 * take over ten minutes on two cores. Resident memory is read from /proc after the feed and a
 * checkpoint of every pump, and again after a further minute at the fleet's real rate (the
 * target: a deployment a day in does not carry the buffers of a 15,000 msg/s feed).
 * `npm run bench -- dayMemory`.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startProcess } from '../test/helpers/childProcess.ts';
import { startInfluxd } from '../test/helpers/influxd.ts';
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import { freePort } from '../test/helpers/ports.ts';
import { tempDir } from '../test/helpers/tempDir.ts';
import { DAY_MINUTES, minuteMessages } from './dayFleet.ts';
import { encodePublishes, publishEncoded } from './publishFleet.ts';
import type { BenchRow } from './types.ts';

/** 10,000; PUMPWATCH_DAY_PUMPS sets fewer for a quick look (the target is for 10,000) */
const PUMPS = Number(process.env.PUMPWATCH_DAY_PUMPS ?? 10_000);
const TOKEN = 'bench-token-0123456789';
/** the whole row gives up after this long */
const DEADLINE_MS = 30 * 60_000;
/** the V8 flags of `npm run server` (package.json) */
const SERVER_FLAGS = ['--max-semi-space-size=32', '--single-threaded-gc', '--max-old-space-size=256'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function procStatus(pid: number, field: string): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

export async function run(): Promise<BenchRow[]> {
  const area = 'server, a day';
  const deadline = Date.now() + DEADLINE_MS;
  // the day ended ten minutes ago, so that no pump clock is ahead of the server's
  const startMs = Math.floor((Date.now() - DAY_MINUTES * 60_000 - 10 * 60_000) / 1000) * 1000;
  const broker = await startMosquitto();
  const influx = await startInfluxd();
  const dir = tempDir('pumpwatch-day-');
  const port = await freePort();
  execFileSync('node', ['scripts/bundle.mjs', 'bench/dayServer.ts']);
  const server = startProcess('node', [...SERVER_FLAGS, '.build/bench/dayServer.mjs'], {
    env: {
      MQTT_URL: broker.url, INFLUX_URL: influx.urlFor('pumpwatch_day'), HOST: '127.0.0.1', PORT: String(port),
      PUMPWATCH_JOURNAL_DIR: `${dir.path}/journal`, PUMPWATCH_USERS_FILE: `${dir.path}/users.json`, PUMPWATCH_API_TOKENS: TOKEN,
      DAY_START_MS: String(startMs), DAY_PUMPS: String(PUMPS),
    },
  });
  const rows: BenchRow[] = [];
  try {
    await server.waitForLine(/"msg":"listening"/, 60_000);
    const pid = server.child.pid as number;
    rows.push({ area, metric: 'resident memory at start', value: procStatus(pid, 'VmRSS'), unit: 'MB' });

    // minutes 0 and 1 through MQTT: program, START and two statuses per pump
    const warm: { topic: string; body: string }[] = [];
    for (const m of [0, 1]) for (let i = 0; i < PUMPS; i++) for (const msg of minuteMessages(i, m, startMs)) warm.push({ topic: msg.topic, body: msg.body.toString() });
    await publishEncoded(broker.url, encodePublishes(warm), { ratePerS: 25_000 });
    while ((await metric(port, 'pumpwatch_ingest_accepted_total')) < warm.length || (await metric(port, 'pumpwatch_storage_backlog')) > 0) {
      if (Date.now() > deadline) throw new Error('warm-up through MQTT not stored in time');
      await sleep(200);
    }
    rows.push({ area, metric: `resident memory after MQTT warm-up (${PUMPS} pumps × 4 messages)`, value: procStatus(pid, 'VmRSS'), unit: 'MB' });

    process.kill(pid, 'SIGUSR2');
    const line = await server.waitForLine(/"msg":"day fed"|"msg":"day feed failed"/, Math.max(0, deadline - Date.now()));
    const fed = JSON.parse(line) as { fed?: number; feedMs?: number; accepted?: number; duplicates?: number; sentDuplicates?: number; heapUsed?: number; msg: string; err?: string };
    if (fed.msg !== 'day fed') throw new Error(`day feed failed: ${fed.err}`);
    const rss = procStatus(pid, 'VmRSS');
    const peak = procStatus(pid, 'VmHWM');
    const mb = (b = NaN): number => b / 1024 / 1024;
    rows.push({ area, metric: `day fed into the core in-process after the MQTT warm-up (${PUMPS} pumps × 1,440 minutes)`, value: fed.fed ?? NaN, unit: 'msg' });
    rows.push({ area, metric: 'in-process feed rate (validate, dedupe, journal, detect; lines not sent)', value: (fed.fed ?? NaN) / ((fed.feedMs ?? NaN) / 1000), unit: 'msg/s' });
    rows.push({ area, metric: `duplicates dropped, of ${fed.sentDuplicates} sent (QoS 1 redelivery, ?HIST replays)`, value: fed.duplicates ?? NaN, unit: 'msg', target: '= sent', pass: fed.duplicates === fed.sentDuplicates });
    rows.push({ area, metric: 'V8 heap used after the day', value: mb(fed.heapUsed), unit: 'MB' });
    rows.push({ area, metric: 'peak resident memory during the day', value: peak, unit: 'MB' });
    rows.push({ area, metric: 'resident memory right after the feed and a checkpoint of every pump', value: rss, unit: 'MB' });
    const calm = JSON.parse(await server.waitForLine(/"msg":"real rate"/, Math.max(0, deadline - Date.now()))) as { heapUsed: number };
    const rssCalm = procStatus(pid, 'VmRSS');
    rows.push({ area, metric: 'V8 heap used after a further minute at the real rate (167 msg/s)', value: mb(calm.heapUsed), unit: 'MB' });
    rows.push({ area, metric: `resident memory a day into a deployment of ${PUMPS} pumps (after that minute)`, value: rssCalm, unit: 'MB', target: '< 300', pass: rssCalm < 300 });
  } finally {
    await server.stop(30_000).catch(() => undefined);
    await broker.dispose();
    await influx.dispose();
    dir.remove();
  }
  return rows;
}
