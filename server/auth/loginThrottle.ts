/**
 * Brute-force protection for POST /api/session: failed logins are counted per client IP and per
 * username in a window; too many lock that IP or username out for a while. In memory, injected clock.
 */
export interface LoginThrottleOptions {
  maxPerIp: number;
  maxPerUser: number;
  /** seconds */
  windowS: number;
  /** seconds */
  lockoutS: number;
  clock: () => number;
  /** bounds memory under a flood of distinct usernames/IPs */
  maxEntries?: number;
}

interface Counter {
  failures: number;
  /** epoch ms */
  windowStartMs: number;
  lockedUntilMs: number;
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; by: 'ip' | 'user'; retryAfterS: number };

export class LoginThrottle {
  private readonly ips = new Map<string, Counter>();
  private readonly users = new Map<string, Counter>();
  private readonly maxEntries: number;

  constructor(private readonly opts: LoginThrottleOptions) {
    this.maxEntries = opts.maxEntries ?? 50_000;
  }

  check(ip: string, username: string): ThrottleVerdict {
    const now = this.opts.clock();
    const ipLock = this.lockedFor(this.ips.get(ip), now);
    if (ipLock > 0) return { allowed: false, by: 'ip', retryAfterS: ipLock };
    const userLock = this.lockedFor(this.users.get(userKey(username)), now);
    if (userLock > 0) return { allowed: false, by: 'user', retryAfterS: userLock };
    return { allowed: true };
  }

  /** Records one failed attempt; returns what got locked by it, if anything. */
  fail(ip: string, username: string): { lockedIp: boolean; lockedUser: boolean } {
    const now = this.opts.clock();
    return {
      lockedIp: this.bump(this.ips, ip, this.opts.maxPerIp, now),
      lockedUser: this.bump(this.users, userKey(username), this.opts.maxPerUser, now),
    };
  }

  /** A correct password clears that username's failures (the IP keeps its count: one valid account must not reset guessing at others). */
  succeed(username: string): void {
    this.users.delete(userKey(username));
  }

  get entries(): number {
    return this.ips.size + this.users.size;
  }

  private lockedFor(c: Counter | undefined, now: number): number {
    return c && c.lockedUntilMs > now ? Math.ceil((c.lockedUntilMs - now) / 1000) : 0;
  }

  private bump(map: Map<string, Counter>, key: string, max: number, now: number): boolean {
    let c = map.get(key);
    if (!c || now - c.windowStartMs >= this.opts.windowS * 1000) {
      if (!c && map.size >= this.maxEntries) this.prune(map, now);
      c = { failures: 0, windowStartMs: now, lockedUntilMs: c?.lockedUntilMs ?? 0 };
      map.set(key, c);
    }
    c.failures++;
    if (c.failures >= max && c.lockedUntilMs <= now) {
      c.lockedUntilMs = now + this.opts.lockoutS * 1000;
      c.failures = 0;
      c.windowStartMs = now;
      return true;
    }
    return false;
  }

  private prune(map: Map<string, Counter>, now: number): void {
    for (const [k, c] of map) {
      if (c.lockedUntilMs <= now && now - c.windowStartMs >= this.opts.windowS * 1000) map.delete(k);
    }
    // still full: forget the oldest half rather than grow without bound
    if (map.size >= this.maxEntries) {
      let drop = Math.floor(map.size / 2);
      for (const k of map.keys()) {
        if (drop-- <= 0) break;
        map.delete(k);
      }
    }
  }
}

function userKey(username: string): string {
  return username.trim().toLowerCase().slice(0, 128);
}
