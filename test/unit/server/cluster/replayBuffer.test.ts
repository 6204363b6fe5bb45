import { test } from 'vitest';
import assert from 'node:assert/strict';
import { ReplayBuffer } from '../../../../server/cluster/replayBuffer.ts';

const b = (s: string): Buffer => Buffer.from(s);

test('messages of the partitions taken come back once, in arrival order across partitions', () => {
  const r = new ReplayBuffer({ windowMs: 10_000, maxMessages: 100 });
  r.add(1, 't/a', b('1'), 0);
  r.add(2, 't/b', b('2'), 1);
  r.add(3, 't/c', b('3'), 2);
  r.add(1, 't/a', b('4'), 3);
  assert.deepEqual(r.take([2, 1], 5).map((m) => m.payload.toString()), ['1', '2', '4']);
  assert.deepEqual(r.take([1, 2], 5), []);
  assert.equal(r.size, 1);
});

test('what is older than the window is dropped, on add, on take and by prune', () => {
  const r = new ReplayBuffer({ windowMs: 1000, maxMessages: 100 });
  r.add(1, 't', b('old'), 0);
  r.add(2, 't', b('old2'), 0);
  r.add(1, 't', b('new'), 1500);
  assert.equal(r.size, 2);
  r.prune(1500);
  assert.equal(r.size, 1);
  assert.deepEqual(r.take([1], 2000).map((m) => m.payload.toString()), ['new']);
  r.add(4, 't', b('x'), 0);
  assert.deepEqual(r.take([4], 5000), []);
});

test('beyond maxMessages the oldest of the partition is dropped and counted', () => {
  const r = new ReplayBuffer({ windowMs: 10_000, maxMessages: 2 });
  r.add(1, 't', b('1'), 0);
  r.add(1, 't', b('2'), 1);
  r.add(1, 't', b('3'), 2);
  assert.equal(r.dropped, 1);
  assert.deepEqual(r.take([1], 3).map((m) => m.payload.toString()), ['2', '3']);
});
