/** PUT/DELETE /api/pumps/:pump/visit: nurses and admins, CSRF like every write, audited, validated; tokens may not. */
import { describe, test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { makeFixture, TOKEN, type Fixture } from './appFixture.ts';

describe('nurse visit routes', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await makeFixture();
  });
  afterAll(async () => {
    await f.close();
  });

  test('a nurse starts and ends a visit: the pump view comes back with it, both are audited', async () => {
    const s = await f.login('alice', '10.9.2.1');
    const h = { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: f.origin };
    const put = await f.app.inject({ method: 'PUT', url: '/api/pumps/PMP-001/visit', remoteAddress: '10.9.2.1', headers: h, payload: { minutes: 30 } });
    assert.equal(put.statusCode, 200, put.body);
    assert.deepEqual(put.json<{ visit: unknown }>().visit, { until: '2026-11-27T12:30:00.000Z', by: 'alice' });
    assert.deepEqual(f.backend.visits.at(-1), { pump: 'PMP-001', minutes: 30, by: 'alice' });
    const started = f.backend.audits.filter((e) => e.action === 'pump_visit').at(-1);
    assert.deepEqual({ actor: started?.actor, target: started?.target, from: started?.from, detail: started?.detail, outcome: started?.outcome },
      { actor: 'alice', target: 'PMP-001', from: '10.9.2.1', detail: { minutes: 30 }, outcome: 'ok' });

    const del = await f.app.inject({ method: 'DELETE', url: '/api/pumps/PMP-001/visit', headers: h });
    assert.equal(del.statusCode, 200);
    assert.equal(del.json<{ visit: unknown }>().visit, null);
    assert.deepEqual(f.backend.audits.filter((e) => e.action === 'pump_visit').at(-1)?.detail, { ended: true });
  });

  test('without the CSRF token, or from another origin: 403 and nothing changes', async () => {
    const s = await f.login('alice');
    const before = f.backend.visits.length;
    const noCsrf = await f.app.inject({ method: 'PUT', url: '/api/pumps/PMP-001/visit', headers: { cookie: s.cookie, origin: f.origin }, payload: { minutes: 30 } });
    assert.equal(noCsrf.statusCode, 403);
    const otherOrigin = await f.app.inject({
      method: 'DELETE', url: '/api/pumps/PMP-001/visit', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'https://evil.example' },
    });
    assert.equal(otherOrigin.statusCode, 403);
    assert.equal(f.backend.visits.length, before);
  });

  test('a billing account and a bearer token may not set a visit (a person takes the responsibility)', async () => {
    const b = await f.login('bob');
    const billing = await f.app.inject({
      method: 'PUT', url: '/api/pumps/PMP-001/visit', headers: { cookie: b.cookie, 'x-csrf-token': b.csrf, origin: f.origin }, payload: { minutes: 30 },
    });
    assert.equal(billing.statusCode, 403);
    const token = await f.app.inject({ method: 'PUT', url: '/api/pumps/PMP-001/visit', headers: { authorization: `Bearer ${TOKEN}` }, payload: { minutes: 30 } });
    assert.equal(token.statusCode, 403);
  });

  test('minutes outside 5–240 or not whole: 400; an unknown pump: 404; who it is by comes from the session only', async () => {
    const s = await f.login('carol');
    const h = { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: f.origin };
    for (const payload of [{ minutes: 4 }, { minutes: 241 }, { minutes: 30.5 }, { minutes: 'half an hour' }, {}]) {
      const res = await f.app.inject({ method: 'PUT', url: '/api/pumps/PMP-001/visit', headers: h, payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
    }
    const unknown = await f.app.inject({ method: 'PUT', url: '/api/pumps/NOPE-1/visit', headers: h, payload: { minutes: 30 } });
    assert.equal(unknown.statusCode, 404);
    const ok = await f.app.inject({ method: 'PUT', url: '/api/pumps/PMP-001/visit', headers: h, payload: { minutes: 240, by: 'someone else' } });
    assert.equal(ok.statusCode, 200, 'an admin may');
    assert.equal(ok.json<{ visit: { by: string } }>().visit.by, 'carol');
  });
});
