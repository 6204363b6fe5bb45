import { hostname } from 'node:os';
import { ConfigError, type Shard } from './config/parsers.ts';
import { settingEntries, type SettingValues, type TableFields } from './config/settings.ts';
import { DetectionConfigError, resolveDetectionConfig, type ResolvedDetectionConfig } from './thresholds/detectionConfig.ts';

/**
 * Server configuration from the environment (interfaces.md §2 plus the server's own settings),
 * read through the settings table (server/config/settings.ts), validated once at start-up and
 * frozen. A bad value throws ConfigError with one line naming the variable.
 */
export { ConfigError, type Shard };

type Env = Record<string, string | undefined>;

/**
 * The table's fields (mqttUrl, influxUrl, port, apiTokens, shard, sharedGroup, logLevel...: see
 * `field` in server/config/settings.ts) plus those derived from several settings.
 */
export interface ServerConfig extends TableFields {
  /** MQTT_CLIENT_ID, or derived from SERVER_INSTANCE_ID when the pumps are split */
  mqttClientId: string;
  /** database name, from the INFLUX_URL path */
  influxDatabase: string;
  /** JOURNAL_MAX_MB in bytes: what the ingest journal may hold before back-pressure */
  journalMaxBytes: number;
  /** SERVER_INSTANCE_ID: names this instance on pumpwatch/_server/... (default hostname-port) */
  instanceId: string;
  /** CLUSTER_RELAY resolved: publish and relay alert/pump changes between instances */
  clusterRelay: boolean;
  /** PUBLIC_URL without a trailing slash, or derived from HOST, PORT and HTTPS */
  publicUrl: string;
  /** TZ, else the process's own zone: times in messages and on the board when the patient's zone is unknown */
  serverTimeZone: string;
  /** detection thresholds set in the environment beyond the three fields above (entries with `detection`) */
  detection: Partial<ResolvedDetectionConfig>;
}

/** Environment names of the detection thresholds (the table's entries with `detection`). */
export const DETECTION_ENV: Readonly<Record<string, keyof ResolvedDetectionConfig>> = Object.freeze(Object.fromEntries(
  settingEntries().flatMap(([name, s]) => (s.detection ? [[name, s.detection]] : [])),
));

const isSet = (env: Env, name: string): boolean => env[name] !== undefined && env[name] !== '';

/** Every setting parsed (its default when unset or empty); throws ConfigError on the first bad one. */
export function readSettings(env: Env): SettingValues {
  const out: Record<string, unknown> = {};
  for (const [name, s] of settingEntries()) {
    const text = isSet(env, name) ? (env[name] as string) : s.default;
    out[name] = text === null ? null : s.parse.parse(text, name);
  }
  return out as SettingValues;
}

function tableFields(values: SettingValues): TableFields {
  const out: Record<string, unknown> = {};
  for (const [name, s] of settingEntries()) if (s.field) out[s.field] = values[name];
  return out as TableFields;
}

function detectionOverrides(env: Env, values: SettingValues): Partial<ResolvedDetectionConfig> {
  const out: Partial<Record<keyof ResolvedDetectionConfig, number>> = {};
  for (const [name, s] of settingEntries()) {
    if (s.detection && isSet(env, name)) out[s.detection] = values[name] as number;
  }
  try {
    resolveDetectionConfig(out);
  } catch (err) {
    if (err instanceof DetectionConfigError) throw new ConfigError(err.message);
    throw err;
  }
  return Object.freeze(out);
}

/** the zone this process runs in (the system's when TZ is unset); UTC when the runtime cannot tell */
export function processTimeZone(): string {
  const zone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
  return typeof zone === 'string' && zone.length > 0 ? zone : 'UTC';
}

function influxDatabase(influxUrl: string): string {
  const database = decodeURIComponent(new URL(influxUrl).pathname.replace(/^\/+|\/+$/g, ''));
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(database)) throw new ConfigError(`INFLUX_URL must end with /<database> (letters, digits, _ or -), got "${influxUrl}"`);
  return database;
}

export function loadConfig(env: Env = process.env): Readonly<ServerConfig> {
  const v = readSettings(env);
  // rules across settings
  const database = influxDatabase(v.INFLUX_URL);
  if (v.SHARD !== null && v.MQTT_SHARED_GROUP !== null) throw new ConfigError('SHARD and MQTT_SHARED_GROUP are two ways to split the pumps: set only one');
  if ((v.PAGE_WEBHOOK_URL === null) !== (v.PAGE_WEBHOOK_SECRET === null)) throw new ConfigError('PAGE_WEBHOOK_URL and PAGE_WEBHOOK_SECRET go together: set both or neither');
  if ((v.HTTPS_CERT_FILE === null) !== (v.HTTPS_KEY_FILE === null)) throw new ConfigError('HTTPS_CERT_FILE and HTTPS_KEY_FILE go together: set both or neither');
  if ((v.VAPID_PUBLIC_KEY === null) !== (v.VAPID_PRIVATE_KEY === null)) throw new ConfigError('VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together: set both or neither (`npm run vapid-keys`)');
  if (v.CLUSTER_MODE !== null) {
    if (v.SHARD !== null || v.MQTT_SHARED_GROUP !== null) throw new ConfigError('CLUSTER_MODE=lease divides the pumps by itself: not with SHARD or MQTT_SHARED_GROUP');
    if (v.INSTANCE_ID === null) throw new ConfigError('CLUSTER_MODE=lease needs INSTANCE_ID: a unique, stable name for this instance');
    if (v.DATABASE_URL === null) throw new ConfigError('CLUSTER_MODE=lease needs DATABASE_URL: the leases are kept in PostgreSQL');
    if (v.SERVER_INSTANCE_ID !== null && v.SERVER_INSTANCE_ID !== v.INSTANCE_ID) throw new ConfigError('INSTANCE_ID and SERVER_INSTANCE_ID name the same instance: set one, or both alike');
  }
  const clustered = v.SHARD !== null || v.MQTT_SHARED_GROUP !== null || v.CLUSTER_MODE !== null;
  const instanceId = v.INSTANCE_ID ?? v.SERVER_INSTANCE_ID ?? `${hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 50)}-${v.PORT}`;
  // instances sharing one broker need their own persistent sessions
  const mqttClientId = v.MQTT_CLIENT_ID ?? (clustered ? `pumpwatch-${instanceId}`.slice(0, 64) : 'pumpwatch-server');
  const fields = tableFields(v);
  const scheme = v.HTTPS_CERT_FILE !== null ? 'https' : 'http';
  const publicUrl = (v.PUBLIC_URL ?? `${scheme}://${v.HOST.includes(':') ? `[${v.HOST}]` : v.HOST}:${v.PORT}`).replace(/\/+$/, '');
  // push services want a contact in every VAPID token: the operator's, or the server's https address
  const vapidSubject = v.VAPID_SUBJECT ?? (v.VAPID_PUBLIC_KEY !== null && publicUrl.startsWith('https:') ? new URL(publicUrl).origin : null);
  if (v.VAPID_PUBLIC_KEY !== null && v.DATABASE_URL === null) throw new ConfigError('VAPID keys need DATABASE_URL: the devices subscribed to Web Push are kept in PostgreSQL');
  if (v.VAPID_PUBLIC_KEY !== null && vapidSubject === null) throw new ConfigError('VAPID_SUBJECT (mailto: or https:) is required with the VAPID keys when PUBLIC_URL is not https:');
  const config: ServerConfig = {
    ...fields,
    mqttClientId,
    influxDatabase: database,
    journalMaxBytes: v.JOURNAL_MAX_MB * 1024 * 1024,
    instanceId,
    clusterRelay: v.CLUSTER_RELAY === 'auto' ? clustered : v.CLUSTER_RELAY === 'on',
    apiTokens: Object.freeze([...fields.apiTokens]) as string[],
    publicUrl,
    vapidSubject,
    serverTimeZone: v.TZ ?? processTimeZone(),
    // §6: the public address's origin is accepted for cookie requests, as the server's own is
    allowedOrigins: Object.freeze(v.PUBLIC_URL !== null && !fields.allowedOrigins.includes(new URL(publicUrl).origin)
      ? [...fields.allowedOrigins, new URL(publicUrl).origin] : [...fields.allowedOrigins]) as string[],
    shard: fields.shard ? Object.freeze({ ...fields.shard }) : null,
    detection: detectionOverrides(env, v),
  };
  return Object.freeze(config);
}

