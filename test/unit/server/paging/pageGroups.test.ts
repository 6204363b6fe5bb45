/** No storm: one message per person per window; a burst and a flapping alert are grouped. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { PageGroups } from '../../../../server/paging/pageGroups.ts';

describe('page groups', () => {
  test('the first page goes at once; the next ones within the window leave together when it is over', () => {
    const g = new PageGroups<string>(60_000);
    assert.deepEqual(g.offer('ana', 'a1', 0), ['a1']);
    assert.equal(g.offer('ana', 'a2', 1000), null);
    assert.equal(g.offer('ana', 'a3', 2000), null);
    assert.deepEqual(g.offer('ben', 'a2', 2000), ['a2'], 'another person is not held back');
    assert.equal(g.held, 2);
    assert.deepEqual(g.due(59_999), []);
    assert.deepEqual(g.due(60_000), [{ person: 'ana', items: ['a2', 'a3'] }]);
    assert.equal(g.offer('ana', 'a4', 70_000), null, 'the group just sent starts a new window');
    assert.deepEqual(g.due(120_000), [{ person: 'ana', items: ['a4'] }]);
    assert.deepEqual(g.offer('ana', 'a5', 180_000), ['a5'], 'after a quiet window: at once again');
  });

  test('a flapping alert paged every few seconds is one message per minute', () => {
    const g = new PageGroups<number>(60_000);
    let messages = 0;
    for (let t = 0; t < 300_000; t += 5000) {
      if (g.offer('ana', t, t)) messages++;
      messages += g.due(t).length;
    }
    assert.ok(messages <= 5, `${messages} messages in 5 minutes`);
  });

  test('a window of 0 never holds', () => {
    const g = new PageGroups<string>(0);
    assert.deepEqual(g.offer('ana', 'a1', 0), ['a1']);
    assert.deepEqual(g.offer('ana', 'a2', 0), ['a2']);
  });
});
