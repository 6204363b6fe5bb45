/** The pool on a real PostgreSQL that goes away: a broken connection is an error for its caller, never a crash. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseDatabaseUrl } from '../../../server/db/databaseUrl.ts';
import { createDatabasePool } from '../../../server/db/pool.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

test('a connection checked out (no query running) when PostgreSQL stops is reported, not thrown at the process; the pool works after the restart', async () => {
  const url = await server.createDatabase('pool_outage');
  const errors: string[] = [];
  const pool = createDatabasePool(parseDatabaseUrl(url), { max: 2, onIdleError: (err) => errors.push(err.message) });
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => {
    uncaught.push(err);
  };
  process.on('uncaughtException', onUncaught);
  try {
    const held = await pool.connect();
    await held.query('SELECT 1');
    await server.restart(async () => {
      // pg emits the broken connection's error on the client while nobody is querying it
      await expect.poll(() => errors.length, { timeout: 10_000 }).toBeGreaterThan(0);
    });
    held.release(true);
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    expect(rows[0]?.one).toBe(1);
    expect(uncaught).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
    await pool.end();
  }
}, 60_000);
