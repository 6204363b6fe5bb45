import { describe, test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { labelOfToken } from '../../../../server/auth/tokens.ts';
import { makeFixture, ORIGIN, TOKEN, type Fixture } from './appFixture.ts';

/** a concrete URL for a registered route pattern */
function concrete(url: string): string {
  return url.replace(':pump', 'PMP-001').replace(':id', 'a1').replace('*', 'index.html');
}

const PUBLIC = new Set(['POST /api/session', 'GET /api/health', 'HEAD /api/health', 'GET /', 'HEAD /', 'GET /*', 'HEAD /*',
  // the phone page of a page: its token is the credential (routes/pagingRoutes.ts; an unknown token is a 404)
  'GET /api/pages/:token', 'HEAD /api/pages/:token', 'POST /api/pages/:token/accept', 'POST /api/pages/:token/decline',
  'GET /page/:token', 'HEAD /page/:token', 'GET /page-assets/page.js', 'HEAD /page-assets/page.js']);

describe('access control', () => {
  let f: Fixture;
  beforeAll(async () => { f = await makeFixture(); });
  afterAll(async () => { await f.close(); });

  test('every registered route but the public ones refuses anonymous callers with 401 and reveals nothing', async () => {
    const privateRoutes = f.routes.filter((r) => !PUBLIC.has(`${r.method} ${r.url}`));
    assert.ok(privateRoutes.length >= 14, `only ${privateRoutes.length} private routes registered`);
    for (const r of privateRoutes) {
      for (const auth of [undefined, 'Bearer wrong-token', 'Basic YWxpY2U6eA==', 'Bearer ']) {
        const res = await f.app.inject({
          method: r.method as 'GET', url: concrete(r.url),
          headers: auth ? { authorization: auth, origin: ORIGIN } : { origin: ORIGIN },
          ...(r.method === 'GET' || r.method === 'HEAD' ? {} : { payload: { label: 'x' } }),
        });
        assert.equal(res.statusCode, 401, `${r.method} ${r.url} with ${auth ?? 'nothing'}: ${res.statusCode}`);
        if (r.method !== 'HEAD') assert.deepEqual(res.json(), { error: 'unauthorized', message: 'authentication required' });
      }
    }
    // and the public set is exactly what the contract makes public
    const publicRegistered = f.routes.filter((r) => PUBLIC.has(`${r.method} ${r.url}`)).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(new Set(publicRegistered), PUBLIC);
  });

  test('an unknown /api path is private too (401 anonymous, 404 with credentials)', async () => {
    assert.equal((await f.app.inject({ url: '/api/nothing-here' })).statusCode, 401);
    assert.equal((await f.app.inject({ method: 'POST', url: '/api/nothing-here' })).statusCode, 401);
    const res = await f.app.inject({ url: '/api/nothing-here', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json<{ error: string }>().error, 'not_found');
  });

  test('health is public with the contract fields only; the extensions need credentials', async () => {
    const anon = await f.app.inject({ url: '/api/health' });
    assert.equal(anon.statusCode, 200);
    assert.deepEqual(anon.json(), { status: 'ok', mqtt: 'up', influx: 'up' });
    const tok = await f.app.inject({ url: '/api/health', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(tok.json(), { status: 'ok', mqtt: 'up', influx: 'up', backlog: 0 });
  });

  const NURSE_ROUTES = [['GET', '/api/pumps'], ['GET', '/api/pumps/PMP-001'], ['GET', '/api/pumps/PMP-001/telemetry'], ['GET', '/api/alerts'], ['POST', '/api/alerts/a1/ack']] as const;
  const BILLING_ROUTES = [['GET', '/api/billing/episodes'], ['GET', '/api/billing/episodes.csv'], ['GET', '/api/billing/episodes/e1'], ['GET', '/api/billing/episodes/e1/evidence']] as const;
  const ADMIN_ROUTES = [['GET', '/metrics'], ['GET', '/api/audit']] as const;

  async function call(method: string, url: string, s: { cookie: string; csrf: string }): Promise<number> {
    const res = await f.app.inject({ method: method as 'GET', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: ORIGIN } });
    return res.statusCode;
  }

  test('a nurse cannot read billing or admin routes (403) but uses the nurse routes', async () => {
    const s = await f.login('alice');
    for (const [m, u] of [...BILLING_ROUTES, ...ADMIN_ROUTES]) assert.equal(await call(m, u, s), 403, `${m} ${u}`);
    for (const [m, u] of NURSE_ROUTES) assert.equal(await call(m, u, s), 200, `${m} ${u}`);
  });

  test('billing cannot read pumps, alerts or admin routes, nor open /ws (403)', async () => {
    const s = await f.login('bob');
    for (const [m, u] of [...NURSE_ROUTES, ...ADMIN_ROUTES, ['GET', '/ws'] as const]) assert.equal(await call(m, u, s), 403, `${m} ${u}`);
    for (const [m, u] of BILLING_ROUTES) assert.equal(await call(m, u, s), 200, `${m} ${u}`);
    const body = (await f.app.inject({ url: '/api/pumps', headers: { cookie: s.cookie } })).json<Record<string, unknown>>();
    assert.deepEqual(body, { error: 'forbidden', message: 'this account may not use this route' });
  });

  test('admin and bearer tokens reach everything', async () => {
    const s = await f.login('carol');
    for (const [m, u] of [...NURSE_ROUTES, ...BILLING_ROUTES, ...ADMIN_ROUTES]) {
      assert.equal(await call(m, u, s), 200, `admin ${m} ${u}`);
      const res = await f.app.inject({ method: m, url: u, headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.statusCode, 200, `token ${m} ${u}`);
    }
  });

  test('ackedBy is the account name, or token:<first 8 hex of sha256> for a token', async () => {
    const s = await f.login('alice');
    f.backend.acks.length = 0;
    await call('POST', '/api/alerts/a2/ack', s);
    await f.app.inject({ method: 'POST', url: '/api/alerts/a1/ack', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(f.backend.acks, [{ id: 'a2', by: 'alice' }, { id: 'a1', by: labelOfToken(TOKEN) }]);
    assert.match(labelOfToken(TOKEN), /^token:[0-9a-f]{8}$/);
  });

  test('/metrics is Prometheus text with the HTTP layer\'s metrics, every refusal reason at 0 from the start', async () => {
    const res = await f.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    for (const reason of ['path', 'unauthorized', 'forbidden', 'origin']) assert.match(res.body, new RegExp(`^pumpwatch_ws_refused_total\\{reason="${reason}"\\} 0$`, 'm'));
    assert.match(res.body, /^pumpwatch_ws_clients 0$/m);
    assert.match(res.body, /^pumpwatch_http_sessions \d+$/m);
  });
});
