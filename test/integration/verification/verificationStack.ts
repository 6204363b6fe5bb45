/**
 * The real system for programming-verification tests: PostgreSQL, Mosquitto and influxd on free
 * ports, the real server built in this process as server/main.ts builds it (buildServer with the
 * real engine, billing and HTTP layer) with DATABASE_URL set, a pharmacist and a nurse who log in,
 * WebSocket clients that note when each message arrived, and pumps whose sentences reach the
 * server as a gateway sends them (contract payloads on pumpwatch/<gateway>/pumps/<serial>, QoS 1).
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import type { Alert } from '../../../protocol/api.ts';
import type { Assignment, DrugLimit, NewOrder, Order, Patient } from '../../../protocol/clinical.ts';
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
import { waitFor } from '../../helpers/wait.ts';
import { BoardSocket } from '../../helpers/boardSocket.ts';

/** an admin token: used only where no session can exist (a server started while PostgreSQL is down) */
export const ADMIN_TOKEN = 'verification-admin-token-0123456789';
export const USERS = {
  pharma: { password: 'pharma-pass-0001', role: 'pharmacist' },
  nurse: { password: 'nurse-pass-0001', role: 'nurse' },
} as const;
export type UserName = keyof typeof USERS;

/** a sentence without the fields the pump fills in (its serial, seq and clock) */
export type SentenceBody = Sentence extends infer S ? (S extends Sentence ? Omit<S, 'pump' | 'seq' | 'time'> : never) : never;

/** pump-clock text of an epoch ms, as the pump writes it */
export const pumpTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** the board's /ws client (test/helpers/boardSocket.ts) */
export { BoardSocket as WsClient } from '../../helpers/boardSocket.ts';

/** A logged-in account: cookie, CSRF token and the origin its browser would send. */
export class Session {
  constructor(private readonly base: string, readonly cookie: string, readonly csrf: string) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        cookie: this.cookie, origin: this.base, 'x-csrf-token': this.csrf,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
  }

  /** the call, which must answer `expected` */
  async ok<T>(method: string, path: string, body?: unknown, expected = method === 'POST' ? 201 : 200): Promise<T> {
    const r = await this.call<T>(method, path, body);
    if (r.status !== expected) throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

/** One pump's serial line: seq from 0 at power-on, its own clock; published as its gateway would. */
export class PumpFeed {
  private seq = 0;
  constructor(readonly serial: string, readonly gateway: string, private readonly client: MqttClient) {}

  /** the wire line of the next sentence, stamped `timeMs` on the pump clock */
  line(body: SentenceBody, timeMs = Date.now()): string {
    return encodeSentence({ ...body, pump: this.serial, seq: this.seq++ % 65536, time: pumpTime(timeMs) });
  }

  async send(body: SentenceBody, timeMs = Date.now()): Promise<void> {
    await this.publishLine(this.line(body, timeMs));
  }

  async publishLine(line: string): Promise<void> {
    const decoded = decodeSentence(line);
    if (!decoded.ok) throw new Error(`bad test sentence ${line}`);
    const payload = JSON.stringify(toPumpMessage(decoded.sentence, line, new Date()));
    await this.client.publishAsync(topics.pump(this.gateway, decoded.sentence.pump), payload, { qos: 1 });
  }

  /** many lines in order, QoS 1 with a bounded window in flight, as a gateway drains its queue */
  async publishLines(lines: readonly string[]): Promise<void> {
    const window: Promise<unknown>[] = [];
    for (const line of lines) {
      window.push(this.publishLine(line));
      if (window.length >= 100) await Promise.all(window.splice(0));
    }
    await Promise.all(window);
  }
}

export class VerificationStack {
  pg!: PostgresServer;
  broker!: Broker;
  influx!: InfluxServer;
  dir!: TempDir;
  port = 0;
  server: PumpwatchServer | null = null;
  private gateways: MqttClient | null = null;

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    [this.pg, this.broker, this.influx] = await Promise.all([startPostgres(), startMosquitto(), startInfluxd()]);
    this.dir = tempDir('pumpwatch-verification-');
    this.port = await freePort();
    const content: UsersFileContent = { version: 1, users: {} };
    for (const [name, u] of Object.entries(USERS)) {
      content.users[name] = { role: u.role, password: await hashPassword(u.password), updatedAt: new Date().toISOString() };
    }
    // what `npm run users -- add` writes; imported into the empty users table at the first start
    writeUsersFile(join(this.dir.path, 'users.json'), content);
    await this.startServer();
    // the server never waits for PostgreSQL; the tests begin once it is up (migrated, accounts imported)
    await waitFor(async () => (await this.health()).database === 'up', 30_000, 'database up', 50);
    this.gateways = await mqtt.connectAsync(this.broker.url, { clientId: `verification-gateways-${this.port}`, clean: true });
  }

  /** buildServer as server/main.ts wires it; retries to PostgreSQL shortened so a test need not wait 5 s */
  async startServer(): Promise<PumpwatchServer> {
    const config = loadConfig({
      MQTT_URL: this.broker.url, INFLUX_URL: this.influx.urlFor('pumpwatch_verification'), HOST: '127.0.0.1', PORT: String(this.port),
      PUMPWATCH_JOURNAL_DIR: join(this.dir.path, 'journal'), PUMPWATCH_USERS_FILE: join(this.dir.path, 'users.json'),
      PUMPWATCH_API_TOKENS: ADMIN_TOKEN, INFLUX_FLUSH_MS: '100', CHECKPOINT_MS: '500', LOG_LEVEL: 'warn',
      DATABASE_URL: this.pg.url,
    });
    const log = pino({ level: 'error' });
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

  /** POST /api/session as the browser does (same Origin); the cookie and CSRF token */
  async login(name: UserName): Promise<Session> {
    const res = await fetch(`${this.base}/api/session`, {
      method: 'POST', headers: { origin: this.base, 'content-type': 'application/json' },
      body: JSON.stringify({ username: name, password: USERS[name].password }),
    });
    if (res.status !== 200) throw new Error(`login ${name}: HTTP ${res.status} ${await res.text()}`);
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('pumpwatch_session='));
    if (!cookie) throw new Error(`login ${name}: no session cookie`);
    return new Session(this.base, cookie, (await res.json() as { csrfToken: string }).csrfToken);
  }

  /** a /ws client on a nurse's session (cookie and the page's Origin) */
  openWs(session: Session): Promise<BoardSocket> {
    return BoardSocket.open(`ws://127.0.0.1:${this.port}/ws`, { cookie: session.cookie, origin: this.base });
  }

  openWsWithToken(): Promise<BoardSocket> {
    return BoardSocket.open(`ws://127.0.0.1:${this.port}/ws`, { authorization: `Bearer ${ADMIN_TOKEN}` });
  }

  pump(serial: string, gateway: string): PumpFeed {
    if (!this.gateways) throw new Error('stack not started');
    return new PumpFeed(serial, gateway, this.gateways);
  }

  /** every alert of a pump the server knows, raised or cleared (GET /api/alerts?status=all) */
  async alertsOf(pump: string): Promise<Alert[]> {
    const res = await fetch(`${this.base}/api/alerts?status=all&from=${new Date(Date.now() - 60 * 86_400_000).toISOString()}&pump=${pump}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (!res.ok) throw new Error(`alerts: HTTP ${res.status}`);
    return (await res.json()) as Alert[];
  }

  async health(): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.base}/api/health`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return (await res.json()) as Record<string, unknown>;
  }

  async dispose(): Promise<void> {
    try {
      await this.gateways?.endAsync();
      await this.stopServer();
    } finally {
      await Promise.all([this.broker?.dispose(), this.influx?.dispose(), this.pg?.stop()]);
      this.dir?.remove();
    }
  }
}

/** A patient, an order and the pump assigned to it, through the §6 API as the pharmacist. */
export async function prescribe(
  pharma: Session, pump: string, mrn: string, order: Omit<NewOrder, 'patientId' | 'start' | 'mode'> & { mode?: NewOrder['mode'] },
): Promise<{ patient: Patient; order: Order; assignment: Assignment }> {
  const patient = await pharma.ok<Patient>('POST', '/api/patients', { mrn, name: `Test Patient ${mrn}`, phone: '+1 555 010 0000' });
  const created = await pharma.ok<Order>('POST', '/api/orders', {
    mode: 'continuous', ...order, patientId: patient.id, start: new Date(Date.now() - 3_600_000).toISOString(),
  });
  const assignment = await pharma.ok<Assignment>('POST', '/api/assignments', { pump, orderId: created.id });
  return { patient, order: created, assignment };
}

export type { DrugLimit };
