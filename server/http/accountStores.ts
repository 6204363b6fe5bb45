/**
 * Where accounts, login sessions and the audit log live: without a database, the users file, a
 * session store per instance (with its sessions file) and the backend's audit log, as always; with
 * DATABASE_URL, the users, sessions and audit_log tables shared by every instance.
 */
import type { FastifyBaseLogger } from 'fastify';
import { PgSessionStore } from '../auth/pgSessions.ts';
import { PgUsersStore } from '../auth/pgUsers.ts';
import { SessionStore, type Sessions } from '../auth/sessions.ts';
import { UsersStore, type UserChange, type UserDirectory } from '../auth/usersStore.ts';
import { isDatabaseUnavailable } from '../db/pool.ts';
import { AuditTrail } from './auditTrail.ts';
import { PgAuditLog, type AuditEntry, type AuditLogQuery } from './auditStore.ts';
import type { ApiBackend } from './backend.ts';
import type { ResolvedHttpOptions } from './options.ts';

export interface AccountStores {
  users: UserDirectory;
  sessions: Sessions;
  audit: AuditTrail;
  /** GET /api/audit's source when it is not the backend's */
  auditLog?: (query: AuditLogQuery) => Promise<AuditEntry[]>;
  /** loads the accounts (imports the users file into an empty table first); rejects on a bad users file */
  start(): Promise<void>;
  reloadUsers(): Promise<void>;
  stop(): Promise<void>;
}

const USER_ACTION = { added: 'user_added', removed: 'user_removed', changed: 'user_changed' } as const;

export function createAccountStores(backend: ApiBackend, o: ResolvedHttpOptions, log: FastifyBaseLogger): AccountStores {
  const pool = o.database?.pool;
  if (!o.database || !pool) return fileAccounts(backend, o, log);
  const db = o.database;
  const sessions = new PgSessionStore({
    pool, idleS: o.sessionIdleS, absoluteS: o.sessionAbsoluteS, clock: o.clock, isUnavailable: isDatabaseUnavailable,
    recheckMs: o.sessionRecheckMs,
    onError: (message) => log.error({ code: 'SESSION_WRITE_FAILED' }, message),
  });
  const auditLog = new PgAuditLog({
    pool, onError: (message) => log.error({ code: 'AUDIT_WRITE_FAILED' }, message),
    // a login right after the start must not reach the table before the migrations made it
    waitForOpen: db.onUp !== undefined,
  }, isDatabaseUnavailable);
  const audit = new AuditTrail(auditLog, o.clock, () => auditLog.dropped);
  const users = new PgUsersStore({
    pool, pollMs: o.usersPollMs, importFile: o.usersFile,
    // the change was audited by whoever made it (npm run users, in its own transaction); here only this instance's sessions end
    onChange: (changes: readonly UserChange[]) => {
      for (const c of changes) sessions.destroyUser(c.username);
      log.info({ changes: changes.length }, 'accounts reloaded from the database');
    },
    onError: (message) => log.error({ code: 'ACCOUNTS_UNAVAILABLE' }, `${message}; keeping the accounts held`),
    // warn, not info: the HTTP logger shows warnings and errors only, and the operator must learn that the file no longer counts
    onImport: (count, file) => log.warn({ count, file }, 'users file imported into the database; it is no longer read (npm run users now edits the database)'),
  });
  let offUp: (() => void) | undefined;
  return {
    users, sessions, audit,
    auditLog: (q) => auditLog.read(q),
    async start() {
      // with a database object, the first load waits for it to be up and migrated (start() must not wait for PostgreSQL)
      await users.start({ waitForDatabase: db.onUp !== undefined });
      sessions.start();
      offUp = db.onUp?.(async () => {
        await users.reload();
        void auditLog.open();
        void sessions.flush();
      });
    },
    reloadUsers: () => users.reload(),
    async stop() {
      offUp?.();
      users.stop();
      sessions.stopTimer();
      await sessions.flush();
      await auditLog.stop();
      if (auditLog.queued > 0) log.error({ events: auditLog.queued }, 'audit events not written: the database is unavailable at shutdown');
      sessions.clear();
    },
  };
}

function fileAccounts(backend: ApiBackend, o: ResolvedHttpOptions, log: FastifyBaseLogger): AccountStores {
  const sessions = new SessionStore({
    idleS: o.sessionIdleS, absoluteS: o.sessionAbsoluteS, clock: o.clock,
    ...(o.sessionsFile ? { file: o.sessionsFile } : {}),
  });
  const audit = new AuditTrail(backend, o.clock);
  const users = new UsersStore({
    path: o.usersFile,
    pollMs: o.usersPollMs,
    onChange: (changes: readonly UserChange[]) => {
      for (const c of changes) {
        sessions.destroyUser(c.username);
        audit.record(null, USER_ACTION[c.kind], 'ok', { actor: 'users-file', role: null, target: c.username, detail: c.role ? { role: c.role } : {} });
      }
      log.info({ changes: changes.length }, 'users file reloaded');
    },
    onError: (message) => log.error({ code: 'USERS_FILE_INVALID' }, `${message}; keeping the previous accounts`),
  });
  return {
    users, sessions, audit,
    start() {
      users.start();
      return Promise.resolve();
    },
    reloadUsers() {
      users.reload();
      return Promise.resolve();
    },
    stop() {
      users.stop();
      sessions.flush();
      sessions.clear();
      return Promise.resolve();
    },
  };
}
