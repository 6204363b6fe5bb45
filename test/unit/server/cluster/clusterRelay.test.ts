import { describe, test, vi } from 'vitest';
import assert from 'node:assert/strict';
import type { Alert, PumpView } from '../../../../protocol/api.ts';
import { ClusterRelay } from '../../../../server/cluster/clusterRelay.ts';
import { clusterBackend } from '../../../../server/cluster/clusterBackend.ts';
import type { ApiBackend, LiveChange } from '../../../../server/http/backend.ts';

const silent = { warn: () => undefined, info: () => undefined };

function alert(id: string, patch: Partial<Alert> = {}): Alert {
  return {
    id, pump: id.split('.')[0] ?? '', gateway: 'gw-1', type: 'occlusion', severity: 'high', status: 'active',
    acknowledged: false, ackedBy: null, ackedAt: null, raisedAt: '2026-11-27T10:00:00Z', clearedAt: null,
    message: 'm', detail: {}, ...patch,
  };
}

function pump(serial: string): PumpView {
  return { pump: serial, gateway: 'gw-1', state: 'RUN' } as unknown as PumpView;
}

/** a broker stand-in: every publish is delivered to every relay, including the sender's own */
function bus() {
  const relays: ClusterRelay[] = [];
  const log: { topic: string; payload: string; retain: boolean; from: string }[] = [];
  const retained = new Map<string, string>();
  const make = (instanceId: string, acks: string[] = []): ClusterRelay => {
    const r = new ClusterRelay({
      instanceId, log: silent, pumpFlushMs: 50,
      publish(topic, payload, retain) {
        log.push({ topic, payload, retain, from: instanceId });
        if (retain) {
          if (payload === '') retained.delete(topic);
          else retained.set(topic, payload);
        }
        for (const x of relays) x.handle(topic, Buffer.from(payload));
      },
      onAckCommand: (id, by) => acks.push(`${instanceId}:${id}:${by}`),
    });
    relays.push(r);
    return r;
  };
  return { make, log, retained };
}

describe('cluster relay', () => {
  test('relays another instance\'s changes and ignores its own: no loop', () => {
    const b = bus();
    const a = b.make('a');
    const c = b.make('c');
    const seenA: LiveChange[] = [];
    const seenC: LiveChange[] = [];
    a.subscribe((ch) => seenA.push(...ch));
    c.subscribe((ch) => seenC.push(...ch));
    a.publishLocal([{ type: 'alert', alert: alert('P1.occlusion.20261127T100000Z') }]);
    assert.equal(b.log.length, 1, 'one publication, never echoed back out');
    assert.equal(seenA.length, 0, 'own publication ignored');
    assert.equal(a.ignoredOwn, 1);
    assert.equal(seenC.length, 1);
    assert.equal(c.openRemoteAlerts().length, 1);
    assert.equal(c.published, 0, 'relayed changes are not published again');
  });

  test('alerts stay retained while open; cleared and acknowledged removes the retained copy', () => {
    const b = bus();
    const a = b.make('a');
    const c = b.make('c');
    const id = 'P1.occlusion.20261127T100000Z';
    a.publishLocal([{ type: 'alert', alert: alert(id) }]);
    assert.ok(b.retained.has(`pumpwatch/_server/alerts/${id}`));
    a.publishLocal([{ type: 'alert', alert: alert(id, { status: 'cleared', clearedAt: '2026-11-27T10:05:00Z' }) }]);
    assert.ok(b.retained.has(`pumpwatch/_server/alerts/${id}`), 'cleared but not acknowledged: still shown');
    assert.equal(c.openRemoteAlerts().length, 1);
    const seen: LiveChange[] = [];
    c.subscribe((ch) => seen.push(...ch));
    a.publishLocal([{ type: 'alert', alert: alert(id, { status: 'cleared', acknowledged: true, ackedBy: 'nurse' }) }]);
    assert.ok(!b.retained.has(`pumpwatch/_server/alerts/${id}`));
    assert.equal(c.openRemoteAlerts().length, 0);
    assert.equal(seen.length, 1, 'the final state still reaches live views');
  });

  test('pump changes are coalesced per pump and published on the timer', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const b = bus();
      const a = b.make('a');
      const c = b.make('c');
      a.start();
      for (let i = 0; i < 5; i++) a.publishLocal([{ type: 'pump', pump: pump('P1') }, { type: 'pump', pump: pump('P2') }]);
      assert.equal(b.log.length, 0);
      vi.advanceTimersByTime(50);
      assert.equal(b.log.length, 2);
      assert.ok(b.log.every((l) => l.retain));
      assert.deepEqual(c.remotePumpViews().map((p) => p.pump).sort(), ['P1', 'P2']);
      a.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  test('malformed and foreign messages are counted, not relayed', () => {
    const r = new ClusterRelay({ instanceId: 'a', log: silent, publish: () => undefined, onAckCommand: () => undefined });
    r.handle('pumpwatch/_server/alerts/X', Buffer.from('{nope'));
    r.handle('pumpwatch/_server/alerts/X', Buffer.from(JSON.stringify({ v: 1, instance: 'b', alert: alert('Y') })));
    r.handle('pumpwatch/_server/other/X', Buffer.from(JSON.stringify({ v: 1, instance: 'b' })));
    assert.equal(r.drops.count('BAD_CLUSTER_MESSAGE'), 3);
    assert.equal(r.openRemoteAlerts().length, 0);
  });

  test('another instance announcing a pump is reported once per owner change', () => {
    const moved: string[] = [];
    const r = new ClusterRelay({ instanceId: 'a', log: silent, publish: () => undefined, onAckCommand: () => undefined, onRemotePump: (s, i) => moved.push(`${s}@${i}`) });
    const msg = (i: string): Buffer => Buffer.from(JSON.stringify({ v: 1, instance: i, pump: pump('P1') }));
    r.handle('pumpwatch/_server/pumps/P1', msg('b'));
    r.handle('pumpwatch/_server/pumps/P1', msg('b'));
    r.handle('pumpwatch/_server/pumps/P1', msg('c'));
    assert.deepEqual(moved, ['P1@b', 'P1@c']);
  });
});

describe('fleet-wide backend', () => {
  function localBackend(alerts: Alert[], acked: string[]): ApiBackend {
    return {
      pumps: () => Promise.resolve([pump('L1')]),
      pump: (s: string) => Promise.resolve(s === 'L1' ? pump('L1') : undefined),
      alerts: () => Promise.resolve(alerts),
      acknowledge: (id: string) => {
        const a = alerts.find((x) => x.id === id);
        if (a) acked.push(id);
        return Promise.resolve(a ? { ...a, acknowledged: true } : undefined);
      },
      snapshot: () => Promise.resolve({ pumps: [pump('L1')], alerts }),
      subscribe: () => () => undefined,
    } as unknown as ApiBackend;
  }

  test('pumps, active alerts and snapshot include other instances; ack of a remote alert asks its owner', async () => {
    const b = bus();
    const ownerAcks: string[] = [];
    const owner = b.make('owner', ownerAcks);
    const here = b.make('here');
    const remoteId = 'R1.occlusion.20261127T100000Z';
    owner.publishLocal([{ type: 'alert', alert: alert(remoteId) }, { type: 'pump', pump: pump('R1') }]);
    owner.flushPumps();
    const local = alert('L1.low_battery.20261127T090000Z', { type: 'low_battery', severity: 'low' });
    const localAcks: string[] = [];
    const api = clusterBackend(localBackend([local], localAcks), here, { now: () => 0, isLocalAlert: (id) => id === local.id });
    assert.deepEqual((await api.pumps()).map((p) => p.pump).sort(), ['L1', 'R1']);
    assert.equal((await api.pump('R1'))?.pump, 'R1');
    assert.deepEqual((await api.alerts({ status: 'active', fromMs: 0, toMs: 0 })).map((a) => a.id), [remoteId, local.id], 'newest first');
    assert.equal((await api.snapshot()).alerts.length, 2);
    // the owner applies the command and publishes the acknowledged alert back
    const acked = api.acknowledge(remoteId, 'nurse-ann');
    await new Promise((r) => setImmediate(r)); // the local lookup runs first
    assert.deepEqual(ownerAcks, [`owner:${remoteId}:nurse-ann`]);
    owner.publishLocal([{ type: 'alert', alert: alert(remoteId, { acknowledged: true, ackedBy: 'nurse-ann' }) }]);
    const result = await acked;
    assert.equal(result?.ackedBy, 'nurse-ann');
    assert.equal(await api.acknowledge('nobody.occlusion.x', 'n'), undefined, 'unknown id: 404');
    assert.equal(localAcks.length, 0);
  });
});

describe('nurse visit on a pump another instance holds', () => {
  test('the request goes to the holder, which sets the visit; the answer is its pushed view', async () => {
    const relays: ClusterRelay[] = [];
    const visits: string[] = [];
    const make = (instanceId: string): ClusterRelay => {
      const r = new ClusterRelay({
        instanceId, log: silent, pumpFlushMs: 10,
        publish(topic, payload) {
          for (const x of relays) x.handle(topic, Buffer.from(payload));
        },
        onAckCommand: () => undefined,
        onVisitCommand(serial, untilMs, by) {
          if (instanceId !== 'holder') return;
          visits.push(`${serial}:${untilMs}:${by}`);
          // the holder's engine sets it; its pump view goes out like every change
          holder.publishLocal([{ type: 'pump', pump: { ...pump(serial), visit: untilMs === null ? null : { until: new Date(untilMs).toISOString(), by } } }]);
          holder.flushPumps();
        },
      });
      relays.push(r);
      return r;
    };
    const holder = make('holder');
    const other = make('other');
    holder.publishLocal([{ type: 'pump', pump: pump('P1') }]);
    holder.flushPumps();
    const nowMs = Date.parse('2026-11-27T12:00:00Z');
    const base = { setPumpVisit: () => Promise.resolve(undefined) } as unknown as ApiBackend;
    const backend = clusterBackend(base, other, { now: () => nowMs, isLocalAlert: () => false, ackWaitMs: 1000 });
    const view = await backend.setPumpVisit!('P1', 30, 'anna');
    assert.deepEqual(visits, [`P1:${nowMs + 30 * 60_000}:anna`]);
    assert.deepEqual(view?.visit, { until: '2026-11-27T12:30:00.000Z', by: 'anna' });
    const ended = await backend.setPumpVisit!('P1', null, 'bea');
    assert.equal(ended?.visit, null);
    assert.equal(visits.at(-1), 'P1:null:bea');
    assert.equal(await backend.setPumpVisit!('P9', 30, 'anna'), undefined, 'a pump no instance knows');
  });
});
