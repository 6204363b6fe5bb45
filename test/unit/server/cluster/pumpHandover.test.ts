import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { PumpHandover, pumpSerialOfTopic } from '../../../../server/cluster/pumpHandover.ts';

const silent = { warn: () => undefined, info: () => undefined };

/** a rebuild the test finishes by hand, and a core that records what it judged and when */
function harness(staleAfterMs: number | null, owns: (s: string) => boolean = () => true) {
  let now = 1_000_000;
  const events: string[] = [];
  const pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const h = new PumpHandover({
    clock: { now: () => now }, log: silent, staleAfterMs, owns,
    rebuild: (serial) => {
      events.push(`rebuild:${serial}`);
      return new Promise<void>((resolve, reject) => pending.set(serial, {
        resolve: () => {
          events.push(`restored:${serial}`);
          resolve();
        },
        reject,
      }));
    },
    accept: (topic, payload) => events.push(`judge:${topic.split('/')[3] ?? topic}:${payload.toString()}`),
    forget: (serial) => events.push(`forget:${serial}`),
  });
  const send = (serial: string, n: number): void => h.accept(`pumpwatch/gw/pumps/${serial}`, Buffer.from(String(n)));
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  return { h, events, pending, send, settle, advance: (ms: number) => { now += ms; } };
}

describe('pump handover', () => {
  test('an unknown pump is rebuilt before any of its sentences is judged; its messages keep their order', async () => {
    const x = harness(null);
    x.h.startedWith([], false);
    x.send('P1', 1);
    x.send('P1', 2);
    x.send('P2', 1);
    x.send('P1', 3);
    assert.deepEqual(x.events, ['rebuild:P1', 'rebuild:P2'], 'nothing judged while loading');
    assert.equal(x.h.loadingPumps, 2);
    x.pending.get('P2')!.resolve();
    await x.settle();
    assert.deepEqual(x.events.slice(2), ['restored:P2', 'judge:P2:1'], 'one pump loading never holds up another');
    x.send('P1', 4);
    x.pending.get('P1')!.resolve();
    await x.settle();
    assert.deepEqual(x.events.slice(4), ['restored:P1', 'judge:P1:1', 'judge:P1:2', 'judge:P1:3', 'judge:P1:4']);
    x.send('P1', 5);
    assert.equal(x.events.at(-1), 'judge:P1:5', 'held now: straight through');
    assert.equal(x.h.rebuilds, 2);
  });

  test('static SHARD after a complete start-up restore: pumps restored are held, new pumps need no read', () => {
    const x = harness(null);
    x.h.startedWith(['P1'], true);
    x.send('P1', 1);
    x.send('NEW', 1);
    assert.deepEqual(x.events, ['judge:P1:1', 'judge:NEW:1']);
    x.advance(86_400_000);
    x.send('P1', 2);
    assert.equal(x.events.at(-1), 'judge:P1:2', 'static ownership never goes stale');
  });

  test('pumps of another shard pass straight to the core (which counts them), never loaded', () => {
    const x = harness(null, (s) => s !== 'OTHER');
    x.h.startedWith([], false);
    x.send('OTHER', 1);
    x.h.accept('pumpwatch/gw/availability', Buffer.from('a'));
    assert.deepEqual(x.events, ['judge:OTHER:1', 'judge:pumpwatch/gw/availability:a']);
  });

  test('shared mode: a pump silent past staleAfterMs is re-read; one announced elsewhere is forgotten', async () => {
    const x = harness(60_000);
    x.h.startedWith(['P1', 'P2'], true);
    x.send('P1', 1);
    assert.equal(x.events.at(-1), 'judge:P1:1');
    x.advance(60_001);
    x.send('P1', 2);
    assert.equal(x.events.at(-1), 'rebuild:P1');
    x.pending.get('P1')!.resolve();
    await x.settle();
    assert.equal(x.events.at(-1), 'judge:P1:2');
    x.h.releasedTo('P2', 'other');
    assert.equal(x.events.at(-1), 'forget:P2');
    x.send('P2', 1);
    assert.equal(x.events.at(-1), 'rebuild:P2', 'coming back means reading what the other instance stored');
    x.h.releasedTo('P2', 'other');
    assert.notEqual(x.events.at(-1), 'forget:P2', 'never forgotten while loading');
  });

  test('static mode ignores announcements: ownership does not move', () => {
    const x = harness(null);
    x.h.startedWith(['P1'], true);
    x.h.releasedTo('P1', 'other');
    assert.deepEqual(x.events, []);
  });

  test('a failed rebuild is counted and the queued messages are still judged', async () => {
    const x = harness(null);
    x.h.startedWith([], false);
    x.send('P1', 1);
    x.pending.get('P1')!.reject(new Error('influx down'));
    await x.settle();
    assert.equal(x.h.rebuildFailures, 1);
    assert.equal(x.events.at(-1), 'judge:P1:1');
  });

  test('stop() waits for rebuilds under way and hands their messages to the core', async () => {
    const x = harness(null);
    x.h.startedWith([], false);
    x.send('P1', 1);
    const stopped = x.h.stop();
    x.pending.get('P1')!.resolve();
    await stopped;
    assert.equal(x.events.at(-1), 'judge:P1:1');
  });

  test('topic parsing', () => {
    assert.equal(pumpSerialOfTopic('pumpwatch/gw/pumps/P9'), 'P9');
    assert.equal(pumpSerialOfTopic('pumpwatch/gw/availability'), null);
    assert.equal(pumpSerialOfTopic('pumpwatch/gw/pumps/'), null);
  });

  test('a full queue pushes out its oldest live message, never one kept for a takeover (those may be what the rebuilt state covers)', async () => {
    const judged: string[] = [];
    let finish = (): void => undefined;
    let dropped = 0;
    const h = new PumpHandover({
      clock: { now: () => 0 }, log: silent, staleAfterMs: null, owns: () => true, maxQueued: 2,
      rebuild: () => new Promise<void>((r) => { finish = r; }),
      accept: (_t, p) => judged.push(p.toString()),
      forget: () => undefined,
      dropped: () => dropped++,
    });
    const topic = 'pumpwatch/gw/pumps/P1';
    for (const k of ['k1', 'k2', 'k3', 'k4']) h.accept(topic, Buffer.from(k), true);
    for (const l of ['l1', 'l2', 'l3']) h.accept(topic, Buffer.from(l));
    finish();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(judged, ['k1', 'k2', 'k3', 'k4', 'l2', 'l3']);
    assert.equal(dropped, 1);
  });
});
