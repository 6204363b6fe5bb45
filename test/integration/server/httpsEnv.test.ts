import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { ensureDevCerts } from '../../../scripts/devCerts.ts';
import { startStack, TOKEN, type ServerStack } from './serverStack.ts';

/** `npm run server` with HTTPS_CERT_FILE/HTTPS_KEY_FILE serves HTTPS only, with HSTS. */
let stack: ServerStack;
let ca: Buffer;

beforeAll(async () => {
  stack = await startStack();
  const certs = ensureDevCerts(`${stack.dir.path}/certs`);
  ca = readFileSync(certs.caFile);
  await stack.startServer({ HTTPS_CERT_FILE: certs.brokerCertFile, HTTPS_KEY_FILE: certs.brokerKeyFile });
});

afterAll(async () => {
  await stack?.dispose();
});

function get(path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: stack.port, path, ca, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the API answers over TLS with the configured certificate and sends HSTS', async () => {
  const health = await get('/api/health');
  assert.equal(health.status, 200);
  assert.match(String(health.headers['strict-transport-security']), /max-age=\d+/);
  const pumps = await get('/api/pumps');
  assert.equal(pumps.status, 200);
  assert.deepEqual(JSON.parse(pumps.body), []);
});

test('plain HTTP to the HTTPS port gets no API answer', async () => {
  const res = await fetch(`http://127.0.0.1:${stack.port}/api/health`).then((r) => r.status, () => 'refused');
  assert.notEqual(res, 200);
});
