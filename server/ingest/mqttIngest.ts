/**
 * MQTT side of ingest: one persistent session (fixed client id, clean: false) subscribed at QoS 1.
 * Each message is handed to the sink given to start(), synchronously inside mqtt.js's
 * handleMessage. Its PUBACK waits in the corked socket until `commit` has written the journal
 * entries of every message read so far, once per turn of the event loop: one journal write and
 * one socket write for a whole TCP read of messages instead of one of each per message. When the
 * journal is full the callback is held back, so the broker keeps the rest of the session's queue.
 */
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';

export interface MqttIngestOptions {
  url: string;
  clientId: string;
  username: string | null;
  password: string | null;
  caFile: string | null;
  subscriptions: string[];
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** writes what accept() journalled; false when the write failed (acknowledgements wait) */
  commit(): boolean;
  /** true while the journal cannot take more */
  blocked(): boolean;
  /** how often a blocked ingest looks again, ms */
  blockedPollMs?: number;
}

/** processes one message synchronously; never throws on bad input */
export type MessageSink = (topic: string, payload: Buffer) => void;

export class MqttIngest {
  private client: MqttClient | null = null;
  /** where messages go once started (nothing arrives before) */
  private deliver: MessageSink = () => undefined;
  private connected = false;
  private stopping = false;
  private waitTimer: NodeJS.Timeout | null = null;
  /** the connection whose PUBACKs wait for the next journal commit */
  private corked: Writable | null = null;
  private releaseTimer: NodeJS.Timeout | null = null;
  /** messages whose PUBACK waited for journal space */
  heldBack = 0;

  constructor(private readonly o: MqttIngestOptions) {}

  get up(): boolean {
    return this.connected;
  }

  /** connects and hands every message to `deliver`; publish() works from here on */
  start(deliver: MessageSink): void {
    this.deliver = deliver;
    const opts: IClientOptions = {
      clientId: this.o.clientId,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: true,
      // mqtt.js otherwise checks its debug switch several times per message
      log: () => undefined,
    };
    if (this.o.username !== null) opts.username = this.o.username;
    if (this.o.password !== null) opts.password = this.o.password;
    if (this.o.caFile !== null) opts.ca = readFileSync(this.o.caFile);
    const client = mqtt.connect(this.o.url, opts);
    // attached before CONNACK: a persistent session's queue arrives right behind it
    client.handleMessage = (packet, callback) => this.handle(packet.topic, packet.payload, callback);
    client.on('connect', (connack) => {
      if (!this.connected) this.o.log.info({ url: this.o.url, sessionPresent: connack.sessionPresent }, 'MQTT connected');
      this.connected = true;
      client.subscribe(this.o.subscriptions.map((t) => t), { qos: 1 }, (err, granted) => {
        if (err) this.o.log.error({ err: err.message }, 'MQTT subscribe failed');
        else if (granted?.some((g) => g.qos > 1)) this.o.log.error({ granted }, 'MQTT subscription refused');
      });
    });
    client.on('close', () => {
      if (this.connected && !this.stopping) this.o.log.warn({ url: this.o.url }, 'MQTT connection lost; reconnecting');
      this.connected = false;
    });
    client.on('error', (err) => {
      this.o.log.warn({ err: err.message }, 'MQTT error');
    });
    this.client = client;
  }

  private handle(topic: string, payload: Buffer | string, callback: (err?: Error) => void): void {
    if (this.stopping) return; // no PUBACK: the broker delivers it again to the next session
    if (this.o.blocked()) {
      this.heldBack++;
      this.waitTimer = setTimeout(() => {
        this.waitTimer = null;
        this.handle(topic, payload, callback);
      }, this.o.blockedPollMs ?? 100);
      return;
    }
    this.holdAcks();
    this.deliver(topic, typeof payload === 'string' ? Buffer.from(payload) : payload);
    callback();
  }

  /** corks the connection until the journal entries behind its pending PUBACKs are written */
  private holdAcks(): void {
    const stream = this.client?.stream as Writable | undefined;
    if (!stream || this.corked === stream) return;
    // a connection corked before a reconnect is gone, and its PUBACKs with it
    const scheduled = this.corked !== null;
    stream.cork();
    this.corked = stream;
    if (!scheduled) setImmediate(() => this.releaseAcks());
  }

  private releaseAcks(): void {
    this.releaseTimer = null;
    const stream = this.corked;
    if (!stream) return;
    if (!this.o.commit()) {
      // stopping: the connection closes without them and the broker delivers them again
      if (!this.stopping) this.releaseTimer = setTimeout(() => this.releaseAcks(), this.o.blockedPollMs ?? 100);
      return;
    }
    this.corked = null;
    stream.uncork();
  }

  /**
   * Publishes on this ingest's own connection, QoS 1 (instance-to-instance messages: a broker
   * account is one connection when the broker uses the username as client id). Queued by mqtt.js
   * while reconnecting; dropped once stopped.
   */
  publish(topic: string, payload: string, retain: boolean): void {
    if (!this.client || this.stopping) return;
    this.client.publish(topic, payload, { qos: 1, retain }, (err) => {
      if (err) this.o.log.warn({ topic, err: err.message }, 'MQTT publish failed');
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = null;
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseAcks(); // PUBACKs of what is written go out before the disconnect
    const c = this.client;
    this.client = null;
    if (this.corked) {
      // the journal could not be written: a graceful end would flush the held PUBACKs
      this.corked.destroy();
      this.corked = null;
      if (c) await new Promise<void>((r) => c.end(true, {}, () => r()));
    } else if (c) await c.endAsync(false).catch(() => c.end(true));
    this.connected = false;
  }
}
