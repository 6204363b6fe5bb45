import { readFileSync } from 'node:fs';
/** Real Mosquitto + real influxd + `npm run server`, and the small clients the server tests use. */
import mqtt, { type MqttClient } from 'mqtt';
import { decodeSentence } from '../../../protocol/decode.ts';
import { toPumpMessage } from '../../../protocol/payloads.ts';
import type { Alert } from '../../../protocol/api.ts';
import { loadCapture } from '../../../simulators/capture.ts';
import { startNpmScript, type RunningProcess } from '../../helpers/childProcess.ts';
import { startInfluxd, type InfluxServer } from '../../helpers/influxd.ts';
import { startMosquitto, type Broker } from '../../helpers/mosquitto.ts';
import { freePort } from '../../helpers/ports.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';

export const TOKEN = 'integration-token-0123456789';
export const DB = 'pumpwatch_it';

export interface ServerStack {
  broker: Broker;
  influx: InfluxServer;
  dir: TempDir;
  port: number;
  server: RunningProcess | null;
  startServer(env?: Record<string, string>): Promise<RunningProcess>;
  api<T>(path: string, init?: RequestInit): Promise<T>;
  dispose(): Promise<void>;
}

export async function startStack(): Promise<ServerStack> {
  const broker = await startMosquitto();
  const influx = await startInfluxd();
  const dir = tempDir('pumpwatch-server-it-');
  const port = await freePort();
  const stack: ServerStack = {
    broker, influx, dir, port, server: null,
    async startServer(env = {}) {
      const p = startNpmScript('server', [], {
        env: {
          MQTT_URL: broker.url, INFLUX_URL: influx.urlFor(DB), HOST: '127.0.0.1', PORT: String(port),
          PUMPWATCH_JOURNAL_DIR: `${dir.path}/journal`, PUMPWATCH_USERS_FILE: `${dir.path}/users.json`,
          PUMPWATCH_API_TOKENS: TOKEN, INFLUX_FLUSH_MS: '100', CHECKPOINT_MS: '500', ...env,
        },
      });
      stack.server = p;
      await p.waitForLine(/"msg":"listening"/, 60_000);
      return p;
    },
    async api<T>(path: string, init: RequestInit = {}): Promise<T> {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) },
      });
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async dispose() {
      try {
        await stack.server?.stop();
      } finally {
        await broker.dispose();
        await influx.dispose();
        dir.remove();
      }
    },
  };
  return stack;
}

/** A capture's valid sentences as contract payloads, in order. */
export function capturePayloads(file: string): { serial: string; seq: number; time: string; body: string }[] {
  const out: { serial: string; seq: number; time: string; body: string }[] = [];
  const received = new Date('2026-11-27T12:00:00.000Z');
  for (const line of loadCapture(new URL(`../../fixtures/captures/${file}`, import.meta.url).pathname)) {
    const d = decodeSentence(line);
    if (!d.ok) continue;
    out.push({ serial: d.sentence.pump, seq: d.sentence.seq, time: d.sentence.time, body: JSON.stringify(toPumpMessage(d.sentence, line, received)) });
  }
  return out;
}

export async function publisher(url: string, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId, clean: true });
}

export async function publishAll(client: MqttClient, gateway: string, payloads: { serial: string; body: string }[], paceMs = 0): Promise<void> {
  // QoS 1 with a bounded window in flight, like a gateway
  const window: Promise<unknown>[] = [];
  for (const p of payloads) {
    if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs)); // pacing, not a wait for anything
    window.push(client.publishAsync(`pumpwatch/${gateway}/pumps/${p.serial}`, p.body, { qos: 1 }));
    if (window.length >= 100) await Promise.all(window.splice(0));
  }
  await Promise.all(window);
}

export async function storedCount(influx: InfluxServer, measurement = 'status", "program", "event'): Promise<number> {
  const r = await influx.query(DB, `SELECT count("seq") FROM "${measurement}"`);
  let n = 0;
  for (const s of r.results[0]?.series ?? []) n += Number(s.values[0]?.[1] ?? 0);
  return n;
}

export function alertKinds(alerts: Alert[]): string[] {
  return alerts.map((a) => `${a.pump}:${a.type}`).sort();
}

export async function alertsAll(stack: ServerStack, pump?: string): Promise<Alert[]> {
  return stack.api<Alert[]>(`/api/alerts?status=all&from=2026-11-01T00:00:00Z${pump ? `&pump=${pump}` : ''}`);
}

/** distinct alert ids of each type ever written to the alert measurement */
export async function storedAlertIds(influx: InfluxServer): Promise<Map<string, Set<string>>> {
  const r = await influx.query(DB, 'SELECT "id", "type" FROM "alert"');
  const out = new Map<string, Set<string>>();
  for (const s of r.results[0]?.series ?? []) {
    for (const v of s.values) {
      const type = String(v[2]);
      const set = out.get(type) ?? new Set<string>();
      set.add(String(v[1]));
      out.set(type, set);
    }
  }
  return out;
}

export async function metricValue(stack: ServerStack, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${stack.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

/** PID of the node process running the server (the bundle of server/main.ts) under npm (for signals and RSS). */
export function serverNodePid(proc: RunningProcess): number | null {
  const root = proc.child.pid;
  if (!root) return null;
  const found: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if ((cmd.includes('.build/server/main.mjs') || cmd.includes('server/main.ts')) && !cmd.includes('tsx/dist/cli') && !cmd.includes('scripts/bundle.mjs')) found.push(pid);
      stack.push(...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      /* gone */
    }
  }
  return found.at(-1) ?? null;
}
