/** The lease table on a real PostgreSQL: acquisition, renewal, expiry by PostgreSQL's clock, and fencing inside a transaction. */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { partitionOf } from '../../../server/cluster/leasePlan.ts';
import { assertLease, LeaseLostError, PostgresLeaseStore } from '../../../server/cluster/leaseStore.ts';
import { startMigratedDatabase, type MigratedDatabase } from '../../helpers/postgres.ts';

let db: MigratedDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await startMigratedDatabase();
  pool = db.pool;
}, 60_000);

afterAll(async () => {
  await db?.stop();
});

const PUMP = 'PW-LEASE-1';
const P = partitionOf(PUMP);

async function inTransaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK');
    throw err;
  } finally {
    c.release();
  }
}

test('a partition has one owner; its token grows at each acquisition; an expired lease is free; fencing follows the token', async () => {
  const store = new PostgresLeaseStore(pool);
  const a = await store.heartbeat('a', 1000);
  assert.equal(a.rows.length, 64);
  assert.deepEqual(a.live, ['a']);

  const [got] = await store.acquire('a', [P], 400);
  assert.ok(got);
  assert.deepEqual(await store.acquire('b', [P], 5000), [], 'held: nobody else gets it');
  assert.deepEqual(await store.renew('a', [got], 400), [P]);
  await inTransaction((tx) => assertLease(tx, PUMP, 'a', got));
  await assert.rejects(inTransaction((tx) => assertLease(tx, PUMP, 'b', got)), LeaseLostError);

  // a stops renewing: after the expiry (PostgreSQL's clock) b takes it under a new token
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await store.renew('a', [got], 400), [], 'an expired lease is not renewed');
  const [taken] = await store.acquire('b', [P], 5000);
  assert.ok(taken);
  assert.equal(taken.token, got.token + 1);
  // the stale owner's writes are refused; the new owner's pass
  await assert.rejects(inTransaction((tx) => assertLease(tx, PUMP, 'a', got)), (err: unknown) => err instanceof LeaseLostError && err.code === 'LEASE_LOST');
  await inTransaction((tx) => assertLease(tx, PUMP, 'b', taken));
  assert.deepEqual(await store.renew('a', [got], 400), [], 'an old token never renews');
});

test('fencing holds the lease row until COMMIT: a takeover waits for the write under way', async () => {
  const store = new PostgresLeaseStore(pool);
  const [held] = await store.acquire('c', [P + 1 < 64 ? P + 1 : 0], 300);
  assert.ok(held);
  const pump = Array.from({ length: 1000 }, (_, i) => `PW-F-${i}`).find((s) => partitionOf(s) === held.partition)!;
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await assertLease(c, pump, 'c', held);
    // the lease expires while the transaction is open; a takeover blocks on the locked row
    await new Promise((r) => setTimeout(r, 400));
    let tookAt = 0;
    const takeover = store.acquire('d', [held.partition], 5000).then((list) => {
      tookAt = Date.now();
      return list;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(tookAt, 0, 'no takeover while the fenced write is open');
    const committedAt = Date.now();
    await c.query('COMMIT');
    const list = await takeover;
    assert.equal(list.length, 1);
    assert.ok(tookAt >= committedAt);
  } finally {
    c.release();
  }
});

test('release frees at once; leave removes the instance', async () => {
  const store = new PostgresLeaseStore(pool);
  const part = (P + 2) % 64;
  const [l] = await store.acquire('e', [part], 60_000);
  assert.ok(l);
  await store.release('e', [l]);
  const [again] = await store.acquire('f', [part], 60_000);
  assert.equal(again?.token, l.token + 1);
  await store.heartbeat('e', 60_000);
  await store.leave('e');
  const view = await store.heartbeat('f', 60_000);
  assert.ok(!view.live.includes('e'));
});
