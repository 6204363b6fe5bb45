import { describe, test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { readUsersFile, writeUsersFile } from '../../../../server/auth/usersFile.ts';
import type { AuditEvent } from '../../../../server/http/backend.ts';
import { makeFixture, ORIGIN, PASSWORDS, TOKEN, usersContent, type Fixture } from './appFixture.ts';

describe('audit events', () => {
  let f: Fixture;
  beforeAll(async () => { f = await makeFixture({ loginMaxPerUser: 3 }); });
  afterAll(async () => { await f.close(); });

  const last = (action: AuditEvent['action']): AuditEvent | undefined => f.backend.audits.filter((e) => e.action === action).at(-1);

  test('login, failed login, lockout and logout: who, when, from where', async () => {
    const { cookie, csrf } = await f.login('alice', '10.9.0.1');
    assert.deepEqual(last('login'), { time: '2026-11-27T12:00:00.000Z', action: 'login', actor: 'alice', role: 'nurse', from: '10.9.0.1', outcome: 'ok' });
    for (let i = 0; i < 3; i++) {
      await f.app.inject({ method: 'POST', url: '/api/session', remoteAddress: '10.9.0.2', payload: { username: 'bob', password: 'wrong-pass' } });
    }
    const failed = last('login_failed');
    assert.equal(failed?.actor, 'bob');
    assert.equal(failed.from, '10.9.0.2');
    assert.equal(failed.outcome, 'failed');
    assert.equal(f.backend.audits.filter((e) => e.action === 'login_failed').length, 3);
    assert.equal(last('login_locked')?.actor, 'bob');
    await f.app.inject({ method: 'POST', url: '/api/session', remoteAddress: '10.9.0.2', payload: { username: 'bob', password: PASSWORDS.bob } });
    assert.equal(last('login_failed')?.outcome, 'denied', 'attempt while locked');
    assert.equal(f.backend.audits.some((e) => JSON.stringify(e).includes(PASSWORDS.bob) || JSON.stringify(e).includes('wrong-pass')), false, 'no password in the log');

    await f.app.inject({ method: 'DELETE', url: '/api/session', remoteAddress: '10.9.0.1', headers: { cookie, 'x-csrf-token': csrf, origin: ORIGIN } });
    assert.deepEqual(last('logout'), { time: '2026-11-27T12:00:00.000Z', action: 'logout', actor: 'alice', role: 'nurse', from: '10.9.0.1', outcome: 'ok' });
  });

  test('acknowledgement, billing export (JSON and CSV), evidence export, pump label', async () => {
    const s = await f.login('carol', '10.9.1.1');
    const h = { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: ORIGIN };
    await f.app.inject({ method: 'POST', url: '/api/alerts/a1/ack', remoteAddress: '10.9.1.1', headers: h });
    assert.equal(last('ack')?.target, 'a1');
    assert.equal(last('ack')?.actor, 'carol');
    assert.equal(last('ack')?.from, '10.9.1.1');
    await f.app.inject({ method: 'POST', url: '/api/alerts/nope/ack', headers: h });
    assert.equal(last('ack')?.outcome, 'failed');

    await f.app.inject({ url: '/api/billing/episodes?pump=PMP-001', headers: { authorization: `Bearer ${TOKEN}` } });
    const json = last('billing_export');
    assert.equal(json?.actor.startsWith('token:'), true);
    assert.deepEqual(json.detail, { format: 'json', from: '2026-10-28T12:00:00.000Z', to: '2026-11-27T12:00:00.000Z', pump: 'PMP-001', rows: 1 });
    await f.app.inject({ url: '/api/billing/episodes.csv', headers: h });
    assert.equal(last('billing_export')?.detail?.format, 'csv');
    assert.equal(last('billing_export')?.actor, 'carol');

    await f.app.inject({ url: '/api/billing/episodes/e1/evidence', headers: h });
    assert.equal(last('evidence_export')?.target, 'e1');

    const label = await f.app.inject({ method: 'PUT', url: '/api/pumps/PMP-002/label', headers: h, payload: { label: 'Mrs J.' } });
    assert.equal(label.statusCode, 200);
    assert.equal(last('pump_label')?.target, 'PMP-002');
    assert.equal(JSON.stringify(f.backend.audits).includes('Mrs J.'), false, 'the label text (may name a patient) is not audited');
  });

  test('user changes in the users file: added, changed, removed; their sessions end', async () => {
    const alice = await f.login('alice');
    const next = await usersContent({ alice: ['admin', PASSWORDS.alice], dave: ['nurse', 'dave-password'] });
    const bob = readUsersFile(f.usersFile).users.bob;
    assert.ok(bob);
    next.users.bob = bob; // untouched: no event
    writeUsersFile(f.usersFile, next);
    f.http.reloadUsers();
    const users = f.backend.audits.filter((e) => e.action.startsWith('user_')).map((e) => `${e.action} ${e.target ?? ''} ${e.actor} ${e.from}`);
    assert.deepEqual(users.sort(), ['user_added dave users-file local', 'user_changed alice users-file local', 'user_removed carol users-file local']);
    assert.equal((await f.app.inject({ url: '/api/me', headers: { cookie: alice.cookie } })).statusCode, 401, 'a changed account logs in again');
    const dave = await f.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'dave', password: 'dave-password' } });
    assert.equal(dave.statusCode, 200);
    const carol = await f.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'carol', password: PASSWORDS.carol } });
    assert.equal(carol.statusCode, 401);
  });

  test('a broken users file keeps the previous accounts', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f.usersFile, '{"version":1,"users":{"x":');
    f.http.reloadUsers();
    const res = await f.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'dave', password: 'dave-password' } });
    assert.equal(res.statusCode, 200);
  });

  test('admins read the audit log, filtered by action', async () => {
    const res = await f.app.inject({ url: '/api/audit?action=login&limit=2', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200);
    const rows = res.json<AuditEvent[]>();
    assert.equal(rows.length, 2);
    assert.ok(rows.every((r) => r.action === 'login'));
    assert.equal((await f.app.inject({ url: '/api/audit?action=bogus', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 400);
  });
});
