/**
 * Cookie sessions kept in memory. The id given to the browser is random; only its SHA-256 is stored,
 * so a memory dump does not yield usable cookies. Idle and absolute expiry on an injected clock.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../../protocol/api.ts';

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
}

function hashId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

export class SessionStore {
  private readonly byHash = new Map<string, Session>();
  private readonly max: number;

  constructor(private readonly opts: SessionStoreOptions) {
    this.max = opts.maxSessions ?? 10_000;
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
    return s;
  }

  /** epoch ms when this session ends if used no more */
  expiresAtMs(s: Session): number {
    return Math.min(s.lastSeenMs + this.opts.idleS * 1000, s.createdMs + this.opts.absoluteS * 1000);
  }

  destroy(id: string): void {
    this.byHash.delete(hashId(id));
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
    return n;
  }

  sweep(): void {
    const now = this.opts.clock();
    for (const [k, s] of this.byHash) if (this.expired(s, now)) this.byHash.delete(k);
  }

  get size(): number {
    return this.byHash.size;
  }

  clear(): void {
    this.byHash.clear();
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
