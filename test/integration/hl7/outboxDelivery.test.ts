/**
 * One receiver's outbox against a real MLLP receiver (the hl7-listen listener) on a free port and
 * a real queue on disk: order, exactly once by control id, AE retried, AR and repeated AE parked,
 * a receiver down then back, a restart with a backlog, malformed ACKs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Hl7Listener, type Received } from '../../../server/hl7/listener.ts';
import { MllpReader, writeFrame } from '../../../server/hl7/mllp.ts';
import { Outbox } from '../../../server/hl7/outbox.ts';
import { pcd10 } from '../../../server/hl7/pcdMessages.ts';
import type { PumpView } from '../../../protocol/api.ts';
import { freePort } from '../../helpers/ports.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const view: PumpView = {
  pump: 'PW-1', gateway: 'gw', state: 'RUN', lastSeen: '2026-12-03T19:00:00Z', rateMlH: 2, infusedMl: 1, vtbiMl: 99, reservoirMl: null,
  pressureMmHg: null, batteryPct: 90, alarms: [], programId: 'p', projectedEnd: null, activeAlerts: 0,
};
const message = (id: string): string => pcd10('start', view, { controlId: id, nowMs: Date.now(), patient: null });

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(opts: { listen?: boolean; aeRetries?: number } = {}) {
  const dir: TempDir = tempDir('pumpwatch-hl7-');
  cleanup.push(() => dir.remove());
  const port = await freePort();
  const got: Received[] = [];
  const listener = new Hl7Listener({ port, onMessage: (r) => got.push(r) });
  if (opts.listen !== false) await listener.listen();
  cleanup.push(() => listener.close());
  const make = () => {
    const ob = new Outbox({ receiver: { host: '127.0.0.1', port }, dir: join(dir.path, 'q'), log: silent, retryMinMs: 20, retryMaxMs: 200, aeRetries: opts.aeRetries ?? 5 });
    cleanup.push(() => ob.stop(0));
    return ob;
  };
  return { dir, port, got, listener, make, ids: () => got.map((r) => r.controlId) };
}

describe('Outbox', () => {
  test('sends in order, one at a time, each once, and empties on AA', async () => {
    const s = await setup();
    const ob = s.make();
    ob.start();
    const sent = Array.from({ length: 30 }, (_, i) => `C${i}`);
    for (const id of sent) ob.enqueue(message(id));
    await waitFor(() => ob.sent === 30, 10_000, '30 AA');
    expect(s.ids()).toEqual(sent);
    expect(s.got.every((r) => r.errors.length === 0)).toBe(true);
    expect(ob.health()).toMatchObject({ backlog: 0, connected: true, sent: 30, parked: 0 });
  });

  test('a receiver down for a while, then back, gets everything in order, exactly once', async () => {
    const s = await setup({ listen: false });
    const ob = s.make();
    ob.start();
    for (let i = 0; i < 10; i++) ob.enqueue(message(`D${i}`));
    await waitFor(() => ob.errors >= 3, 10_000, 'connection errors while down');
    expect(ob.health()).toMatchObject({ backlog: 10, connected: false });
    expect(ob.lastError).toMatch(/ECONNREFUSED/);
    await s.listener.listen();
    await waitFor(() => ob.backlog === 0, 10_000, 'backlog delivered');
    expect(s.ids()).toEqual(Array.from({ length: 10 }, (_, i) => `D${i}`));
  });

  test('a backlog survives a restart and is sent by the next outbox on the same folder', async () => {
    const s = await setup({ listen: false });
    const first = s.make();
    first.start();
    for (let i = 0; i < 5; i++) first.enqueue(message(`R${i}`));
    await first.stop(0);
    await s.listener.listen();
    const second = s.make();
    second.start();
    await waitFor(() => second.sent === 5, 10_000, 'backlog after restart');
    expect(s.ids()).toEqual(['R0', 'R1', 'R2', 'R3', 'R4']);
  });

  test('AE is retried with the same control id until AA; the receiver text is kept as the last error', async () => {
    const s = await setup();
    s.listener.answer = 'AE';
    const ob = s.make();
    ob.start();
    ob.enqueue(message('E0'));
    ob.enqueue(message('E1'));
    await waitFor(() => s.got.length >= 2, 10_000, 'two AE');
    s.listener.answer = null;
    await waitFor(() => ob.sent === 2, 10_000, 'AA after AE');
    expect(s.ids().filter((id) => id === 'E0').length).toBeGreaterThanOrEqual(3);
    expect(s.ids().slice(-1)).toEqual(['E1']);
    expect(s.ids().filter((id) => id === 'E1').length).toBe(1);
    expect(ob.lastError).toMatch(/^AE: answering AE as told/);
    expect(ob.parked).toBe(0);
  });

  test('AR is parked at once, AE past the retries is parked; both in the dead-letter folder, the queue moves on', async () => {
    const s = await setup({ aeRetries: 1 });
    s.listener.answer = 'AR';
    const ob = s.make();
    ob.start();
    ob.enqueue(message('X0'));
    await waitFor(() => ob.parked === 1, 10_000, 'AR parked');
    s.listener.answer = 'AE';
    ob.enqueue(message('X1'));
    await waitFor(() => ob.parked === 2, 10_000, 'AE parked');
    s.listener.answer = null;
    ob.enqueue(message('X2'));
    await waitFor(() => ob.sent === 1, 10_000, 'next delivered');
    expect(s.ids().filter((id) => id === 'X0')).toEqual(['X0']);
    expect(s.ids().filter((id) => id === 'X1')).toEqual(['X1', 'X1']);
    const dead = join(s.dir.path, 'q', 'dead-letter');
    const files = readdirSync(dead).sort();
    expect(files.filter((f) => f.endsWith('.hl7')).length).toBe(2);
    const reason = files.find((f) => f.includes('X0') && f.endsWith('.reason.txt')) as string;
    expect(readFileSync(join(dead, reason), 'utf8')).toMatch(/^AR /);
    expect(ob.backlog).toBe(0);
  });

  test('a malformed ACK drops the connection and the message is sent again', async () => {
    const port = await freePort();
    const dir = tempDir('pumpwatch-hl7-');
    cleanup.push(() => dir.remove());
    const ids: string[] = [];
    let answers = 0;
    const server: Server = createServer((socket) => {
      const reader = new MllpReader();
      socket.on('data', (chunk: Buffer) => {
        for (const text of reader.push(chunk)) {
          const id = /^MSH(?:\|[^|]*){8}\|([^|]*)/.exec(text)?.[1] ?? '';
          ids.push(id);
          writeFrame(socket, answers++ === 0 ? 'this is not HL7' : `MSH|^~\\&|R||||20260101||ACK|A${id}|P|2.6\rMSA|AA|${id}`);
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const ob = new Outbox({ receiver: { host: '127.0.0.1', port }, dir: join(dir.path, 'q'), log: silent, retryMinMs: 20, retryMaxMs: 100 });
    cleanup.push(() => ob.stop(0));
    ob.start();
    ob.enqueue(message('M0'));
    await waitFor(() => ob.sent === 1, 10_000, 'AA after a malformed ACK');
    expect(ids).toEqual(['M0', 'M0']);
    expect(ob.errors).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(dir.path, 'q', 'dead-letter'))).toBe(false);
  });
});
