/**
 * The real server for browser tests, in this process: buildServer (server/app.ts) wired as
 * server/main.ts wires it (registerHttp, the real engine and billing), on real Mosquitto and influxd,
 * serving dashboard/dist. Pump data arrives as a gateway sends it: contract payloads on
 * pumpwatch/<gateway>/pumps/<serial>, QoS 1. The browser talks to it through a TCP relay that can
 * go silent (sockets open, nothing passes), as a dead Wi-Fi does.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { decodeSentence } from '../../protocol/decode.ts';
import { encodeSentence } from '../../protocol/encode.ts';
import { toPumpMessage } from '../../protocol/payloads.ts';
import type { Sentence } from '../../protocol/sentence.ts';
import { topics } from '../../protocol/topics.ts';
import { buildServer, type PumpwatchServer } from '../../server/app.ts';
import { hashPassword } from '../../server/auth/passwords.ts';
import { readUsersFile, writeUsersFile, type UsersFileContent } from '../../server/auth/usersFile.ts';
import { createEpisodeTracker } from '../../server/billing/index.ts';
import { loadConfig } from '../../server/config.ts';
import { createDetectionEngine, DEFAULT_DETECTION_CONFIG } from '../../server/engine/index.ts';
import { registerHttp } from '../../server/http/registerHttp.ts';
import type { Role } from '../../protocol/api.ts';
import { startInfluxd, type InfluxServer } from '../helpers/influxd.ts';
import { startMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir, type TempDir } from '../helpers/tempDir.ts';

/** a sentence without the fields the pump fills in (its serial, seq and clock) */
export type SentenceBody = Sentence extends infer S ? (S extends Sentence ? Omit<S, 'pump' | 'seq' | 'time'> : never) : never;

export const API_TOKEN = 'e2e-admin-token-0123456789abcdef';

/** TCP relay in front of the server; `silent` keeps every socket open and passes nothing. */
class SilentableRelay {
  silent = false;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(readonly port: number, private readonly target: () => number) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => client.destroy());
      const upstream = connect(this.target(), '127.0.0.1');
      this.sockets.add(upstream);
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        if (!this.silent) client.destroy();
      });
      upstream.on('error', () => upstream.destroy());
      client.on('data', (b) => {
        if (!this.silent) upstream.write(b);
      });
      upstream.on('data', (b) => {
        if (!this.silent) client.write(b);
      });
      client.on('close', () => upstream.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** One pump's serial line: seq from 0 at power-on, its own clock. */
export class PumpFeed {
  private seq = 0;
  constructor(readonly serial: string, readonly gateway: string, private readonly client: MqttClient) {}

  /** sends one sentence stamped `timeMs` on the pump clock (a gateway received it now) */
  async send(body: SentenceBody, timeMs = Date.now()): Promise<void> {
    const time = new Date(timeMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const line = encodeSentence({ ...body, pump: this.serial, seq: this.seq++ % 65536, time });
    const decoded = decodeSentence(line);
    if (!decoded.ok) throw new Error(`bad test sentence ${line}`);
    const payload = JSON.stringify(toPumpMessage(decoded.sentence, line, new Date()));
    await this.client.publishAsync(topics.pump(this.gateway, this.serial), payload, { qos: 1 });
  }
}

export interface TestUser { name: string; password: string; role: Role }

export class LiveServer {
  broker!: Broker;
  influx!: InfluxServer;
  dir!: TempDir;
  server: PumpwatchServer | null = null;
  private relay!: SilentableRelay;
  private serverPort = 0;
  private gateways!: MqttClient;

  get url(): string {
    return `http://127.0.0.1:${this.relay.port}`;
  }

  /** the board's connection goes silent (true) or comes back (false) */
  set silent(on: boolean) {
    this.relay.silent = on;
  }

  /** `shared`: the broker and influxd of another instance (scale-out); they stay that one's to dispose */
  async start(users: TestUser[], env: Record<string, string> = {}, shared?: { broker: Broker; influx: InfluxServer }): Promise<void> {
    this.ownsServices = !shared;
    this.broker = shared?.broker ?? await startMosquitto();
    this.influx = shared?.influx ?? await startInfluxd();
    this.dir = tempDir('pumpwatch-e2e-');
    this.serverPort = await freePort();
    this.relay = new SilentableRelay(await freePort(), () => this.serverPort);
    await this.relay.start();
    const content: UsersFileContent = { version: 1, users: {} };
    for (const u of users) content.users[u.name] = { role: u.role, password: await hashPassword(u.password), updatedAt: new Date().toISOString() };
    writeUsersFile(this.usersFile, content); // what `npm run users -- add` writes
    this.extraEnv = env;
    await this.startServer();
    this.gateways = await mqtt.connectAsync(this.broker.url, { clientId: `e2e-gateways-${this.serverPort}`, clean: true });
  }

  private extraEnv: Record<string, string> = {};
  private ownsServices = true;

  get usersFile(): string {
    return join(this.dir.path, 'users.json');
  }

  /** as `npm run users -- remove <name>` does; the server ends that account's sessions */
  removeUser(name: string): void {
    const content = readUsersFile(this.usersFile);
    delete content.users[name];
    writeUsersFile(this.usersFile, content);
  }

  async startServer(): Promise<void> {
    const config = loadConfig({
      MQTT_URL: this.broker.url, INFLUX_URL: this.influx.urlFor('pumpwatch_e2e'), HOST: '127.0.0.1', PORT: String(this.serverPort),
      PUMPWATCH_JOURNAL_DIR: join(this.dir.path, 'journal'), PUMPWATCH_USERS_FILE: this.usersFile,
      PUMPWATCH_API_TOKENS: API_TOKEN, INFLUX_FLUSH_MS: '100', CHECKPOINT_MS: '500', LOG_LEVEL: 'warn', ...this.extraEnv,
    });
    const log = pino({ level: 'error' }); // dropped sockets are what these tests do on purpose
    const server = await buildServer({
      config, log, createEngine: createDetectionEngine, detectionDefaults: DEFAULT_DETECTION_CONFIG,
      createTracker: createEpisodeTracker, registerHttp, fastify: { loggerInstance: log },
      http: { https: false },
    });
    await server.start();
    await server.app.listen({ host: '127.0.0.1', port: this.serverPort });
    this.server = server;
  }

  /** as SIGTERM does: ingest stops, journal and storage flush, every connection closes */
  async stopServer(): Promise<void> {
    const s = this.server;
    this.server = null;
    await s?.stop();
  }

  pump(serial: string, gateway: string): PumpFeed {
    return new PumpFeed(serial, gateway, this.gateways);
  }

  /** the HTTP API as an administrator's token sees it */
  async api<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { ...init, headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async dispose(): Promise<void> {
    try {
      await this.gateways?.endAsync();
      await this.stopServer();
      await this.relay?.stop();
    } finally {
      if (this.ownsServices) {
        await this.broker?.dispose();
        await this.influx?.dispose();
      }
      this.dir?.remove();
    }
  }
}
