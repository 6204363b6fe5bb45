/**
 * A stale owner cannot page: PagingStore.claimPage with the lease fence of CLUSTER_MODE=lease
 * (assertLease) on a real PostgreSQL lease table. An instance whose lease expired, or was taken
 * under a new token, claims nothing (null) and nothing is inserted; the new owner claims the step.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { Alert } from '../../../protocol/api.ts';
import { partitionOf } from '../../../server/cluster/leasePlan.ts';
import { assertLease, PostgresLeaseStore } from '../../../server/cluster/leaseStore.ts';
import type { HeldLease } from '../../../server/cluster/leases.ts';
import { startChain } from '../../../server/paging/escalation.ts';
import { hashToken } from '../../../server/paging/pagingService.ts';
import { PagingStore } from '../../../server/paging/pagingStore.ts';
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

const PUMP = 'PW-PAGE-FENCE-1';

function alert(): Alert {
  return {
    id: `${PUMP}.occlusion.20261203T200000Z`, pump: PUMP, gateway: 'gw', type: 'occlusion', severity: 'high', status: 'active', acknowledged: false,
    ackedBy: null, ackedAt: null, raisedAt: '2026-12-03T20:00:00Z', clearedAt: null, message: 'Blocked line', detail: {},
  };
}

/** a PagingStore of one instance, fenced with the lease it believes it holds now */
function storeOf(instance: string, lease: () => HeldLease | null): PagingStore {
  return new PagingStore(pool, (tx, pump) => assertLease(tx, pump, instance, lease()));
}

async function pageRows(alertId: string): Promise<string[]> {
  const { rows } = await pool.query<{ username: string; round: number; step: number }>(
    'SELECT username, round, step FROM pages WHERE alert_id = $1 ORDER BY id', [alertId]);
  return rows.map((r) => `${r.username}:${r.round}.${r.step}`);
}

test('a stale owner cannot claim a page: its lease expired, then taken under a new token; the new owner can', async () => {
  const leases = new PostgresLeaseStore(pool);
  await leases.heartbeat('a', 60_000);
  const [heldA] = await leases.acquire('a', [partitionOf(PUMP)], 400);
  assert.ok(heldA);
  let heldB: HeldLease | null = null;
  const a = storeOf('a', () => heldA);
  const b = storeOf('b', () => heldB);
  const al = alert();
  const now = Date.now();
  assert.equal(await a.insertChain(al, startChain(al.id, ['ana', 'ben', 'cy'], now).state), true);

  // the owner claims step 0; b, holding nothing, cannot claim step 1
  assert.match(String(await a.claimPage(PUMP, al.id, 0, 0, 'ana', hashToken('ana'), now)), /^\d+$/);
  assert.equal(await b.claimPage(PUMP, al.id, 0, 1, 'ben', hashToken('ben-b'), now), null);

  // a's lease runs out by PostgreSQL's clock (nobody has taken it yet): a claims nothing
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(await a.claimPage(PUMP, al.id, 0, 1, 'ben', hashToken('ben-a1'), now), null);

  // b takes the partition under the next token; a, still believing in its old token, claims nothing
  heldB = (await leases.acquire('b', [partitionOf(PUMP)], 60_000))[0] ?? null;
  assert.equal(heldB?.token, heldA.token + 1);
  assert.equal(await a.claimPage(PUMP, al.id, 0, 1, 'ben', hashToken('ben-a2'), now), null);
  assert.deepEqual(await pageRows(al.id), ['ana:0.0'], 'nothing inserted by a stale owner');

  // the new owner claims the step once; a second claim of the same step is null too
  assert.match(String(await b.claimPage(PUMP, al.id, 0, 1, 'ben', hashToken('ben-b2'), now)), /^\d+$/);
  assert.equal(await b.claimPage(PUMP, al.id, 0, 1, 'ben', hashToken('ben-b3'), now), null);
  // the old token does not work even where the partition's row would otherwise pass
  assert.equal(await storeOf('b', () => heldA).claimPage(PUMP, al.id, 0, 2, 'cy', hashToken('cy'), now), null);
  assert.deepEqual(await pageRows(al.id), ['ana:0.0', 'ben:0.1']);
});

test('an error other than a lost lease is not taken for one: the claim fails loudly and inserts nothing', async () => {
  const leases = new PostgresLeaseStore(pool);
  const pump = Array.from({ length: 1000 }, (_, i) => `${PUMP}-${i}`).find((x) => partitionOf(x) !== partitionOf(PUMP))!;
  const [held] = await leases.acquire('c', [partitionOf(pump)], 60_000);
  assert.ok(held);
  const c = storeOf('c', () => held);
  // no chain row for this alert: the page's foreign key refuses it
  await assert.rejects(c.claimPage(pump, 'no-such-alert', 0, 0, 'ana', hashToken('x'), Date.now()), /foreign key/);
  assert.deepEqual(await pageRows('no-such-alert'), []);
});
