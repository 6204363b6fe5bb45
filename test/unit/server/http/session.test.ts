import { describe, test, beforeEach, afterEach } from 'vitest';
import assert from 'node:assert/strict';
import { makeFixture, ORIGIN, PASSWORDS, TOKEN, type Fixture } from './appFixture.ts';

describe('login, logout and sessions', () => {
  let f: Fixture;
  beforeEach(async () => { f = await makeFixture({ sessionIdleS: 600, sessionAbsoluteS: 3600 }); });
  afterEach(async () => { await f.close(); });

  test('login sets an HttpOnly SameSite=Strict cookie and returns username, role and a CSRF token', async () => {
    const { res, cookie, csrf } = await f.login('alice');
    assert.equal(res.json<{ username: string }>().username, 'alice');
    assert.equal(res.json<{ role: string }>().role, 'nurse');
    assert.ok(csrf.length >= 32);
    const setCookie = String(res.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\//);
    assert.doesNotMatch(setCookie, /Secure/, 'plain HTTP: no Secure flag');
    const me = await f.app.inject({ url: '/api/me', headers: { cookie } });
    assert.equal(me.statusCode, 200);
    assert.deepEqual({ ...me.json<Record<string, unknown>>(), expiresAt: 'x' }, {
      username: 'alice', role: 'nurse', kind: 'session', csrfToken: csrf, expiresAt: 'x', timeZone: new Intl.DateTimeFormat().resolvedOptions().timeZone,
    }, "without a zone given, the process's own");
  });

  test("GET /api/me tells the server's time zone, for the board's times of pumps whose patient has none", async () => {
    const g = await makeFixture({ timeZone: 'America/Chicago' });
    try {
      const { cookie } = await g.login('alice');
      const me = await g.app.inject({ url: '/api/me', headers: { cookie } });
      assert.equal(me.json<{ timeZone: string }>().timeZone, 'America/Chicago');
    } finally {
      await g.close();
    }
  });

  test('wrong password, unknown user and missing fields are refused alike', async () => {
    for (const payload of [{ username: 'alice', password: 'nope-nope' }, { username: 'nobody', password: 'whatever1' }]) {
      const res = await f.app.inject({ method: 'POST', url: '/api/session', payload });
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { error: 'unauthorized', message: 'invalid username or password' });
      assert.equal(res.headers['set-cookie'], undefined);
    }
    const bad = await f.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'alice' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ error: string }>().error, 'bad_request');
  });

  test('logout ends the session and clears the cookie', async () => {
    const { cookie, csrf } = await f.login('alice');
    const out = await f.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie, 'x-csrf-token': csrf, origin: ORIGIN } });
    assert.equal(out.statusCode, 204);
    assert.match(String(out.headers['set-cookie']), /pumpwatch_session=;/);
    assert.equal((await f.app.inject({ url: '/api/pumps', headers: { cookie } })).statusCode, 401);
  });

  test('a session expires after the idle time, and after the absolute time even when used', async () => {
    const a = await f.login('alice');
    f.now.ms += 599_000;
    assert.equal((await f.app.inject({ url: '/api/me', headers: { cookie: a.cookie } })).statusCode, 200);
    f.now.ms += 599_000; // idle counted from the last use
    assert.equal((await f.app.inject({ url: '/api/me', headers: { cookie: a.cookie } })).statusCode, 200);
    f.now.ms += 601_000;
    assert.equal((await f.app.inject({ url: '/api/me', headers: { cookie: a.cookie } })).statusCode, 401, 'idle expiry');

    const b = await f.login('alice');
    for (let i = 0; i < 7; i++) {
      f.now.ms += 500_000;
      const code = (await f.app.inject({ url: '/api/me', headers: { cookie: b.cookie } })).statusCode;
      assert.equal(code, (i + 1) * 500_000 < 3_600_000 ? 200 : 401, `after ${(i + 1) * 500} s`);
    }
  });

  test('a new login replaces the old session id (no fixation)', async () => {
    const a = await f.login('alice');
    const res = await f.app.inject({
      method: 'POST', url: '/api/session', headers: { cookie: a.cookie, origin: ORIGIN }, payload: { username: 'alice', password: PASSWORDS.alice },
    });
    assert.equal(res.statusCode, 200);
    assert.equal((await f.app.inject({ url: '/api/me', headers: { cookie: a.cookie } })).statusCode, 401);
  });

  test('HTTPS mode marks the cookie Secure and sends HSTS', async () => {
    const g = await makeFixture({ https: true });
    try {
      const { res } = await g.login('alice');
      assert.match(String(res.headers['set-cookie']), /Secure/);
      const h = await g.app.inject({ url: '/api/health' });
      assert.match(String(h.headers['strict-transport-security']), /max-age=\d+/);
    } finally {
      await g.close();
    }
    const plain = await f.app.inject({ url: '/api/health' });
    assert.equal(plain.headers['strict-transport-security'], undefined);
  });

  test('a token caller sees itself in /api/me without a CSRF token', async () => {
    const me = await f.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(Object.keys(me.json<object>()).sort(), ['kind', 'role', 'timeZone', 'username']);
  });
});

describe('CSRF on cookie-authenticated state changes', () => {
  let f: Fixture;
  beforeEach(async () => { f = await makeFixture({ allowedOrigins: ['https://pumps.example.org'] }); });
  afterEach(async () => { await f.close(); });

  const ack = (headers: Record<string, string>) => f.app.inject({ method: 'POST', url: '/api/alerts/a1/ack', headers });

  test('refused without the header, with a wrong one, with a foreign or missing Origin', async () => {
    const { cookie, csrf } = await f.login('alice');
    const cases: [Record<string, string>, string][] = [
      [{ cookie, origin: ORIGIN }, 'csrf_rejected'],
      [{ cookie, origin: ORIGIN, 'x-csrf-token': `${csrf}x` }, 'csrf_rejected'],
      [{ cookie, origin: ORIGIN, 'x-csrf-token': 'short' }, 'csrf_rejected'],
      [{ cookie, origin: 'https://evil.example', 'x-csrf-token': csrf }, 'origin_rejected'],
      [{ cookie, origin: 'null', 'x-csrf-token': csrf }, 'origin_rejected'],
      [{ cookie, referer: 'https://evil.example/page', 'x-csrf-token': csrf }, 'origin_rejected'],
      [{ cookie, 'x-csrf-token': csrf }, 'origin_rejected'],
    ];
    for (const [headers, code] of cases) {
      const res = await ack(headers);
      assert.equal(res.statusCode, 403, JSON.stringify(headers));
      assert.equal(res.json<{ error: string }>().error, code);
    }
    assert.equal(f.backend.acks.length, 0, 'nothing acknowledged');
    const del = await f.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie, origin: ORIGIN } });
    assert.equal(del.statusCode, 403, 'logout needs the CSRF token too');
  });

  test('accepted with the token and our own, a configured, or a Referer origin; bearer needs none', async () => {
    const { cookie, csrf } = await f.login('alice');
    assert.equal((await ack({ cookie, origin: ORIGIN, 'x-csrf-token': csrf })).statusCode, 200);
    assert.equal((await ack({ cookie, origin: 'https://pumps.example.org', 'x-csrf-token': csrf })).statusCode, 200);
    assert.equal((await ack({ cookie, referer: `${ORIGIN}/board`, 'x-csrf-token': csrf })).statusCode, 200);
    assert.equal((await ack({ authorization: `Bearer ${TOKEN}` })).statusCode, 200);
    assert.equal(f.backend.acks.length, 4);
  });

  test('a login from a foreign origin is refused (login CSRF); a login without Origin (scripts) is not', async () => {
    const res = await f.app.inject({ method: 'POST', url: '/api/session', headers: { origin: 'https://evil.example' }, payload: { username: 'alice', password: PASSWORDS.alice } });
    assert.equal(res.statusCode, 403);
    assert.equal(res.headers['set-cookie'], undefined);
    const ok = await f.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'alice', password: PASSWORDS.alice } });
    assert.equal(ok.statusCode, 200);
  });
});
