import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevCerts, type DevCerts } from '../../scripts/devCerts.ts';
import { runProvision, realDeps } from '../../server/cli/provision.ts';
import { startProcess, type RunningProcess } from './childProcess.ts';
import { freePort } from './ports.ts';
import { tempDir, type TempDir } from './tempDir.ts';
import { waitFor } from './wait.ts';
import { portOpen } from '../../scripts/services/portOpen.ts';

/** The shipped broker configuration and ACL header (deploy/mosquitto/). */
export const SHIPPED_MOSQUITTO_CONF = fileURLToPath(new URL('../../deploy/mosquitto/mosquitto.conf', import.meta.url));
export const SHIPPED_ACL = fileURLToPath(new URL('../../deploy/mosquitto/pumpwatch.acl', import.meta.url));

export interface SecureBroker {
  /** the TLS listener */
  port: number;
  /** mqtts://127.0.0.1:<port> */
  url: string;
  dir: string;
  certs: DevCerts;
  /** the CA clients must trust (the dev CA) */
  caFile: string;
  confFile: string;
  passwordFile: string;
  aclFile: string;
  /** the broker's log lines (stderr) of the current run */
  readonly log: string[];
  /** `npm run provision -- gateway <id>` against this broker's files, in-process; returns the password. Call reload() after. */
  addGateway(gatewayId: string): Promise<string>;
  /** `npm run provision -- server [instance]`; returns the password. Call reload() after. */
  addServer(instance?: string): Promise<string>;
  /** `npm run provision -- <args>` in-process with this broker's files; resolves with the exit code */
  provision(args: string[]): Promise<number>;
  /** SIGHUP, as `systemctl reload mosquitto` does; resolves once Mosquitto has re-read its files */
  reload(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** removes the temp folder too */
  dispose(): Promise<void>;
}

export interface SecureBrokerOptions {
  /** serve this certificate instead of the dev broker certificate (wrong-CA / wrong-host tests) */
  brokerCert?: { certFile: string; keyFile: string };
  /** where the dev CA lives (default: inside the broker's temp folder) */
  certsDir?: string;
}

const REPLACED = ['listener', 'cafile', 'certfile', 'keyfile', 'password_file', 'acl_file', 'persistence_location', 'user', 'log_dest'];

/**
 * The shipped mosquitto.conf with only its machine paths, port and user swapped for the test's:
 * every other line (TLS version, anonymous off, queue limits, persistence) is used as shipped.
 */
export function testBrokerConfig(shipped: string, p: {
  port: number; dir: string; caFile: string; certFile: string; keyFile: string; passwordFile: string; aclFile: string;
}): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of shipped.split('\n')) {
    const key = /^\s*([a-z_]+)\b/.exec(line)?.[1];
    if (!key || (!REPLACED.includes(key) && key !== 'pid_file')) {
      out.push(line);
      continue;
    }
    seen.add(key);
    switch (key) {
      case 'listener': out.push(`listener ${p.port} 127.0.0.1`); break;
      case 'cafile': out.push(`cafile ${p.caFile}`); break;
      case 'certfile': out.push(`certfile ${p.certFile}`); break;
      case 'keyfile': out.push(`keyfile ${p.keyFile}`); break;
      case 'password_file': out.push(`password_file ${p.passwordFile}`); break;
      case 'acl_file': out.push(`acl_file ${p.aclFile}`); break;
      case 'persistence_location': out.push(`persistence_location ${p.dir}/`); break;
      // stays root: as user mosquitto it could not read the temp folder
      case 'user': out.push('user root'); break;
      case 'log_dest': out.push('log_dest stderr'); break; // unbuffered when piped
      default: break; // pid_file: none in tests
    }
  }
  const missing = REPLACED.filter((k) => !seen.has(k));
  if (missing.length > 0) throw new Error(`shipped mosquitto.conf lacks: ${missing.join(', ')}`);
  // logging only: reload() waits for "Reloading config.", an information-level line
  out.push('log_type information');
  return out.join('\n') + '\n';
}

/**
 * A real Mosquitto with the shipped TLS listener, password file and ACL, on a free port in a
 * temp folder. Accounts are made with the provision command's own code.
 */
export async function startSecureMosquitto(opts: SecureBrokerOptions = {}): Promise<SecureBroker> {
  const port = await freePort();
  const tmp: TempDir = tempDir('pumpwatch-secure-mosquitto-');
  const certs = ensureDevCerts(opts.certsDir ?? join(tmp.path, 'certs'));
  const confFile = join(tmp.path, 'mosquitto.conf');
  const passwordFile = join(tmp.path, 'pumpwatch.passwd');
  const aclFile = join(tmp.path, 'pumpwatch.acl');
  writeFileSync(passwordFile, '', { mode: 0o640 });
  writeFileSync(aclFile, readFileSync(SHIPPED_ACL, 'utf8'), { mode: 0o640 });
  writeFileSync(confFile, testBrokerConfig(readFileSync(SHIPPED_MOSQUITTO_CONF, 'utf8'), {
    port, dir: tmp.path, caFile: certs.caFile,
    certFile: opts.brokerCert?.certFile ?? certs.brokerCertFile,
    keyFile: opts.brokerCert?.keyFile ?? certs.brokerKeyFile,
    passwordFile, aclFile,
  }));
  let proc: RunningProcess | null = null;
  const fileArgs = ['--passwd-file', passwordFile, '--acl-file', aclFile, '--mqtt', `mqtts://127.0.0.1:${port}`, '--ca', certs.caFile];
  const provision = async (args: string[]): Promise<{ code: number; password: string | null }> => {
    let password: string | null = null;
    const errors: string[] = [];
    const code = await runProvision([...args, ...fileArgs], {}, {
      ...realDeps,
      newPassword: () => (password = realDeps.newPassword()),
      out: () => undefined,
      err: (t) => errors.push(t),
    });
    if (code !== 0 && args[0] !== 'revoke') throw new Error(`provision ${args.join(' ')} failed: ${errors.join('')}`);
    return { code, password };
  };
  const broker: SecureBroker = {
    port, url: `mqtts://127.0.0.1:${port}`, dir: tmp.path, certs, caFile: certs.caFile, confFile, passwordFile, aclFile,
    get log() { return proc?.lines ?? []; },
    async addGateway(gatewayId) {
      return (await provision(['gateway', gatewayId])).password ?? '';
    },
    async addServer(instance) {
      return (await provision(instance === undefined ? ['server'] : ['server', instance])).password ?? '';
    },
    async provision(args) {
      return (await provision(args)).code;
    },
    async reload() {
      const p = proc;
      if (!p?.child.pid) throw new Error('broker not running');
      const count = (): number => p.lines.filter((l) => /Reloading config/.test(l)).length;
      const before = count();
      process.kill(p.child.pid, 'SIGHUP');
      await waitFor(() => count() > before, 10_000, 'mosquitto to reload');
    },
    async start() {
      proc = startProcess('mosquitto', ['-c', confFile]);
      const p = proc;
      await waitFor(async () => p.child.exitCode === null ? portOpen(port) : Promise.reject(new Error(`mosquitto exited: ${p.lines.slice(-5).join(' | ')}`)), 10_000, `mosquitto (TLS) on ${port}`);
    },
    async stop() {
      if (proc) await proc.stop();
      proc = null;
    },
    async dispose() {
      await broker.stop();
      tmp.remove();
    },
  };
  await broker.start();
  return broker;
}

export type ConnectOutcome =
  | { ok: true; client: MqttClient }
  | { ok: false; error: Error & { code?: string | number } };

/**
 * One connection attempt without retries: the connected client, or why it failed (TLS error,
 * CONNACK refusal, connection closed). The caller ends a returned client.
 */
export function connectOnce(url: string, opts: IClientOptions): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...opts });
    let settled = false;
    const settle = (o: ConnectOutcome): void => {
      if (settled) return;
      settled = true;
      if (!o.ok) client.end(true);
      resolve(o);
    };
    client.once('connect', () => settle({ ok: true, client }));
    client.once('error', (error) => settle({ ok: false, error }));
    client.once('close', () => settle({ ok: false, error: new Error('connection closed before CONNACK') }));
  });
}
