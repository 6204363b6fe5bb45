import type pg from 'pg';
import { expect, test } from 'vitest';
import { PgSessionStore, SessionsUnavailableError } from '../../../../server/auth/pgSessions.ts';

/** a pool that counts queries and answers the session lookup with what the last INSERT stored */
function fakePool(): { pool: pg.Pool; state: { up: boolean; queries: string[] } } {
  const state = { up: true, queries: [] as string[] };
  const pool = {
    query(text: string) {
      state.queries.push(text.trim().split(/\s+/)[0] ?? '');
      if (!state.up) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      return Promise.resolve({ rows: [], rowCount: 1 });
    },
  } as unknown as pg.Pool;
  return { pool, state };
}

const unavailable = (err: unknown): boolean => (err as { code?: string }).code === 'ECONNREFUSED';

test('a session held and checked recently costs no query per request; a stale one is checked once', async () => {
  const { pool, state } = fakePool();
  const now = { ms: 1_000_000 };
  const store = new PgSessionStore({ pool, idleS: 600, absoluteS: 3600, clock: () => now.ms, isUnavailable: unavailable, recheckMs: 5000 });
  const { id } = await store.create('alice', 'nurse');
  expect(state.queries).toEqual(['INSERT']);
  for (let i = 0; i < 100; i++) {
    await store.prime(id);
    expect(store.touch(id)?.username).toBe('alice');
  }
  expect(state.queries).toEqual(['INSERT']);
  now.ms += 6000;
  await store.prime(id); // the fake finds no row: ended elsewhere
  expect(state.queries).toEqual(['INSERT', 'SELECT']);
  expect(store.touch(id)).toBeUndefined();
});

test('database down: a held session keeps working, a new login and an unknown cookie are refused as unavailable', async () => {
  const { pool, state } = fakePool();
  const now = { ms: 1_000_000 };
  const store = new PgSessionStore({ pool, idleS: 600, absoluteS: 3600, clock: () => now.ms, isUnavailable: unavailable, recheckMs: 0 });
  const { id } = await store.create('alice', 'nurse');
  state.up = false;
  await store.prime(id);
  expect(store.touch(id)?.username).toBe('alice');
  await expect(store.create('bob', 'billing')).rejects.toBeInstanceOf(SessionsUnavailableError);
  await expect(store.prime('never-seen-cookie')).rejects.toBeInstanceOf(SessionsUnavailableError);
  // a logout meanwhile ends it here at once and waits for the database
  await store.destroy(id);
  expect(store.touch(id)).toBeUndefined();
  expect(store.pending).toBe(1);
  state.up = true;
  await store.flush();
  expect(store.pending).toBe(0);
  expect(state.queries.filter((q) => q === 'DELETE')).toHaveLength(2);
});
