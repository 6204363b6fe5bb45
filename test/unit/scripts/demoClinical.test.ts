/**
 * The demo's seed as an HTTP client, against a loopback stand-in that answers like the server's
 * §6 routes (the real server is exercised by test/e2e/demo.test.ts): the login's cookie and CSRF
 * token on every change, ids carried from patient to order to assignment, 503
 * clinical_records_off as "off", any other refusal as an error naming it.
 */
import { afterEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { demoClinicalRecords } from '../../../scripts/demo/clinicalRecords.ts';
import { DEMO_HOMES } from '../../../scripts/demo/homes.ts';
import { SeedError, seedDemoClinical } from '../../../scripts/demoClinical.ts';

type Handler = (path: string, body: Record<string, unknown>, req: IncomingMessage) => [number, unknown];

let server: Server | null = null;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = null;
});

async function stand(handler: Handler): Promise<string> {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c: Buffer) => { text += c.toString(); });
    req.on('end', () => {
      const [status, body] = handler(req.url ?? '', JSON.parse(text || '{}') as Record<string, unknown>, req);
      if (req.url === '/api/session' && status === 200) res.setHeader('set-cookie', 'pumpwatch_session=s3cret; Path=/; HttpOnly');
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server?.address() as AddressInfo).port}`;
}

const records = demoClinicalRecords(DEMO_HOMES, Date.parse('2026-12-04T10:00:00Z'));
const login: Handler = (_p, body) => [body.username === 'pharmacist' && body.password === 'pw' ? 200 : 401, { username: 'pharmacist', role: 'pharmacist', csrfToken: 'tok' }];

test('logs in, then creates each patient, its order and (but for the unassigned home) its assignment with the cookie and CSRF token', async () => {
  let next = 1;
  const seen: string[] = [];
  const base = await stand((path, body, req) => {
    if (path === '/api/session') return login(path, body, req);
    assert.equal(req.headers.cookie, 'pumpwatch_session=s3cret');
    assert.equal(req.headers['x-csrf-token'], 'tok');
    assert.equal(req.headers.origin, base);
    seen.push(path);
    const id = String(next++);
    if (path === '/api/patients') return [201, { id, ...body }];
    if (path === '/api/orders') return [201, { id, ...body }];
    return [201, { id, ...body, patientId: 'x', to: null }];
  });
  const r = await seedDemoClinical({ baseUrl: base, username: 'pharmacist', password: 'pw', records });
  assert.equal(r.kind, 'seeded');
  if (r.kind !== 'seeded') return;
  assert.equal(r.patients.length, 7);
  assert.equal(r.orders.length, 7);
  assert.deepEqual(r.assignments.map((a) => a.pump), DEMO_HOMES.filter((h) => h.gatewayId !== 'home-7').map((h) => h.serial));
  // each order names the patient just created, each assignment the order just created
  for (const [i, o] of r.orders.entries()) assert.equal(o.patientId, r.patients[i]?.id);
  assert.equal(r.assignments[0]?.orderId, r.orders[0]?.id);
  assert.deepEqual(seen.slice(0, 3), ['/api/patients', '/api/orders', '/api/assignments']);
});

test('503 clinical_records_off: the seed is off, not an error', async () => {
  const base = await stand((path, body, req) => (path === '/api/session' ? login(path, body, req) : [503, { error: 'clinical_records_off', message: 'no database' }]));
  assert.deepEqual(await seedDemoClinical({ baseUrl: base, username: 'pharmacist', password: 'pw', records }), { kind: 'off' });
});

test('any other refusal stops the seed with its status and code; a bad login says so', async () => {
  const base = await stand((path, body, req) => (path === '/api/session' ? login(path, body, req) : [409, { error: 'duplicate_mrn', message: 'mrn exists' }]));
  await assert.rejects(seedDemoClinical({ baseUrl: base, username: 'pharmacist', password: 'pw', records }),
    (e: unknown) => e instanceof SeedError && e.status === 409 && e.code === 'duplicate_mrn' && /POST \/api\/patients/.test(e.message));
  await assert.rejects(seedDemoClinical({ baseUrl: base, username: 'pharmacist', password: 'wrong', records }),
    (e: unknown) => e instanceof SeedError && e.status === 401 && /could not log in as pharmacist/.test(e.message));
});

test('a record the API would refuse is refused before anything is sent, naming the field', async () => {
  let posts = 0;
  const base = await stand((path, body, req) => { if (path !== '/api/session') posts++; return login(path, body, req); });
  const bad = [{ ...records[0]!, patient: { ...records[0]!.patient, mrn: '' } }];
  await assert.rejects(seedDemoClinical({ baseUrl: base, username: 'pharmacist', password: 'pw', records: bad }),
    (e: unknown) => e instanceof SeedError && e.status === 400 && /home-1 patient: mrn /.test(e.message));
  assert.equal(posts, 0);
});
