/** Several real `npm run server` instances in SHARD mode on one Mosquitto and one influxd, and a made-up fleet. */
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import type { Alert } from '../../../protocol/api.ts';
import { encodeSentence } from '../../../protocol/encode.ts';
import { toPumpMessage } from '../../../protocol/payloads.ts';
import type { Sentence } from '../../../protocol/sentence.ts';
import { startNpmScript, type RunningProcess } from '../../helpers/childProcess.ts';
import { startInfluxd, type InfluxServer } from '../../helpers/influxd.ts';
import { startMosquitto, type Broker } from '../../helpers/mosquitto.ts';
import { freePort } from '../../helpers/ports.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';

export const TOKEN = 'scaleout-token-0123456789';
export const DB = 'pumpwatch_scaleout';

export interface Instance {
  index: number;
  port: number;
  proc: RunningProcess | null;
}

export interface ScaleoutStack {
  broker: Broker;
  influx: InfluxServer;
  dir: TempDir;
  instances: Instance[];
  /** (re)starts instance i as SHARD i/N (or without SHARD when N = 1 and `shard` is false) */
  start(i: number, extraEnv?: Record<string, string>): Promise<RunningProcess>;
  api<T>(i: number, path: string, init?: RequestInit): Promise<T>;
  metric(i: number, name: string): Promise<number>;
  dispose(): Promise<void>;
}

export async function startScaleoutStack(count: number, opts: { shard?: boolean; env?: Record<string, string> } = {}): Promise<ScaleoutStack> {
  // every SHARD instance's session receives the whole fleet: no per-session queue limit while one is down
  const broker = await startMosquitto('max_queued_messages 0\nmax_inflight_messages 100\n');
  const influx = await startInfluxd();
  const dir = tempDir('pumpwatch-scaleout-');
  const instances: Instance[] = [];
  for (let index = 0; index < count; index++) {
    instances.push({ index, port: await freePort(), proc: null });
    // the instance's persistent session exists before the fleet publishes (as after its first run),
    // so nothing published while it is still connecting is missed
    const session = await mqtt.connectAsync(broker.url, { clientId: `pumpwatch-inst-${index}`, clean: false });
    await session.subscribeAsync(['pumpwatch/+/pumps/+', 'pumpwatch/+/availability', 'pumpwatch/_server/#'], { qos: 1 });
    await session.endAsync();
  }
  const stack: ScaleoutStack = {
    broker, influx, dir, instances,
    async start(i, extraEnv = {}) {
      const inst = instances[i]!;
      const shardEnv: Record<string, string> = opts.shard === false ? {} : { SHARD: `${i}/${count}` };
      const p = startNpmScript('server', [], {
        env: {
          MQTT_URL: broker.url, INFLUX_URL: influx.urlFor(DB), HOST: '127.0.0.1', PORT: String(inst.port),
          PUMPWATCH_JOURNAL_DIR: `${dir.path}/journal-${i}`, PUMPWATCH_USERS_FILE: `${dir.path}/users.json`,
          PUMPWATCH_API_TOKENS: TOKEN, INFLUX_FLUSH_MS: '100', CHECKPOINT_MS: '500', SERVER_INSTANCE_ID: `inst-${i}`, MQTT_CLIENT_ID: `pumpwatch-inst-${i}`,
          LOG_LEVEL: 'info', ...shardEnv, ...(opts.env ?? {}), ...extraEnv,
        },
      });
      inst.proc = p;
      await p.waitForLine(/"msg":"listening"/, 90_000);
      return p;
    },
    async api<T>(i: number, path: string, init: RequestInit = {}): Promise<T> {
      const res = await fetch(`http://127.0.0.1:${instances[i]!.port}${path}`, {
        ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) },
      });
      if (!res.ok) throw new Error(`${path} on instance ${i}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async metric(i, name) {
      const res = await fetch(`http://127.0.0.1:${instances[i]!.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `));
      return line ? Number(line.split(' ')[1]) : NaN;
    },
    async dispose() {
      try {
        await Promise.all(instances.map((x) => (x.proc ? x.proc.stop() : Promise.resolve(null))));
      } finally {
        await broker.dispose();
        await influx.dispose();
        dir.remove();
      }
    },
  };
  return stack;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * One pump's sentences, one per round: POWER_ON, then RUN statuses; from `alarmAt` on (if given)
 * the pump reports an occlusion (state ALARM, OCCL_DN, vi frozen, pressure at the alarm limit).
 * With `program`, a 46-h program is loaded and started at seq 1 and 2 (a billing episode).
 */
export function pumpSentences(pump: string, rounds: number, startMs: number, alarmAt: number | null, program = false): string[] {
  const out: string[] = [];
  let vi = 0;
  for (let seq = 0; seq < rounds; seq++) {
    const time = iso(startMs + seq * 1000);
    const alarm = alarmAt !== null && seq >= alarmAt;
    if (!alarm && seq > 0) vi = Math.round((vi + 0.01) * 100) / 100;
    const s: Sentence = seq === 0
      ? { type: 'event', pump, seq, time, code: 'POWER_ON', detail: '4.2.1' }
      : program && seq === 1
        ? { type: 'program', pump, seq, time, programId: `RX-${pump}`, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 }
        : program && seq === 2
          ? { type: 'event', pump, seq, time, code: 'START', detail: `RX-${pump}` }
          : {
        type: 'status', pump, seq, time, state: alarm ? 'ALARM' : 'RUN', rateMlH: 5, infusedMl: vi,
        vtbiMl: 230, reservoirMl: null, pressureMmHg: alarm ? 780 : 35, batteryPct: 97, alarms: alarm ? ['OCCL_DN'] : [],
      };
    out.push(encodeSentence(s));
  }
  return out;
}

export function payloadOf(line: string, sentence: Sentence): string {
  return JSON.stringify(toPumpMessage(sentence, line, new Date()));
}

export async function fleetPublisher(url: string, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId, clean: true });
}

/** A WebSocket on one instance, keeping every alert message it receives. */
export interface AlertWatcher {
  ws: WebSocket;
  snapshotAlerts: Alert[];
  alerts: Alert[];
  close(): Promise<void>;
}

export function watchAlerts(port: number): Promise<AlertWatcher> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const w: AlertWatcher = {
      ws, snapshotAlerts: [], alerts: [],
      close: () => new Promise<void>((r) => {
        if (ws.readyState === WebSocket.CLOSED) return r();
        ws.once('close', () => r());
        ws.terminate();
      }),
    };
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { type: string; alert?: Alert; alerts?: Alert[] };
      if (m.type === 'snapshot') {
        w.snapshotAlerts = m.alerts ?? [];
        resolve(w);
      } else if (m.type === 'alert' && m.alert) w.alerts.push(m.alert);
    });
    ws.once('error', reject);
  });
}
