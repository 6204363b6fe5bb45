import { test } from 'vitest';
import assert from 'node:assert/strict';
import pino from 'pino';
import { manualClock } from '../../../../server/clock.ts';
import { LeaseCluster } from '../../../../server/cluster/leaseCluster.ts';
import { LEASE_PARTITIONS } from '../../../../server/cluster/leasePlan.ts';
import type { HeldLease, LeaseStore } from '../../../../server/cluster/leases.ts';
import { PumpHandover } from '../../../../server/cluster/pumpHandover.ts';
import { encodeSentence } from '../../../../protocol/encode.ts';
import { parsePumpMessage, toPumpMessage } from '../../../../protocol/payloads.ts';
import type { Sentence } from '../../../../protocol/sentence.ts';
import { DedupeWindows, identityNumber } from '../../../../server/ingest/dedupeWindow.ts';

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

test('takeover: a buffered burst larger than the restored de-duplication window, already judged and checkpointed by the previous owner, is not judged again', async () => {
  const PUMP = 'CS7-DEMO01';
  const status = (seq: number): Sentence => ({
    type: 'status', pump: PUMP, seq, time: new Date(Date.parse('2026-11-24T00:00:00Z') + seq * 10_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    state: 'RUN', rateMlH: 5, infusedMl: 1, vtbiMl: 229, reservoirMl: 229, pressureMmHg: 36, batteryPct: 98, alarms: [],
  });
  const payload = (seq: number): Buffer => Buffer.from(JSON.stringify(toPumpMessage(status(seq), encodeSentence(status(seq)), new Date('2026-11-24T09:00:05.100Z'))));
  const idOf = (seq: number): number => identityNumber(seq, status(seq).time);
  // the previous owner judged a history burst of 2000 sentences and checkpointed after the last;
  // its checkpoint keeps the newest 256 identities, as the real one does
  const WINDOW = 256;
  const stored = Array.from({ length: 2000 }, (_, i) => idOf(i + 1)).slice(-WINDOW);
  const dedupe = new DedupeWindows(1024);
  const clock = manualClock(1_000_000);
  const db = grantingStore();
  const judged: number[] = [];
  const handover = new PumpHandover({
    clock, log: { warn: () => undefined, info: () => undefined }, staleAfterMs: null,
    owns: (s) => lease.owns(s),
    // rebuilt from the checkpoint: its state is past seq 2000, its window holds 1745..2000
    rebuild: (s) => {
      dedupe.restore(s, stored);
      return Promise.resolve();
    },
    accept: (_topic, body) => {
      const v = parsePumpMessage(body);
      assert.ok(v.ok);
      if (!dedupe.seenOrAdd(v.message.pump, identityNumber(v.message.seq, v.message.time))) judged.push(v.message.seq);
    },
    forget: (s) => dedupe.forget(s),
    fresh: () => false,
    lastJudged: (s) => dedupe.newest(s),
  });
  const lease: LeaseCluster = new LeaseCluster({
    store: db.store, clock, instanceId: 'a', leaseMs: LEASE_MS, checkpointMs: 1000, log: pino({ level: 'silent' }), handover,
    localPumps: () => [], notMine: () => undefined, storedPumps: () => Promise.resolve([PUMP]), checkpointNow: () => Promise.resolve(),
  });
  // this instance kept the whole burst (all within seconds) and two sentences the previous owner never judged
  for (let seq = 1; seq <= 2002; seq++) assert.equal(lease.keepIfNotMine(`pumpwatch/gw/pumps/${PUMP}`, payload(seq)), true);
  await lease.leases.round();
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(judged, [2001, 2002], 'only what the checkpoint does not cover is judged');
  assert.equal(handover.alreadyJudged, 2000);
});
