/**
 * Cookie sessions. The id given to the browser is random; only its SHA-256 is kept, in memory and
 * (optionally) in a 0600 file, so neither a memory dump nor the file yields usable cookies. The
 * file lets a restarted server keep its nurses logged in: a night-time restart must not turn
 * every dashboard into a login page. Idle and absolute expiry on an injected clock.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomicFile.ts';
import type { Role } from '../../protocol/api.ts';
import { isRole } from './usersFile.ts';

export interface Session {
  username: string;
  role: Role;
  /** double-submit token the browser echoes in X-CSRF-Token */
  csrfToken: string;
  /** epoch ms */
  createdMs: number;
  lastSeenMs: number;
}

export interface SessionStoreOptions {
  /** seconds */
  idleS: number;
  /** seconds */
  absoluteS: number;
  clock: () => number;
  /** bounds memory against login floods; the oldest session goes first */
  maxSessions?: number;
  /** where sessions survive a restart (hashed ids); none: memory only */
  file?: string;
  /** ms between a change and its write to `file` (default 1000) */
  persistDelayMs?: number;
}

/**
 * What the login routes and the authenticator need from a session store: this file's in-memory one
 * (per instance) or the PostgreSQL one shared by every instance (pgSessions.ts).
 */
export interface Sessions {
  create(username: string, role: Role): { id: string; session: Session } | Promise<{ id: string; session: Session }>;
  /** the live session for a cookie value from what this instance holds (never waits), or undefined */
  touch(id: string): Session | undefined;
  /** makes touch() see the current state of a session kept elsewhere (no-op for a local store) */
  prime?(id: string): Promise<void>;
  expiresAtMs(s: Session): number;
  destroy(id: string): void | Promise<void>;
  /** this instance's sessions of an account removed or changed; returns how many ended */
  destroyUser(username: string): number;
  sweep(): void;
  readonly size: number;
  clear(): void;
  flush(): void | Promise<void>;
}

interface SessionFile {
  v: 1;
  sessions: [string, Session][];
}

export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

export class SessionStore implements Sessions {
  private readonly byHash = new Map<string, Session>();
  private readonly max: number;
  private persistTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: SessionStoreOptions) {
    this.max = opts.maxSessions ?? 10_000;
    if (opts.file) this.load(opts.file);
  }

  /** Returns the cookie value; the session itself is stored under its hash. */
  create(username: string, role: Role): { id: string; session: Session } {
    const now = this.opts.clock();
    const id = randomBytes(32).toString('base64url');
    const session: Session = { username, role, csrfToken: randomBytes(24).toString('base64url'), createdMs: now, lastSeenMs: now };
    if (this.byHash.size >= this.max) this.sweep();
    if (this.byHash.size >= this.max) {
      const oldest = this.byHash.keys().next().value;
      if (oldest !== undefined) this.byHash.delete(oldest);
    }
    this.byHash.set(hashId(id), session);
    this.changed();
    return { id, session };
  }

  /** The live session for a cookie value (and marks it used), or undefined when unknown or expired. */
  touch(id: string): Session | undefined {
    const key = hashId(id);
    const s = this.byHash.get(key);
    if (!s) return undefined;
    const now = this.opts.clock();
    if (this.expired(s, now)) {
      this.byHash.delete(key);
      return undefined;
    }
    s.lastSeenMs = now;
    this.changed();
    return s;
  }

  /** epoch ms when this session ends if used no more */
  expiresAtMs(s: Session): number {
    return Math.min(s.lastSeenMs + this.opts.idleS * 1000, s.createdMs + this.opts.absoluteS * 1000);
  }

  destroy(id: string): void {
    if (this.byHash.delete(hashId(id))) this.changed();
  }

  /** after an account is removed or changed in the users file */
  destroyUser(username: string): number {
    let n = 0;
    for (const [k, s] of this.byHash) {
      if (s.username === username) {
        this.byHash.delete(k);
        n++;
      }
    }
    if (n > 0) this.changed();
    return n;
  }

  sweep(): void {
    const now = this.opts.clock();
    for (const [k, s] of this.byHash) if (this.expired(s, now)) this.byHash.delete(k);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** forgets every session in memory (the file keeps them for the next start) */
  clear(): void {
    this.byHash.clear();
  }

  /** writes pending changes now; call on shutdown */
  flush(): void {
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    if (!this.opts.file) return;
    this.sweep();
    const data: SessionFile = { v: 1, sessions: [...this.byHash] };
    try {
      writeFileAtomic(this.opts.file, JSON.stringify(data), 0o600);
    } catch {
      // sessions then live in memory only: nurses log in again after a restart, nothing worse
    }
  }

  private changed(): void {
    if (!this.opts.file || this.persistTimer) return;
    this.persistTimer = setTimeout(() => this.flush(), this.opts.persistDelayMs ?? 1000);
    this.persistTimer.unref();
  }

  private load(file: string): void {
    let data: SessionFile;
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as SessionFile;
    } catch {
      return; // none yet, or unreadable: start empty
    }
    if (data?.v !== 1 || !Array.isArray(data.sessions)) return;
    const now = this.opts.clock();
    for (const [hash, s] of data.sessions) {
      const valid = typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash) && typeof s?.username === 'string'
        && isRole(s.role) && typeof s.csrfToken === 'string'
        && Number.isFinite(s.createdMs) && Number.isFinite(s.lastSeenMs);
      if (valid && !this.expired(s, now)) this.byHash.set(hash, s);
    }
  }

  private expired(s: Session, now: number): boolean {
    return now >= this.expiresAtMs(s);
  }
}

/** constant-time string equality for CSRF tokens */
export function sameSecret(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
