/**
 * Migrations against a real PostgreSQL (one cluster for the file, a new database per test), with
 * the application's role, which owns its database and is no superuser.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseDatabaseUrl } from '../../../server/db/databaseUrl.ts';
import { createDatabasePool } from '../../../server/db/pool.ts';
import { DEFAULT_MIGRATIONS_DIR, migrate, readMigrations } from '../../../server/db/migrate.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';

let server: PostgresServer;
let scratch: TempDir;
const pools: pg.Pool[] = [];
let dbCount = 0;

function poolFor(url: string): pg.Pool {
  const pool = createDatabasePool(parseDatabaseUrl(url), { max: 3 });
  pools.push(pool);
  return pool;
}

async function freshPool(): Promise<pg.Pool> {
  return poolFor(await server.createDatabase(`migrate_${++dbCount}`));
}

async function tables(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
  return rows.map((r) => r.tablename);
}

async function recorded(pool: pg.Pool): Promise<string[]> {
  return (await pool.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY version')).rows.map((r) => r.name);
}

/** a copy of the real migrations that a test may change */
function migrationsCopy(name: string): string {
  const dir = join(scratch.path, name);
  cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

const ALL = readMigrations().map((m) => m.name);

beforeAll(async () => {
  server = await startPostgres();
  scratch = tempDir('pumpwatch-migrations-');
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await server?.stop();
  scratch?.remove();
});

describe('migrate', () => {
  test('there are at least two migrations, numbered from 001 without gaps', () => {
    expect(ALL.length).toBeGreaterThanOrEqual(2);
    expect(readMigrations().map((m) => m.version)).toEqual(ALL.map((_, i) => i + 1));
  });

  test('an empty database gets every table, as the owner without superuser', async () => {
    const pool = await freshPool();
    const { rows } = await pool.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    expect(rows[0]?.rolsuper).toBe(false);
    expect(await migrate(pool)).toEqual({ applied: ALL, version: ALL.length });
    expect(await tables(pool)).toEqual([
      'alert_ack_notes', 'assignments', 'audit_log', 'billing_reviews', 'cluster_instances', 'cluster_leases', 'drug_limits', 'oncall_shifts', 'orders', 'page_deliveries', 'pages',
      'paging_chains', 'patients', 'push_subscriptions', 'schema_migrations', 'sessions', 'users',
    ]);
    expect(await recorded(pool)).toEqual(ALL);
  });

  test('a database at the previous version gets only what it lacks, and keeps its rows', async () => {
    const pool = await freshPool();
    expect(await migrate(pool, { targetVersion: 1 })).toEqual({ applied: [ALL[0]], version: 1 });
    expect(await tables(pool)).not.toContain('users');
    await pool.query("INSERT INTO patients (mrn, name) VALUES ('MRN-1', 'Ada')");
    expect(await migrate(pool)).toEqual({ applied: ALL.slice(1), version: ALL.length });
    expect(await tables(pool)).toContain('users');
    expect((await pool.query('SELECT mrn FROM patients')).rows).toEqual([{ mrn: 'MRN-1' }]);
  });

  test('a database at 002 (accounts, no drug limits) gets 003 and keeps its rows; drug names are unique in any case', async () => {
    const pool = await freshPool();
    expect(await migrate(pool, { targetVersion: 2 })).toEqual({ applied: ALL.slice(0, 2), version: 2 });
    expect(await tables(pool)).not.toContain('drug_limits');
    await pool.query("INSERT INTO patients (mrn, name) VALUES ('MRN-2', 'Bea')");
    expect(await migrate(pool)).toEqual({ applied: ALL.slice(2), version: ALL.length });
    expect((await pool.query('SELECT mrn FROM patients')).rows).toEqual([{ mrn: 'MRN-2' }]);
    await pool.query("INSERT INTO drug_limits (drug, max_rate_ml_h) VALUES ('Fluorouracil', 5)");
    await expect(pool.query("INSERT INTO drug_limits (drug, max_rate_ml_h) VALUES (' FLUOROURACIL', 6)")).rejects.toMatchObject({ code: '23505', constraint: 'drug_limits_drug_unique' });
    await expect(pool.query("INSERT INTO drug_limits (drug, max_rate_ml_h) VALUES ('x', 0)")).rejects.toMatchObject({ code: '23514' });
  });

  test('a database at 003 gets 004 (paging) and keeps its rows; a step of a chain is paged once', async () => {
    const pool = await freshPool();
    expect(await migrate(pool, { targetVersion: 3 })).toEqual({ applied: ALL.slice(0, 3), version: 3 });
    expect(await tables(pool)).not.toContain('pages');
    await pool.query("INSERT INTO patients (mrn, name) VALUES ('MRN-3', 'Cy')");
    expect(await migrate(pool)).toEqual({ applied: ALL.slice(3), version: ALL.length });
    expect((await pool.query('SELECT mrn FROM patients')).rows).toEqual([{ mrn: 'MRN-3' }]);
    await pool.query("INSERT INTO paging_chains (alert_id, pump, alert, chain, status, step_at) VALUES ('a1', 'CS7-1', '{}', '{ana,ben}', 'paging', now())");
    const claim = (token: string) => pool.query(
      `INSERT INTO pages (alert_id, round, step, username, token_sha256, status, created_at) VALUES ('a1', 0, 0, 'ana', $1, 'sending', now())
       ON CONFLICT (alert_id, round, step) DO NOTHING`, [token.repeat(64)]);
    expect((await claim('a')).rowCount).toBe(1);
    expect((await claim('b')).rowCount).toBe(0);
    await expect(pool.query("INSERT INTO oncall_shifts (starts_at, ends_at, chain) VALUES (now(), now() - interval '1 hour', '{ana}')")).rejects.toMatchObject({ code: '23514' });
  });

  test('running it again is a no-op', async () => {
    const pool = await freshPool();
    await migrate(pool);
    expect(await migrate(pool)).toEqual({ applied: [], version: ALL.length });
    expect(await recorded(pool)).toEqual(ALL);
  });

  test('instances migrating at once take turns: each migration is applied exactly once', async () => {
    const first = await freshPool();
    const url = `${server.url.replace(/\/[^/]+$/, '')}/migrate_${dbCount}`;
    const others = Array.from({ length: 3 }, () => poolFor(url));
    const results = await Promise.all([first, ...others].map((p) => migrate(p)));
    expect(results.flatMap((r) => r.applied).sort()).toEqual(ALL);
    expect(results.every((r) => r.version === ALL.length)).toBe(true);
    expect(await recorded(first)).toEqual(ALL);
  });

  test('an applied migration that changed refuses the start', async () => {
    const pool = await freshPool();
    const dir = migrationsCopy('changed');
    await migrate(pool, { dir });
    const file = join(dir, ALL[0] ?? '');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n-- edited afterwards\n`);
    await expect(migrate(pool, { dir })).rejects.toMatchObject({ code: 'MIGRATION_CHANGED' });
  });

  test('the same file with CRLF line ends is not a change', async () => {
    const pool = await freshPool();
    const dir = migrationsCopy('crlf');
    await migrate(pool, { dir });
    const file = join(dir, ALL[0] ?? '');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n/g, '\r\n'));
    expect(await migrate(pool, { dir })).toEqual({ applied: [], version: ALL.length });
  });

  test('a database migrated by a newer version refuses an older one', async () => {
    const pool = await freshPool();
    const dir = migrationsCopy('newer');
    writeFileSync(join(dir, '999_from_the_future.sql'), 'CREATE TABLE future_things (id int);\n');
    await migrate(pool, { dir });
    await expect(migrate(pool)).rejects.toMatchObject({ code: 'MIGRATION_UNKNOWN' });
  });

  test('a failing migration leaves nothing of itself behind', async () => {
    const pool = await freshPool();
    const dir = migrationsCopy('failing');
    writeFileSync(join(dir, '900_broken.sql'), 'CREATE TABLE half_done (id int);\nSELECT 1 / 0;\n');
    await expect(migrate(pool, { dir })).rejects.toMatchObject({ code: 'MIGRATION_FAILED' });
    // the ones before it were applied in their own transactions and stay
    expect(await recorded(pool)).toEqual(ALL);
    expect(await tables(pool)).not.toContain('half_done');
  });

  test('a badly named file is refused before anything runs', () => {
    const dir = migrationsCopy('badname');
    writeFileSync(join(dir, '3_oops.sql'), 'SELECT 1;\n');
    expect(() => readMigrations(dir)).toThrow(expect.objectContaining({ code: 'MIGRATION_BAD_NAME' }));
  });
});
