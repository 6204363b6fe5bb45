/** Options of the HTTP layer, with defaults; validated once by the caller's config and frozen. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type pg from 'pg';
import { Registry } from 'prom-client';
import type { PushSubscriptionStore } from '../paging/pushSubscriptions.ts';

/** the dashboard build (scripts/buildDashboard.mjs), served at / unless told otherwise */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

/** what the HTTP layer needs of the database object */
export interface AccountsDatabase {
  readonly pool: pg.Pool | null;
  /** runs `cb` each time the database comes (back) up, migrated (at once when up); returns the unsubscribe */
  onUp?(cb: () => void | Promise<void>): () => void;
}

export interface HttpOptions {
  /** raw bearer tokens (PUMPWATCH_API_TOKENS); only their SHA-256 hashes are kept */
  tokens: readonly string[];
  /** PUMPWATCH_USERS_FILE, written by `npm run users` */
  usersFile: string;
  /** true when fastify was created with TLS (Secure cookies, HSTS) */
  https: boolean;
  /** served at / (default dashboard/dist of this checkout); null or a missing folder = API only */
  dashboardDir?: string | null;
  /** extra allowed browser origins besides the server's own (e.g. "https://pumps.example.org") */
  allowedOrigins?: readonly string[];
  /** where sessions survive a restart (hashed ids, mode 0600); default sessions.json beside the users file, null = memory only */
  sessionsFile?: string | null;
  /** epoch ms; injected for tests */
  clock?: () => number;
  /** the server's IANA zone (TZ), told to the dashboard in GET /api/me for times of pumps whose patient has none */
  timeZone?: string;
  /** session idle expiry, seconds (default 1800) */
  sessionIdleS?: number;
  /** session absolute expiry, seconds (default 43200 = a 12-hour shift) */
  sessionAbsoluteS?: number;
  /** failed logins per IP in the window before refusing (default 20) */
  loginMaxPerIp?: number;
  /** failed logins per username in the window before lockout (default 5) */
  loginMaxPerUser?: number;
  /** failure counting window and lockout length, seconds (default 900) */
  loginWindowS?: number;
  loginLockoutS?: number;
  /** users-file mtime poll, ms (default 2000), as a fallback to fs.watch */
  usersPollMs?: number;
  /** WebSocket: drop a client whose unsent bytes exceed this (default 4 MiB) */
  wsMaxBufferedBytes?: number;
  /** WebSocket: ping period; a client that missed the previous pong is dropped (default 30000 ms) */
  wsPingMs?: number;
  /** the server's metrics registry: the HTTP layer adds its own and serves it at /metrics (default: a registry of its own) */
  metrics?: Registry;
  /**
   * DATABASE_URL's database (server/db/database.ts): accounts, sessions and the audit log live in
   * PostgreSQL, shared by every instance (the users file is imported once, then no longer read).
   * Absent, or its pool null: the users file, sessions per instance and the backend's audit log.
   */
  database?: AccountsDatabase | null;
  /** sessions: a session unchecked for longer than this is looked up again (default 5000 ms) */
  sessionRecheckMs?: number;
  /** Web Push (docs/push.md): the VAPID public key (null: off) and the subscriptions (null without a database) */
  push?: { publicKey: string | null; store: PushSubscriptionStore | null };
}

export interface TlsFiles {
  key: Buffer;
  cert: Buffer;
}

/** Reads the TLS key and certificate for `Fastify({ https: tlsFiles(...) })`; throws with a one-line reason. */
export function tlsFiles(certFile: string, keyFile: string): TlsFiles {
  try {
    return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  } catch (err) {
    throw new Error(`cannot read TLS certificate/key: ${(err as NodeJS.ErrnoException).code ?? 'error'} (${certFile}, ${keyFile})`);
  }
}

export interface ResolvedHttpOptions extends Required<Omit<HttpOptions, 'dashboardDir' | 'sessionsFile' | 'database' | 'push'>> {
  dashboardDir: string | undefined;
  sessionsFile: string | undefined;
  database: AccountsDatabase | null;
}

export function resolveHttpOptions(o: HttpOptions): ResolvedHttpOptions {
  return Object.freeze({
    tokens: o.tokens,
    usersFile: o.usersFile,
    https: o.https,
    dashboardDir: o.dashboardDir === undefined ? DEFAULT_DASHBOARD_DIR : (o.dashboardDir ?? undefined),
    allowedOrigins: o.allowedOrigins ?? [],
    sessionsFile: o.sessionsFile === undefined ? join(dirname(o.usersFile), 'sessions.json') : (o.sessionsFile ?? undefined),
    clock: o.clock ?? Date.now,
    timeZone: o.timeZone ?? (new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'),
    sessionIdleS: o.sessionIdleS ?? 1800,
    sessionAbsoluteS: o.sessionAbsoluteS ?? 43_200,
    loginMaxPerIp: o.loginMaxPerIp ?? 20,
    loginMaxPerUser: o.loginMaxPerUser ?? 5,
    loginWindowS: o.loginWindowS ?? 900,
    loginLockoutS: o.loginLockoutS ?? 900,
    usersPollMs: o.usersPollMs ?? 2000,
    wsMaxBufferedBytes: o.wsMaxBufferedBytes ?? 4 * 1024 * 1024,
    wsPingMs: o.wsPingMs ?? 30_000,
    metrics: o.metrics ?? new Registry(),
    database: o.database?.pool ? o.database : null,
    sessionRecheckMs: o.sessionRecheckMs ?? 5000,
  });
}
