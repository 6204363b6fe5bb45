/**
 * The real server with clinical records for the §6 API tests: PostgreSQL, Mosquitto and influxd on
 * free ports, buildServer wired as server/main.ts wires it (DATABASE_URL set, or not), an account
 * of each role imported from the users file, and a gateway's MQTT client to send pump sentences.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import WebSocket from 'ws';
import type { Role, ServerMessage } from '../../../protocol/api.ts';
import { decodeSentence } from '../../../protocol/decode.ts';
import { encodeSentence } from '../../../protocol/encode.ts';
import { toPumpMessage } from '../../../protocol/payloads.ts';
import type { Sentence } from '../../../protocol/sentence.ts';
import { topics } from '../../../protocol/topics.ts';
import { buildServer, type PumpwatchServer } from '../../../server/app.ts';
import { hashPassword } from '../../../server/auth/passwords.ts';
import { writeUsersFile, type UsersFileContent } from '../../../server/auth/usersFile.ts';
import { createEpisodeTracker } from '../../../server/billing/index.ts';
import { loadConfig } from '../../../server/config.ts';
import { createDetectionEngine, DEFAULT_DETECTION_CONFIG } from '../../../server/engine/index.ts';
import { registerHttp } from '../../../server/http/registerHttp.ts';
import { startInfluxd, type InfluxServer } from '../../helpers/influxd.ts';
import { startMosquitto, type Broker } from '../../helpers/mosquitto.ts';
import { freePort } from '../../helpers/ports.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';

export const TOKEN = 'clinical-api-token-0123456789';
export const ROLES: readonly Role[] = ['nurse', 'billing', 'pharmacist', 'admin'];
const password = (role: Role): string => `${role}-password-0001`;

export interface Answer<T = unknown> { status: number; body: T }

/** a caller: a logged-in role (cookie, CSRF, Origin), the API token, or nobody */
export class Caller {
  constructor(private readonly base: string, readonly headers: Record<string, string>) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { ...this.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      /* CSV, metrics */
    }
    return { status: res.status, body: parsed as T };
  }

  async ok<T>(method: string, path: string, body?: unknown, expected = method === 'POST' && !path.endsWith('/end') && !path.endsWith('/discontinue') ? 201 : 200): Promise<T> {
    const r = await this.call<T>(method, path, body);
    if (r.status !== expected) throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

export class ClinicalServerStack {
  pg!: PostgresServer;
  broker!: Broker;
  influx!: InfluxServer;
  dir!: TempDir;
  port = 0;
  server: PumpwatchServer | null = null;
  gateway: MqttClient | null = null;
  private readonly seqs = new Map<string, number>();

  /** `logTo`: every log line of the server at debug level goes there (the privacy test reads them) */
  /** `env`: further server settings (an output's receivers, shorter periods) */
  constructor(private readonly withDatabase = true, private readonly logTo?: { write(line: string): void }, private readonly env: Record<string, string> = {}) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    [this.pg, this.broker, this.influx] = await Promise.all([
      this.withDatabase ? startPostgres() : Promise.resolve(undefined as unknown as PostgresServer), startMosquitto(), startInfluxd(),
    ]);
    this.dir = tempDir('pumpwatch-clinical-api-');
    this.port = await freePort();
    const content: UsersFileContent = { version: 1, users: {} };
    for (const role of ROLES) content.users[role] = { role, password: await hashPassword(password(role)), updatedAt: new Date().toISOString() };
    writeUsersFile(join(this.dir.path, 'users.json'), content);
    await this.startServer();
    this.gateway = await mqtt.connectAsync(this.broker.url, { clientId: `clinical-gw-${this.port}`, clean: true });
  }

  async startServer(): Promise<PumpwatchServer> {
    const config = loadConfig({
      MQTT_URL: this.broker.url, INFLUX_URL: this.influx.urlFor('pumpwatch_clinical'), HOST: '127.0.0.1', PORT: String(this.port),
      PUMPWATCH_JOURNAL_DIR: join(this.dir.path, 'journal'), PUMPWATCH_USERS_FILE: join(this.dir.path, 'users.json'),
      PUMPWATCH_API_TOKENS: TOKEN, INFLUX_FLUSH_MS: '100', CHECKPOINT_MS: '500', LOG_LEVEL: 'warn',
      ...(this.withDatabase ? { DATABASE_URL: this.pg.url } : {}),
      ...this.env,
    });
    const log = this.logTo ? pino({ level: 'debug' }, this.logTo) : pino({ level: 'error' });
    const server = await buildServer({
      config, log, createEngine: createDetectionEngine, detectionDefaults: DEFAULT_DETECTION_CONFIG,
      createTracker: createEpisodeTracker, registerHttp, fastify: { loggerInstance: log }, http: { https: false },
      database: { retryMinMs: 100, retryMaxMs: 500, probeMs: 250 },
    });
    await server.start();
    await server.app.listen({ host: '127.0.0.1', port: this.port });
    this.server = server;
    return server;
  }

  async stopServer(): Promise<void> {
    const s = this.server;
    this.server = null;
    await s?.stop();
  }

  anonymous(): Caller {
    return new Caller(this.base, {});
  }

  token(): Caller {
    return new Caller(this.base, { authorization: `Bearer ${TOKEN}` });
  }

  /** logs in; while the accounts are still being loaded from the database (503), tries again for up to 20 s */
  async login(role: Role): Promise<Caller> {
    const deadline = Date.now() + 20_000;
    let res: Response;
    for (;;) {
      res = await fetch(`${this.base}/api/session`, {
        method: 'POST', headers: { origin: this.base, 'content-type': 'application/json' },
        body: JSON.stringify({ username: role, password: password(role) }),
      });
      if (res.status !== 503 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100)); // polling the login, not waiting for time to pass
    }
    if (res.status !== 200) throw new Error(`login ${role}: HTTP ${res.status} ${await res.text()}`);
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('pumpwatch_session='));
    if (!cookie) throw new Error(`login ${role}: no session cookie`);
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    return new Caller(this.base, { cookie, origin: this.base, 'x-csrf-token': csrfToken });
  }

  /** sends one sentence of `pump` as its gateway would (pump clock = now unless given) */
  async send(pump: string, body: Record<string, unknown>, timeMs = Date.now()): Promise<void> {
    const seq = this.seqs.get(pump) ?? 0;
    this.seqs.set(pump, seq + 1);
    const line = encodeSentence({ ...body, pump, seq, time: new Date(timeMs).toISOString().replace(/\.\d{3}Z$/, 'Z') } as Sentence);
    const d = decodeSentence(line);
    if (!d.ok) throw new Error(`bad test sentence ${line}`);
    await this.gateway?.publishAsync(topics.pump('gw-clinical', pump), JSON.stringify(toPumpMessage(d.sentence, line, new Date())), { qos: 1 });
  }

  async dispose(): Promise<void> {
    try {
      await this.gateway?.endAsync();
      await this.stopServer();
    } finally {
      await Promise.all([this.broker?.dispose(), this.influx?.dispose(), this.withDatabase ? this.pg?.stop() : undefined]);
      this.dir?.remove();
    }
  }
}

/** A /ws client keeping every message. */
export class Board {
  readonly messages: ServerMessage[] = [];
  private constructor(readonly ws: WebSocket) {}

  static open(port: number, headers: Record<string, string>): Promise<Board> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
      const board = new Board(ws);
      ws.on('message', (data) => board.messages.push(JSON.parse((data as Buffer).toString('utf8')) as ServerMessage));
      ws.once('open', () => resolve(board));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`/ws: HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.terminate();
    });
  }
}
