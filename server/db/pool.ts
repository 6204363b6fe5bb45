/**
 * The PostgreSQL connection pool. A connection that breaks (the database restarted, the network
 * dropped) is thrown away by pg and the next query opens a new one, so the pool recovers by itself;
 * what it must not do is crash the process on an idle connection's error, or wait forever for a
 * database that is down (queries fail fast with a connection error instead: the callers report it).
 */
import pg from 'pg';
import type { DatabaseTarget } from './databaseUrl.ts';

export interface DatabasePoolOptions {
  /** connections at most (default 10) */
  max?: number;
  /** ms to wait for a connection, new or pooled, before a query fails (default 5000) */
  connectTimeoutMs?: number;
  /** ms a statement may run on the server (default 30 000) */
  statementTimeoutMs?: number;
  /** a connection broke while idle or held without a query (logged by the caller; a query on it fails) */
  onIdleError?: (err: Error) => void;
}

export function createDatabasePool(target: DatabaseTarget, opts: DatabasePoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: opts.statementTimeoutMs ?? 30_000,
    application_name: 'pumpwatch',
  });
  // without a listener an idle connection's error (e.g. 57P01 at a database shutdown) kills the process
  const reported = new WeakSet<Error>();
  const report = (err: Error): void => {
    if (reported.has(err)) return; // an idle client's error reaches both listeners
    reported.add(err);
    opts.onIdleError?.(err);
  };
  pool.on('error', report);
  // the same for a connection checked out with no query running (a transaction between statements,
  // a held client): pg emits on the client, and the pool listens only while the client is idle
  pool.on('connect', (client) => {
    client.on('error', report);
  });
  return pool;
}

/** SQLSTATEs that mean "no usable connection", not "the statement was wrong" */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** pg's own errors for a lost or never-made connection carry no code */
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout/i;

/** true when `err` says the database cannot be reached now (worth retrying later) */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08') || UNAVAILABLE_ERRNOS.has(code))) return true;
  if (err instanceof AggregateError) return err.errors.some(isDatabaseUnavailable);
  return UNAVAILABLE_MESSAGES.test(err.message);
}
