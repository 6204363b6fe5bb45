/** DATABASE_URL unset: the server runs as before; the clinical routes say the records are off, health says the database is off. */
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import type { PumpView } from '../../../protocol/api.ts';
import { ClinicalServerStack } from './clinicalServer.ts';

const stack = new ClinicalServerStack(false);

beforeAll(async () => {
  await stack.start();
}, 120_000);

afterAll(async () => {
  await stack.dispose();
});

test('every clinical route answers 503 clinical_records_off to a role that may call it, 403 to one that may not', async () => {
  const pharmacist = await stack.login('pharmacist');
  const billing = await stack.login('billing');
  const calls: [string, string, unknown?][] = [
    ['POST', '/api/patients', { mrn: 'M1', name: 'A' }], ['GET', '/api/patients'], ['GET', '/api/patients/1'], ['PATCH', '/api/patients/1', { name: 'B' }],
    ['POST', '/api/orders', {}], ['GET', '/api/orders'], ['GET', '/api/orders/1'], ['POST', '/api/orders/1/discontinue'],
    ['POST', '/api/assignments', {}], ['POST', '/api/assignments/1/end'], ['GET', '/api/assignments'],
    ['GET', '/api/drug-limits'], ['PUT', '/api/drug-limits', { limits: [] }],
  ];
  for (const [method, path, body] of calls) {
    const r = await pharmacist.call<{ error: string }>(method, path, body);
    expect([method, path, r.status, r.body.error]).toEqual([method, path, 503, 'clinical_records_off']);
  }
  expect((await billing.call('POST', '/api/patients', { mrn: 'M1', name: 'A' })).status).toBe(403);
});

test('health says the database is off and stays ok; pumps carry no patient or order', async () => {
  const health = (await stack.anonymous().call<Record<string, unknown>>('GET', '/api/health')).body;
  expect(health).toMatchObject({ status: 'ok', database: 'off' });
  await stack.send('OFF-001', { type: 'event', code: 'POWER_ON', detail: '4.2.1' });
  const pump = await vi.waitFor(async () => {
    const p = (await stack.token().ok<PumpView[]>('GET', '/api/pumps')).find((x) => x.pump === 'OFF-001');
    expect(p).toBeDefined();
    return p as PumpView;
  }, { timeout: 10_000 });
  expect('patient' in pump || 'order' in pump).toBe(false);
});
