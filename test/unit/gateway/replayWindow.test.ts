/** Which lines the gateway flags as a pump's answer to ?HIST. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { ReplayWindows } from '../../../gateway/replayWindow.ts';

test('no request: nothing is a replay', () => {
  const w = new ReplayWindows();
  assert.equal(w.isReplay('/dev/a', 1000), false);
});

test('the burst answering a request is a replay; the first line after a pause is live again', () => {
  const w = new ReplayWindows({ firstLineMs: 2000, burstGapMs: 500 });
  w.requested('/dev/a', 10_000);
  assert.equal(w.isReplay('/dev/a', 10_300), true, 'first line of the answer');
  for (let t = 10_310; t < 10_400; t += 10) assert.equal(w.isReplay('/dev/a', t), true, 'lines back to back');
  assert.equal(w.isReplay('/dev/a', 11_000), false, 'after a 600 ms pause: the pump carries on live');
  assert.equal(w.isReplay('/dev/a', 11_010), false, 'and stays live');
});

test('a request with nothing to replay does not flag a live line long after it', () => {
  const w = new ReplayWindows({ firstLineMs: 2000, burstGapMs: 500 });
  w.requested('/dev/a', 0);
  assert.equal(w.isReplay('/dev/a', 30_000), false);
});

test('each port has its own answer', () => {
  const w = new ReplayWindows();
  w.requested('/dev/a', 0);
  assert.equal(w.isReplay('/dev/b', 100), false);
  assert.equal(w.isReplay('/dev/a', 100), true);
});

test('a second request while an answer streams in keeps it going', () => {
  const w = new ReplayWindows({ firstLineMs: 2000, burstGapMs: 500 });
  w.requested('/dev/a', 0);
  assert.equal(w.isReplay('/dev/a', 100), true);
  w.requested('/dev/a', 550);
  assert.equal(w.isReplay('/dev/a', 1000), true, '450 ms after the second request');
});
