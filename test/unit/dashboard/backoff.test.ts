import { test } from 'vitest';
import assert from 'node:assert/strict';
import { reconnectDelayMs } from '../../../dashboard/src/backoff.ts';

test('reconnect delay grows exponentially, is capped, and jitters within half of the step', () => {
  assert.equal(reconnectDelayMs(0, 1), 500);
  assert.equal(reconnectDelayMs(0, 0), 250);
  assert.equal(reconnectDelayMs(3, 1), 4000);
  assert.equal(reconnectDelayMs(10, 1), 10_000);
  assert.equal(reconnectDelayMs(1000, 0.999), 9995);
  for (let a = 0; a < 50; a++) {
    const d = reconnectDelayMs(a, Math.random());
    assert.ok(d >= 250 && d <= 10_000, `attempt ${a}: ${d}`);
  }
});
