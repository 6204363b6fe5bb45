/**
 * The whole chain a detection scenario runs through: simulated pumps (SerialPumpPort, which also
 * answers `?HIST`) each on a real socat pty, one real `npm run gateway` reading them all, real
 * Mosquitto, influxd (and PostgreSQL when asked), and the real `npm run server` process; a /ws
 * client that sees what a nurse's board sees, with the arrival time of every message.
 *
 *   const rig = await DetectionRig.start({ pumps: ['CS7-OFF01'], env: { STOPPED_GRACE_S: '60' } });
 *   const pump = rig.pump('CS7-OFF01');
 *   await pump.write({ type: 'event', code: 'POWER_ON', detail: '4.2.1' });
 *   const alert = await rig.board.waitForAlert('CS7-OFF01', (a) => a.type === 'pump_off');
 *   await rig.stop();
 */
import { join } from 'node:path';
import type { Alert } from '../../../protocol/api.ts';
import { encodeSentence } from '../../../protocol/encode.ts';
import type { Sentence } from '../../../protocol/sentence.ts';
import type { PtyPair } from '../../../simulators/ptyPair.ts';
import type { SerialPumpPort } from '../../../simulators/serialPumpPort.ts';
import { startNpmScript, type RunningProcess } from '../../helpers/childProcess.ts';
import { startInfluxd, type InfluxServer } from '../../helpers/influxd.ts';
import { startMosquitto, type Broker } from '../../helpers/mosquitto.ts';
import { freePort } from '../../helpers/ports.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';
import { BoardSocket } from '../../helpers/boardSocket.ts';
import { waitFor } from '../../helpers/wait.ts';
import { startGateway, startPump, stopGateway } from '../gateway/gatewayHarness.ts';

export const RIG_TOKEN = 'detection-rig-token-0123456789';
export const RIG_GATEWAY = 'home-rig';

/** a sentence without the fields the pump fills in (its serial, seq and clock) */
export type SentenceBody = Sentence extends infer S ? (S extends Sentence ? Omit<S, 'pump' | 'seq' | 'time'> : never) : never;

/** pump-clock text of an epoch ms, as the pump writes it (whole seconds, UTC) */
export const pumpTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface RigOptions {
  /** pump serials, one pty each, all read by the one gateway */
  pumps: readonly string[];
  /** extra server environment (STOPPED_GRACE_S, SIGNAL_LOST_S, TZ, ...) */
  env?: Record<string, string>;
  /** extra gateway arguments */
  gatewayArgs?: string[];
  /** start PostgreSQL and give the server DATABASE_URL */
  database?: boolean;
}

/** One simulated pump: its own sequence counter from POWER_ON and its own clock. */
export class RigPump {
  /** the pump clock's offset from real time, ms (negative: behind) */
  clockOffsetMs = 0;
  private seq = 0;
  constructor(readonly serial: string, readonly port: SerialPumpPort, readonly pty: PtyPair) {}

  /** the wire line of the next sentence, stamped `atMs` (default now) on the pump's clock */
  line(body: SentenceBody, atMs = Date.now()): string {
    if (body.type === 'event' && body.code === 'POWER_ON') this.seq = 0;
    return encodeSentence({ ...body, pump: this.serial, seq: this.seq++ % 65536, time: pumpTime(atMs + this.clockOffsetMs) });
  }

  /** writes one sentence on the serial line; resolves once it left (performance.now() of the write) */
  async write(body: SentenceBody, atMs = Date.now(), opts: { lost?: boolean } = {}): Promise<number> {
    const line = this.line(body, atMs);
    const t = performance.now();
    await this.port.send(line, opts);
    await this.port.drain();
    return t;
  }

  /** a status sentence, with the fields most scenarios leave alone defaulted */
  status(s: { state: 'IDLE' | 'RUN' | 'PAUSE' | 'ALARM' | 'END'; rateMlH: number; infusedMl: number; vtbiMl: number; reservoirMl?: number | null; pressureMmHg?: number | null; batteryPct?: number; alarms?: string[] }): SentenceBody {
    return {
      type: 'status', state: s.state, rateMlH: s.rateMlH, infusedMl: s.infusedMl, vtbiMl: s.vtbiMl,
      reservoirMl: s.reservoirMl === undefined ? s.vtbiMl : s.reservoirMl, pressureMmHg: s.pressureMmHg === undefined ? 40 : s.pressureMmHg,
      batteryPct: s.batteryPct ?? 90, alarms: s.alarms ?? [],
    };
  }
}

/** the rig's board: a /ws client with the rig's token (test/helpers/boardSocket.ts) */
export { BoardSocket as BoardClient } from '../../helpers/boardSocket.ts';

export class DetectionRig {
  readonly pumps = new Map<string, RigPump>();
  server!: RunningProcess;
  gateway!: RunningProcess;
  board!: BoardSocket;
  private constructor(readonly broker: Broker, readonly influx: InfluxServer, readonly dir: TempDir, readonly port: number, readonly pg: PostgresServer | null) {}

  static async start(opts: RigOptions): Promise<DetectionRig> {
    const [broker, influx, pg] = await Promise.all([startMosquitto(), startInfluxd(), opts.database ? startPostgres() : Promise.resolve(null)]);
    const rig = new DetectionRig(broker, influx, tempDir('pumpwatch-detection-'), await freePort(), pg);
    try {
      for (const serial of opts.pumps) {
        const { pty, pump } = await startPump(rig.dir.path, serial);
        rig.pumps.set(serial, new RigPump(serial, pump, pty));
      }
      await rig.startServer(opts.env ?? {});
      rig.gateway = startGateway({
        id: RIG_GATEWAY, serial: [...rig.pumps.values()].map((p) => p.pty.gatewayPath), mqtt: broker.url,
        queueDir: join(rig.dir.path, 'gateway-queue'), extra: opts.gatewayArgs ?? [],
      });
      await rig.gateway.waitForLine(/"event":"broker_up"/, 30_000);
      await waitFor(() => rig.gateway.lines.filter((l) => l.includes('"event":"link_up"')).length >= rig.pumps.size, 30_000, 'every serial link up');
      return rig;
    } catch (err) {
      await rig.stop();
      throw err;
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  pump(serial: string): RigPump {
    const p = this.pumps.get(serial);
    if (!p) throw new Error(`no pump ${serial} on this rig`);
    return p;
  }

  /** (re)starts `npm run server` and the board client */
  async startServer(env: Record<string, string>): Promise<void> {
    this.server = startNpmScript('server', [], {
      env: {
        MQTT_URL: this.broker.url, INFLUX_URL: this.influx.urlFor('pumpwatch_detection'), HOST: '127.0.0.1', PORT: String(this.port),
        PUMPWATCH_JOURNAL_DIR: join(this.dir.path, 'journal'), PUMPWATCH_USERS_FILE: join(this.dir.path, 'users.json'),
        PUMPWATCH_API_TOKENS: RIG_TOKEN, INFLUX_FLUSH_MS: '100', CHECKPOINT_MS: '500', LOG_LEVEL: 'info',
        ...(this.pg ? { DATABASE_URL: this.pg.url } : {}), ...env,
      },
    });
    await this.server.waitForLine(/"msg":"listening"/, 90_000);
    this.board = await BoardSocket.open(`ws://127.0.0.1:${this.port}/ws`, { authorization: `Bearer ${RIG_TOKEN}` });
    await waitFor(() => this.board.received.some((r) => r.msg.type === 'snapshot'), 10_000, 'board snapshot');
  }

  /** an API call with the rig's token; throws unless it answers `expected` */
  async api<T>(path: string, init: RequestInit = {}, expected = 200): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { ...init, headers: { authorization: `Bearer ${RIG_TOKEN}`, ...(init.headers ?? {}) } });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${text}`);
    return (text === '' ? null : JSON.parse(text)) as T;
  }

  /** every alert of a pump the server holds (active and cleared), newest first */
  alerts(pump: string): Promise<Alert[]> {
    return this.api<Alert[]>(`/api/alerts?status=all&pump=${encodeURIComponent(pump)}`);
  }

  async stop(): Promise<void> {
    await this.board?.close();
    await stopGateway(this.gateway);
    await this.server?.stop();
    for (const p of this.pumps.values()) {
      await p.port.close();
      await p.pty.stop();
    }
    await Promise.all([this.broker.dispose(), this.influx.dispose(), this.pg?.stop()]);
    this.dir.remove();
  }
}
