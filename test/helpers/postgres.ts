/** A real PostgreSQL on a free port in a temp folder (scripts/services/postgres.ts). */
export { startPostgres, type PostgresServer, type PostgresOptions } from '../../scripts/services/postgres.ts';
