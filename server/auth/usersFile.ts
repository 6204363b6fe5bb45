/**
 * The accounts file (PUMPWATCH_USERS_FILE): JSON, written atomically with mode 0600 by `npm run users`
 * and read by the server. Holds usernames, roles and scrypt hashes only.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomicFile.ts';
import type { Role } from '../../protocol/api.ts';
import { parsePasswordHash } from './passwords.ts';

export const ROLES: readonly Role[] = ['nurse', 'billing', 'pharmacist', 'admin'];
export const USERNAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export interface UserRecord {
  role: Role;
  /** scrypt$... (passwords.ts) */
  password: string;
  /** ISO, when this account was last written */
  updatedAt: string;
  /** where pages reach this person (interfaces.md §7), when given */
  email?: string;
}

/** the longest e-mail address kept (RFC 5321 path limit; the users table checks the same) */
export const MAX_EMAIL = 254;
export const EMAIL_RE = /^[^\s@]{1,64}@[^\s@]{1,189}$/;

export interface UsersFileContent {
  version: 1;
  users: Record<string, UserRecord>;
}

export class UsersFileError extends Error {
  constructor(readonly code: 'USERS_FILE_UNREADABLE' | 'USERS_FILE_INVALID', message: string) {
    super(message);
  }
}

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

export function parseUsersFile(text: string): UsersFileContent {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsersFileError('USERS_FILE_INVALID', 'users file is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || (data as { version?: unknown }).version !== 1) {
    throw new UsersFileError('USERS_FILE_INVALID', 'users file has no "version": 1');
  }
  const rawUsers = (data as { users?: unknown }).users;
  if (typeof rawUsers !== 'object' || rawUsers === null || Array.isArray(rawUsers)) {
    throw new UsersFileError('USERS_FILE_INVALID', 'users file has no "users" object');
  }
  const users: Record<string, UserRecord> = Object.create(null) as Record<string, UserRecord>;
  for (const [name, rec] of Object.entries(rawUsers as Record<string, unknown>)) {
    const r = rec as Partial<UserRecord> | null;
    if (!USERNAME_RE.test(name)) throw new UsersFileError('USERS_FILE_INVALID', `users file: bad username ${JSON.stringify(name.slice(0, 64))}`);
    if (!r || !isRole(r.role)) throw new UsersFileError('USERS_FILE_INVALID', `users file: bad role for ${name}`);
    if (typeof r.password !== 'string' || !parsePasswordHash(r.password)) throw new UsersFileError('USERS_FILE_INVALID', `users file: bad password hash for ${name}`);
    users[name] = { role: r.role, password: r.password, updatedAt: typeof r.updatedAt === 'string' ? r.updatedAt : '' };
    if (typeof r.email === 'string' && EMAIL_RE.test(r.email)) users[name].email = r.email;
  }
  return { version: 1, users };
}

/** A missing file is an empty account list (the server starts, nobody can log in yet). */
export function readUsersFile(path: string): UsersFileContent {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, users: {} };
    throw new UsersFileError('USERS_FILE_UNREADABLE', `cannot read users file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseUsersFile(text);
}

/** Atomic (temp file, fsync, rename), readable by the owner only. */
export function writeUsersFile(path: string, content: UsersFileContent): void {
  const sorted: Record<string, UserRecord> = {};
  for (const name of Object.keys(content.users).sort()) sorted[name] = content.users[name] as UserRecord;
  writeFileAtomic(path, `${JSON.stringify({ version: 1, users: sorted }, null, 2)}\n`, 0o600);
}
