/** The HTTP layer over real TLS: Secure cookie, HSTS, wss:// with the session cookie, no plain HTTP. */
import { execFileSync } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { describe, test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { writeUsersFile } from '../../../server/auth/usersFile.ts';
import { tlsFiles } from '../../../server/http/options.ts';
import { registerHttp, type HttpLayer } from '../../../server/http/registerHttp.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';
import { FakeBackend } from '../../unit/server/http/fakeBackend.ts';
import { PASSWORDS, usersContent } from '../../unit/server/http/appFixture.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('HTTPS', () => {
  let dir: TempDir;
  let app: FastifyInstance;
  let http: HttpLayer;
  let port = 0;
  let ca: Buffer;

  const call = (method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, method, path, headers, ca }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => { text += d.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  beforeAll(async () => {
    dir = tempDir('pumpwatch-tls-');
    const cert = join(dir.path, 'cert.pem');
    const key = join(dir.path, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const tls = tlsFiles(cert, key);
    ca = tls.cert;
    const usersFile = join(dir.path, 'users.json');
    writeUsersFile(usersFile, await usersContent({ alice: ['nurse', PASSWORDS.alice] }));
    app = Fastify({ https: tls });
    http = await registerHttp(app, new FakeBackend(), { tokens: [], usersFile, https: true });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    port = typeof addr === 'object' && addr ? addr.port : 0;
  });
  afterAll(async () => {
    await http.stop();
    await app.close();
    dir.remove();
  });

  test('login over TLS sets a Secure cookie and HSTS; the cookie opens wss:// with our Origin', async () => {
    const origin = `https://127.0.0.1:${port}`;
    const res = await call('POST', '/api/session', { 'content-type': 'application/json', origin }, JSON.stringify({ username: 'alice', password: PASSWORDS.alice }));
    assert.equal(res.status, 200, res.body);
    const setCookie = String(res.headers['set-cookie']);
    assert.match(setCookie, /; Secure/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(String(res.headers['strict-transport-security']), /max-age=31536000/);
    const cookie = setCookie.split(';')[0] ?? '';
    const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { headers: { cookie, origin }, ca });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d: Buffer) => resolve(d.toString()));
      ws.once('error', reject);
      ws.once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
    });
    assert.equal((JSON.parse(first) as { type: string }).type, 'snapshot');
    ws.terminate();
    // an http:// page may not use the https session
    const wrong = await call('POST', '/api/session', { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` }, JSON.stringify({ username: 'alice', password: PASSWORDS.alice }));
    assert.equal(wrong.status, 403);
  });

  test('a plain-HTTP request to the TLS listener gets no answer', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/health' }, (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      req.setTimeout(5000, () => { req.destroy(new Error('timeout')); });
      req.end();
    });
    assert.match(outcome, /^error|^answered 400$/);
    assert.doesNotMatch(outcome, /answered 200/);
  });
});
