/** Logins while the accounts are still on their way from the database. */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { Authenticator } from '../../../../server/auth/authenticator.ts';
import { hashPassword } from '../../../../server/auth/passwords.ts';
import { SessionsUnavailableError } from '../../../../server/auth/pgSessions.ts';
import { SessionStore } from '../../../../server/auth/sessions.ts';
import { TokenSet } from '../../../../server/auth/tokens.ts';
import type { UserRecord } from '../../../../server/auth/usersFile.ts';
import type { UserDirectory } from '../../../../server/auth/usersStore.ts';

/** accounts that arrive when `arrive()` is called, as the first read from PostgreSQL does */
class LateDirectory implements UserDirectory {
  private users = new Map<string, UserRecord>();
  private wake: (() => void) | null = null;
  constructor(private readonly pending: Map<string, UserRecord>) {}
  get(username: string): UserRecord | undefined {
    return this.users.get(username);
  }
  count(): number {
    return this.users.size;
  }
  ready(): boolean {
    return this.users.size > 0;
  }
  whenReady(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.ready()), ms);
      this.wake = () => {
        clearTimeout(t);
        resolve(true);
      };
    });
  }
  arrive(): void {
    this.users = this.pending;
    this.wake?.();
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a login before the accounts are read', () => {
  async function setUp(): Promise<{ auth: Authenticator; dir: LateDirectory }> {
    const record: UserRecord = { password: await hashPassword('night-shift-1'), role: 'nurse', updatedAt: '2026-12-03T00:00:00Z' };
    const dir = new LateDirectory(new Map([['alice', record]]));
    const sessions = new SessionStore({ idleS: 600, absoluteS: 3600, clock: () => 0 });
    return { auth: new Authenticator(new TokenSet([]), sessions, dir), dir };
  }

  test('waits for them and succeeds when they arrive in time', async () => {
    const { auth, dir } = await setUp();
    vi.useFakeTimers();
    const login = auth.checkPassword('alice', 'night-shift-1');
    await vi.advanceTimersByTimeAsync(1000);
    dir.arrive();
    vi.useRealTimers();
    expect(await login).toBe('nurse');
  });

  test('answers unavailable (503), not a wrong password, when they do not come', async () => {
    const { auth } = await setUp();
    vi.useFakeTimers();
    const login = auth.checkPassword('alice', 'night-shift-1');
    const outcome = expect(login).rejects.toBeInstanceOf(SessionsUnavailableError);
    await vi.advanceTimersByTimeAsync(3000);
    await outcome;
  });
});

describe('a session used before the accounts are read (a server just restarted)', () => {
  async function setUp(): Promise<{ auth: Authenticator; dir: LateDirectory; sessions: SessionStore; id: string }> {
    const record: UserRecord = { password: await hashPassword('night-shift-1'), role: 'nurse', updatedAt: '2026-12-03T00:00:00Z' };
    const dir = new LateDirectory(new Map([['alice', record]]));
    const sessions = new SessionStore({ idleS: 600, absoluteS: 3600, clock: () => 0 });
    const { id } = sessions.create('alice', 'nurse');
    return { auth: new Authenticator(new TokenSet([]), sessions, dir), dir, sessions, id };
  }

  test('is not ended: it answers unavailable (503) while they do not come, and is good once they do', async () => {
    const { auth, dir, sessions, id } = await setUp();
    vi.useFakeTimers();
    const early = auth.identifyShared(undefined, id);
    const outcome = expect(early).rejects.toBeInstanceOf(SessionsUnavailableError);
    await vi.advanceTimersByTimeAsync(3000);
    await outcome;
    expect(auth.identify(undefined, id)).toBeUndefined();
    expect(sessions.touch(id)?.username).toBe('alice');
    dir.arrive();
    vi.useRealTimers();
    expect(await auth.identifyShared(undefined, id)).toMatchObject({ kind: 'session', name: 'alice', role: 'nurse' });
  });

  test('waits for them and is good when they arrive in time', async () => {
    const { auth, dir, id } = await setUp();
    vi.useFakeTimers();
    const early = auth.identifyShared(undefined, id);
    await vi.advanceTimersByTimeAsync(500);
    dir.arrive();
    vi.useRealTimers();
    expect(await early).toMatchObject({ kind: 'session', name: 'alice' });
  });
});
