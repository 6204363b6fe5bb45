import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import {
  attentionRank, compareAlerts, compareBoardKeys, linkStatus, panelAlerts, shouldAnnounce, summarizeAlerts, type BoardKey,
} from '../../../dashboard/src/sort.ts';
import { alert, pump } from './fixtures.ts';

describe('board order', () => {
  test('alarm and high alerts first, then medium or lost link, then paused, running, finished', () => {
    const alerts = [
      alert('a1', { pump: 'HIGH', severity: 'high' }),
      alert('a2', { pump: 'MED', severity: 'medium', type: 'infusion_stopped' }),
      alert('a3', { pump: 'LOW', severity: 'low', type: 'low_battery' }),
      alert('a4', { pump: 'OLD', severity: 'high', acknowledged: true, status: 'cleared', ackedBy: 'x', ackedAt: '2026-11-27T10:01:00Z' }),
      alert('a5', { pump: 'SIG', severity: 'medium', type: 'signal_lost' }),
    ];
    const s = summarizeAlerts(alerts);
    const pumps = [
      pump('RUN1'), pump('END1', { state: 'END' }), pump('PAUSE1', { state: 'PAUSE' }), pump('ALARM1', { state: 'ALARM' }),
      pump('HIGH'), pump('MED'), pump('LOW'), pump('OLD'), pump('GWOFF', { gatewayOnline: false }), pump('SIG'),
    ];
    const keys: BoardKey[] = pumps.map((p) => ({ rank: attentionRank(p, s.get(p.pump)), name: p.pump, pump: p.pump }));
    const order = keys.sort(compareBoardKeys).map((k) => k.pump);
    assert.deepEqual(order, ['ALARM1', 'HIGH', 'GWOFF', 'MED', 'SIG', 'LOW', 'PAUSE1', 'OLD', 'RUN1', 'END1']);
  });

  test('a cleared but unacknowledged alert still counts; a resolved one does not', () => {
    const s = summarizeAlerts([alert('x', { status: 'cleared', clearedAt: '2026-11-27T10:05:00Z' })]);
    assert.equal(s.get('CS7-1')?.worst, 'high');
    assert.equal(s.get('CS7-1')?.unacknowledged, 1);
    const r = summarizeAlerts([alert('x', { status: 'cleared', acknowledged: true, ackedBy: 'a', ackedAt: '2026-11-27T10:06:00Z' })]);
    assert.equal(r.size, 0);
  });

  test('link status: gateway offline beats no signal; never seen is unknown', () => {
    const s = summarizeAlerts([alert('s', { type: 'signal_lost', severity: 'medium' })]);
    assert.equal(linkStatus(pump('CS7-1'), s.get('CS7-1')), 'no_signal');
    assert.equal(linkStatus(pump('CS7-1', { gatewayOnline: false }), s.get('CS7-1')), 'gateway_offline');
    assert.equal(linkStatus(pump('X', { lastSeen: null }), undefined), 'unknown');
    assert.equal(linkStatus(pump('X'), undefined), 'ok');
  });

  test('ties are broken by name then serial, so rows do not jump', () => {
    assert.ok(compareBoardKeys({ rank: 3, name: 'a', pump: 'Z' }, { rank: 3, name: 'b', pump: 'A' }) < 0);
    assert.ok(compareBoardKeys({ rank: 3, name: 'a', pump: 'A' }, { rank: 3, name: 'a', pump: 'B' }) < 0);
    assert.equal(compareBoardKeys({ rank: 3, name: 'a', pump: 'A' }, { rank: 3, name: 'a', pump: 'A' }), 0);
  });
});

describe('alerts panel order', () => {
  test('unacknowledged, escalated, most severe, newest first; resolved last and bounded', () => {
    const list = [
      alert('old-high', { raisedAt: '2026-11-27T09:00:00Z' }),
      alert('new-high', { raisedAt: '2026-11-27T11:00:00Z' }),
      alert('new-low', { severity: 'low', raisedAt: '2026-11-27T11:30:00Z' }),
      alert('esc', { raisedAt: '2026-11-27T08:00:00Z', escalated: true }),
      alert('acked-active', { acknowledged: true, ackedBy: 'a', ackedAt: '2026-11-27T11:40:00Z', raisedAt: '2026-11-27T11:45:00Z' }),
      alert('cleared-unacked', { status: 'cleared', severity: 'medium', clearedAt: '2026-11-27T10:00:00Z' }),
      ...Array.from({ length: 3 }, (_, i) => alert(`resolved-${i}`, {
        status: 'cleared', acknowledged: true, ackedBy: 'b', ackedAt: `2026-11-27T0${i + 1}:00:00Z`, clearedAt: '2026-11-27T05:00:00Z',
      })),
    ];
    const ids = panelAlerts(list, 2).map((a) => a.id);
    assert.deepEqual(ids, ['esc', 'new-high', 'old-high', 'cleared-unacked', 'new-low', 'acked-active', 'resolved-2', 'resolved-1']);
  });

  test('compareAlerts is a consistent order', () => {
    const a = alert('a'), b = alert('b');
    assert.ok(compareAlerts(a, b) < 0);
    assert.ok(compareAlerts(b, a) > 0);
    assert.equal(compareAlerts(a, a), 0);
  });

  test('sound only for a new or newly escalated, open, high alert', () => {
    const a = alert('a');
    assert.equal(shouldAnnounce(undefined, a), true);
    assert.equal(shouldAnnounce(a, a), false);
    assert.equal(shouldAnnounce(a, { ...a, escalated: true }), true);
    assert.equal(shouldAnnounce(undefined, { ...a, severity: 'medium' }), false);
    assert.equal(shouldAnnounce(undefined, { ...a, acknowledged: true }), false);
    assert.equal(shouldAnnounce(undefined, { ...a, status: 'cleared' }), false);
  });
});
