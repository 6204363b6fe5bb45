/**
 * The clinical database as a long-lived dependency (docs/clinical.md, "Outages"): the pool from
 * DATABASE_URL, migrations applied when it is first reached, and a status of 'up' | 'down' |
 * 'off' (no DATABASE_URL). start() never waits for PostgreSQL: the alarm path runs without it.
 * While it is down a loop retries with backoff; a light probe notices when it goes away. Work
 * that needs it registers with onUp(), run at every (re)connection, or awaits whenUp().
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { parseDatabaseUrl, type DatabaseTarget } from './databaseUrl.ts';
import { migrate, MigrationError, type MigrateOptions } from './migrate.ts';
import { createDatabasePool, isDatabaseUnavailable, type DatabasePoolOptions } from './pool.ts';

export type DatabaseStatus = 'up' | 'down' | 'off';

export interface ClinicalDatabaseOptions {
  /** DATABASE_URL; null: no database ('off') */
  url: string | null;
  log: Logger;
  pool?: DatabasePoolOptions;
  migrations?: MigrateOptions;
  /** first retry after this, doubling up to retryMaxMs (default 250 / 5000) */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** while up, `SELECT 1` this often to notice an outage nobody queried through (default 5000) */
  probeMs?: number;
}

type UpListener = () => void | Promise<void>;

export class ClinicalDatabase {
  readonly target: DatabaseTarget | null;
  private readonly thePool: pg.Pool | null;
  private state: DatabaseStatus;
  private readonly listeners = new Set<UpListener>();
  private waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private connecting = false;
  private failures = 0;
  private readonly log: Logger;

  constructor(private readonly o: ClinicalDatabaseOptions) {
    this.log = o.log.child({ component: 'database' });
    this.target = o.url === null ? null : parseDatabaseUrl(o.url);
    this.state = this.target ? 'down' : 'off';
    this.thePool = this.target
      ? createDatabasePool(this.target, {
        ...o.pool,
        onIdleError: (err) => {
          this.log.warn({ err: err.message }, 'an idle database connection broke');
          o.pool?.onIdleError?.(err);
        },
      })
      : null;
  }

  /** the pool (null when DATABASE_URL is unset); usable before start(), queries fail while PostgreSQL is down */
  get pool(): pg.Pool | null {
    return this.thePool;
  }

  get status(): DatabaseStatus {
    return this.state;
  }

  /** Connects and migrates in the background; returns at once. */
  start(): void {
    if (!this.thePool || this.running) return;
    this.running = true;
    void this.connect();
  }

  /** `cb` runs each time the database comes (back) up, migrated; at once when it is up now. Returns the unsubscribe. */
  onUp(cb: UpListener): () => void {
    this.listeners.add(cb);
    if (this.state === 'up') this.runListener(cb);
    return () => this.listeners.delete(cb);
  }

  /** resolves when the database is up (never when it is off) */
  whenUp(): Promise<void> {
    if (this.state === 'up') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A query failed: when it says the database is unreachable, go down and retry. Returns true then. */
  reportFailure(err: unknown): boolean {
    if (!isDatabaseUnavailable(err) && !isUnavailableCode(err)) return false;
    if (this.state === 'up') this.wentDown((err as Error).message);
    return true;
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.waiters) w();
    this.waiters = [];
    if (this.thePool) await this.thePool.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const pool = this.thePool;
    if (!pool || !this.running || this.connecting) return;
    this.connecting = true;
    try {
      const result = await migrate(pool, this.o.migrations);
      if (!this.running) return;
      if (result.applied.length > 0) this.log.info({ applied: result.applied, version: result.version }, 'database migrations applied');
      this.failures = 0;
      this.state = 'up';
      this.log.info({ database: this.target?.redacted, version: result.version }, 'database up');
      for (const w of this.waiters) w();
      this.waiters = [];
      for (const cb of this.listeners) this.runListener(cb);
      this.schedule(this.o.probeMs ?? 5000, () => this.probe());
    } catch (err) {
      if (!this.running) return;
      this.failures++;
      const e = err as Error;
      if (err instanceof MigrationError) {
        // a changed or unknown migration will not fix itself soon: say so loudly, retry slowly
        this.log.error({ code: err.code, err: e.message }, 'database schema refused; clinical records stay unavailable');
      } else if (this.failures === 1) {
        this.log.warn({ database: this.target?.redacted, err: e.message }, 'database unreachable; retrying (alarms are not affected)');
      }
      const delay = err instanceof MigrationError ? 30_000 : Math.min(this.o.retryMaxMs ?? 5000, (this.o.retryMinMs ?? 250) * 2 ** (this.failures - 1));
      this.schedule(delay, () => this.connect());
    } finally {
      this.connecting = false;
    }
  }

  private async probe(): Promise<void> {
    const pool = this.thePool;
    if (!pool || !this.running || this.state !== 'up') return;
    try {
      await pool.query('SELECT 1');
      if (this.running && this.state === 'up') this.schedule(this.o.probeMs ?? 5000, () => this.probe());
    } catch (err) {
      if (this.running && this.state === 'up') this.wentDown((err as Error).message);
    }
  }

  private wentDown(why: string): void {
    this.state = 'down';
    this.failures = 0;
    this.log.warn({ err: why }, 'database down; retrying (alarms are not affected)');
    this.schedule(this.o.retryMinMs ?? 250, () => this.connect());
  }

  private schedule(ms: number, run: () => Promise<void>): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void run();
    }, ms);
    this.timer.unref();
  }

  private runListener(cb: UpListener): void {
    Promise.resolve()
      .then(cb)
      .catch((err: unknown) => {
        if (!this.reportFailure(err)) this.log.error({ err: (err as Error).message }, 'work on database (re)connection failed');
      });
  }
}

/** a ClinicalError (or any error) whose code already says the database is unreachable */
function isUnavailableCode(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'DATABASE_UNAVAILABLE';
}
