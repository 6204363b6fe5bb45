import { mkdirSync, writeFileSync } from 'node:fs';
import { EPISODE_CSV_COLUMNS } from '../../../../server/billing/csv.ts';
import { join } from 'node:path';
import { describe, test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { tempDir, type TempDir } from '../../../helpers/tempDir.ts';
import { makeFixture, TOKEN, type Fixture } from './appFixture.ts';

const auth = { authorization: `Bearer ${TOKEN}` };

describe('routes: validation, not found, formats', () => {
  let f: Fixture;
  let dist: TempDir;
  beforeAll(async () => {
    dist = tempDir('pumpwatch-dist-');
    writeFileSync(join(dist.path, 'index.html'), '<!doctype html><title>pumpwatch</title>');
    mkdirSync(join(dist.path, 'assets'));
    writeFileSync(join(dist.path, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dist.path, '.secret'), 'hidden');
    f = await makeFixture({ dashboardDir: dist.path });
  });
  afterAll(async () => {
    await f.close();
    dist.remove();
  });

  test('malformed queries, params and bodies: 400 with a stable error body', async () => {
    const bad = [
      '/api/alerts?status=open', '/api/alerts?from=yesterday', '/api/alerts?from=2026-11-27T10:00:00', '/api/alerts?pump=pmp%20001',
      '/api/alerts?from=2026-11-27T00:00:00Z&to=2026-11-01T00:00:00Z', '/api/alerts?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      '/api/pumps/PMP-001/telemetry?to=2026-13-45T00:00:00Z', '/api/pumps/bad%20serial', '/api/billing/episodes?pump=x',
      '/api/billing/episodes.csv?from=1', '/api/billing/episodes/bad%20id', '/api/audit?limit=0',
    ];
    for (const url of bad) {
      const res = await f.app.inject({ url, headers: auth });
      assert.equal(res.statusCode, 400, url);
      const body = res.json<{ error: string; message: string }>();
      assert.equal(body.error, 'bad_request', url);
      assert.ok(body.message.length > 0 && !/at .*\.ts/.test(body.message), url);
    }
    const json = await f.app.inject({ method: 'POST', url: '/api/session', headers: { 'content-type': 'application/json' }, payload: '{"username":' });
    assert.equal(json.statusCode, 400);
    assert.deepEqual(json.json(), { error: 'bad_request', message: 'request body is not valid JSON' });
    const label = await f.app.inject({ method: 'PUT', url: '/api/pumps/PMP-001/label', headers: auth, payload: { label: '<script>' } });
    assert.equal(label.statusCode, 400);
  });

  test('the time range defaults to the last 30 days and is passed on in epoch ms', async () => {
    await f.app.inject({ url: '/api/alerts?status=all&pump=PMP-001', headers: auth });
    assert.deepEqual(f.backend.lastAlertQuery, { status: 'all', pump: 'PMP-001', fromMs: f.now.ms - 30 * 86_400_000, toMs: f.now.ms });
    await f.app.inject({ url: '/api/pumps/PMP-001/telemetry?from=2026-11-27T10:00:00%2B01:00&to=2026-11-27T11:00:00Z', headers: auth });
    assert.deepEqual(f.backend.lastTelemetry, { pump: 'PMP-001', fromMs: Date.parse('2026-11-27T09:00:00Z'), toMs: Date.parse('2026-11-27T11:00:00Z') });
    const active = await f.app.inject({ url: '/api/alerts', headers: auth });
    assert.deepEqual(active.json<{ id: string }[]>().map((a) => a.id), ['a1']);
  });

  test('unknown pump, alert and episode ids: 404', async () => {
    for (const [method, url] of [
      ['GET', '/api/pumps/NOPE-1'], ['GET', '/api/pumps/NOPE-1/telemetry'], ['POST', '/api/alerts/nope/ack'],
      ['GET', '/api/billing/episodes/nope'], ['GET', '/api/billing/episodes/nope/evidence'], ['PUT', '/api/pumps/NOPE-1/label'],
    ] as const) {
      const res = await f.app.inject({ method, url, headers: auth, ...(method === 'PUT' ? { payload: { label: null } } : {}) });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json<{ error: string }>().error, 'not_found');
    }
  });

  test('an internal failure is a 500 that says nothing about the internals', async () => {
    f.backend.failNext = true;
    const res = await f.app.inject({ url: '/api/pumps', headers: auth });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { error: 'internal', message: 'internal error' });
    assert.doesNotMatch(res.body, /ECONNREFUSED|\.ts|8086/);
  });

  test('episodes CSV: header first, one row per episode, no cell can start a formula', async () => {
    const res = await f.app.inject({ url: '/api/billing/episodes.csv', headers: auth });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/csv/);
    assert.match(res.headers['content-disposition'] as string, /^attachment; filename="pumpwatch-episodes-2026-11-27\.csv"$/);
    const lines = res.body.split('\r\n');
    assert.equal(lines[0], EPISODE_CSV_COLUMNS.join(','));
    assert.ok(lines[1]?.startsWith(`e1,PMP-001,P1,"'=HYPERLINK(""x"")",2026-11-25T08:00:00.000Z,2026-11-27T06:00:00.000Z,`), lines[1]);
    assert.match(lines[1] ?? '', /,S9330,/);
    assert.equal(lines.length, 3);
  });

  test('evidence is NDJSON, one raw sentence per line', async () => {
    const res = await f.app.inject({ url: '/api/billing/episodes/e1/evidence', headers: auth });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^application\/x-ndjson/);
    const rows = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; raw: string });
    assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3]);
    assert.ok(res.body.endsWith('\n'));
  });

  test('the dashboard is served publicly from its folder, and nothing outside it', async () => {
    const index = await f.app.inject({ url: '/' });
    assert.equal(index.statusCode, 200);
    assert.match(index.headers['content-type'] as string, /^text\/html/);
    assert.match(index.body, /<title>pumpwatch/);
    const js = await f.app.inject({ url: '/assets/app.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /^text\/javascript/);
    for (const url of ['/../package.json', '/assets/..%2f..%2fpackage.json', '/%2e%2e/package.json', '/.secret', '/missing.js', '/assets/%00']) {
      const res = await f.app.inject({ url });
      assert.equal(res.statusCode, 404, url);
    }
  });

  test('security headers on pages, API answers and errors', async () => {
    for (const [url, headers] of [['/', {}], ['/api/health', {}], ['/api/pumps', {}], ['/api/pumps', auth], ['/missing', {}]] as const) {
      const res = await f.app.inject({ url, headers });
      assert.match(String(res.headers['content-security-policy']), /default-src 'self'.*script-src 'self'.*frame-ancestors 'none'/, url);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(res.headers['referrer-policy'], 'no-referrer', url);
      if (url.startsWith('/api/')) assert.equal(res.headers['cache-control'], 'no-store', url);
    }
  });

  test('a plain GET /ws asks for an upgrade', async () => {
    const res = await f.app.inject({ url: '/ws', headers: auth });
    assert.equal(res.statusCode, 426);
  });
});
