import { EventEmitter } from 'node:events';
import { test, vi } from 'vitest';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import type { LiveChange, LiveSnapshot } from '../../../../server/http/backend.ts';
import { LiveHub, type LiveSource } from '../../../../server/live/hub.ts';

class FakeWs extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  pings = 0;
  terminated = false;
  send(data: Buffer | string): void {
    this.sent.push(String(data));
  }
  ping(): void {
    this.pings++;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
    this.emit('close');
  }
  close(): void {
    this.terminate();
  }
}

class Source implements LiveSource {
  listener: ((c: readonly LiveChange[]) => void) | undefined;
  resolveSnapshot: ((s: LiveSnapshot) => void) | undefined;
  rejectSnapshot: ((e: Error) => void) | undefined;
  snapshot(): Promise<LiveSnapshot> {
    return new Promise((resolve, reject) => { this.resolveSnapshot = resolve; this.rejectSnapshot = reject; });
  }
  subscribe(listener: (c: readonly LiveChange[]) => void): () => void {
    this.listener = listener;
    return () => { this.listener = undefined; };
  }
}

const change = (n: number): LiveChange => ({ type: 'pump', pump: { pump: `P-${n}` } as never });
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

test('snapshot first, then queued and live changes in order; the same bytes go to every client', async () => {
  const src = new Source();
  const hub = new LiveHub(src, { maxBufferedBytes: 1000, pingMs: 1000 });
  hub.start();
  const a = new FakeWs();
  hub.add(a as unknown as WebSocket);
  src.listener?.([change(1)]);
  assert.deepEqual(a.sent, [], 'nothing before the snapshot');
  src.resolveSnapshot?.({ pumps: [], alerts: [] });
  await flush();
  src.listener?.([change(2)]);
  assert.deepEqual(a.sent.map((s) => JSON.parse(s) as { type: string }).map((m) => m.type), ['snapshot', 'pump', 'pump']);
  assert.equal((JSON.parse(a.sent[1] ?? '') as { pump: { pump: string } }).pump.pump, 'P-1');
  await hub.stop();
  assert.equal(src.listener, undefined, 'unsubscribed on stop');
  assert.equal(a.terminated, true);
});

test('a client over the buffer limit is dropped and the others still get the message', async () => {
  const src = new Source();
  const hub = new LiveHub(src, { maxBufferedBytes: 1000, pingMs: 1000 });
  hub.start();
  const slow = new FakeWs();
  const fast = new FakeWs();
  hub.add(slow as unknown as WebSocket);
  src.resolveSnapshot?.({ pumps: [], alerts: [] });
  hub.add(fast as unknown as WebSocket);
  src.resolveSnapshot?.({ pumps: [], alerts: [] });
  await flush();
  slow.bufferedAmount = 1001;
  src.listener?.([change(1)]);
  assert.equal(slow.terminated, true);
  assert.equal(fast.sent.length, 2);
  assert.equal(hub.stats().dropped.slow, 1);
  assert.equal(hub.clientCount(), 1);
  await hub.stop();
});

test('a client waiting for its snapshot with too many queued changes is dropped; a failed snapshot drops it', async () => {
  const src = new Source();
  const hub = new LiveHub(src, { maxBufferedBytes: 1000, pingMs: 1000, maxPendingMessages: 5 });
  hub.start();
  const a = new FakeWs();
  hub.add(a as unknown as WebSocket);
  src.listener?.([change(1), change(2), change(3), change(4), change(5), change(6)]);
  assert.equal(a.terminated, true);
  const b = new FakeWs();
  hub.add(b as unknown as WebSocket);
  src.rejectSnapshot?.(new Error('storage down'));
  await flush();
  assert.equal(b.terminated, true);
  assert.deepEqual(hub.stats().dropped, { slow: 1, dead: 0, snapshot_failed: 1, server_stop: 0 });
  await hub.stop();
});

test('a client that misses a pong is dropped at the next ping; one that answers stays', async () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  try {
    const src = new Source();
    const hub = new LiveHub(src, { maxBufferedBytes: 1000, pingMs: 1000 });
    hub.start();
    const live = new FakeWs();
    const dead = new FakeWs();
    hub.add(live as unknown as WebSocket);
    hub.add(dead as unknown as WebSocket);
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(1000);
      live.emit('pong');
    }
    assert.equal(dead.terminated, true);
    assert.equal(live.terminated, false);
    assert.equal(live.pings, 3);
    assert.equal(dead.pings, 1);
    assert.equal(hub.stats().dropped.dead, 1);
    vi.useRealTimers();
    await hub.stop();
  } finally {
    vi.useRealTimers();
  }
});
