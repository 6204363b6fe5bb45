/**
 * Login sessions in PostgreSQL (table `sessions`, migration 002), shared by every instance: a cookie
 * made on one instance is good on another, a logout ends it everywhere. Only the SHA-256 of the
 * cookie value is stored. Each instance keeps the sessions it has seen in memory:
 * - a request whose session was checked within `recheckMs` costs no query;
 * - last-seen times go to the database in one batched UPDATE every `flushMs`, which also tells
 *   which cached sessions were ended elsewhere (they are dropped) and re-checks the others;
 * - while PostgreSQL is down, the sessions this instance holds keep working (nurses are not logged
 *   out by an outage); a new login, or a cookie this instance has never seen, cannot be checked:
 *   SessionsUnavailableError (the HTTP layer answers 503). Logouts made meanwhile are sent when it returns.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Role } from '../../protocol/api.ts';
import { hashId, type Session, type Sessions } from './sessions.ts';
import { isRole } from './usersFile.ts';

export class SessionsUnavailableError extends Error {
  readonly code = 'SESSIONS_UNAVAILABLE';
  constructor(readonly action: 'login' | 'check') {
    super(action === 'login'
      ? 'cannot start a session: the account database is unavailable (sessions already open keep working)'
      : 'cannot check this session: the account database is unavailable');
  }
}

/** The account was removed in the database after this instance last read the accounts (it holds a stale copy). */
export class AccountGoneError extends Error {
  readonly code = 'ACCOUNT_GONE';
  constructor() {
    super('the account no longer exists');
  }
}

/** PostgreSQL foreign_key_violation: the session's username is no longer in `users` */
const FOREIGN_KEY_VIOLATION = '23503';

export interface PgSessionStoreOptions {
  pool: pg.Pool;
  /** seconds */
  idleS: number;
  /** seconds */
  absoluteS: number;
  clock: () => number;
  /** true when an error means "database unreachable" (server/db/pool.ts isDatabaseUnavailable) */
  isUnavailable: (err: unknown) => boolean;
  /** a session unchecked for longer than this is looked up again before use (default 5000 ms) */
  recheckMs?: number;
  /** batched last-seen updates and pending logouts, every this many ms (default 1000) */
  flushMs?: number;
  /** a lookup slower than this counts as the database being unavailable (default 2000 ms) */
  queryTimeoutMs?: number;
  /** bounds memory: sessions held, and cookies remembered as unknown (default 10 000 each) */
  maxSessions?: number;
  /** a write that failed for another reason than an outage (logged by the caller, without ids) */
  onError?: (message: string) => void;
}

interface Cached {
  session: Session;
  /** epoch ms of the last time the database confirmed it */
  checkedMs: number;
}

interface SessionRow {
  username: string;
  role: string;
  csrf_token: string;
  created_at: Date;
  last_seen_at: Date;
}

/** cookies found unknown are not looked up again for this long (a stale browser polling) */
const UNKNOWN_TTL_MS = 10_000;
/** expired rows are deleted every this many flushes */
const SWEEP_EVERY_FLUSHES = 60;
/** while the database is unreachable, a held session is re-checked at most this often */
const OUTAGE_RETRY_MS = 5000;
/** logouts waiting for the database at most; beyond that the oldest waits for expiry instead */
const MAX_PENDING_DELETES = 10_000;

export class PgSessionStore implements Sessions {
  private readonly byHash = new Map<string, Cached>();
  private readonly unknown = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly pendingDeletes = new Set<string>();
  private readonly max: number;
  private readonly recheckMs: number;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private flushes = 0;
  /** false after a failed query, until one succeeds */
  private reachable = true;
  private failedAtMs = 0;

  constructor(private readonly opts: PgSessionStoreOptions) {
    this.max = opts.maxSessions ?? 10_000;
    this.recheckMs = opts.recheckMs ?? 5000;
  }

  /** starts the batched writes; stop with flush() + stopTimer() */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs ?? 1000);
    this.timer.unref();
  }

  stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get databaseReachable(): boolean {
    return this.reachable;
  }

  async create(username: string, role: Role): Promise<{ id: string; session: Session }> {
    const now = this.opts.clock();
    const id = randomBytes(32).toString('base64url');
    const session: Session = { username, role, csrfToken: randomBytes(24).toString('base64url'), createdMs: now, lastSeenMs: now };
    const key = hashId(id);
    try {
      await this.query(
        'INSERT INTO sessions (id_sha256, username, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)',
        [key, username, session.csrfToken, new Date(now)],
      );
    } catch (err) {
      if (this.opts.isUnavailable(err) || err instanceof QueryTimeout) throw new SessionsUnavailableError('login');
      if ((err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) throw new AccountGoneError();
      throw err;
    }
    this.remember(key, session, now);
    return { id, session };
  }

  touch(id: string): Session | undefined {
    const key = hashId(id);
    const c = this.byHash.get(key);
    if (!c) return undefined;
    const now = this.opts.clock();
    if (now >= this.expiresAtMs(c.session)) {
      this.byHash.delete(key);
      return undefined;
    }
    c.session.lastSeenMs = now;
    this.dirty.add(key);
    return c.session;
  }

  async prime(id: string): Promise<void> {
    const key = hashId(id);
    const now = this.opts.clock();
    const c = this.byHash.get(key);
    if (c && now - c.checkedMs < this.recheckMs) return;
    // during an outage, held sessions are not re-asked on every request (each try could wait queryTimeoutMs)
    if (c && !this.reachable && now - this.failedAtMs < OUTAGE_RETRY_MS) return;
    const unknownUntil = this.unknown.get(key);
    if (!c && unknownUntil !== undefined && unknownUntil > now) return;
    let rows: SessionRow[];
    try {
      rows = (await this.query<SessionRow>(
        `SELECT s.username, u.role, s.csrf_token, s.created_at, s.last_seen_at
           FROM sessions s JOIN users u USING (username) WHERE s.id_sha256 = $1`, [key],
      )).rows;
    } catch (err) {
      // an outage: what this instance holds stays good; what it does not hold cannot be checked
      if (c) return;
      if (this.opts.isUnavailable(err) || err instanceof QueryTimeout) throw new SessionsUnavailableError('check');
      throw err;
    }
    const row = rows[0];
    if (!row || !isRole(row.role)) {
      this.byHash.delete(key);
      this.rememberUnknown(key, now);
      return;
    }
    const session: Session = c?.session ?? {
      username: row.username, role: row.role, csrfToken: row.csrf_token, createdMs: row.created_at.getTime(), lastSeenMs: 0,
    };
    session.lastSeenMs = Math.max(session.lastSeenMs, row.last_seen_at.getTime());
    if (now >= this.expiresAtMs(session)) {
      this.byHash.delete(key);
      return;
    }
    this.remember(key, session, now);
  }

  expiresAtMs(s: Session): number {
    return Math.min(s.lastSeenMs + this.opts.idleS * 1000, s.createdMs + this.opts.absoluteS * 1000);
  }

  /** ends the session here at once and in the database (now, or when it is back) */
  async destroy(id: string): Promise<void> {
    const key = hashId(id);
    this.byHash.delete(key);
    this.dirty.delete(key);
    this.rememberUnknown(key, this.opts.clock());
    try {
      await this.query('DELETE FROM sessions WHERE id_sha256 = $1', [key]);
    } catch {
      this.queueDelete(key);
    }
  }

  /** the account was removed or changed: the users table's owner (npm run users) deleted its rows */
  destroyUser(username: string): number {
    let n = 0;
    for (const [k, c] of this.byHash) {
      if (c.session.username === username) {
        this.byHash.delete(k);
        this.dirty.delete(k);
        n++;
      }
    }
    return n;
  }

  sweep(): void {
    const now = this.opts.clock();
    for (const [k, c] of this.byHash) if (now >= this.expiresAtMs(c.session)) this.byHash.delete(k);
    for (const [k, until] of this.unknown) if (until <= now) this.unknown.delete(k);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** logouts and last-seen times not yet in the database */
  get pending(): number {
    return this.pendingDeletes.size + this.dirty.size;
  }

  clear(): void {
    this.byHash.clear();
    this.unknown.clear();
    this.dirty.clear();
  }

  /** sends pending logouts and last-seen times; drops cached sessions ended elsewhere */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const now = this.opts.clock();
    try {
      if (this.pendingDeletes.size > 0) {
        const keys = [...this.pendingDeletes];
        await this.query('DELETE FROM sessions WHERE id_sha256 = ANY($1::text[])', [keys]);
        for (const k of keys) this.pendingDeletes.delete(k);
      }
      const keys = [...this.dirty].filter((k) => this.byHash.has(k));
      this.dirty.clear();
      if (keys.length > 0) {
        const seen = keys.map((k) => new Date((this.byHash.get(k) as Cached).session.lastSeenMs));
        let rows: { id_sha256: string }[];
        try {
          rows = (await this.query<{ id_sha256: string }>(
            `UPDATE sessions s SET last_seen_at = GREATEST(s.last_seen_at, v.seen)
               FROM unnest($1::text[], $2::timestamptz[]) AS v(h, seen) WHERE s.id_sha256 = v.h RETURNING s.id_sha256`,
            [keys, seen],
          )).rows;
        } catch (err) {
          for (const k of keys) this.dirty.add(k);
          throw err;
        }
        const alive = new Set(rows.map((r) => r.id_sha256));
        for (const k of keys) {
          const c = this.byHash.get(k);
          if (!c) continue;
          if (alive.has(k)) c.checkedMs = now;
          else this.byHash.delete(k); // ended on another instance, or the account went
        }
      }
      if (++this.flushes % SWEEP_EVERY_FLUSHES === 0) {
        await this.query(
          'DELETE FROM sessions WHERE last_seen_at <= $1 OR created_at <= $2',
          [new Date(now - this.opts.idleS * 1000), new Date(now - this.opts.absoluteS * 1000)],
        );
      }
    } catch (err) {
      if (!this.opts.isUnavailable(err) && !(err instanceof QueryTimeout)) this.opts.onError?.(`session write failed: ${(err as Error).message}`);
    }
  }

  private remember(key: string, session: Session, now: number): void {
    this.unknown.delete(key);
    if (!this.byHash.has(key) && this.byHash.size >= this.max) {
      this.sweep();
      // the oldest goes from memory only; its row stays, so its next request looks it up again
      if (this.byHash.size >= this.max) {
        const oldest = this.byHash.keys().next().value;
        if (oldest !== undefined) this.byHash.delete(oldest);
      }
    }
    this.byHash.set(key, { session, checkedMs: now });
  }

  private rememberUnknown(key: string, now: number): void {
    if (this.unknown.size >= this.max) {
      const oldest = this.unknown.keys().next().value;
      if (oldest !== undefined) this.unknown.delete(oldest);
    }
    this.unknown.set(key, now + UNKNOWN_TTL_MS);
  }

  private queueDelete(key: string): void {
    if (this.pendingDeletes.size >= MAX_PENDING_DELETES) {
      const oldest = this.pendingDeletes.values().next().value;
      if (oldest !== undefined) this.pendingDeletes.delete(oldest);
    }
    this.pendingDeletes.add(key);
  }

  /** a query that gives up after queryTimeoutMs (a request never hangs on a database that does not answer) */
  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    const ms = this.opts.queryTimeoutMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueryTimeout(ms)), ms);
    });
    const q = this.opts.pool.query<R>(text, values);
    q.catch(() => undefined); // a late failure after the timeout is not unhandled
    try {
      const r = await Promise.race([q, timeout]);
      this.reachable = true;
      return r;
    } catch (err) {
      if (this.opts.isUnavailable(err) || err instanceof QueryTimeout) {
        this.reachable = false;
        this.failedAtMs = this.opts.clock();
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

class QueryTimeout extends Error {
  constructor(ms: number) {
    super(`no answer from the database within ${ms} ms`);
  }
}
