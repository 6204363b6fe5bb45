import { createECDH, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import type { PushTarget } from '../../../../server/paging/channel.ts';
import type { PushDevice, PushSubscriptionStore } from '../../../../server/paging/pushSubscriptions.ts';
import { makeFixture, TOKEN, type Fixture } from './appFixture.ts';

const KEY = 'BGHsRXJCw43mpOYkBNDxy9wVbadYM2DYxRY5-D3ohvE8Cw--QVUcb5FUBktfhnGeXvM7xD23UP0KhCjyBt9YYKo';

/** the store's behaviour the routes rely on, in memory; `fail` makes every call throw it */
class MemoryStore {
  readonly rows = new Map<string, { username: string; target: PushTarget }>();
  fail: Error | null = null;
  private check(): void {
    if (this.fail) throw this.fail;
  }
  add(username: string, target: PushTarget): Promise<boolean> {
    this.check();
    const created = !this.rows.has(target.endpoint);
    this.rows.set(target.endpoint, { username, target });
    return Promise.resolve(created);
  }
  remove(username: string, endpoint: string): Promise<boolean> {
    this.check();
    const mine = this.rows.get(endpoint)?.username === username;
    if (mine) this.rows.delete(endpoint);
    return Promise.resolve(mine);
  }
  devices(username: string): Promise<PushDevice[]> {
    this.check();
    return Promise.resolve([...this.rows.values()].filter((r) => r.username === username).map((r) => ({ endpoint: r.target.endpoint, createdAt: '2026-12-03T00:00:00.000Z' })));
  }
}

function subscription(endpoint = 'https://fcm.googleapis.com/fcm/send/dev-1'): { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
}

let f: Fixture | null = null;
afterEach(async () => {
  await f?.close();
  f = null;
});

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const s = await f!.login('alice');
  const res = await f!.app.inject({ method, url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: f!.origin }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: res.body === '' ? null : res.json<Record<string, unknown>>() };
}

describe('push routes', () => {
  test('without VAPID keys: 404 on every route, so the board hides its control', async () => {
    f = await makeFixture();
    expect(await call('GET', '/api/push/key')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect((await call('POST', '/api/push/subscriptions', subscription())).status).toBe(404);
    expect((await call('DELETE', '/api/push/subscriptions', { endpoint: 'https://x.example/1' })).status).toBe(404);
  });

  test('keys but no database: the key is given, subscribing answers 503 with the reason', async () => {
    f = await makeFixture({ push: { publicKey: KEY, store: null } });
    expect(await call('GET', '/api/push/key')).toEqual({ status: 200, body: { publicKey: KEY } });
    expect(await call('POST', '/api/push/subscriptions', subscription())).toMatchObject({ status: 503, body: { error: 'unavailable' } });
  });

  test('a logged-in person subscribes and unsubscribes; audited with the push service only', async () => {
    const store = new MemoryStore();
    f = await makeFixture({ push: { publicKey: KEY, store: store as unknown as PushSubscriptionStore } });
    const sub = subscription();
    expect(await call('POST', '/api/push/subscriptions', sub)).toEqual({ status: 201, body: { endpoint: sub.endpoint, created: true } });
    expect(store.rows.get(sub.endpoint)).toEqual({ username: 'alice', target: { endpoint: sub.endpoint, keys: sub.keys } });
    expect((await call('GET', '/api/push/subscriptions')).body).toEqual([{ endpoint: sub.endpoint, createdAt: '2026-12-03T00:00:00.000Z' }]);
    expect(await call('DELETE', '/api/push/subscriptions', { endpoint: sub.endpoint })).toEqual({ status: 204, body: null });
    expect((await call('DELETE', '/api/push/subscriptions', { endpoint: sub.endpoint })).status).toBe(404);
    const audits = f.backend.audits.filter((a) => a.action.startsWith('push_'));
    expect(audits.map((a) => [a.action, a.actor, a.target, a.detail])).toEqual([
      ['push_subscribe', 'alice', 'alice', { service: 'https://fcm.googleapis.com', created: true }],
      ['push_unsubscribe', 'alice', 'alice', { service: 'https://fcm.googleapis.com' }],
    ]);
    expect(JSON.stringify(audits)).not.toContain('dev-1');
  });

  test('bad subscriptions: 400 with the reason; nothing stored', async () => {
    const store = new MemoryStore();
    f = await makeFixture({ push: { publicKey: KEY, store: store as unknown as PushSubscriptionStore } });
    const sub = subscription();
    expect((await call('POST', '/api/push/subscriptions', { ...sub, endpoint: 'http://127.0.0.1:9/push' })).body).toMatchObject({ error: 'bad_request', message: 'endpoint must be an https: URL' });
    expect((await call('POST', '/api/push/subscriptions', { ...sub, keys: { ...sub.keys, auth: 'AAAA' } })).body).toMatchObject({ message: 'keys.auth must be base64url of 16 bytes' });
    expect((await call('POST', '/api/push/subscriptions', { endpoint: sub.endpoint })).status).toBe(400);
    expect(store.rows.size).toBe(0);
  });

  test('a machine token has no devices (403); nobody logged in: 401', async () => {
    f = await makeFixture({ push: { publicKey: KEY, store: new MemoryStore() as unknown as PushSubscriptionStore } });
    const byToken = await f.app.inject({ method: 'POST', url: '/api/push/subscriptions', headers: { authorization: `Bearer ${TOKEN}` }, payload: subscription() });
    expect(byToken.statusCode).toBe(403);
    expect((await f.app.inject({ method: 'GET', url: '/api/push/key' })).statusCode).toBe(401);
  });

  test('the database down: 503 database_unavailable; an account missing from it: 403', async () => {
    const store = new MemoryStore();
    f = await makeFixture({ push: { publicKey: KEY, store: store as unknown as PushSubscriptionStore } });
    store.fail = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(await call('POST', '/api/push/subscriptions', subscription())).toMatchObject({ status: 503, body: { error: 'database_unavailable' } });
    store.fail = Object.assign(new Error('violates foreign key'), { code: '23503' });
    expect(await call('POST', '/api/push/subscriptions', subscription())).toMatchObject({ status: 403, body: { error: 'forbidden' } });
  });
});
