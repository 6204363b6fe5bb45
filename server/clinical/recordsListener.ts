/**
 * Changes made through another instance (docs/scaling.md, "Clinical records"): every write
 * transaction of the clinical records issues pg_notify on RECORDS_CHANNEL (delivered on COMMIT), and
 * this adapter keeps one dedicated connection LISTENing on it. A notification asks for a reload,
 * coalesced: a burst of changes is one reload, and a change that arrives during a reload causes one
 * more after it. Each (re)connection also asks for one (what was missed while not listening). The
 * connection is reopened with backoff when it breaks, and at once when the database comes back up.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { RECORDS_CHANNEL } from './transaction.ts';

/** what the adapter needs of a connection (pg.Client; a fake in unit tests) */
export interface ListenClient {
  on(event: 'notification', cb: (msg: { channel: string; payload?: string | undefined }) => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
  on(event: 'end', cb: () => void): unknown;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}

export interface RecordsListenerOptions {
  /** opens and connects a new client */
  connect: () => Promise<ListenClient>;
  /** the reload; its failure is reported by the caller and does not stop listening */
  reload: () => Promise<void>;
  /** `cb` runs each time the database comes (back) up; returns the unsubscribe */
  onDatabaseUp: (cb: () => void) => () => void;
  log: Logger;
  /** ms to wait after a notification before reloading, so a burst is one reload (default 20) */
  coalesceMs?: number;
  /** reconnect backoff, ms (default 250 doubling up to 10 000) */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** a client on the pool's database, outside the pool (a LISTEN holds its connection for good) */
export function listenClientFor(pool: pg.Pool): () => Promise<ListenClient> {
  return async () => {
    const client = new pg.Client({ connectionString: pool.options.connectionString, application_name: 'pumpwatch-listen', connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined); // replaced by the adapter's own listener; never crash on a late error
    await client.connect();
    return client;
  };
}

export class RecordsListener {
  private client: ListenClient | null = null;
  private running = false;
  private connecting = false;
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private reloadTimer: NodeJS.Timeout | null = null;
  private reloading = false;
  private pending = false;
  private offUp: (() => void) | null = null;
  /** notifications received and reloads run (for tests and logs) */
  notifications = 0;
  reloads = 0;

  constructor(private readonly o: RecordsListenerOptions) {
    this.retryMs = o.retryMinMs ?? 250;
  }

  get listening(): boolean {
    return this.client !== null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.offUp = this.o.onDatabaseUp(() => {
      if (this.client || this.connecting) return;
      this.clearRetry();
      void this.open();
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.offUp?.();
    this.offUp = null;
    this.clearRetry();
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = null;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  /** asks for a reload: coalesced with any other asked within coalesceMs or during a reload */
  request(): void {
    if (!this.running) return;
    if (this.reloading) {
      this.pending = true;
      return;
    }
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      void this.runReload();
    }, this.o.coalesceMs ?? 20);
  }

  private async runReload(): Promise<void> {
    this.reloading = true;
    this.pending = false;
    this.reloads++;
    try {
      await this.o.reload();
    } catch {
      // reported by the reload itself; the periodic reload is the safety net
    } finally {
      this.reloading = false;
    }
    if (this.pending) {
      this.pending = false;
      this.request();
    }
  }

  private async open(): Promise<void> {
    if (!this.running || this.client || this.connecting) return;
    this.connecting = true;
    let client: ListenClient | null = null;
    try {
      client = await this.o.connect();
      const c = client;
      c.on('notification', (msg) => {
        if (msg.channel !== RECORDS_CHANNEL || this.client !== c) return;
        this.notifications++;
        this.request();
      });
      c.on('error', (err) => this.lost(c, err.message));
      c.on('end', () => this.lost(c, 'connection ended'));
      await c.query(`LISTEN ${RECORDS_CHANNEL}`);
      if (!this.running) {
        await c.end().catch(() => undefined);
        return;
      }
      this.client = c;
      this.retryMs = this.o.retryMinMs ?? 250;
      this.o.log.info('listening for clinical record changes of other instances');
      this.request(); // what changed while not listening
    } catch (err) {
      await client?.end().catch(() => undefined);
      this.o.log.warn({ err: (err as Error).message, retryMs: this.retryMs }, 'cannot listen for clinical record changes; retrying');
      this.retry();
    } finally {
      this.connecting = false;
    }
  }

  private lost(c: ListenClient, why: string): void {
    if (this.client !== c) return;
    this.client = null;
    void c.end().catch(() => undefined);
    if (!this.running) return;
    this.o.log.warn({ err: why }, 'the clinical records listener lost its connection; reconnecting');
    this.retry();
  }

  private retry(): void {
    if (!this.running || this.retryTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.o.retryMaxMs ?? 10_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.open();
    }, delay);
    this.retryTimer.unref?.();
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
