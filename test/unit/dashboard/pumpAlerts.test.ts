import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { mergeAlerts } from '../../../dashboard/src/pumpAlerts.ts';
import { alert } from './fixtures.ts';

describe("the pump detail's alerts", () => {
  test('stored and live merged by id (live is newer), newest raised first, bounded', () => {
    const stored = [alert('a', { raisedAt: '2026-11-27T01:00:00Z' }), alert('b', { raisedAt: '2026-11-27T03:00:00Z', message: 'stored' })];
    const live = [alert('b', { raisedAt: '2026-11-27T03:00:00Z', message: 'live', acknowledged: true }), alert('c', { raisedAt: '2026-11-27T02:00:00Z' })];
    const merged = mergeAlerts(stored, live);
    assert.deepEqual(merged.map((a) => a.id), ['b', 'c', 'a']);
    assert.equal(merged[0]!.message, 'live');
    assert.deepEqual(mergeAlerts(stored, live, 2).map((a) => a.id), ['b', 'c']);
  });
});
