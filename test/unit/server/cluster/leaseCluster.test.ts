import { test } from 'vitest';
import assert from 'node:assert/strict';
import pino from 'pino';
import { manualClock } from '../../../../server/clock.ts';
import { LeaseCluster } from '../../../../server/cluster/leaseCluster.ts';
import { LEASE_PARTITIONS } from '../../../../server/cluster/leasePlan.ts';
import type { HeldLease, LeaseStore } from '../../../../server/cluster/leases.ts';
import { PumpHandover } from '../../../../server/cluster/pumpHandover.ts';

const LEASE_MS = 6000;

/** a lease table that grants every free partition to whoever asks, and can take them back */
function grantingStore() {
  const owner = new Map<number, string>();
  let token = 0;
  const store: LeaseStore = {
    renew: (me, held) => Promise.resolve(held.filter((h) => owner.get(h.partition) === me).map((h) => h.partition)),
    heartbeat: () => Promise.resolve({ live: ['a'], rows: Array.from({ length: LEASE_PARTITIONS }, (_, partition) => ({ partition, owner: owner.get(partition) ?? null, token, expiresInMs: owner.has(partition) ? LEASE_MS : -1 })) }),
    acquire: (me, ps) => {
      const got: HeldLease[] = [];
      for (const p of ps) {
        if (owner.has(p)) continue;
        owner.set(p, me);
        got.push({ partition: p, token: ++token });
      }
      return Promise.resolve(got);
    },
    release: () => Promise.resolve(),
    leave: () => Promise.resolve(),
  };
  return { store, owner };
}

function rig(stored: string[]) {
  const clock = manualClock(1_000_000);
  const db = grantingStore();
  const events: string[] = [];
  let notMine = 0;
  const core = new Set<string>();
  const handover = new PumpHandover({
    clock, log: { warn: () => undefined, info: () => undefined }, staleAfterMs: null,
    owns: (s) => lease.owns(s),
    rebuild: (s) => {
      events.push(`rebuild ${s}`);
      core.add(s);
      return Promise.resolve();
    },
    accept: (topic, payload) => {
      events.push(`judge ${topic.split('/')[3] ?? ''} ${payload.toString()}`);
      core.add(topic.split('/')[3] ?? '');
    },
    forget: (s) => {
      events.push(`forget ${s}`);
      core.delete(s);
    },
    fresh: (s) => lease.fresh(s),
  });
  const lease: LeaseCluster = new LeaseCluster({
    store: db.store, clock, instanceId: 'a', leaseMs: LEASE_MS, checkpointMs: 1000, log: pino({ level: 'silent' }), handover,
    localPumps: () => [...core], notMine: () => notMine++, storedPumps: () => Promise.resolve(stored), checkpointNow: () => Promise.resolve(),
  });
  const msg = (pump: string, body: string): [string, Buffer] => [`pumpwatch/gw/pumps/${pump}`, Buffer.from(body)];
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
    await new Promise((r) => setImmediate(r));
  };
  return { clock, db, events, lease, handover, msg, settle, core, notMine: () => notMine };
}

test('before a lease, messages are kept, not judged; once the partition is taken, each pump is rebuilt and its kept messages judged in order', async () => {
  const r = rig(['P-1']);
  for (const [t, b] of [r.msg('P-1', '1'), r.msg('P-2', 'a'), r.msg('P-1', '2')]) assert.equal(r.lease.keepIfNotMine(t, b), true);
  assert.equal(r.notMine(), 3);
  assert.equal(r.events.length, 0);
  await r.lease.leases.round();
  await r.settle();
  // rebuilt before judged; arrival order kept per pump
  assert.ok(r.events.indexOf('rebuild P-1') < r.events.indexOf('judge P-1 1'));
  assert.ok(r.events.indexOf('judge P-1 1') < r.events.indexOf('judge P-1 2'));
  assert.ok(r.events.indexOf('rebuild P-2') < r.events.indexOf('judge P-2 a'));
  assert.equal(r.lease.buffer.size, 0);
  // held now: a new message is not kept, it goes to the core
  const [t, b] = r.msg('P-1', '3');
  assert.equal(r.lease.keepIfNotMine(t, b), false);
});

test('a stored pump of a taken partition is rebuilt even when silent; one storage does not hold is judged without a rebuild', async () => {
  const r = rig(['P-STORED']);
  await r.lease.leases.round();
  await r.settle();
  assert.ok(r.events.includes('rebuild P-STORED'), 'its open alerts and silence are watched here');
  r.events.length = 0;
  const [t, b] = r.msg('P-NEW', 'x');
  assert.equal(r.lease.keepIfNotMine(t, b), false);
  r.handover.accept(t, b);
  assert.deepEqual(r.events, ['judge P-NEW x']);
});

test('leases that run out by this clock: their pumps forgotten at once, their messages kept again, their changes not published', async () => {
  const r = rig([]);
  await r.lease.leases.round();
  const [t, b] = r.msg('P-1', '1');
  r.handover.accept(t, b);
  await r.settle();
  assert.ok(r.core.has('P-1'));
  const change = { type: 'alert' as const, alert: { pump: 'P-1' } as never };
  assert.equal(r.lease.ownChanges([change]).length, 1);
  r.clock.advance(LEASE_MS); // no renewal: past LEASE_S − margin
  assert.equal(r.lease.ownChanges([change]).length, 0, 'a stale owner publishes nothing');
  r.lease.leases.checkExpiry();
  assert.ok(!r.core.has('P-1'));
  assert.ok(r.events.includes('forget P-1'));
  assert.equal(r.lease.keepIfNotMine(t, b), true);
});
