/**
 * Versioned SQL migrations, applied at start (docs/clinical.md, "Migrations"): the files
 * `NNN_name.sql` of one folder, in order, each in its own transaction, recorded in
 * `schema_migrations` with the SHA-256 of its text. A file changed after it was applied, or a
 * database that has migrations this code does not know (a newer version ran on it), stops the
 * start with a stable code instead of guessing. A session advisory lock makes instances that
 * start at once take turns: the first applies, the others then find nothing to do.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/** from server/db/ and from the bundle in .build/server/ alike */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../server/db/migrations/', import.meta.url));

/** pg_advisory_lock key: "pumpwatch" as an integer, shared by every instance on one database */
const MIGRATION_LOCK_KEY = 0x70756d70;
const FILE_RE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export type MigrationErrorCode = 'MIGRATION_CHANGED' | 'MIGRATION_UNKNOWN' | 'MIGRATION_BAD_NAME' | 'MIGRATION_FAILED';

export class MigrationError extends Error {
  constructor(readonly code: MigrationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

export interface Migration {
  version: number;
  /** the file name, e.g. 001_clinical_records.sql */
  name: string;
  sql: string;
  /** hex SHA-256 of the text with line ends normalised (a CRLF checkout is the same file) */
  checksum: string;
}

export interface MigrateOptions {
  dir?: string;
  /** apply up to this version only (tests of upgrades from an older schema) */
  targetVersion?: number;
}

export interface MigrateResult {
  /** file names applied by this call, in order */
  applied: string[];
  /** the schema version now in place (0: none) */
  version: number;
}

/** The migration files of `dir`, in version order; throws on a stray or duplicate name. */
export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.sql')) continue;
    const m = FILE_RE.exec(name);
    if (!m) throw new MigrationError('MIGRATION_BAD_NAME', `migration file ${name} is not named NNN_name.sql`);
    const version = Number(m[1]);
    if (migrations.some((x) => x.version === version)) throw new MigrationError('MIGRATION_BAD_NAME', `two migration files have version ${m[1]}`);
    const sql = readFileSync(join(dir, name), 'utf8').replace(/\r\n/g, '\n');
    migrations.push({ version, name, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

/** Applies the pending migrations; a no-op when the database is current. */
export async function migrate(pool: pg.Pool, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const wanted = readMigrations(opts.dir).filter((m) => opts.targetVersion === undefined || m.version <= opts.targetVersion);
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
      checkApplied(rows, readMigrations(opts.dir));
      const done = new Set(rows.map((r) => r.version));
      const applied: string[] = [];
      for (const m of wanted) {
        if (done.has(m.version)) continue;
        await applyOne(client, m);
        applied.push(m.name);
      }
      const version = Math.max(0, ...rows.map((r) => r.version), ...wanted.map((m) => m.version));
      return { applied, version };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => { broken = true; });
    }
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    // a connection whose unlock failed may still hold the lock: close it rather than pool it
    client.release(broken);
  }
}

/** Every applied migration must still exist with the same text. */
function checkApplied(rows: AppliedRow[], files: Migration[]): void {
  for (const row of rows) {
    const file = files.find((m) => m.version === row.version);
    if (!file) {
      throw new MigrationError('MIGRATION_UNKNOWN', `the database has migration ${row.name}, which this version does not know (a newer version ran on it)`);
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationError('MIGRATION_CHANGED', `migration ${file.name} changed after it was applied: add a new migration instead of editing an applied one`);
    }
  }
}

async function applyOne(client: pg.PoolClient, m: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    // no parameters: the simple query protocol runs every statement of the file
    await client.query(m.sql);
    await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new MigrationError('MIGRATION_FAILED', `migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
  }
}
