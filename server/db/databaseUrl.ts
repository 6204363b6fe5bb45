/**
 * DATABASE_URL: where clinical records, accounts, sessions and the audit log live (§2, §6).
 * `postgres://user:password@host:port/database`, optionally `?sslmode=require` and the other
 * libpq-style parameters pg understands, or `postgres:///database?host=/var/run/postgresql` for a
 * unix socket. Checked once at start so a typo is one clear line, not a retry loop.
 */

/** used when DATABASE_URL is not set: a local PostgreSQL with the Debian defaults */
export const DEFAULT_DATABASE_URL = 'postgres://pumpwatch@127.0.0.1:5432/pumpwatch';

export class DatabaseUrlError extends Error {
  readonly code = 'BAD_DATABASE_URL';
}

export interface DatabaseTarget {
  /** the URL as given, for pg */
  connectionString: string;
  /** host name, address or unix socket folder */
  host: string;
  port: number;
  database: string;
  user: string | null;
  /** the URL without its password, safe for logs and health */
  redacted: string;
}

const fail = (why: string): never => {
  throw new DatabaseUrlError(`DATABASE_URL ${why}`);
};

export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('is not a URL (postgres://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') fail(`must start with postgres://, got ${url.protocol}//`);
  const socketDir = url.searchParams.get('host');
  const host = url.hostname || socketDir || '';
  if (!host) fail('names no host (postgres://user@host:port/database)');
  const port = url.port ? Number(url.port) : 5432;
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) fail('names no database (postgres://user@host:port/database)');
  const user = url.username ? decodeURIComponent(url.username) : null;
  const shown = new URL(url.href);
  if (shown.password) shown.password = '***';
  return { connectionString: text, host: host.replace(/^\[|\]$/g, ''), port, database, user, redacted: shown.href };
}
