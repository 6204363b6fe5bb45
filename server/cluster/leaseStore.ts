/**
 * The lease table in PostgreSQL (migration 007): a row per partition with owner, expiry and a
 * fencing token that grows at every acquisition, and a row per live instance. Expiry is always
 * PostgreSQL's `now()`, one clock for every instance. A lease table rather than session advisory
 * locks: it survives a PostgreSQL restart (nobody has to re-lock at once, in a race), works
 * through a transaction-pooling pgbouncer, and gives a token to fence writes with
 * (docs/scaling.md).
 */
import type pg from 'pg';
import { LEASE_PARTITIONS, partitionOf, type LeaseRow } from './leasePlan.ts';
import type { HeldLease, LeaseStore } from './leases.ts';

/** anything with a pg `query` (a pool, or a client inside a transaction) */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export class PostgresLeaseStore implements LeaseStore {
  private seeded = false;

  constructor(private readonly db: Queryable, private readonly partitions = LEASE_PARTITIONS) {}

  private async seed(): Promise<void> {
    if (this.seeded) return;
    await this.db.query('INSERT INTO cluster_leases (partition) SELECT g FROM generate_series(0, $1::int - 1) AS g ON CONFLICT DO NOTHING', [this.partitions]);
    this.seeded = true;
  }

  async renew(me: string, held: readonly HeldLease[], leaseMs: number): Promise<number[]> {
    const res = await this.db.query<{ partition: number }>(
      `UPDATE cluster_leases l SET expires_at = now() + $4::int * interval '1 millisecond'
         FROM unnest($2::int[], $3::bigint[]) AS h(p, t)
        WHERE l.partition = h.p AND l.token = h.t AND l.owner = $1 AND l.expires_at > now()
        RETURNING l.partition`,
      [me, held.map((h) => h.partition), held.map((h) => h.token), leaseMs],
    );
    return res.rows.map((r) => r.partition);
  }

  async heartbeat(me: string, aliveMs: number): Promise<{ live: string[]; rows: LeaseRow[] }> {
    await this.seed();
    await this.db.query(
      `INSERT INTO cluster_instances (instance, expires_at) VALUES ($1, now() + $2::int * interval '1 millisecond')
       ON CONFLICT (instance) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
      [me, aliveMs],
    );
    const live = await this.db.query<{ instance: string }>('SELECT instance FROM cluster_instances WHERE expires_at > now()');
    const rows = await this.db.query<{ partition: number; owner: string | null; token: string; ms: number }>(
      `SELECT partition, owner, token::text AS token,
              greatest(-1, least(2147483647, floor(extract(epoch FROM (expires_at - now())) * 1000)))::int AS ms
         FROM cluster_leases ORDER BY partition`,
    );
    return {
      live: live.rows.map((r) => r.instance),
      rows: rows.rows.map((r) => ({ partition: r.partition, owner: r.owner, token: Number(r.token), expiresInMs: r.ms })),
    };
  }

  async acquire(me: string, partitions: readonly number[], leaseMs: number): Promise<HeldLease[]> {
    const res = await this.db.query<{ partition: number; token: string }>(
      `UPDATE cluster_leases SET owner = $1, token = token + 1, expires_at = now() + $3::int * interval '1 millisecond'
        WHERE partition = ANY($2::int[]) AND (owner IS NULL OR expires_at <= now())
        RETURNING partition, token::text AS token`,
      [me, [...partitions], leaseMs],
    );
    return res.rows.map((r) => ({ partition: r.partition, token: Number(r.token) }));
  }

  async release(me: string, held: readonly HeldLease[]): Promise<void> {
    if (held.length === 0) return;
    await this.db.query(
      `UPDATE cluster_leases l SET owner = NULL, expires_at = now()
         FROM unnest($2::int[], $3::bigint[]) AS h(p, t)
        WHERE l.partition = h.p AND l.token = h.t AND l.owner = $1`,
      [me, held.map((h) => h.partition), held.map((h) => h.token)],
    );
  }

  async leave(me: string): Promise<void> {
    await this.db.query('DELETE FROM cluster_instances WHERE instance = $1 OR expires_at < now() - interval \'1 day\'', [me]);
  }
}

export class LeaseLostError extends Error {
  readonly code = 'LEASE_LOST';
  constructor(readonly pump: string) {
    super(`this instance no longer holds the lease of pump ${pump}'s partition`);
    this.name = 'LeaseLostError';
  }
}

/**
 * Fencing inside a PostgreSQL transaction: call first in a transaction that writes on behalf of
 * a pump (a page sent, a paging step claimed). It passes only while this instance holds the
 * pump's partition under `token` and the lease has not expired by PostgreSQL's clock, and it
 * keeps the lease row share-locked until COMMIT, so no other instance can take the partition
 * between the check and the commit. Throws LeaseLostError (code LEASE_LOST) otherwise.
 */
export async function assertLease(tx: Queryable, pump: string, instance: string, lease: HeldLease | null, partitions = LEASE_PARTITIONS): Promise<void> {
  if (lease === null || lease.partition !== partitionOf(pump, partitions)) throw new LeaseLostError(pump);
  const res = await tx.query(
    'SELECT 1 FROM cluster_leases WHERE partition = $1 AND owner = $2 AND token = $3 AND expires_at > now() FOR SHARE',
    [lease.partition, instance, lease.token],
  );
  if (res.rowCount !== 1) throw new LeaseLostError(pump);
}
