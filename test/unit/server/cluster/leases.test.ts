import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { manualClock } from '../../../../server/clock.ts';
import { fairShare, LEASE_PARTITIONS, partitionOf, planRound, type LeaseRow } from '../../../../server/cluster/leasePlan.ts';
import { leaseMarginMs, LeaseManager, type HeldLease, type LeaseStore } from '../../../../server/cluster/leases.ts';
import { shardOf } from '../../../../server/ingest/shard.ts';

const silent = { info: () => undefined, warn: () => undefined };
const P = LEASE_PARTITIONS;
const LEASE_MS = 6000;

/** the lease table as PostgreSQL keeps it, on the shared fake clock ("PostgreSQL's now()") */
function fakeStore(now: () => number) {
  const rows = new Map<number, { owner: string | null; token: number; expiresMs: number }>();
  for (let p = 0; p < P; p++) rows.set(p, { owner: null, token: 0, expiresMs: 0 });
  const instances = new Map<string, number>();
  const down = new Set<string>();
  const check = async (me: string): Promise<void> => {
    await Promise.resolve();
    if (down.has(me)) throw new Error('connection refused');
  };
  const store = (me0?: string): LeaseStore => ({
    async renew(me, held, leaseMs) {
      await check(me0 ?? me);
      const out: number[] = [];
      for (const h of held) {
        const r = rows.get(h.partition)!;
        if (r.owner === me && r.token === h.token && r.expiresMs > now()) {
          r.expiresMs = now() + leaseMs;
          out.push(h.partition);
        }
      }
      return out;
    },
    async heartbeat(me, aliveMs) {
      await check(me0 ?? me);
      instances.set(me, now() + aliveMs);
      const live = [...instances].filter(([, e]) => e > now()).map(([i]) => i);
      const list: LeaseRow[] = [...rows].map(([partition, r]) => ({ partition, owner: r.owner, token: r.token, expiresInMs: r.expiresMs - now() }));
      return { live, rows: list };
    },
    async acquire(me, partitions, leaseMs) {
      await check(me0 ?? me);
      const out: HeldLease[] = [];
      for (const p of partitions) {
        const r = rows.get(p)!;
        if (r.owner === null || r.expiresMs <= now()) {
          r.owner = me;
          r.token++;
          r.expiresMs = now() + leaseMs;
          out.push({ partition: p, token: r.token });
        }
      }
      return out;
    },
    async release(me, held) {
      await check(me0 ?? me);
      for (const h of held) {
        const r = rows.get(h.partition)!;
        if (r.owner === me && r.token === h.token) {
          r.owner = null;
          r.expiresMs = now();
        }
      }
    },
    async leave(me) {
      await check(me0 ?? me);
      instances.delete(me);
    },
  });
  return { rows, store, down };
}

interface Node {
  id: string;
  m: LeaseManager;
  dueMs: number;
  alive: boolean;
  acquired: number[];
  lost: number[];
}

/** instances on one fake store, driven round by round on the fake clock; at every step no partition has two owners */
function cluster(ids: string[]) {
  const clock = manualClock(1_000_000);
  const db = fakeStore(() => clock.now());
  const nodes: Node[] = [];
  const add = (id: string): Node => {
    const n: Node = {
      id, dueMs: clock.now(), alive: true, acquired: [], lost: [],
      m: new LeaseManager({
        store: db.store(id), clock, instanceId: id, leaseMs: LEASE_MS, log: silent,
        onAcquired: (ps) => n.acquired.push(...ps),
        onLost: (ps) => n.lost.push(...ps),
        onReleasing: (ps) => {
          n.lost.push(...ps);
          return Promise.resolve();
        },
      }),
    };
    nodes.push(n);
    return n;
  };
  for (const id of ids) add(id);
  const owners = (p: number): string[] => nodes.filter((n) => n.m.ownsPartition(p)).map((n) => n.id);
  const assertSingleOwners = (): void => {
    for (let p = 0; p < P; p++) assert.ok(owners(p).length <= 1, `partition ${p} judged by ${owners(p).join(' and ')} at ${clock.now()}`);
  };
  /** advances the clock in 100 ms steps for `ms`, running each live node's round when it is due */
  const run = async (ms: number): Promise<void> => {
    const end = clock.now() + ms;
    while (clock.now() < end) {
      for (const n of nodes) {
        if (!n.alive) continue;
        n.m.checkExpiry();
        if (clock.now() >= n.dueMs) {
          try {
            n.dueMs = clock.now() + await n.m.round();
          } catch {
            n.dueMs = clock.now() + 1000;
          }
        }
      }
      assertSingleOwners();
      clock.advance(100);
    }
  };
  const held = (): number[] => nodes.filter((n) => n.alive).map((n) => n.m.owned().length);
  return { clock, db, nodes, add, run, owners, held, assertSingleOwners };
}

describe('partitions', () => {
  test('a pump maps to a fixed partition: the SHARD hash modulo 64', () => {
    assert.equal(P, 64);
    for (const s of ['PW000001', 'SO00017', 'x']) assert.equal(partitionOf(s), shardOf(s, 64));
  });

  test('fair shares add up to every partition', () => {
    for (let n = 1; n <= 10; n++) {
      let sum = 0;
      for (let r = 0; r < n; r++) sum += fairShare(r, n);
      assert.equal(sum, P);
    }
    assert.deepEqual([0, 1, 2].map((r) => fairShare(r, 3)), [22, 21, 21]);
  });
});

describe('planRound', () => {
  const rows = (owners: (string | null)[], expiresInMs = 5000): LeaseRow[] => owners.map((owner, partition) => ({ partition, owner, token: 1, expiresInMs: owner === null ? -1 : expiresInMs }));

  test('a lone instance takes every free partition', () => {
    const plan = planRound({ me: 'a', live: ['a'], rows: rows(Array.from({ length: P }, (): string | null => null)), held: new Set() });
    assert.equal(plan.acquire.length, P);
    assert.deepEqual(plan.release, []);
  });

  test('an instance above its share releases the excess only to an instance below its own', () => {
    const all = new Set(Array.from({ length: P }, (_, p) => p));
    const full = rows(Array.from({ length: P }, (): string | null => 'a'));
    const alone = planRound({ me: 'a', live: ['a'], rows: full, held: all });
    assert.deepEqual(alone, { acquire: [], release: [] });
    const joined = planRound({ me: 'a', live: ['a', 'b'], rows: full, held: all });
    assert.equal(joined.release.length, 32);
    assert.deepEqual(joined.acquire, []);
  });

  test('free partitions beyond what live instances lack are taken anyway; a silent owner’s expired leases are free', () => {
    // b died: its 32 leases expired; a and c hold 16 each
    const owners = Array.from({ length: P }, (_, p) => (p < 32 ? 'b' : p < 48 ? 'a' : 'c'));
    const r = owners.map((owner, partition) => ({ partition, owner, token: 1, expiresInMs: owner === 'b' ? -5 : 5000 }));
    const heldA = new Set(Array.from({ length: 16 }, (_, i) => 32 + i));
    const plan = planRound({ me: 'a', live: ['a', 'c'], rows: r, held: heldA });
    assert.equal(plan.acquire.length, 16, 'a takes up to its share');
    assert.ok(plan.acquire.every((p) => p < 32));
    // b still counted live (its heartbeat not yet expired) but holding nothing: a takes only its own lack
    const stillLive = planRound({ me: 'a', live: ['a', 'b', 'c'], rows: r, held: heldA });
    assert.equal(stillLive.acquire.length, 22 - 16);
  });
});

describe('LeaseManager', () => {
  test('three instances share 64 partitions fairly, each judged by one instance at every moment', async () => {
    const c = cluster(['a', 'b', 'c']);
    await c.run(4 * LEASE_MS);
    assert.deepEqual(c.held().sort(), [21, 21, 22]);
    for (let p = 0; p < P; p++) assert.equal(c.owners(p).length, 1);
  });

  test('an instance that dies is taken over within LEASE_S, and a restarted one gets its share back without overlap', async () => {
    const c = cluster(['a', 'b', 'c']);
    await c.run(4 * LEASE_MS);
    const b = c.nodes[1]!;
    const bParts = b.m.owned();
    b.alive = false; // kill -9: no release, no more rounds
    const diedMs = c.clock.now();
    let takenMs = 0;
    while (c.clock.now() - diedMs < 2 * LEASE_MS) {
      await c.run(100);
      if (takenMs === 0 && bParts.every((p) => c.owners(p).some((o) => o !== 'b'))) takenMs = c.clock.now() - diedMs;
    }
    assert.ok(takenMs > 0 && takenMs <= LEASE_MS + 500, `taken over after ${takenMs} ms`);
    assert.deepEqual(c.held().sort(), [32, 32]);
    // b comes back as a new process (new manager, same id)
    const b2 = c.add('b');
    await c.run(4 * LEASE_MS);
    assert.deepEqual(c.held().sort(), [21, 21, 22]);
    assert.ok(b2.m.owned().length >= 21);
    for (let p = 0; p < P; p++) assert.equal(c.owners(p).length, 1);
  });

  test('fencing: an instance cut off from PostgreSQL stops judging before its leases expire, and its old tokens are refused after', async () => {
    const c = cluster(['a', 'b']);
    await c.run(4 * LEASE_MS);
    const a = c.nodes[0]!;
    const aParts = a.m.owned();
    const fenced = a.m.fence(`x`);
    a.lost.length = 0; // what it handed over while the two settled
    c.db.down.add('a');
    const cutMs = c.clock.now();
    let stoppedMs = 0;
    let takenMs = 0;
    while (c.clock.now() - cutMs < 2 * LEASE_MS) {
      await c.run(100);
      if (stoppedMs === 0 && a.m.owned().length === 0) stoppedMs = c.clock.now() - cutMs;
      if (takenMs === 0 && aParts.every((p) => c.owners(p)[0] === 'b')) takenMs = c.clock.now() - cutMs;
    }
    assert.ok(stoppedMs > 0 && stoppedMs <= LEASE_MS - leaseMarginMs(LEASE_MS), `a stopped after ${stoppedMs} ms`);
    assert.ok(takenMs > stoppedMs, 'b took over only after a had stopped');
    assert.deepEqual([...new Set(a.lost)].sort((x, y) => x - y), aParts, 'a was told which partitions it lost');
    // every token a held is now older than the table's
    if (fenced) assert.ok(c.db.rows.get(fenced.partition)!.token > fenced.token);
    // a reaches PostgreSQL again: it gets a share back under new tokens, never two owners
    c.db.down.delete('a');
    await c.run(4 * LEASE_MS);
    assert.deepEqual(c.held().sort(), [32, 32]);
  });

  test('a renewal that comes back after this clock gave the lease up makes it judged again, not lost in between', async () => {
    const c = cluster(['a']);
    await c.run(2 * LEASE_MS);
    const a = c.nodes[0]!;
    assert.equal(a.m.owned().length, P);
    // the process slept longer than the local validity, but the table kept the lease
    c.clock.advance(LEASE_MS - leaseMarginMs(LEASE_MS) + 1);
    a.m.checkExpiry();
    assert.equal(a.m.owned().length, 0);
    const acquiredBefore = a.acquired.length;
    c.clock.set(c.clock.now()); // PostgreSQL's clock: the lease (LEASE_MS from the last renewal) has not expired yet
    await a.m.round();
    assert.equal(a.m.owned().length, P);
    assert.equal(a.acquired.length - acquiredBefore, P);
  });

  test('PostgreSQL restarting briefly: leases renewed after it, nothing moves', async () => {
    const c = cluster(['a', 'b']);
    await c.run(4 * LEASE_MS);
    const before = c.nodes.map((n) => n.m.owned().join(','));
    for (const id of ['a', 'b']) c.db.down.add(id);
    await c.run(1500);
    for (const id of ['a', 'b']) c.db.down.delete(id);
    await c.run(3 * LEASE_MS);
    assert.deepEqual(c.nodes.map((n) => n.m.owned().join(',')), before);
  });

  test('a clean stop stores state, then releases: others take over at their next round', async () => {
    const c = cluster(['a', 'b']);
    await c.run(4 * LEASE_MS);
    const a = c.nodes[0]!;
    let stored = false;
    a.alive = false;
    await a.m.stop({
      beforeRelease: () => {
        stored = true;
        return Promise.resolve();
      },
    });
    assert.ok(stored);
    assert.equal(a.m.owned().length, 0);
    await c.run(LEASE_MS / 2);
    assert.deepEqual(c.held(), [P]);
  });
});
