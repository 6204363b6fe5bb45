/**
 * The real system for browser tests: Mosquitto, influxd, `npm run server` (serving the dashboard
 * build) restartable on the same port, `npm run gateway` on a socat pty, and a pump on the other
 * end of it (SerialPumpPort).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSentence } from '../../protocol/encode.ts';
import type { Sentence } from '../../protocol/sentence.ts';
import { PtyPair } from '../../simulators/ptyPair.ts';
import { SerialPumpPort } from '../../simulators/serialPumpPort.ts';
import { startNpmScript, type RunningProcess } from '../helpers/childProcess.ts';
import { startInfluxd, type InfluxServer } from '../helpers/influxd.ts';
import { startMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir, type TempDir } from '../helpers/tempDir.ts';

/** a sentence without the common fields the stack fills in (time may be given) */
export type SentenceBody = (Sentence extends infer S ? (S extends Sentence ? Omit<S, 'pump' | 'seq' | 'time'> : never) : never) & { time?: string };

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export class RealStack {
  broker!: Broker;
  influx!: InfluxServer;
  dir!: TempDir;
  port = 0;
  server: RunningProcess | null = null;
  gateway: RunningProcess | null = null;
  pty: PtyPair | null = null;
  pump: SerialPumpPort | null = null;
  private seq = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private env(): Record<string, string> {
    return {
      MQTT_URL: this.broker.url, INFLUX_URL: this.influx.urlFor('pumpwatch_e2e'), HOST: '127.0.0.1', PORT: String(this.port),
      PUMPWATCH_JOURNAL_DIR: join(this.dir.path, 'journal'), PUMPWATCH_USERS_FILE: join(this.dir.path, 'users.json'),
      INFLUX_FLUSH_MS: '100', CHECKPOINT_MS: '500',
    };
  }

  async start(users: { name: string; password: string; role: string }[]): Promise<void> {
    this.broker = await startMosquitto();
    this.influx = await startInfluxd();
    this.dir = tempDir('pumpwatch-e2e-');
    this.port = await freePort();
    for (const u of users) {
      // as an administrator would: `npm run users -- add`, password on standard input
      execFileSync('npm', ['run', '--silent', 'users', '--', 'add', u.name, '--role', u.role], {
        cwd: ROOT, input: `${u.password}\n`, env: { ...process.env, ...this.env() }, stdio: ['pipe', 'ignore', 'inherit'],
      });
    }
    await this.startServer();
    this.pty = new PtyPair(join(this.dir.path, 'pump1.tty'));
    await this.pty.start();
    this.pump = new SerialPumpPort({ path: this.pty.pumpPath });
    await this.pump.open();
    this.gateway = startNpmScript('gateway', ['--id', 'home-e2e', '--serial', this.pty.gatewayPath, '--mqtt', this.broker.url, '--queue-dir', join(this.dir.path, 'gw-queue')]);
  }

  async startServer(): Promise<void> {
    const server = startNpmScript('server', [], { env: this.env() });
    this.server = server;
    await server.waitForLine(/"msg":"listening"/, 60_000);
  }

  /** SIGTERM, as systemd would: the server flushes and exits */
  async stopServer(): Promise<void> {
    const s = this.server;
    this.server = null;
    await s?.stop();
  }

  /** Writes one sentence on the pump's serial line; seq counts up from 0 (power-on). */
  async send(body: SentenceBody, serial = 'CS7-E2E001'): Promise<void> {
    const time = body.time ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const line = encodeSentence({ ...body, pump: serial, seq: this.seq++, time });
    await this.pump!.send(line);
    await this.pump!.drain();
  }

  async dispose(): Promise<void> {
    try {
      await this.gateway?.stop();
      await this.pump?.close();
      await this.pty?.stop();
      await this.stopServer();
    } finally {
      await this.broker?.dispose();
      await this.influx?.dispose();
      this.dir?.remove();
    }
  }
}
