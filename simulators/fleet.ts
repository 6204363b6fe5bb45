import { setTimeout as delay } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeSentence } from '../protocol/decode.ts';
import { toPumpMessage } from '../protocol/payloads.ts';
import { topics } from '../protocol/topics.ts';
import { runScenario, type WireItem } from './scenarioRun.ts';

export interface FleetOptions {
  mqttUrl: string;
  /** number of pumps */
  pumps: number;
  /** number of gateway ids the pumps are spread over (default 1) */
  gateways?: number;
  /** aggregate messages per second; unlimited when absent */
  ratePerS?: number;
  /** seconds; the fleet stops by itself after this long */
  durationS?: number;
  /** total messages; the fleet stops by itself after this many */
  count?: number;
  /** scenarios cycled over the pumps */
  scenarios?: readonly string[];
  seed?: number;
  /** publishes awaiting PUBACK at most (pipelining) */
  inflight?: number;
  gatewayPrefix?: string;
  serialPrefix?: string;
  /** publish retained availability offline when done, as a gateway shutting down cleanly does (default true) */
  offlineAtEnd?: boolean;
}

export interface FleetResult {
  published: number;
  acked: number;
  failed: number;
  elapsedMs: number;
  /** acknowledged messages per second */
  ratePerS: number;
  gateways: string[];
  pumps: string[];
}

export interface Fleet {
  readonly done: Promise<FleetResult>;
  /** stops publishing, waits for the outstanding PUBACKs, disconnects */
  stop(): Promise<FleetResult>;
}

const DEFAULT_MIX = ['normal-46h', 'normal-46h', 'normal-46h', 'occlusion', 'short-pause', 'long-pause', 'early-end'];

/** One simulated pump's endless sentence stream: its scenario again and again, time running on. */
function* pumpStream(serial: string, scenario: string, startMs: number, seed: number): Generator<WireItem> {
  let at = startMs;
  for (;;) {
    let any = false;
    for (const item of runScenario(scenario, { serial, seed, startMs: at }).items) {
      if (item.kind !== 'sentence') continue;
      any = true;
      at = item.atMs;
      yield item;
    }
    if (!any) return;
    at += 60_000;
  }
}

/** N simulated pumps published straight to MQTT as gateway payloads, for load tests and benches. */
export function startFleet(opts: FleetOptions): Fleet {
  if (!(opts.pumps >= 1)) throw new Error('fleet needs at least one pump');
  const g = Math.max(1, opts.gateways ?? 1);
  const gatewayIds = Array.from({ length: g }, (_, i) => `${opts.gatewayPrefix ?? 'sim-gw'}-${i + 1}`);
  const mix = opts.scenarios?.length ? opts.scenarios : DEFAULT_MIX;
  const seed = opts.seed ?? 1;
  const perPump = opts.count ? Math.ceil(opts.count / opts.pumps)
    : opts.durationS && opts.ratePerS ? Math.ceil((opts.durationS * opts.ratePerS) / opts.pumps) : 2800;
  // laid so that the last sentence each pump sends is about now: no pump clock runs ahead
  const startMs = Date.now() - perPump * 60_000;
  const pumps = Array.from({ length: opts.pumps }, (_, i) => {
    const serial = `${opts.serialPrefix ?? 'SIM'}-${String(i + 1).padStart(6, '0')}`;
    return { serial, gateway: gatewayIds[i % g] as string, stream: pumpStream(serial, mix[i % mix.length] as string, startMs, seed + i) };
  });
  const maxInflight = Math.max(1, opts.inflight ?? 1000);
  const result: FleetResult = { published: 0, acked: 0, failed: 0, elapsedMs: 0, ratePerS: 0, gateways: gatewayIds, pumps: pumps.map((p) => p.serial) };
  let stopping = false;
  let wake: (() => void) | null = null;
  const clients = new Map<string, MqttClient>();

  const run = async (): Promise<FleetResult> => {
    for (const id of gatewayIds) {
      const offline = JSON.stringify({ state: 'offline', time: new Date().toISOString() });
      const client = await mqtt.connectAsync(opts.mqttUrl, {
        clientId: `${id}-fleet-${process.pid}`, clean: true, reconnectPeriod: 1000,
        username: process.env.MQTT_USERNAME, password: process.env.MQTT_PASSWORD,
        will: { topic: topics.availability(id), payload: Buffer.from(offline), qos: 1, retain: true },
      });
      clients.set(id, client);
      await client.publishAsync(topics.availability(id), JSON.stringify({ state: 'online', time: new Date().toISOString() }), { qos: 1, retain: true });
    }
    const t0 = Date.now();
    const deadline = opts.durationS ? t0 + opts.durationS * 1000 : Infinity;
    const limit = opts.count ?? Infinity;
    let inflight = 0;
    let receivedText = '';
    let receivedAt = 0;
    const onAck = (err?: Error): void => {
      inflight--;
      if (err) result.failed++;
      else result.acked++;
      if (wake && (inflight <= maxInflight / 2 || inflight === 0)) { const w = wake; wake = null; w(); }
    };
    let i = 0;
    while (!stopping && result.published < limit && Date.now() < deadline) {
      if (opts.ratePerS) {
        const ahead = result.published - (opts.ratePerS * (Date.now() - t0)) / 1000;
        if (ahead >= 1) { await delay(Math.max(1, (ahead / opts.ratePerS) * 1000)); continue; }
      }
      if (inflight >= maxInflight) { await new Promise<void>((resolve) => { wake = resolve; }); continue; }
      const pump = pumps[i++ % pumps.length];
      if (!pump) break;
      const next = pump.stream.next();
      if (next.done) continue;
      const decoded = decodeSentence(next.value.line);
      if (!decoded.ok) continue;
      const now = Date.now();
      if (now !== receivedAt) { receivedAt = now; receivedText = new Date(now).toISOString(); }
      const payload = toPumpMessage(decoded.sentence, next.value.line, new Date(receivedAt));
      payload.received = receivedText;
      inflight++;
      result.published++;
      clients.get(pump.gateway)?.publish(topics.pump(pump.gateway, pump.serial), JSON.stringify(payload), { qos: 1 }, onAck);
      // let the socket breathe now and then so acks are read while we publish
      if (result.published % 256 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const drainDeadline = Date.now() + 30_000;
    while (inflight > 0 && Date.now() < drainDeadline) await delay(5);
    result.elapsedMs = Date.now() - t0;
    result.ratePerS = result.elapsedMs > 0 ? Math.round((result.acked * 1000) / result.elapsedMs) : result.acked;
    for (const [id, client] of clients) {
      if (opts.offlineAtEnd ?? true) {
        await client.publishAsync(topics.availability(id), JSON.stringify({ state: 'offline', time: new Date().toISOString() }), { qos: 1, retain: true }).catch(() => undefined);
      }
      await client.endAsync().catch(() => undefined);
    }
    return result;
  };
  const done = run().finally(() => {
    for (const client of clients.values()) client.end(true);
  });
  return {
    done,
    async stop() {
      stopping = true;
      if (wake) { const w = wake; wake = null; w(); }
      return done;
    },
  };
}

export function runFleet(opts: FleetOptions): Promise<FleetResult> {
  return startFleet(opts).done;
}
