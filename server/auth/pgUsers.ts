/**
 * Accounts in PostgreSQL (table `users`, migration 002), held in memory and reloaded every
 * `pollMs`: a login or a bearer check never waits on a query, and PostgreSQL down locks nobody
 * out (the last accounts read stay in force). On the first start with an empty table, the users
 * file is imported once, under an advisory lock so instances starting together import it once;
 * the import is recorded in the audit log (`users.import`) and the file is never read again.
 */
import type pg from 'pg';
import { readUsersFile, UsersFileError, type UserRecord } from './usersFile.ts';
import { diffUsers, type UserChange, type UserDirectory } from './usersStore.ts';
import { isRole } from './usersFile.ts';

export interface PgUsersStoreOptions {
  pool: pg.Pool;
  /** ms between reloads (default 2000) */
  pollMs: number;
  /** imported once into an empty table (PUMPWATCH_USERS_FILE); none: nothing to import */
  importFile?: string;
  /** every account added, removed or changed by a reload (not by the first load) */
  onChange: (changes: readonly UserChange[]) => void;
  /** a reload that failed (the last accounts stay); the message has no secrets */
  onError: (message: string) => void;
  /** the file was imported: how many accounts (names and hashes are not logged) */
  onImport?: (count: number, file: string) => void;
}

interface UserRow {
  username: string;
  role: string;
  password_hash: string;
  email: string | null;
  updated_at: Date;
}

/** pg_advisory_xact_lock key of the one-time import ("pumpwatch users import") */
const IMPORT_LOCK_KEY = 7_346_912_001;
export const IMPORT_ACTION = 'users.import';

export class PgUsersStore implements UserDirectory {
  private users = new Map<string, UserRecord>();
  private poll: NodeJS.Timeout | undefined;
  private lastError = '';
  private loading: Promise<void> | null = null;
  private loaded = false;
  private importDone = false;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly opts: PgUsersStoreOptions) {}

  /**
   * The import when due, then the first load (or, with `waitForDatabase`, none: the caller calls
   * reload() when the database is up and migrated). A users file that cannot be read or is invalid
   * rejects (the start stops, as without a database); the database being down does not: the
   * accounts are loaded when it answers, and logins answer 503 until then.
   */
  async start(opts: { waitForDatabase?: boolean } = {}): Promise<void> {
    // a users file that is there but bad stops the start now, whatever the database does
    if (this.opts.importFile) readUsersFile(this.opts.importFile);
    if (!opts.waitForDatabase) {
      try {
        await this.loadNow();
      } catch (err) {
        if (err instanceof UsersFileError) throw err;
        this.report(err);
      }
    }
    this.poll = setInterval(() => void this.reload(), this.opts.pollMs);
    this.poll.unref();
  }

  stop(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }

  /** false until the accounts were read once */
  ready(): boolean {
    return this.loaded;
  }

  /** A login that arrives while the accounts are being read for the first time waits for them, briefly. */
  whenReady(ms: number): Promise<boolean> {
    if (this.loaded) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve(this.loaded);
      };
      const timer = setTimeout(done, ms);
      this.waiting.add(done);
    });
  }

  get(username: string): UserRecord | undefined {
    return this.users.get(username);
  }

  count(): number {
    return this.users.size;
  }

  /** reads the table now; a failure keeps the accounts held */
  reload(): Promise<void> {
    this.loading ??= this.loadNow().catch((err: unknown) => this.report(err)).finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async loadNow(): Promise<void> {
    if (!this.importDone && this.opts.importFile) {
      const n = await importUsersFileOnce(this.opts.pool, this.opts.importFile);
      if (n !== null) this.opts.onImport?.(n, this.opts.importFile);
    }
    this.importDone = true;
    const next = await loadUsers(this.opts.pool);
    this.lastError = '';
    const changes = this.loaded ? diffUsers(Object.fromEntries(this.users), Object.fromEntries(next)) : [];
    this.users = next;
    this.loaded = true;
    for (const wake of [...this.waiting]) wake();
    if (changes.length > 0) this.opts.onChange(changes);
  }

  private report(err: unknown): void {
    const message = `cannot read accounts from the database: ${(err as Error).message}`;
    if (message !== this.lastError) this.opts.onError(message);
    this.lastError = message;
  }
}

async function loadUsers(pool: pg.Pool): Promise<Map<string, UserRecord>> {
  const { rows } = await pool.query<UserRow>('SELECT username, role, password_hash, email, updated_at FROM users');
  const out = new Map<string, UserRecord>();
  for (const r of rows) {
    if (!isRole(r.role)) continue; // the table's check allows no other; a newer release's role is not ours to grant
    const rec: UserRecord = { role: r.role, password: r.password_hash, updatedAt: r.updated_at.toISOString() };
    if (r.email !== null) rec.email = r.email;
    out.set(r.username, rec);
  }
  return out;
}

/**
 * Copies the users file into an empty users table, once: not when the table has accounts, and not
 * when an import was already recorded (accounts removed later do not come back from an old file).
 * Returns how many were imported, or null when no import was due. A bad file stops the start.
 */
export async function importUsersFileOnce(pool: pg.Pool, file: string): Promise<number | null> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK_KEY]);
    const { rows } = await client.query<{ due: boolean }>(
      `SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM audit_log WHERE action = $1) AS due`, [IMPORT_ACTION],
    );
    if (!rows[0]?.due) {
      await client.query('ROLLBACK');
      return null;
    }
    const { users } = readUsersFile(file);
    const names = Object.keys(users).sort();
    if (names.length === 0) {
      await client.query('ROLLBACK'); // nothing to import yet: a later start with the file does it
      return null;
    }
    for (const name of names) {
      const u = users[name] as UserRecord;
      await client.query(
        'INSERT INTO users (username, role, password_hash, email) VALUES ($1, $2, $3, $4)',
        [name, u.role, u.password, u.email ?? null],
      );
    }
    await client.query(
      'INSERT INTO audit_log (actor, action, detail) VALUES ($1, $2, $3)',
      ['users-file', IMPORT_ACTION, { count: names.length, outcome: 'ok', from: 'local', role: null }],
    );
    await client.query('COMMIT');
    return names.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
