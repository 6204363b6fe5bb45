/**
 * Accounts, sessions and the audit log in a real PostgreSQL, through the HTTP layer of two
 * instances sharing one database: the users file imported once, a cookie made on A good on B, a
 * logout on A refused on B, and PostgreSQL stopped (held sessions keep working, a new login is 503,
 * audit events wait and are written when it returns).
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseDatabaseUrl } from '../../../server/db/databaseUrl.ts';
import { migrate } from '../../../server/db/migrate.ts';
import { createDatabasePool } from '../../../server/db/pool.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { waitFor } from '../../helpers/wait.ts';
import { makeFixture, PASSWORDS, TOKEN, type Fixture } from '../../unit/server/http/appFixture.ts';

let server: PostgresServer;
let poolA: pg.Pool;
let poolB: pg.Pool;
let a: Fixture;
let b: Fixture;

const newPool = (url: string): pg.Pool => createDatabasePool(parseDatabaseUrl(url), { connectTimeoutMs: 10_000 });

beforeAll(async () => {
  server = await startPostgres();
  poolA = newPool(server.url);
  poolB = newPool(server.url);
  await migrate(poolA);
  // each instance has its own users file (the same three accounts); only the first start imports
  a = await makeFixture({ database: { pool: poolA }, sessionRecheckMs: 0 });
  b = await makeFixture({ database: { pool: poolB }, sessionRecheckMs: 0 });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await poolA?.end();
  await poolB?.end();
  await server?.stop();
});

const me = (f: Fixture, cookie: string): Promise<number> => f.app.inject({ url: '/api/me', headers: { cookie } }).then((r) => r.statusCode);
const loginStatus = (f: Fixture, username: keyof typeof PASSWORDS): Promise<number> =>
  f.app.inject({ method: 'POST', url: '/api/session', headers: { origin: f.origin }, payload: { username, password: PASSWORDS[username] } }).then((r) => r.statusCode);

describe('accounts', () => {
  test('the users file is imported into the empty table once, recorded in the audit log without secrets', async () => {
    const { rows } = await poolA.query<{ username: string; role: string }>('SELECT username, role FROM users ORDER BY username');
    expect(rows).toEqual([{ username: 'alice', role: 'nurse' }, { username: 'bob', role: 'billing' }, { username: 'carol', role: 'admin' }]);
    const imports = await poolA.query<{ actor: string; detail: Record<string, unknown> }>("SELECT actor, detail FROM audit_log WHERE action = 'users.import'");
    expect(imports.rows).toEqual([{ actor: 'users-file', detail: { count: 3, outcome: 'ok', from: 'local', role: null } }]);
    // B's file has other hashes of the same passwords: B logs in against the table, not its file
    const hashes = (await poolA.query<{ password_hash: string }>('SELECT password_hash FROM users')).rows.map((r) => r.password_hash);
    expect(hashes.every((h) => h.startsWith('scrypt$'))).toBe(true);
    expect(await loginStatus(b, 'bob')).toBe(200);
  });

  test('an account removed from the table is refused on both instances at their next reload, its sessions gone', async () => {
    await poolA.query("INSERT INTO users (username, role, password_hash) SELECT 'temp', 'nurse', password_hash FROM users WHERE username = 'alice'");
    a.http.reloadUsers();
    b.http.reloadUsers();
    const login = (f: Fixture): Promise<{ statusCode: number; cookies: { name: string; value: string }[] }> =>
      f.app.inject({ method: 'POST', url: '/api/session', headers: { origin: f.origin }, payload: { username: 'temp', password: PASSWORDS.alice } });
    const res = await waitFor(async () => { const r = await login(a); return r.statusCode === 200 ? r : null; }, 5000, 'temp known on A');
    await waitFor(async () => (await login(b)).statusCode === 200, 5000, 'temp known on B');
    const cookie = `pumpwatch_session=${res.cookies.find((c) => c.name === 'pumpwatch_session')?.value ?? ''}`;
    expect(await me(b, cookie)).toBe(200);
    await poolA.query("DELETE FROM users WHERE username = 'temp'");
    a.http.reloadUsers();
    b.http.reloadUsers();
    await waitFor(async () => (await me(a, cookie)) === 401 && (await me(b, cookie)) === 401, 5000, 'refused on both');
    expect((await poolA.query("SELECT 1 FROM sessions WHERE username = 'temp'")).rowCount).toBe(0);
  });
});

describe('sessions shared by two instances', () => {
  test('a login on A is good on B (no sticky sessions); only the SHA-256 of the cookie is stored', async () => {
    const { cookie, csrf } = await a.login('alice');
    expect(await me(b, cookie)).toBe(200);
    const meB = await b.app.inject({ url: '/api/me', headers: { cookie } });
    expect(meB.json()).toMatchObject({ username: 'alice', role: 'nurse', kind: 'session', csrfToken: csrf });
    const raw = cookie.split('=')[1] as string;
    const { rows } = await poolA.query<{ id_sha256: string }>("SELECT id_sha256 FROM sessions WHERE username = 'alice'");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.id_sha256) && r.id_sha256 !== raw)).toBe(true);
    // a state change on B with A's CSRF token
    const ack = await b.app.inject({ method: 'POST', url: '/api/alerts/nope/ack', headers: { cookie, 'x-csrf-token': csrf, origin: b.origin } });
    expect(ack.statusCode).toBe(404);
  });

  test('a logout on A is refused on B', async () => {
    const { cookie, csrf } = await a.login('alice');
    expect(await me(b, cookie)).toBe(200);
    const out = await a.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie, 'x-csrf-token': csrf, origin: a.origin } });
    expect(out.statusCode).toBe(204);
    expect(await me(b, cookie)).toBe(401);
    expect(await me(a, cookie)).toBe(401);
  });

  test('idle expiry is judged on the last use seen by any instance', async () => {
    const { cookie } = await a.login('alice');
    // used on B for 20 min (idle limit 30 min), then A must not expire it on its own older view
    for (let i = 0; i < 4; i++) {
      a.now.ms += 5 * 60_000;
      b.now.ms = a.now.ms;
      expect(await me(b, cookie)).toBe(200);
    }
    await waitFor(async () => {
      const { rows } = await poolA.query<{ seen: Date }>("SELECT max(last_seen_at) AS seen FROM sessions WHERE username = 'alice'");
      return rows[0]?.seen.getTime() === a.now.ms;
    }, 5000, 'last use written');
    a.now.ms += 20 * 60_000;
    b.now.ms = a.now.ms;
    expect(await me(a, cookie)).toBe(200);
    a.now.ms += 31 * 60_000;
    b.now.ms = a.now.ms;
    expect(await me(a, cookie)).toBe(401);
    expect(await me(b, cookie)).toBe(401);
  });
});

describe('PostgreSQL stopped', () => {
  test('held sessions keep working, a new login is 503 with a reason, events wait and are written when it returns', async () => {
    const held = await a.login('alice');
    const elsewhere = await b.login('carol'); // never seen by A
    const logoutLater = await a.login('alice');
    const before = Number((await poolA.query<{ n: string }>('SELECT count(*) AS n FROM audit_log')).rows[0]?.n);
    await server.restart(async () => {
      expect(await me(a, held.cookie)).toBe(200);
      const login = await a.app.inject({ method: 'POST', url: '/api/session', headers: { origin: a.origin }, payload: { username: 'bob', password: PASSWORDS.bob } });
      expect(login.statusCode).toBe(503);
      expect(login.json<{ error: string; message: string }>().error).toBe('unavailable');
      expect(login.json<{ error: string; message: string }>().message).toMatch(/account database is unavailable/);
      const wrong = await a.app.inject({ method: 'POST', url: '/api/session', headers: { origin: a.origin }, payload: { username: 'bob', password: 'wrong-password' } });
      expect(wrong.statusCode).toBe(401);
      expect((await a.app.inject({ url: '/api/me', headers: { cookie: elsewhere.cookie } })).statusCode).toBe(503);
      const out = await a.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie: logoutLater.cookie, 'x-csrf-token': logoutLater.csrf, origin: a.origin } });
      expect(out.statusCode).toBe(204);
      expect(await me(a, logoutLater.cookie)).toBe(401);
      // a billing export and an ack are audited while the database is away
      expect((await a.app.inject({ url: '/api/billing/episodes.csv', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
      expect(await me(a, held.cookie)).toBe(200);
    });
    // back: the held session still works, the logout made meanwhile reached the table, nothing was lost
    expect(await me(a, held.cookie)).toBe(200);
    expect(await me(b, elsewhere.cookie)).toBe(200);
    await waitFor(async () => (await me(b, logoutLater.cookie)) === 401, 10_000, 'the logout made during the outage reaches B');
    const want = ['session.login_failed', 'session.logout', 'billing.export'];
    const rows = await waitFor(async () => {
      const r = await poolA.query<{ action: string; actor: string; detail: { outcome?: string; detail?: { reason?: string } } }>(
        'SELECT action, actor, detail FROM audit_log ORDER BY id OFFSET $1', [before],
      );
      return want.every((w) => r.rows.some((x) => x.action === w)) ? r.rows : null;
    }, 15_000, 'buffered audit events written');
    expect(rows.filter((r) => r.action === 'session.login_failed').map((r) => r.detail.detail?.reason).sort()).toEqual(['bad_credentials', 'database_unavailable']);
    const audit = await a.app.inject({ url: '/api/audit?action=billing_export', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(audit.statusCode).toBe(200);
    const exported = audit.json<{ action: string; actor: string; outcome: string }[]>()[0];
    expect(exported?.action).toBe('billing_export');
    expect(exported?.actor).toMatch(/^token:/);
    expect(await loginStatus(a, 'bob')).toBe(200);
  });
});

describe('GET /api/audit from the table', () => {
  test('shows the HTTP layer\'s events and the clinical ones (patient reads) of every instance, newest first', async () => {
    await poolA.query("INSERT INTO audit_log (at, actor, action, entity_id, patient_id, detail) VALUES ($1, 'pharm1', 'patient.read', '7', 7, '{}')", [new Date(a.now.ms)]);
    await b.login('bob');
    const res = await waitFor(async () => {
      const r = await a.app.inject({ url: '/api/audit', headers: { authorization: `Bearer ${TOKEN}` } });
      const list = r.json<{ action: string; actor: string; time: string; patientId?: string }[]>();
      return list.some((e) => e.action === 'login' && e.actor === 'bob') ? list : null;
    }, 10_000, 'B\'s login visible on A');
    expect(res.find((e) => e.action === 'patient.read')).toMatchObject({ actor: 'pharm1', target: '7', patientId: '7', outcome: 'ok' });
    const times = res.map((e) => Date.parse(e.time));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    const only = await a.app.inject({ url: '/api/audit?action=patient.read', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(only.json<{ action: string }[]>().map((e) => e.action)).toEqual(['patient.read']);
    expect((await a.app.inject({ url: '/api/audit?action=DROP TABLE', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(400);
  });
});
