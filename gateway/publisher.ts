import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { topics } from '../protocol/topics.ts';
import type { QueuedRecord } from '../durable/index.ts';
import type { MqttHealthView } from './health.ts';

/** Where the publisher takes records from and reports PUBACKs to (the durable queue). */
export interface RecordSource {
  /** up to `max` records numbered >= fromNo that are durable (fsynced) */
  readDurable(fromNo: number, max: number): QueuedRecord[];
  /** every record numbered <= no has been PUBACKed */
  acked(no: number): void;
  /** the first number not yet acknowledged */
  firstUnacked(): number;
}

export interface PublisherOptions {
  gatewayId: string;
  url: string;
  username: string | undefined;
  password: string | undefined;
  caPem: string | undefined;
  /** QoS 1 messages awaiting PUBACK at once */
  window?: number;
  log: Logger;
  source: RecordSource;
  now?: () => number;
  /** after every (re)connect, e.g. to publish diagnostics at once */
  onConnect?: () => void;
  /** test only (PUMPWATCH_GATEWAY_FAULT=mqtt-no-reconnect): mqtt.js stops reconnecting after the first connection closes */
  faultNoReconnect?: boolean;
}

/** mqtt.js retries this often, forever, while the broker cannot be reached (ms) */
export const RECONNECT_PERIOD_MS = 1000;
/** one connection attempt without CONNACK is given up after this long (ms) */
export const CONNECT_TIMEOUT_MS = 10_000;

/** A queued record is `<topic>\n<payload>`. */
export function encodeRecord(topic: string, payload: string): string {
  return `${topic}\n${payload}`;
}

function decodeRecord(data: Buffer): { topic: string; payload: Buffer } {
  const nl = data.indexOf(0x0a);
  return { topic: data.toString('utf8', 0, nl), payload: data.subarray(nl + 1) };
}

/**
 * Publishes queued records QoS 1 with a bounded in-flight window and acknowledges them in the
 * queue on PUBACK, as a contiguous prefix. Messages in flight when the connection drops stay in
 * mqtt.js's store and are re-sent first at reconnect, so nothing is sent twice by us.
 */
export class Publisher {
  private client: MqttClient | null = null;
  private readonly window: number;
  private nextNo = 1;
  /** numbers sent and not yet PUBACKed, in send order */
  private sent: number[] = [];
  private sentHead = 0;
  private readonly done = new Set<number>();
  private connects = 0;
  private up = false;
  private stopping = false;
  private lastError: string | null = null;
  /** ms: the last connection attempt started */
  private lastAttemptMs = 0;
  /** ms: the connection closed (or the client started), null while connected */
  private downSinceMs: number | null = null;
  /** the client ended without stop(): it will never reconnect */
  private ended = false;
  published = 0;
  private readonly now: () => number;

  constructor(private readonly opts: PublisherOptions) {
    this.window = opts.window ?? 256;
    this.now = opts.now ?? Date.now;
  }

  get connected(): boolean {
    return this.up;
  }

  status(): { state: 'up' | 'down'; connects: number; inFlight: number } {
    return { state: this.up ? 'up' : 'down', connects: this.connects, inFlight: this.sent.length - this.sentHead };
  }

  healthView(): MqttHealthView {
    return { connected: this.up, lastAttemptMs: this.lastAttemptMs, downSinceMs: this.downSinceMs, ended: this.ended };
  }

  get inFlight(): number {
    return this.sent.length - this.sentHead;
  }

  start(): void {
    this.nextNo = this.opts.source.firstUnacked();
    const o = this.opts;
    const options: IClientOptions = {
      clientId: `pumpwatch-gw-${o.gatewayId}`,
      clean: true,
      keepalive: 30,
      reconnectPeriod: RECONNECT_PERIOD_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectOnConnackError: true,
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: topics.availability(o.gatewayId), payload: Buffer.from(this.availability('offline')), qos: 1, retain: true },
    };
    if (o.username !== undefined) options.username = o.username;
    if (o.password !== undefined) options.password = o.password;
    if (o.caPem !== undefined) options.ca = o.caPem;
    // handlers are attached in the same tick as connect(), before the connection can complete
    this.lastAttemptMs = this.now();
    this.downSinceMs = this.now();
    const client = mqtt.connect(o.url, options);
    this.client = client;
    client.on('reconnect', () => {
      this.lastAttemptMs = this.now();
    });
    client.on('end', () => {
      if (!this.stopping) this.ended = true;
    });
    client.on('connect', () => {
      if (o.faultNoReconnect) client.options.reconnectPeriod = 0;
      this.up = true;
      this.downSinceMs = null;
      this.connects++;
      this.lastError = null;
      o.log.info({ event: 'broker_up', url: o.url }, 'broker connected');
      client.publish(topics.availability(o.gatewayId), this.availability('online'), { qos: 1, retain: true });
      o.onConnect?.();
      this.kick();
    });
    client.on('close', () => {
      if (this.up) o.log.warn({ event: 'broker_down', url: o.url }, 'broker connection lost');
      if (this.up || this.downSinceMs === null) this.downSinceMs = this.now();
      this.up = false;
      // the will carries the time of the last connection attempt
      if (client.options.will) client.options.will.payload = Buffer.from(this.availability('offline'));
    });
    client.on('error', (err) => {
      // logged once per distinct reason (a refused certificate would otherwise repeat every second)
      if (err.message === this.lastError) return;
      this.lastError = err.message;
      const code = (err as NodeJS.ErrnoException).code;
      o.log.warn({ event: 'broker_error', err: err.message, code }, 'broker connection failed');
    });
  }

  /** Sends what the window allows; call when records became durable or PUBACKs came back. */
  kick(): void {
    const client = this.client;
    if (!client || !this.up || this.stopping) return;
    while (this.inFlight < this.window) {
      const recs = this.opts.source.readDurable(this.nextNo, this.window - this.inFlight);
      if (recs.length === 0) return;
      for (const rec of recs) this.send(client, rec);
    }
  }

  publishRetained(topic: string, payload: string): void {
    if (this.client && this.up) this.client.publish(topic, payload, { qos: 0, retain: true });
  }

  /**
   * Waits up to `timeoutMs` for `isDrained`, publishes offline and disconnects. Nothing is lost
   * by stopping early: what is not PUBACKed stays in the durable queue.
   */
  async stop(timeoutMs: number, isDrained: () => boolean): Promise<void> {
    const client = this.client;
    if (!client) return;
    const deadline = this.now() + timeoutMs;
    while (this.up && !isDrained() && this.now() < deadline) {
      this.kick();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.stopping = true;
    if (this.up) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(500, deadline - this.now()));
        client.publish(topics.availability(this.opts.gatewayId), this.availability('offline'), { qos: 1, retain: true }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await client.endAsync(true).catch(() => undefined);
    client.removeAllListeners();
    this.client = null;
    this.up = false;
  }

  private send(client: MqttClient, rec: QueuedRecord): void {
    const { topic, payload } = decodeRecord(rec.data);
    const no = rec.no;
    this.nextNo = no + 1;
    this.sent.push(no);
    client.publish(topic, payload, { qos: 1 }, (err) => {
      if (err) return; // only when the client is ended: the record stays queued
      this.onPuback(no);
    });
  }

  private onPuback(no: number): void {
    this.published++;
    this.done.add(no);
    let acked = -1;
    while (this.sentHead < this.sent.length && this.done.has(this.sent[this.sentHead] as number)) {
      acked = this.sent[this.sentHead] as number;
      this.done.delete(acked);
      this.sentHead++;
    }
    if (this.sentHead > 4096) {
      this.sent = this.sent.slice(this.sentHead);
      this.sentHead = 0;
    }
    if (acked >= 0) this.opts.source.acked(acked);
    // refill in batches rather than one read per PUBACK
    if (this.inFlight <= this.window / 2) this.kick();
  }

  private availability(state: 'online' | 'offline'): string {
    return JSON.stringify({ state, time: new Date(this.now()).toISOString() });
  }
}
