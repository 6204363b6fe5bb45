/** /ws over real sockets: credentials and Origin, snapshot then pushes, slow and dead clients, fan-out rate. */
import { spawn } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { describe, test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { ServerMessage } from '../../../protocol/api.ts';
import type { LiveChange } from '../../../server/http/backend.ts';
import { waitFor } from '../../helpers/wait.ts';
import { alertOf, pumpView } from '../../unit/server/http/fakeBackend.ts';
import { makeFixture, TOKEN, type Fixture } from '../../unit/server/http/appFixture.ts';

interface Opened {
  ws: WebSocket;
  messages: ServerMessage[];
}

/** `countOnly`: keep only the first message parsed (the rate test measures the server, not JSON.parse) */
function open(url: string, headers: Record<string, string>, opts: WebSocket.ClientOptions = {}, countOnly = false): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ...opts });
    const messages: ServerMessage[] = [];
    ws.on('message', (data) => {
      if (countOnly && messages.length > 0) messages.push(messages[0] as ServerMessage);
      else messages.push(JSON.parse((data as Buffer).toString('utf8')) as ServerMessage);
    });
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function closeAll(list: Opened[]): Promise<void[]> {
  return Promise.all(list.map((o) => new Promise<void>((resolve) => {
    if (o.ws.readyState === WebSocket.CLOSED) return resolve();
    o.ws.once('close', () => resolve());
    o.ws.terminate();
  })));
}

describe('/ws', () => {
  let f: Fixture;
  let base: string;
  let origin: string;
  const bearer = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    // pings rare here, so a slow client is dropped as slow, never as dead; the ping test has its own instance
    f = await makeFixture({ wsMaxBufferedBytes: 256 * 1024, wsPingMs: 600_000 });
    await f.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = f.app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    base = `ws://127.0.0.1:${port}/ws`;
    origin = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => { await f.close(); });

  test('refuses anonymous, wrong-path, cross-origin, origin-less cookie and billing upgrades', async () => {
    const nurse = await f.login('alice');
    const billing = await f.login('bob');
    await assert.rejects(open(base, {}), /HTTP 401/);
    await assert.rejects(open(base, { authorization: 'Bearer nope' }), /HTTP 401/);
    await assert.rejects(open(base.replace('/ws', '/other'), bearer), /HTTP 404/);
    await assert.rejects(open(base, { cookie: nurse.cookie }), /HTTP 403/, 'cookie without Origin');
    await assert.rejects(open(base, { cookie: nurse.cookie, origin: 'http://evil.example' }), /HTTP 403/);
    await assert.rejects(open(base, { ...bearer, origin: 'http://evil.example' }), /HTTP 403/);
    await assert.rejects(open(base, { cookie: billing.cookie, origin }), /HTTP 403/);
    const ok = await open(base, { cookie: nurse.cookie, origin });
    const tok = await open(base, bearer);
    await closeAll([ok, tok]);
  });

  test('snapshot first on every connect, then one message per alert and pump change', async () => {
    const c = await open(base, bearer);
    await waitFor(() => c.messages.length >= 1, 5000, 'snapshot');
    const first = c.messages[0];
    assert.equal(first?.type, 'snapshot');
    assert.deepEqual(first.type === 'snapshot' && first.pumps.map((p) => p.pump), ['PMP-001', 'PMP-002']);
    const changes: LiveChange[] = [
      { type: 'alert', alert: alertOf('a9', { acknowledged: true, ackedBy: 'alice' }) },
      { type: 'pump', pump: pumpView('PMP-003', { state: 'ALARM' }) },
    ];
    f.backend.emit(changes);
    await waitFor(() => c.messages.length >= 3, 5000, 'pushes');
    assert.deepEqual(c.messages.slice(1), changes);
    await closeAll([c]);
    const again = await open(base, bearer);
    await waitFor(() => again.messages.length >= 1, 5000, 'snapshot on reconnect');
    assert.equal(again.messages[0]?.type, 'snapshot');
    await closeAll([again]);
  });

  test('a change made while the snapshot is being read arrives after it, not lost', async () => {
    let release = (): void => undefined;
    f.backend.snapshotGate = new Promise((resolve) => { release = resolve; });
    const c = await open(base, bearer);
    await waitFor(() => f.http.hub.clientCount() >= 1, 5000, 'client registered');
    f.backend.emit([{ type: 'alert', alert: alertOf('during') }]);
    release();
    f.backend.snapshotGate = undefined;
    await waitFor(() => c.messages.length >= 2, 5000, 'snapshot and queued change');
    assert.deepEqual(c.messages.map((m) => m.type), ['snapshot', 'alert']);
    await closeAll([c]);
  });

  test('a client that stops reading is dropped; the others get every message', async () => {
    const droppedBefore = f.http.hub.stats().dropped.slow;
    // a raw socket that completes the handshake and then never reads
    const port = Number(new URL(base).port);
    const slow: Socket = netConnect(port, '127.0.0.1');
    slow.on('error', () => undefined);
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    slow.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    await new Promise<void>((resolve) => slow.once('data', () => resolve()));
    slow.pause();
    const slowClosed = new Promise<void>((resolve) => slow.once('close', () => resolve()));
    const fast = await open(base, bearer);
    await waitFor(() => fast.messages.length >= 1, 5000, 'snapshot');
    const big = 'x'.repeat(8000);
    const batches = 400;
    for (let b = 0; b < batches; b++) {
      f.backend.emit(Array.from({ length: 10 }, (_, i) => ({ type: 'alert' as const, alert: alertOf(`big-${b}-${i}`, { detail: { pad: big } }) })));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => fast.messages.length >= 1 + batches * 10, 60_000, 'all messages at the fast client');
    assert.equal(f.http.hub.stats().dropped.slow, droppedBefore + 1);
    // reading again, the slow client finds its connection closed by the server
    slow.resume();
    await slowClosed;
    assert.equal(fast.ws.readyState, WebSocket.OPEN);
    await closeAll([fast]);
    slow.destroy();
  });

  test('a client that stops answering pings is dropped; a live one stays', async () => {
    const g = await makeFixture({ wsPingMs: 300 });
    try {
      await g.app.listen({ port: 0, host: '127.0.0.1' });
      const addr = g.app.server.address();
      const url = `ws://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/ws`;
      const live = await open(url, bearer);
      const dead = await open(url, bearer, { autoPong: false });
      await new Promise<void>((resolve) => dead.ws.once('close', () => resolve()));
      assert.equal(g.http.hub.stats().dropped.dead, 1);
      // a fixed wait on purpose: two more ping rounds prove the answering client is not dropped
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(live.ws.readyState, WebSocket.OPEN, 'the answering client is kept');
      await closeAll([live]);
    } finally {
      await g.close();
    }
  });

  test('fans out well over 1,000 changes/s to 20 clients in another process, each message serialized once', async () => {
    // the dashboards live elsewhere: the clients run in their own process and only count frames
    const clientScript = `
      import WebSocket from 'ws';
      const [url, token, n, total] = process.argv.slice(1);
      const counts = [];
      let ready = 0, done = 0;
      for (let i = 0; i < Number(n); i++) {
        const ws = new WebSocket(url, { headers: { authorization: 'Bearer ' + token } });
        counts.push(0);
        ws.on('message', () => {
          counts[i]++;
          if (counts[i] === 1 && ++ready === Number(n)) console.log('ready');
          if (counts[i] === Number(total) + 1 && ++done === Number(n)) { console.log('done'); process.exit(0); }
        });
      }`;
    const total = 10_000;
    const clientsN = 20;
    const child = spawn(process.execPath, ['--input-type=module', '-e', clientScript, base, TOKEN, String(clientsN), String(total)], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const lines = createInterface({ input: child.stdout });
      const next = (what: string): Promise<void> => new Promise((resolve, reject) => {
        const onLine = (l: string): void => { if (l === what) { lines.off('line', onLine); resolve(); } };
        lines.on('line', onLine);
        child.once('exit', (code) => reject(new Error(`client process exited ${code} before ${what}`)));
      });
      await next('ready');
      const slowBefore = f.http.hub.stats().dropped.slow;
      let stringified = 0;
      const perBatch = 50;
      const finished = next('done');
      const started = performance.now();
      for (let b = 0; b < total / perBatch; b++) {
        const batch = Array.from({ length: perBatch }, (_, i) => {
          const change = { type: 'pump' as const, pump: pumpView(`PMP-${(b * perBatch + i) % 500}`, { infusedMl: b }) };
          return { ...change, toJSON() { stringified++; return change; } };
        });
        f.backend.emit(batch);
        await new Promise((r) => setImmediate(r));
      }
      await finished;
      const seconds = (performance.now() - started) / 1000;
      const rate = total / seconds;
      process.stdout.write(`# /ws fan-out: ${total} changes to ${clientsN} clients in ${seconds.toFixed(2)} s = ${Math.round(rate)} changes/s (${Math.round(rate * clientsN)} messages/s)\n`);
      assert.equal(stringified, total, 'one serialization per change, not per client');
      assert.equal(f.http.hub.stats().dropped.slow, slowBefore, 'no client dropped');
      assert.ok(rate >= 1000, `${Math.round(rate)} changes/s`);
    } finally {
      child.kill();
    }
  });
});
