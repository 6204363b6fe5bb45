/**
 * Where `npm run users` writes: the users table when DATABASE_URL is set (each change audited in
 * its own transaction, and the account's sessions ended when its role or password changes), the
 * users file otherwise. Running servers pick the change up by themselves.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type pg from 'pg';
import type { Role } from '../../protocol/api.ts';
import { readUsersFile, writeUsersFile, type UserRecord } from '../auth/usersFile.ts';

export interface AccountRow {
  username: string;
  role: Role;
  email: string | null;
  updatedAt: string;
}

/** what to set; an absent field keeps its value (a new account needs role and passwordHash) */
export interface AccountChange {
  role?: Role;
  passwordHash?: string;
  /** null clears it */
  email?: string | null;
}

export interface AccountsTarget {
  /** "the database <redacted url>" or the file's path, for the one-line answers */
  readonly where: string;
  list(): Promise<AccountRow[]>;
  exists(username: string): Promise<boolean>;
  /** creates or changes; returns whether it existed */
  put(username: string, change: AccountChange): Promise<'added' | 'updated'>;
  /** false when there was no such account */
  remove(username: string): Promise<boolean>;
  close(): Promise<void>;
}

export function fileTarget(path: string): AccountsTarget {
  return {
    where: path,
    list() {
      const { users } = readUsersFile(path);
      return Promise.resolve(Object.keys(users).sort().map((name) => {
        const u = users[name] as UserRecord;
        return { username: name, role: u.role, email: u.email ?? null, updatedAt: u.updatedAt };
      }));
    },
    exists(username) {
      return Promise.resolve(Object.hasOwn(readUsersFile(path).users, username));
    },
    put(username, change) {
      const content = readUsersFile(path);
      const old = Object.hasOwn(content.users, username) ? content.users[username] : undefined;
      const role = change.role ?? old?.role;
      const password = change.passwordHash ?? old?.password;
      if (!role || !password) throw new Error(`a new account needs a role and a password: ${username}`);
      const rec: UserRecord = { role, password, updatedAt: new Date().toISOString() };
      const email = change.email === undefined ? old?.email : change.email;
      if (email) rec.email = email;
      content.users[username] = rec;
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeUsersFile(path, content);
      return Promise.resolve(old ? 'updated' : 'added');
    },
    remove(username) {
      const content = readUsersFile(path);
      if (!Object.hasOwn(content.users, username)) return Promise.resolve(false);
      delete content.users[username];
      writeUsersFile(path, content);
      return Promise.resolve(true);
    },
    close: () => Promise.resolve(),
  };
}

interface UserRow {
  username: string;
  role: Role;
  email: string | null;
  password_hash: string;
  updated_at: Date;
}

/** `actor` names who ran the command in the audit log (e.g. "cli:root") */
export function databaseTarget(pool: pg.Pool, where: string, actor: string): AccountsTarget {
  const inTx = async <T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const out = await work(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  };
  const audit = (c: pg.PoolClient, action: string, username: string, detail: Record<string, unknown>): Promise<unknown> =>
    c.query('INSERT INTO audit_log (actor, action, entity_id, detail) VALUES ($1, $2, $3, $4)', [
      actor, action, username, { role: null, from: 'local', outcome: 'ok', detail },
    ]);
  return {
    where,
    async list() {
      const { rows } = await pool.query<UserRow>('SELECT username, role, email, updated_at FROM users ORDER BY username');
      return rows.map((r) => ({ username: r.username, role: r.role, email: r.email, updatedAt: r.updated_at.toISOString() }));
    },
    async exists(username) {
      return (await pool.query('SELECT 1 FROM users WHERE username = $1', [username])).rowCount === 1;
    },
    put(username, change) {
      return inTx(async (c) => {
        const old = (await c.query<UserRow>('SELECT username, role, email, password_hash FROM users WHERE username = $1 FOR UPDATE', [username])).rows[0];
        if (!old) {
          if (!change.role || !change.passwordHash) throw new Error(`a new account needs a role and a password: ${username}`);
          await c.query('INSERT INTO users (username, role, password_hash, email) VALUES ($1, $2, $3, $4)', [username, change.role, change.passwordHash, change.email ?? null]);
          await audit(c, 'user.add', username, { role: change.role });
          return 'added';
        }
        const role = change.role ?? old.role;
        const hash = change.passwordHash ?? old.password_hash;
        const email = change.email === undefined ? old.email : change.email;
        await c.query('UPDATE users SET role = $2, password_hash = $3, email = $4, updated_at = now() WHERE username = $1', [username, role, hash, email]);
        // a new role or password ends the account's sessions on every instance
        if (role !== old.role || hash !== old.password_hash) await c.query('DELETE FROM sessions WHERE username = $1', [username]);
        const fields = [role !== old.role ? 'role' : null, hash !== old.password_hash ? 'password' : null, email !== old.email ? 'email' : null].filter(Boolean);
        await audit(c, 'user.change', username, { role, fields: fields.join(',') });
        return 'updated';
      });
    },
    remove(username) {
      return inTx(async (c) => {
        // its sessions go with it (ON DELETE CASCADE)
        const gone = (await c.query('DELETE FROM users WHERE username = $1', [username])).rowCount === 1;
        if (gone) await audit(c, 'user.remove', username, {});
        return gone;
      });
    },
    close: () => pool.end(),
  };
}
