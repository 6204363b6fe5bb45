import { hostname } from 'node:os';
import { DetectionConfigError, resolveDetectionConfig, type ResolvedDetectionConfig } from './engine/config.ts';

/**
 * Server configuration from the environment (interfaces.md §2 plus the server's own settings),
 * validated once at start-up and frozen. A bad value throws ConfigError with one line.
 */
export class ConfigError extends Error {
  readonly code = 'BAD_CONFIG';
}

export interface Shard {
  /** 0-based index of this instance */
  index: number;
  /** number of instances */
  count: number;
}

export interface ServerConfig {
  mqttUrl: string;
  mqttUsername: string | null;
  mqttPassword: string | null;
  mqttClientId: string;
  /** PEM file with the CA for mqtts:// */
  mqttCaFile: string | null;
  influxUrl: string;
  /** database name, from the INFLUX_URL path */
  influxDatabase: string;
  /** retention policy created when missing; days, 0 = keep forever */
  influxRetentionDays: number;
  host: string;
  port: number;
  apiTokens: string[];
  usersFile: string;
  journalDir: string;
  /** bytes the ingest journal may hold before back-pressure */
  journalMaxBytes: number;
  /** fsync interval of the journal, ms */
  journalFsyncMs: number;
  stoppedGraceS: number;
  signalLostS: number;
  escalateAfterS: number;
  continuityToleranceMin: number;
  billingTimeZone: string;
  serviceDayRule: 'calendar_day' | 'full_24h';
  /** points per InfluxDB write */
  writeBatchSize: number;
  /** longest wait before a partial batch is written, ms */
  writeFlushMs: number;
  /** engine snapshots and journal acknowledgement, ms */
  checkpointMs: number;
  /** recent identities remembered per pump for de-duplication */
  dedupeWindow: number;
  shard: Shard | null;
  /** MQTT_SHARED_GROUP: pump topics through `$share/<group>/...` (MQTT 5 shared subscription) */
  sharedGroup: string | null;
  /** SERVER_INSTANCE_ID: names this instance on pumpwatch/_server/... (default hostname-port) */
  instanceId: string;
  /** CLUSTER_RELAY: publish and relay alert/pump changes between instances (auto = when SHARD or MQTT_SHARED_GROUP is set) */
  clusterRelay: boolean;
  logLevel: string;
  /** HTTPS_CERT_FILE / HTTPS_KEY_FILE: serve HTTPS (Secure cookies, HSTS) when both are set */
  httpsCertFile: string | null;
  httpsKeyFile: string | null;
  /** TRUST_PROXY: address(es) of a reverse proxy whose X-Forwarded-For is believed (login throttle, audit) */
  trustProxy: string | null;
  /** ALLOWED_ORIGINS: browser origins besides the server's own, comma-separated */
  allowedOrigins: string[];
  /** detection thresholds beyond the three above (see DETECTION_ENV and docs/detection.md) */
  detection: Partial<ResolvedDetectionConfig>;
}

/** Environment names of the detection thresholds; defaults and reasoning in docs/detection.md. */
export const DETECTION_ENV: Readonly<Record<string, keyof ResolvedDetectionConfig>> = Object.freeze({
  OCCLUSION_RISE_MMHG: 'occlusionRiseMmHg',
  OCCLUSION_STALL_S: 'occlusionStallS',
  OCCLUSION_STALL_ML: 'occlusionStallMl',
  FLAP_WINDOW_S: 'flapWindowS',
  HISTORY_LAG_S: 'historyLagS',
  CLOCK_AHEAD_TOLERANCE_S: 'clockAheadToleranceS',
  DELIVERY_MIN_HOURS: 'deliveryMinHours',
  RESERVOIR_SHORTFALL_ML: 'reservoirShortfallMl',
  LOW_BATTERY_PCT: 'lowBatteryPct',
});

function detectionOverrides(env: Env): Partial<ResolvedDetectionConfig> {
  const out: Partial<Record<keyof ResolvedDetectionConfig, number>> = {};
  for (const [name, key] of Object.entries(DETECTION_ENV)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    if (!/^\d+(\.\d+)?$/.test(v.trim())) throw new ConfigError(`${name} must be a number >= 0, got "${v}"`);
    out[key] = Number(v.trim());
  }
  try {
    resolveDetectionConfig(out);
  } catch (err) {
    if (err instanceof DetectionConfigError) throw new ConfigError(err.message);
    throw err;
  }
  return Object.freeze(out);
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function optional(env: Env, name: string): string | null {
  const v = env[name];
  return v === undefined || v === '' ? null : v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v.trim())) throw new ConfigError(`${name} must be a whole number, got "${v}"`);
  const n = Number(v.trim());
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function url(env: Env, name: string, fallback: string, protocols: string[]): URL {
  const v = str(env, name, fallback);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(`${name} is not a URL: "${v}"`);
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${v}"`);
  return u;
}

function timeZone(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v });
  } catch {
    throw new ConfigError(`${name} is not an IANA time zone: "${v}"`);
  }
  return v;
}

function shard(env: Env): Shard | null {
  const v = optional(env, 'SHARD');
  if (v === null) return null;
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > 1024 || index >= count) throw new ConfigError(`SHARD must be i/N with 0 <= i < N, got "${v}"`);
  return { index, count };
}

function sharedGroup(env: Env, sharded: boolean): string | null {
  const v = optional(env, 'MQTT_SHARED_GROUP');
  if (v === null) return null;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw new ConfigError(`MQTT_SHARED_GROUP must be 1-64 of A-Z a-z 0-9 _ -, got "${v}"`);
  if (sharded) throw new ConfigError('SHARD and MQTT_SHARED_GROUP are two ways to split the pumps: set only one');
  return v;
}

function instanceId(env: Env, port: number): string {
  const fallback = `${hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 50)}-${port}`;
  const v = str(env, 'SERVER_INSTANCE_ID', fallback);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(v)) throw new ConfigError(`SERVER_INSTANCE_ID must be 1-64 of A-Z a-z 0-9 _ . -, got "${v}"`);
  return v;
}

function clusterRelay(env: Env, clustered: boolean): boolean {
  const v = str(env, 'CLUSTER_RELAY', 'auto');
  if (v === 'on') return true;
  if (v === 'off') return false;
  if (v === 'auto') return clustered;
  throw new ConfigError(`CLUSTER_RELAY must be auto, on or off, got "${v}"`);
}

export function loadConfig(env: Env = process.env): Readonly<ServerConfig> {
  const mqtt = url(env, 'MQTT_URL', 'mqtt://127.0.0.1:1883', ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:']);
  const influx = url(env, 'INFLUX_URL', 'http://127.0.0.1:8086/pumpwatch', ['http:', 'https:']);
  const database = decodeURIComponent(influx.pathname.replace(/^\/+|\/+$/g, ''));
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(database)) throw new ConfigError(`INFLUX_URL must end with /<database> (letters, digits, _ or -), got "${influx.href}"`);
  const rule = str(env, 'SERVICE_DAY_RULE', 'calendar_day');
  if (rule !== 'calendar_day' && rule !== 'full_24h') throw new ConfigError(`SERVICE_DAY_RULE must be calendar_day or full_24h, got "${rule}"`);
  const port = int(env, 'PORT', 8080, 0, 65_535);
  const shardSetting = shard(env);
  const group = sharedGroup(env, shardSetting !== null);
  const instance = instanceId(env, port);
  const clustered = shardSetting !== null || group !== null;
  // instances sharing one broker need their own persistent sessions
  const clientId = str(env, 'MQTT_CLIENT_ID', clustered ? `pumpwatch-${instance}`.slice(0, 64) : 'pumpwatch-server');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(clientId)) throw new ConfigError(`MQTT_CLIENT_ID must be 1-64 of A-Z a-z 0-9 _ . -, got "${clientId}"`);
  const tokens = (env.PUMPWATCH_API_TOKENS ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (tokens.some((t) => t.length < 16)) throw new ConfigError('PUMPWATCH_API_TOKENS: every token must be at least 16 characters');
  const logLevel = str(env, 'LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new ConfigError(`LOG_LEVEL is not a pino level: "${logLevel}"`);
  const host = str(env, 'HOST', '127.0.0.1');
  const httpsCertFile = optional(env, 'HTTPS_CERT_FILE');
  const httpsKeyFile = optional(env, 'HTTPS_KEY_FILE');
  if ((httpsCertFile === null) !== (httpsKeyFile === null)) throw new ConfigError('HTTPS_CERT_FILE and HTTPS_KEY_FILE go together: set both or neither');
  const allowedOrigins = (env.ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const o of allowedOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError(`ALLOWED_ORIGINS: "${o}" is not an origin like https://host[:port]`);
  }
  const config: ServerConfig = {
    mqttUrl: mqtt.href,
    mqttUsername: optional(env, 'MQTT_USERNAME'),
    mqttPassword: optional(env, 'MQTT_PASSWORD'),
    mqttClientId: clientId,
    mqttCaFile: optional(env, 'MQTT_CA_FILE'),
    influxUrl: influx.href,
    influxDatabase: database,
    influxRetentionDays: int(env, 'INFLUX_RETENTION_DAYS', 0, 0, 36_500),
    host,
    port,
    apiTokens: tokens,
    usersFile: str(env, 'PUMPWATCH_USERS_FILE', './.data/users.json'),
    journalDir: str(env, 'PUMPWATCH_JOURNAL_DIR', './.data/server-journal'),
    journalMaxBytes: int(env, 'JOURNAL_MAX_MB', 512, 1, 1_000_000) * 1024 * 1024,
    journalFsyncMs: int(env, 'JOURNAL_FSYNC_MS', 200, 0, 60_000),
    stoppedGraceS: int(env, 'STOPPED_GRACE_S', 300, 1, 86_400),
    signalLostS: int(env, 'SIGNAL_LOST_S', 300, 10, 86_400),
    escalateAfterS: int(env, 'ESCALATE_AFTER_S', 600, 10, 86_400),
    continuityToleranceMin: int(env, 'CONTINUITY_TOLERANCE_MIN', 30, 0, 1_440),
    billingTimeZone: timeZone(env, 'BILLING_TIME_ZONE', 'UTC'),
    serviceDayRule: rule,
    writeBatchSize: int(env, 'INFLUX_BATCH_SIZE', 5000, 1, 100_000),
    writeFlushMs: int(env, 'INFLUX_FLUSH_MS', 250, 10, 60_000),
    checkpointMs: int(env, 'CHECKPOINT_MS', 15_000, 100, 600_000),
    dedupeWindow: int(env, 'DEDUPE_WINDOW', 1024, 16, 65_536),
    shard: shardSetting,
    sharedGroup: group,
    instanceId: instance,
    clusterRelay: clusterRelay(env, clustered),
    logLevel,
    httpsCertFile,
    httpsKeyFile,
    trustProxy: optional(env, 'TRUST_PROXY'),
    allowedOrigins,
    detection: detectionOverrides(env),
  };
  return Object.freeze({ ...config, apiTokens: Object.freeze([...tokens]) as string[], allowedOrigins: Object.freeze([...allowedOrigins]) as string[], shard: config.shard ? Object.freeze(config.shard) : null });
}
