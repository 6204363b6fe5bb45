/** A real PostgreSQL on a free port in a temp folder (scripts/services/postgres.ts). */
import type pg from 'pg';
import { parseDatabaseUrl } from '../../server/db/databaseUrl.ts';
import { migrate } from '../../server/db/migrate.ts';
import { createDatabasePool } from '../../server/db/pool.ts';
import { startPostgres, type PostgresServer } from '../../scripts/services/postgres.ts';

export { startPostgres, type PostgresServer, type PostgresOptions } from '../../scripts/services/postgres.ts';

export interface MigratedDatabase {
  server: PostgresServer;
  /** a pool on the application's database, every migration applied */
  pool: pg.Pool;
  stop(): Promise<void>;
}

/** A real PostgreSQL with the server's schema, for tests of the stores that use it directly. */
export async function startMigratedDatabase(): Promise<MigratedDatabase> {
  const server = await startPostgres();
  const pool = createDatabasePool(parseDatabaseUrl(server.url), { connectTimeoutMs: 10_000 });
  await migrate(pool);
  return {
    server, pool,
    async stop() {
      await pool.end();
      await server.stop();
    },
  };
}
