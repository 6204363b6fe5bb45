import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { LiveStore } from '../../../dashboard/src/store.ts';
import { alert, pump } from './fixtures.ts';

describe('LiveStore', () => {
  test('a snapshot replaces everything; pumps gone from it are gone', () => {
    const s = new LiveStore();
    s.apply({ type: 'snapshot', pumps: [pump('A'), pump('B')], alerts: [alert('1')] });
    s.takeChanges();
    s.apply({ type: 'snapshot', pumps: [pump('B')], alerts: [] });
    assert.deepEqual([...s.pumps.keys()], ['B']);
    assert.equal(s.alerts.size, 0);
    assert.equal(s.takeChanges().all, true);
  });

  test('pump and alert messages mark only what changed', () => {
    const s = new LiveStore();
    s.apply({ type: 'snapshot', pumps: [pump('A'), pump('CS7-1')], alerts: [] });
    s.takeChanges();
    s.apply({ type: 'pump', pump: pump('A', { state: 'PAUSE' }) });
    s.apply({ type: 'alert', alert: alert('1') });
    const c = s.takeChanges();
    assert.equal(c.all, false);
    assert.equal(c.alerts, true);
    assert.deepEqual([...c.pumps].sort(), ['A', 'CS7-1']);
    assert.equal(s.hasChanges, false);
  });

  test('age refresh touches each pump exactly once over all slices', () => {
    const s = new LiveStore();
    s.apply({ type: 'snapshot', pumps: ['A', 'B', 'C', 'D', 'E'].map((id) => pump(id)), alerts: [] });
    s.takeChanges();
    const seen: string[] = [];
    for (let part = 0; part < 3; part++) {
      s.touchSlice(part, 3);
      seen.push(...s.takeChanges().pumps);
    }
    assert.deepEqual(seen.sort(), ['A', 'B', 'C', 'D', 'E']);
  });

  test('high alerts are announced once, again when escalated, never from the first snapshot', () => {
    const s = new LiveStore();
    assert.deepEqual(s.apply({ type: 'snapshot', pumps: [], alerts: [alert('old')] }), []);
    assert.equal(s.apply({ type: 'alert', alert: alert('1') }).length, 1);
    assert.equal(s.apply({ type: 'alert', alert: alert('1') }).length, 0);
    assert.equal(s.apply({ type: 'alert', alert: alert('1', { escalated: true }) }).length, 1);
    // an alert raised while disconnected is announced from the resynchronising snapshot
    const again = s.apply({ type: 'snapshot', pumps: [], alerts: [alert('1', { escalated: true }), alert('2')] });
    assert.deepEqual(again.map((a) => a.id), ['2']);
  });

  test('an acknowledgement is never undone by a late, older message', () => {
    const s = new LiveStore();
    s.apply({ type: 'snapshot', pumps: [], alerts: [alert('1')] });
    s.acknowledged(alert('1', { acknowledged: true, ackedBy: 'anna', ackedAt: '2026-11-27T10:01:00Z' }));
    s.apply({ type: 'alert', alert: alert('1') });
    assert.equal(s.alerts.get('1')?.ackedBy, 'anna');
  });

  test("who accepted, and an acknowledgement's note and outcome, are not lost to a message sent before they were saved", () => {
    const s = new LiveStore();
    const acked = { acknowledged: true, ackedBy: 'anna', ackedAt: '2026-11-27T10:05:00Z' };
    s.apply({ type: 'alert', alert: alert('a1', { acceptedBy: 'anna', acceptedAt: '2026-11-27T10:01:00Z' }) });
    // the core's echo of the acknowledgement, then the answer with the note, then a late echo without it
    s.apply({ type: 'alert', alert: alert('a1', { ...acked, acceptedBy: null, acceptedAt: null }) });
    assert.equal(s.alerts.get('a1')!.acceptedBy, 'anna');
    s.apply({ type: 'alert', alert: alert('a1', { ...acked, acceptedBy: 'anna', acceptedAt: '2026-11-27T10:01:00Z', ackNote: 'line kinked', ackOutcome: 'line_unkinked' }) });
    s.apply({ type: 'alert', alert: alert('a1', { ...acked, message: 'later' }) });
    assert.deepEqual((({ message, acceptedBy, acceptedAt, ackNote, ackOutcome }) => ({ message, acceptedBy, acceptedAt, ackNote, ackOutcome }))(s.alerts.get('a1')!), {
      message: 'later', acceptedBy: 'anna', acceptedAt: '2026-11-27T10:01:00Z', ackNote: 'line kinked', ackOutcome: 'line_unkinked',
    });
    // a new acknowledgement (the alert came back and was acknowledged again) has its own note, or none
    s.apply({ type: 'alert', alert: alert('a1', { acknowledged: false }) });
    s.apply({ type: 'alert', alert: alert('a1', { ...acked, ackedAt: '2026-11-27T11:00:00Z' }) });
    assert.equal(s.alerts.get('a1')!.ackNote, undefined);
  });

  test('resolved alerts are kept only as many as the panel shows, and survive a resync', () => {
    const s = new LiveStore();
    s.apply({ type: 'snapshot', pumps: [], alerts: [] });
    for (let i = 0; i < 30; i++) {
      s.apply({ type: 'alert', alert: alert(`r${i}`, {
        status: 'cleared', acknowledged: true, ackedBy: 'a', ackedAt: new Date(Date.UTC(2026, 10, 27, 10, i)).toISOString(),
      }) });
    }
    assert.equal(s.alerts.size, 20);
    assert.ok(s.alerts.has('r29'));
    assert.ok(!s.alerts.has('r0'));
    s.apply({ type: 'snapshot', pumps: [], alerts: [alert('open')] });
    assert.equal(s.alerts.size, 21);
  });
});
