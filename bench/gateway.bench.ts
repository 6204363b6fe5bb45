/**
 * Gateway figures: pty → gateway → Mosquitto relay rate, draining a 100,000-sentence backlog
 * after a broker outage, and the gateway's resident memory throughout (VmRSS of the node process
 * running gateway/main.ts under npm). Everything on 127.0.0.1, stops by itself.
 */
import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PtyPair } from '../simulators/ptyPair.ts';
import { SerialPumpPort } from '../simulators/serialPumpPort.ts';
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import { tempDir } from '../test/helpers/tempDir.ts';
import { waitFor } from '../test/helpers/wait.ts';
import { gatewayNodePid, rssMb, startGateway, stopGateway } from '../test/integration/gateway/gatewayHarness.ts';
import { syntheticSentences } from '../test/integration/gateway/syntheticPump.ts';
import type { BenchRow } from './types.ts';

const RELAY_N = 30_000;
const BACKLOG_N = 100_000;
const RSS_LIMIT_MB = 80;

/** Writes lines to the pump end in batches (the pump side is not what is measured). */
async function blast(pump: SerialPumpPort, lines: string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += 100) {
    await pump.writeRaw(lines.slice(i, i + 100).join('\r\n') + '\r\n');
  }
  await pump.drain();
}

export async function run(): Promise<BenchRow[]> {
  const broker = await startMosquitto();
  const tmp = tempDir('pumpwatch-bench-gw-');
  const pty = new PtyPair(join(tmp.path, 'bench.tty'));
  await pty.start();
  const pump = new SerialPumpPort({ path: pty.pumpPath });
  await pump.open();
  const queueDir = join(tmp.path, 'queue');
  const seen = new Set<string>();
  const sub = await mqtt.connectAsync(broker.url, { clientId: 'bench-gw-sub', clean: false, reconnectPeriod: 200 });
  sub.on('message', (topic, payload) => {
    if (!topic.includes('/pumps/')) return;
    const m = /"seq":(\d+),"time":"([^"]+)"/.exec(payload.toString());
    if (m) seen.add(`${topic}|${m[1]}|${m[2]}`);
  });
  await sub.subscribeAsync('pumpwatch/bench/pumps/#', { qos: 1 });
  const gw = startGateway({ id: 'bench', serial: [pty.gatewayPath], mqtt: broker.url, queueDir, extra: ['--diagnostics-s', '5'] });
  let peakRss = 0;
  let sampler: NodeJS.Timeout | null = null;
  try {
    await gw.waitForLine(/"event":"broker_up"/, 30_000);
    await gw.waitForLine(/"event":"link_up"/, 30_000);
    const pid = gatewayNodePid(gw);
    if (!pid) throw new Error('gateway node process not found');
    const idleRss = rssMb(pid);
    sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, rssMb(pid));
      } catch {
        /* exiting */
      }
    }, 100);

    // 1. live relay
    const relay = syntheticSentences('CS7-BENCH1', RELAY_N);
    const t0 = performance.now();
    await blast(pump, relay);
    await waitFor(() => seen.size >= RELAY_N, 120_000, 'relay', 20);
    const relayPerS = RELAY_N / ((performance.now() - t0) / 1000);

    // 2. backlog: broker down, 100,000 sentences queued on disk, broker back
    await broker.stop();
    await gw.waitForLine(/"event":"broker_down"/, 10_000);
    const backlog = syntheticSentences('CS7-BENCH2', BACKLOG_N);
    await blast(pump, backlog);
    const queued = (): number => {
      try {
        const st = JSON.parse(readFileSync(join(queueDir, 'pumps.json'), 'utf8')) as Record<string, { lastSeq: number }>;
        return st['CS7-BENCH2']?.lastSeq ?? -1;
      } catch {
        return -1;
      }
    };
    await waitFor(() => queued() === (BACKLOG_N - 1) % 65536, 120_000, 'backlog queued', 100);
    await delay(500);
    const before = seen.size;
    const t1 = performance.now();
    await broker.start();
    await waitFor(() => seen.size >= before + BACKLOG_N, 180_000, 'backlog drained', 20);
    const drainPerS = BACKLOG_N / ((performance.now() - t1) / 1000);
    clearInterval(sampler);
    sampler = null;
    return [
      { area: 'gateway', metric: 'pty → broker relay (QoS 1, fsync)', value: relayPerS, unit: 'sentences/s', target: '>= 5000', pass: relayPerS >= 5000 },
      { area: 'gateway', metric: 'drain 100,000-sentence backlog after outage', value: drainPerS, unit: 'sentences/s', target: '>= 5000', pass: drainPerS >= 5000 },
      { area: 'gateway', metric: 'RSS idle (gateway node process)', value: idleRss, unit: 'MB' },
      { area: 'gateway', metric: 'RSS peak (gateway node process)', value: peakRss, unit: 'MB', target: `< ${RSS_LIMIT_MB}`, pass: peakRss < RSS_LIMIT_MB },
    ];
  } finally {
    if (sampler) clearInterval(sampler);
    await stopGateway(gw);
    await sub.endAsync(true).catch(() => undefined);
    await pump.close();
    await pty.stop();
    await broker.dispose();
    tmp.remove();
  }
}
