/**
 * CLUSTER_MODE=lease, the pure part: pumps → partitions, and what one instance should acquire or
 * release in one round given the lease table and the live instances (docs/scaling.md,
 * "Ownership by lease"). No I/O and no clock: the lease manager feeds it what PostgreSQL said.
 */
import { shardOf } from '../ingest/shard.ts';

/** fixed for good: changing it moves every pump (like the SHARD hash) */
export const LEASE_PARTITIONS = 64;

export function partitionOf(serial: string, partitions = LEASE_PARTITIONS): number {
  return shardOf(serial, partitions);
}

export interface LeaseRow {
  partition: number;
  owner: string | null;
  token: number;
  /** ms until the lease expires by PostgreSQL's clock; ≤ 0 = expired (free) */
  expiresInMs: number;
}

export interface PlanInput {
  me: string;
  /** instances whose heartbeat has not expired (me included or not) */
  live: readonly string[];
  rows: readonly LeaseRow[];
  /** the partitions this instance holds and still trusts by its own clock */
  held: ReadonlySet<number>;
  partitions?: number;
}

export interface Plan {
  acquire: number[];
  release: number[];
}

/** partitions instance `rank` of `n` should hold: an even split, the first `P mod n` one more */
export function fairShare(rank: number, n: number, partitions = LEASE_PARTITIONS): number {
  if (n <= 0) return partitions;
  return Math.floor(partitions / n) + (rank < partitions % n ? 1 : 0);
}

/** a rotation per instance, so instances that start together do not all race for the same free partitions */
function startOffset(me: string, partitions: number): number {
  return shardOf(me, partitions);
}

/**
 * One instance's moves. Free partitions (never held, released, or expired) are taken up to the
 * instance's fair share; free partitions beyond what every live instance still lacks are taken
 * too (nobody else will). An instance above its share releases the excess only while another
 * live instance is below its own, so a joining instance gets its share and a stable cluster does
 * not move anything.
 */
export function planRound(input: PlanInput): Plan {
  const P = input.partitions ?? LEASE_PARTITIONS;
  const live = [...new Set([...input.live, input.me])].sort();
  const n = live.length;
  const target = new Map(live.map((id, rank) => [id, fairShare(rank, n, P)]));
  const count = new Map(live.map((id) => [id, 0]));
  const free: number[] = [];
  const rows = new Map(input.rows.map((r) => [r.partition, r]));
  for (let p = 0; p < P; p++) {
    const r = rows.get(p);
    const valid = r !== undefined && r.owner !== null && r.expiresInMs > 0;
    if (input.held.has(p)) continue;
    if (!valid) {
      free.push(p);
      continue;
    }
    if (r.owner !== input.me && count.has(r.owner as string)) count.set(r.owner as string, (count.get(r.owner as string) ?? 0) + 1);
  }
  count.set(input.me, input.held.size);
  const mine = target.get(input.me) ?? 0;
  const held = input.held.size;

  let othersLack = 0;
  for (const id of live) if (id !== input.me) othersLack += Math.max(0, (target.get(id) ?? 0) - (count.get(id) ?? 0));

  const acquire: number[] = [];
  const release: number[] = [];
  if (free.length > 0) {
    const myLack = Math.max(0, mine - held);
    const unclaimed = Math.max(0, free.length - myLack - othersLack);
    const want = Math.min(free.length, myLack + unclaimed);
    const off = startOffset(input.me, P);
    const ordered = [...free].sort((a, b) => ((a - off + P) % P) - ((b - off + P) % P));
    acquire.push(...ordered.slice(0, want));
  } else if (held > mine && othersLack > 0) {
    const excess = Math.min(held - mine, othersLack);
    release.push(...[...input.held].sort((a, b) => b - a).slice(0, excess));
  }
  return { acquire, release };
}
