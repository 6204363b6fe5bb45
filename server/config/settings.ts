/**
 * Every environment variable of the server, declared once: name, default, parser, unit and
 * meaning. loadConfig (server/config.ts) reads the environment through this table, and the
 * configuration tables in docs/server.md, docs/detection.md and docs/billing.md are generated
 * from it (`npm run docs`). A new variable is one entry here; with `field` it becomes that
 * field of ServerConfig with the parser's type.
 */
import { DEFAULT_DETECTION_CONFIG, type ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
import { base64urlBytes, decimal, list, matching, oneOf, shardSpec, text, timeZone, url, wholeNumber, type Parser } from './parsers.ts';
import { payerRules } from './payerRules.ts';
import { SERVICE_DAY_RULES } from '../billing/types.ts';

/** Sections of the docs' tables, in the order they are shown. */
export const SECTIONS = {
  mqtt: 'MQTT broker',
  influx: 'InfluxDB storage',
  journal: 'Ingest journal and checkpoints',
  http: 'HTTP API, dashboard and sign-in',
  detection: 'Detection thresholds',
  billing: 'Billing',
  clinical: 'Clinical records (PostgreSQL)',
  paging: 'Paging (on-call escalation)',
  cluster: 'Scale-out',
  hl7: 'HL7 v2 (IHE PCD) output',
  process: 'Process',
} as const;

export type SectionId = keyof typeof SECTIONS;

export interface Setting<T = unknown> {
  section: SectionId;
  /** the value as it would be written in the environment; null: unset (optional, or derived: see defaultText) */
  default: string | null;
  /** how the docs describe a default derived from other settings */
  defaultText?: string;
  parse: Parser<T>;
  /** unit of a numeric value, as the docs write it */
  unit?: string;
  /** one line for the docs */
  meaning: string;
  /** the ServerConfig field that gets the parsed value (absent: loadConfig uses it explicitly) */
  field?: string;
  /** a detection threshold: set in ServerConfig.detection under this key, only when the variable is set */
  detection?: keyof ResolvedDetectionConfig;
  /** further sections whose docs list this variable too */
  alsoIn?: readonly SectionId[];
}

const D = DEFAULT_DETECTION_CONFIG;
const IDENTIFIER = /^[A-Za-z0-9_.-]{1,64}$/;
const IDENTIFIER_RULE = '1-64 of A-Z a-z 0-9 _ . -';

export const SETTINGS = {
  // MQTT broker
  MQTT_URL: { section: 'mqtt', default: 'mqtt://127.0.0.1:1883', parse: url(['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:']), field: 'mqttUrl', meaning: 'the MQTT broker the gateways publish to' },
  MQTT_USERNAME: { section: 'mqtt', default: null, parse: text('text'), field: 'mqttUsername', meaning: "the server's broker account" },
  MQTT_PASSWORD: { section: 'mqtt', default: null, parse: text('text'), field: 'mqttPassword', meaning: "password of the server's broker account" },
  MQTT_CLIENT_ID: {
    section: 'mqtt', default: null, defaultText: '`pumpwatch-server` (`pumpwatch-<SERVER_INSTANCE_ID>` with `SHARD` or `MQTT_SHARED_GROUP`)',
    parse: matching(IDENTIFIER, IDENTIFIER_RULE), meaning: 'fixed client id of the persistent session; every instance needs its own',
  },
  MQTT_CA_FILE: { section: 'mqtt', default: null, parse: text('file path'), field: 'mqttCaFile', meaning: 'PEM CA bundle for `mqtts://`' },

  // InfluxDB storage
  INFLUX_URL: { section: 'influx', default: 'http://127.0.0.1:8086/pumpwatch', parse: url(['http:', 'https:']), field: 'influxUrl', meaning: 'InfluxDB 1.x; the path is the database, created when missing' },
  INFLUX_RETENTION_DAYS: { section: 'influx', default: '0', parse: wholeNumber(0, 36_500), unit: 'days', field: 'influxRetentionDays', meaning: 'duration of the `pumpwatch` retention policy created when missing (0 = forever)' },
  INFLUX_BATCH_SIZE: { section: 'influx', default: '5000', parse: wholeNumber(1, 100_000), unit: 'points', field: 'writeBatchSize', meaning: 'points per write' },
  INFLUX_FLUSH_MS: { section: 'influx', default: '250', parse: wholeNumber(10, 60_000), unit: 'ms', field: 'writeFlushMs', meaning: 'longest wait before a partial batch is written' },

  // Ingest journal and checkpoints
  PUMPWATCH_JOURNAL_DIR: { section: 'journal', default: './.data/server-journal', parse: text('folder path'), field: 'journalDir', meaning: 'the ingest journal' },
  JOURNAL_MAX_MB: { section: 'journal', default: '512', parse: wholeNumber(1, 1_000_000), unit: 'MB', meaning: 'journal bound on disk; beyond it ingest applies back-pressure' },
  JOURNAL_FSYNC_MS: { section: 'journal', default: '200', parse: wholeNumber(0, 60_000), unit: 'ms', field: 'journalFsyncMs', meaning: 'fsync interval of the journal (0 = fsync after every append, in groups)' },
  CHECKPOINT_MS: { section: 'journal', default: '15000', parse: wholeNumber(100, 600_000), unit: 'ms', field: 'checkpointMs', meaning: 'how often pump snapshots and episodes are stored and the journal trimmed' },
  DEDUPE_WINDOW: { section: 'journal', default: '1024', parse: wholeNumber(16, 65_536), unit: 'sentences', field: 'dedupeWindow', meaning: 'recent sentence identities remembered per pump (the pump keeps 1,000 for `?HIST`)' },

  // HTTP API, dashboard and sign-in
  HOST: { section: 'http', default: '127.0.0.1', parse: text('address'), field: 'host', meaning: 'address of the HTTP + WebSocket listener' },
  PORT: { section: 'http', default: '8080', parse: wholeNumber(0, 65_535), unit: 'TCP port', field: 'port', meaning: 'port of the HTTP + WebSocket listener' },
  PUMPWATCH_API_TOKENS: {
    section: 'http', default: '', parse: list('comma-separated tokens', (t) => (t.length < 16 ? 'every token must be at least 16 characters' : null)),
    field: 'apiTokens', meaning: 'bearer tokens for machine clients, each at least 16 characters',
  },
  PUMPWATCH_USERS_FILE: { section: 'http', default: './.data/users.json', parse: text('file path'), field: 'usersFile', meaning: 'accounts file written by `npm run users`' },
  PUBLIC_URL: {
    section: 'http', default: null, defaultText: '`http://HOST:PORT` (`https://` with `HTTPS_CERT_FILE`)',
    parse: url(['http:', 'https:']),
    meaning: "the address nurses reach the server at: its origin is accepted for cookie requests, and links sent to nurses use it",
  },
  HTTPS_CERT_FILE: { section: 'http', default: null, parse: text('file path'), field: 'httpsCertFile', meaning: 'with `HTTPS_KEY_FILE`: serve HTTPS only (Secure cookies, HSTS, `wss://`)' },
  HTTPS_KEY_FILE: { section: 'http', default: null, parse: text('file path'), field: 'httpsKeyFile', meaning: 'private key that goes with `HTTPS_CERT_FILE`' },
  TRUST_PROXY: { section: 'http', default: null, parse: text('address(es)'), field: 'trustProxy', meaning: "address(es) of a reverse proxy whose `X-Forwarded-For` is believed (login throttle and audit see the nurse's address)" },
  ALLOWED_ORIGINS: {
    section: 'http', default: '', parse: list('comma-separated origins', (o) => (/^https?:\/\/[^/\s]+$/.test(o) ? null : `"${o}" is not an origin like https://host[:port]`)),
    field: 'allowedOrigins', meaning: "browser origins besides the server's own (a dashboard served behind a proxy under another name)",
  },

  // Detection thresholds (reasoning in docs/detection.md)
  STOPPED_GRACE_S: { section: 'detection', default: String(D.stoppedGraceS), parse: wholeNumber(1, 86_400), unit: 's', field: 'stoppedGraceS', meaning: 'paused/halted time before `infusion_stopped`' },
  SIGNAL_LOST_S: { section: 'detection', default: String(D.signalLostS), parse: wholeNumber(10, 86_400), unit: 's', field: 'signalLostS', meaning: 'silence (server clock) from a pump with an unfinished program before `signal_lost`' },
  ESCALATE_AFTER_S: { section: 'detection', default: String(D.escalateAfterS), parse: wholeNumber(10, 86_400), unit: 's', field: 'escalateAfterS', meaning: 'unacknowledged high-severity alerts are re-pushed with `escalated: true` after this' },
  CLOCK_AHEAD_TOLERANCE_S: {
    section: 'detection', alsoIn: ['billing'], default: String(D.clockAheadToleranceS), parse: decimal(), unit: 's', detection: 'clockAheadToleranceS',
    meaning: 'a sentence whose pump time is further ahead (of the server clock for detection, of its `received` time for billing) is a `clock_error`: evidence only, not used for durations; a pump heard live whose clock is further behind its `received` time raises `clock_error` too',
  },
  FLAP_WINDOW_S: { section: 'detection', default: String(D.flapWindowS), parse: decimal(), unit: 's', detection: 'flapWindowS', meaning: 'a condition back within this long after clearing is the same alert' },
  HISTORY_LAG_S: { section: 'detection', default: String(D.historyLagS), parse: decimal(), unit: 's', detection: 'historyLagS', meaning: "a sentence the gateway received this long before the server did (it waited in a queue), or whose pump time lags the pump's live edge by more than this, is history, as is any `replay` (a `?HIST` answer)" },
  OCCLUSION_RISE_MMHG: { section: 'detection', default: String(D.occlusionRiseMmHg), parse: decimal(), unit: 'mmHg', detection: 'occlusionRiseMmHg', meaning: 'pressure above the running baseline that counts as a climb (occlusion inference)' },
  OCCLUSION_STALL_S: { section: 'detection', default: String(D.occlusionStallS), parse: decimal(), unit: 's', detection: 'occlusionStallS', meaning: '`vi` must stand still this long during RUN before an occlusion is inferred' },
  OCCLUSION_STALL_ML: { section: 'detection', default: String(D.occlusionStallMl), parse: decimal(), unit: 'mL', detection: 'occlusionStallMl', meaning: 'volume that should have gone in (rate × stall time) before an occlusion is inferred' },
  NO_FLOW_MIN_S: { section: 'detection', default: String(D.noFlowMinS), parse: decimal(), unit: 's', detection: 'noFlowMinS', meaning: '`vi` frozen this long during RUN (longer at rates too low to advance it by 0.1 mL meanwhile) raises `no_flow`' },
  DELIVERY_MIN_HOURS: { section: 'detection', default: String(D.deliveryMinHours), parse: decimal(), unit: 'h', detection: 'deliveryMinHours', meaning: 'delivery shorter than this (ended or projected) raises `delivery_below_24h`' },
  RESERVOIR_SHORTFALL_ML: { section: 'detection', default: String(D.reservoirShortfallMl), parse: decimal(), unit: 'mL', detection: 'reservoirShortfallMl', meaning: 'reservoir short of the volume still to infuse by more than this raises `low_reservoir`' },
  LOW_BATTERY_PCT: { section: 'detection', default: String(D.lowBatteryPct), parse: decimal(100), unit: '%', detection: 'lowBatteryPct', meaning: 'battery at or below this during an unfinished program raises `low_battery`' },
  COMPLETE_RESIDUAL_ML: {
    section: 'detection', alsoIn: ['billing'], default: String(D.completeResidualMl), parse: decimal(), unit: 'mL', detection: 'completeResidualMl',
    meaning: 'a program stopped with no more than this left (overfill, line priming) is complete, not stopped: no `infusion_stopped`, and billing counts it as a completed infusion',
  },

  // Billing
  CONTINUITY_TOLERANCE_MIN: { section: 'billing', default: '30', parse: wholeNumber(0, 1_440), unit: 'min', field: 'continuityToleranceMin', meaning: 'longest single interruption still counted as one continuous infusion' },
  BILLING_TIME_ZONE: { section: 'billing', default: 'UTC', parse: timeZone, field: 'billingTimeZone', meaning: "the agency's zone, for calendar service days" },
  SERVICE_DAY_RULE: { section: 'billing', default: 'nhia', parse: oneOf(SERVICE_DAY_RULES), field: 'serviceDayRule', meaning: 'service-day rule of a payer not in `BILLING_PAYER_RULES`: `nhia` per diem, `calendar_day`, or 24-h days of delivery rounded `24h_up`/`24h_down`/`24h_nearest` (`full_24h` = `24h_down`) (docs/billing.md, "Service days")' },
  BILLING_PAYER_RULES: { section: 'billing', default: '', parse: payerRules, field: 'payerRules', meaning: 'service-day rule per payer named on the order, e.g. `Acme=24h_up,Medicaid=calendar_day` (names compared case-insensitively)' },

  // Clinical records (docs/clinical.md)
  DATABASE_URL: {
    section: 'clinical', default: null, defaultText: 'none: no clinical records; accounts from `PUMPWATCH_USERS_FILE`, sessions per instance',
    parse: url(['postgres:', 'postgresql:']), field: 'databaseUrl',
    meaning: 'PostgreSQL for patients, orders, assignments, accounts, sessions and the audit log; migrations are applied at start',
  },
  PROGRAM_TOLERANCE_PCT: {
    section: 'clinical', alsoIn: ['detection'], default: String(D.programTolerancePct), parse: decimal(1000), unit: '%', detection: 'programTolerancePct',
    meaning: 'a program whose rate, or volume beyond what its order still has to give, differs from the order by more than this raises `program_mismatch`; delivery more than this above what the order allows by now raises `delivery_above_order`',
  },

  // Paging (docs/paging.md); on only with DATABASE_URL
  SMTP_URL: { section: 'paging', default: null, parse: url(['smtp:', 'smtps:']), field: 'smtpUrl', meaning: 'pages by e-mail: `smtp://host:port` or `smtps://user:pass@host:port`' },
  PAGE_FROM: { section: 'paging', default: null, defaultText: '`pumpwatch@<host of PUBLIC_URL>`', parse: matching(/^[^\s@<>"]{1,64}@[^\s@<>"]{1,189}$/, 'an e-mail address (name@host)'), field: 'pageFrom', meaning: 'sender address of e-mail pages' },
  PAGE_ACCEPT_S: { section: 'paging', default: '300', parse: wholeNumber(1, 86_400), unit: 's', field: 'pageAcceptS', meaning: 'how long each person of the on-call chain has to accept a page before the next is paged' },
  PAGE_WEBHOOK_URL: { section: 'paging', default: null, parse: url(['http:', 'https:']), field: 'pageWebhookUrl', meaning: 'every page is also POSTed here as signed JSON (a bridge to SMS, Vocera, PagerDuty)' },
  PAGE_WEBHOOK_SECRET: { section: 'paging', default: null, parse: matching(/^\S{16,200}$/, '16-200 characters, no spaces'), field: 'pageWebhookSecret', meaning: 'shared secret of the webhook\'s `X-Pumpwatch-Signature` (HMAC-SHA256 of the body); required with `PAGE_WEBHOOK_URL`' },
  PAGE_GROUP_S: { section: 'paging', default: '60', parse: wholeNumber(0, 3_600), unit: 's', field: 'pageGroupS', meaning: 'one message per person per this long: pages due meanwhile (a burst, flapping) are grouped into the next' },
  PAGE_RETRY_MS: { section: 'paging', default: '2000', parse: wholeNumber(10, 600_000), unit: 'ms', field: 'pageRetryMs', meaning: 'first retry of a failed delivery; doubles for each of the 3 retries' },
  // Web Push (docs/push.md)
  VAPID_PUBLIC_KEY: {
    section: 'paging', default: null, parse: base64urlBytes(65, 'an uncompressed P-256 public key', 0x04), field: 'vapidPublicKey',
    meaning: 'Web Push: the VAPID public key browsers subscribe with (`npm run vapid-keys`); with `VAPID_PRIVATE_KEY`, or neither (no Web Push)',
  },
  VAPID_PRIVATE_KEY: {
    section: 'paging', default: null, parse: base64urlBytes(32, 'a P-256 private key'), field: 'vapidPrivateKey',
    meaning: 'Web Push: the VAPID private key that signs each push (`npm run vapid-keys`); a secret',
  },
  VAPID_SUBJECT: {
    section: 'paging', default: null, defaultText: '`PUBLIC_URL`\'s origin when it is `https:`, else required with the keys',
    parse: url(['mailto:', 'https:']), field: 'vapidSubject',
    meaning: 'Web Push: how a push service reaches the operator (`mailto:` or `https:`), sent in every VAPID token',
  },

  // Scale-out (docs/scaling.md)
  SHARD: { section: 'cluster', default: null, parse: shardSpec, field: 'shard', meaning: 'this instance keeps only the pumps whose serial hashes (FNV-1a) to `i`; not with `MQTT_SHARED_GROUP`' },
  MQTT_SHARED_GROUP: {
    section: 'cluster', default: null, parse: matching(/^[A-Za-z0-9_-]{1,64}$/, '1-64 of A-Z a-z 0-9 _ -'), field: 'sharedGroup',
    meaning: 'pump topics through `$share/<group>/...` (MQTT 5 shared subscription); not with `SHARD`',
  },
  SERVER_INSTANCE_ID: { section: 'cluster', default: null, defaultText: '`<hostname>-<PORT>`', parse: matching(IDENTIFIER, IDENTIFIER_RULE), meaning: 'names this instance on `pumpwatch/_server/...`' },
  CLUSTER_RELAY: {
    section: 'cluster', default: 'auto', parse: oneOf(['auto', 'on', 'off']),
    meaning: 'publish and relay alert/pump changes between instances (`auto`: on when `SHARD`, `MQTT_SHARED_GROUP` or `CLUSTER_MODE` is set)',
  },
  CLUSTER_MODE: {
    section: 'cluster', default: null, parse: oneOf(['lease']), field: 'clusterMode',
    meaning: '`lease`: instances sharing one `DATABASE_URL` divide the pumps among themselves by leases and take over a dead instance\'s pumps (not with `SHARD` or `MQTT_SHARED_GROUP`)',
  },
  INSTANCE_ID: { section: 'cluster', default: null, defaultText: 'none (required with `CLUSTER_MODE`)', parse: matching(IDENTIFIER, IDENTIFIER_RULE), meaning: "this instance's unique, stable name (required with `CLUSTER_MODE`; used as `SERVER_INSTANCE_ID`)" },
  LEASE_S: { section: 'cluster', default: '30', parse: wholeNumber(3, 3600), unit: 's', field: 'leaseS', meaning: "with `CLUSTER_MODE`: a dead instance's pumps are taken over within this time; leases are renewed every third of it" },
  HEARTBEAT_URL: { section: 'cluster', default: null, parse: url(['http:', 'https:']), field: 'heartbeatUrl', meaning: 'called every `HEARTBEAT_S` while this instance is healthy (healthchecks-style), so an outside monitor notices when no instance is alive' },
  HEARTBEAT_S: { section: 'cluster', default: '60', parse: wholeNumber(5, 86_400), unit: 's', field: 'heartbeatS', meaning: 'period of the `HEARTBEAT_URL` call' },
  HEARTBEAT_METHOD: { section: 'cluster', default: 'GET', parse: oneOf(['GET', 'POST']), field: 'heartbeatMethod', meaning: '`GET`, or `POST` with a small JSON status (`instance`, `status`, `owned`)' },

  // HL7 v2 (IHE PCD) output (docs/hl7.md)
  HL7_MLLP_TARGETS: {
    section: 'hl7', default: '',
    parse: list('comma-separated `host:port`', (t) => (/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([1-9]\d{0,4})$/.test(t) && Number(t.slice(t.lastIndexOf(':') + 1)) <= 65_535 ? null : `"${t}" is not host:port`)),
    field: 'hl7Targets', meaning: 'receivers of IHE PCD-01/-04/-10 messages over MLLP, each with its own durable queue under `PUMPWATCH_JOURNAL_DIR`/hl7',
  },
  HL7_OBSERVATION_S: { section: 'hl7', default: '60', parse: wholeNumber(1, 60), unit: 's', field: 'hl7ObservationS', meaning: 'period of the PCD-01 observations of every running pump' },
  HL7_AE_RETRIES: { section: 'hl7', default: '5', parse: wholeNumber(0, 100), unit: 'resends', field: 'hl7AeRetries', meaning: 'times a message answered `AE` is resent before it is parked in the dead-letter folder (`AR` is parked at once)' },
  HL7_RETRY_MAX_S: { section: 'hl7', default: '30', parse: wholeNumber(1, 3_600), unit: 's', field: 'hl7RetryMaxS', meaning: 'longest wait between reconnects or resends to a receiver (backoff from 0.5 s)' },

  // Process
  TZ: {
    section: 'process', default: null, defaultText: "the process's own zone (the system's), UTC when it has none", parse: timeZone,
    meaning: "IANA zone of the times in alert messages and on the board for pumps whose patient has no time zone (Node reads it too, for its local time)",
  },
  LOG_LEVEL: { section: 'process', default: 'info', parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), field: 'logLevel', meaning: 'pino level of the JSON log' },
  SERVER_HEAP_MB: {
    section: 'process', default: '256', parse: wholeNumber(32, 1_048_576), unit: 'MB',
    meaning: 'V8 old-space limit, read by the `npm run server` script (the systemd unit passes `--max-old-space-size` itself); sized for ~10,000 pumps, raise it with the fleet',
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

type Table = typeof SETTINGS;
/** the parsed type of a setting: null when it has no default and is unset */
type ValueOf<S> = S extends { parse: Parser<infer T> } ? (S extends { default: string } ? T : T | null) : never;

/** Every setting's parsed value, by variable name. */
export type SettingValues = { -readonly [K in SettingName]: ValueOf<Table[K]> };

/** The ServerConfig fields filled straight from the table (entries with `field`). */
export type TableFields = { -readonly [K in SettingName as Table[K] extends { field: infer F extends string } ? F : never]: ValueOf<Table[K]> };

/** The table as a list, in declaration order. */
export function settingEntries(): [SettingName, Setting][] {
  return Object.entries(SETTINGS) as [SettingName, Setting][];
}
