/**
 * The whole alarm path at a steady background load: an alarm sentence written to a pump's serial
 * port (socat pty) → real gateway (durable queue, fsync) → Mosquitto → real server (validate,
 * journal, detect) → WebSocket alert, while a simulated fleet publishes 1,000 msg/s to the same
 * broker and server. Everything on 127.0.0.1; stops by itself.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { encodeSentence } from '../protocol/encode.ts';
import type { Sentence } from '../protocol/sentence.ts';
import { startFleet } from '../simulators/fleet.ts';
import { startGateway, startPump, stopGateway } from '../test/integration/gateway/gatewayHarness.ts';
import { startStack, TOKEN } from '../test/integration/server/serverStack.ts';
import { waitFor } from '../test/helpers/wait.ts';
import type { BenchRow } from './types.ts';

const TRIALS = 100;
const BACKGROUND_RATE = 1000;
const isoNow = (): string => new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function running(pump: string, seq: number): Sentence[] {
  const time = isoNow();
  return [
    { type: 'program', pump, seq, time, programId: 'LAT', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 },
    { type: 'event', pump, seq: seq + 1, time, code: 'START', detail: 'LAT' },
    { type: 'status', pump, seq: seq + 2, time, state: 'RUN', rateMlH: 5, infusedMl: 0, vtbiMl: 230, reservoirMl: 230, pressureMmHg: 35, batteryPct: 90, alarms: [] },
  ];
}

function occluded(pump: string, seq: number): Sentence {
  return { type: 'status', pump, seq, time: isoNow(), state: 'ALARM', rateMlH: 5, infusedMl: 0, vtbiMl: 230, reservoirMl: 230, pressureMmHg: 790, batteryPct: 90, alarms: ['OCCL_DN'] };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

export async function run(): Promise<BenchRow[]> {
  const stack = await startStack();
  const { pty, pump } = await startPump(stack.dir.path, 'latency');
  const gw = startGateway({ id: 'latency-gw', serial: [pty.gatewayPath], mqtt: stack.broker.url, queueDir: join(stack.dir.path, 'gw') });
  let fleet: ReturnType<typeof startFleet> | null = null;
  let ws: WebSocket | null = null;
  try {
    await stack.startServer();
    await gw.waitForLine(/"event":"link_up"/, 30_000);
    await gw.waitForLine(/"event":"broker_up"/, 30_000);
    const arrived = new Map<string, number>();
    ws = new WebSocket(`ws://127.0.0.1:${stack.port}/ws`, { headers: { authorization: `Bearer ${TOKEN}` } });
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { type: string; alert?: { pump: string; type: string } };
      if (m.type === 'alert' && m.alert?.type === 'occlusion' && m.alert.pump.startsWith('LAT-') && !arrived.has(m.alert.pump)) {
        arrived.set(m.alert.pump, performance.now());
      }
    });
    await new Promise<void>((resolve, reject) => { ws!.once('open', () => resolve()); ws!.once('error', reject); });

    fleet = startFleet({ mqttUrl: stack.broker.url, pumps: 1000, gateways: 10, ratePerS: BACKGROUND_RATE, durationS: 60, serialPrefix: 'BG', offlineAtEnd: false });
    await new Promise((r) => setTimeout(r, 3000)); // steady state

    const latencies: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const serial = `LAT-${String(i).padStart(4, '0')}`;
      for (const s of running(serial, 0)) await pump.send(encodeSentence(s));
      await pump.drain();
      await new Promise((r) => setTimeout(r, 150));
      const t0 = performance.now();
      await pump.send(encodeSentence(occluded(serial, 3)));
      try {
        const t1 = await waitFor(() => arrived.get(serial), 2000, `alert for ${serial}`, 1);
        latencies.push(t1 - t0);
      } catch {
        /* counted as not delivered within 2 s */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    latencies.sort((a, b) => a - b);
    const p99 = percentile(latencies, 99);
    const background = await fleet.stop();
    fleet = null;
    const achieved = background.acked / (background.elapsedMs / 1000);
    return [
      { area: 'end-to-end', metric: 'background fleet load achieved (QoS 1, acknowledged)', value: achieved, unit: 'msg/s', target: `>= ${BACKGROUND_RATE * 0.95}`, pass: achieved >= BACKGROUND_RATE * 0.95 },
      { area: 'end-to-end', metric: `serial alarm → WebSocket alert, p50 (background ${BACKGROUND_RATE} msg/s)`, value: percentile(latencies, 50), unit: 'ms' },
      { area: 'end-to-end', metric: 'serial alarm → WebSocket alert, p99', value: p99, unit: 'ms', target: '< 100', pass: p99 < 100 },
      { area: 'end-to-end', metric: 'alarms delivered within 2 s', value: latencies.length, unit: `of ${TRIALS}`, target: `= ${TRIALS}`, pass: latencies.length === TRIALS },
    ];
  } finally {
    ws?.close();
    await fleet?.stop();
    await stopGateway(gw);
    await pump.close();
    await pty.stop();
    await stack.dispose();
  }
}
