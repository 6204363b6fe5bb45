import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isValidGatewayId } from '../protocol/topics.ts';
import { FaultError, parseFault, type GatewayFault } from './faults.ts';

export interface GatewayConfig {
  id: string;
  serialPaths: string[];
  mqttUrl: string;
  mqttUsername: string | undefined;
  mqttPassword: string | undefined;
  /** PEM of the CA that signed the broker's certificate (mqtts://) */
  caPem: string | undefined;
  queueDir: string;
  baud: number;
  /** seconds of silence on an open port before ?HIST; twice that and the port is reopened */
  silenceS: number;
  /** seconds between retained diagnostics */
  diagnosticsS: number;
  /** seconds a gap holds later sentences while ?HIST replays */
  gapHoldS: number;
  /** bound of the on-disk queue, MB */
  maxQueueMb: number;
  /** seconds SIGTERM waits for the broker to take what is queued */
  shutdownS: number;
  /** file whose modification time the gateway renews while healthy (for bin/pumpwatch-watchdog), or null */
  healthFile: string | null;
  /** seconds between health checks (and heartbeats while healthy) */
  healthS: number;
  /** a fault injected by the watchdog's tests (PUMPWATCH_GATEWAY_FAULT), null in production */
  testFault: GatewayFault | null;
}

export class ConfigError extends Error {}

export const USAGE = 'usage: npm run gateway -- --id <gatewayId> --serial <path> [--serial <path> ...] --mqtt <mqtt[s]://host:port> '
  + '[--queue-dir <dir>] [--baud 115200] [--ca <file>] [--silence-s 150] [--diagnostics-s 60] [--gap-hold-s 5] [--max-queue-mb 256] [--shutdown-s 5] '
  + '[--health-file <path>] [--health-s 5]';

const BAUDS = new Set([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600]);

function positive(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0) || n > max) throw new ConfigError(`--${name} must be a number > 0 and <= ${max}, got "${text}"`);
  return n;
}

/** Parses and validates the command line once; the result is frozen. Throws ConfigError. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): Readonly<GatewayConfig> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        id: { type: 'string' },
        serial: { type: 'string', multiple: true },
        mqtt: { type: 'string' },
        'queue-dir': { type: 'string' },
        baud: { type: 'string' },
        ca: { type: 'string' },
        'silence-s': { type: 'string' },
        'diagnostics-s': { type: 'string' },
        'gap-hold-s': { type: 'string' },
        'max-queue-mb': { type: 'string' },
        'shutdown-s': { type: 'string' },
        'health-file': { type: 'string' },
        'health-s': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message.split('\n')[0] ?? 'bad option');
  }
  const id = values.id;
  if (!id) throw new ConfigError('--id is required');
  if (!isValidGatewayId(id)) throw new ConfigError(`--id must be 1-64 of [A-Za-z0-9_-] not starting with _, got "${id}"`);
  const serialPaths = values.serial ?? [];
  if (serialPaths.length === 0) throw new ConfigError('at least one --serial <path> is required');
  if (new Set(serialPaths).size !== serialPaths.length) throw new ConfigError('--serial paths must be distinct');
  const mqttUrl = values.mqtt;
  if (!mqttUrl) throw new ConfigError('--mqtt <url> is required');
  let url: URL;
  try {
    url = new URL(mqttUrl);
  } catch {
    throw new ConfigError(`--mqtt is not a URL: "${mqttUrl}"`);
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') throw new ConfigError(`--mqtt must be mqtt:// or mqtts://, got "${url.protocol}"`);
  const baud = positive('baud', values.baud, 115200, 921600);
  if (!BAUDS.has(baud)) throw new ConfigError(`--baud must be a standard rate, got "${values.baud}"`);
  const caFile = values.ca ?? env.MQTT_CA_FILE;
  let caPem: string | undefined;
  if (caFile) {
    try {
      caPem = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read CA file ${caFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (caPem && url.protocol !== 'mqtts:') throw new ConfigError('--ca needs an mqtts:// broker URL');
  if (values['health-file'] === '') throw new ConfigError('--health-file must be a path');
  let testFault: GatewayFault | null;
  try {
    testFault = parseFault(env.PUMPWATCH_GATEWAY_FAULT);
  } catch (err) {
    if (!(err instanceof FaultError)) throw err;
    throw new ConfigError(err.message);
  }
  return Object.freeze({
    id,
    serialPaths: Object.freeze([...serialPaths]) as string[],
    mqttUrl,
    mqttUsername: env.MQTT_USERNAME || undefined,
    mqttPassword: env.MQTT_PASSWORD || undefined,
    caPem,
    queueDir: values['queue-dir'] ?? `./.data/gateway-${id}`,
    baud,
    silenceS: positive('silence-s', values['silence-s'], 150, 86_400),
    diagnosticsS: positive('diagnostics-s', values['diagnostics-s'], 60, 3600),
    gapHoldS: positive('gap-hold-s', values['gap-hold-s'], 5, 600),
    maxQueueMb: positive('max-queue-mb', values['max-queue-mb'], 256, 1_000_000),
    shutdownS: positive('shutdown-s', values['shutdown-s'], 5, 600),
    healthFile: values['health-file'] ?? null,
    healthS: positive('health-s', values['health-s'], 5, 60),
    testFault,
  });
}
