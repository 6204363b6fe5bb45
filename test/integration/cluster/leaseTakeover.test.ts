/**
 * CLUSTER_MODE=lease with three real `npm run server` instances on one Mosquitto, one influxd and
 * one PostgreSQL: an instance killed with its disk, its pumps taken over with nothing lost; the
 * instance back, its share returned without duplicates; PostgreSQL restarted, nobody judging a
 * partition twice.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import pg from 'pg';
import { decodeSentence } from '../../../protocol/decode.ts';
import type { Alert } from '../../../protocol/api.ts';
import { partitionOf } from '../../../server/cluster/leasePlan.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { waitFor } from '../../helpers/wait.ts';
import {
  DB, fleetPublisher, payloadOf, pumpSentences, startScaleoutStack, watchAlerts, type AlertWatcher, type ScaleoutStack,
} from '../scaleout/scaleoutStack.ts';

const N = 3;
const LEASE_S = 6;
const B = 1;
const ROUNDS = 120;
const KILL_AT_ROUND = 40;

interface Health { status: string; cluster?: { instance: string; owned: number; partitions: number } }
interface FleetPump { pump: string; alarmAt: number | null; program: boolean }

let pgServer: PostgresServer;
let stack: ScaleoutStack;
let db: pg.Pool;

beforeAll(async () => {
  pgServer = await startPostgres();
  stack = await startScaleoutStack(N, {
    shard: false,
    env: { DATABASE_URL: pgServer.url, CLUSTER_MODE: 'lease', LEASE_S: String(LEASE_S), CHECKPOINT_MS: '500' },
  });
  db = new pg.Pool({ connectionString: pgServer.url, max: 2 });
  await Promise.all([0, 1, 2].map((i) => stack.start(i, { INSTANCE_ID: `inst-${i}` })));
}, 150_000);

afterAll(async () => {
  await db?.end();
  await stack?.dispose();
  await pgServer?.stop();
});

async function health(i: number): Promise<Health | null> {
  try {
    return await stack.api<Health>(i, '/api/health');
  } catch {
    return null;
  }
}

/** every partition held by exactly one of the given instances, each with its fair share (21 or 22) */
async function balanced(which: number[]): Promise<boolean> {
  const hs = await Promise.all(which.map((i) => health(i)));
  const owned = hs.map((h) => h?.cluster?.owned ?? -1);
  const fair = Math.floor(64 / which.length);
  return owned.reduce((a, b) => a + b, 0) === 64 && owned.every((o) => o >= fair && o <= fair + 1);
}

async function ownerOfPartitions(): Promise<Map<number, string>> {
  const res = await db.query<{ partition: number; owner: string }>('SELECT partition, owner FROM cluster_leases WHERE owner IS NOT NULL AND expires_at > now()');
  return new Map(res.rows.map((r) => [r.partition, r.owner]));
}

/** 4 pumps per instance by the partitions it holds now; B's: one occludes before its death, one after it, one runs a program */
function fleetFor(owners: Map<number, string>): FleetPump[] {
  const by: string[][] = [[], [], []];
  for (let i = 0; by.some((s) => s.length < 4); i++) {
    const serial = `LT${String(i).padStart(5, '0')}`;
    const owner = owners.get(partitionOf(serial));
    const idx = owner === undefined ? -1 : Number(owner.slice('inst-'.length));
    if (idx >= 0 && by[idx]!.length < 4) by[idx]!.push(serial);
  }
  return by.flatMap((list, inst) => list.map((pump, k) => ({
    pump,
    alarmAt: k === 0 ? 20 : inst === B && k === 1 ? KILL_AT_ROUND + 5 : null,
    program: k === 2,
  })));
}

async function storedCounts(): Promise<Map<string, number>> {
  const res = await stack.influx.query(DB, 'SELECT count("seq") FROM "status", "event", "program" GROUP BY "pump"');
  const counts = new Map<string, number>();
  for (const s of res.results[0]?.series ?? []) counts.set(s.tags?.pump ?? '', (counts.get(s.tags?.pump ?? '') ?? 0) + Number(s.values[0]?.[1] ?? 0));
  return counts;
}

test('an instance killed with its disk: its pumps taken over within LEASE_S + 5 s, nothing lost, nothing twice; it comes back and gets its share; PostgreSQL restarts', { timeout: 240_000 }, async () => {
  const watchers: AlertWatcher[] = [];
  const pub = await fleetPublisher(stack.broker.url, 'lease-fleet');
  try {
    await waitFor(() => balanced([0, 1, 2]), 40_000, 'three instances sharing the 64 partitions', 250).catch(async (err: unknown) => {
      const hs = await Promise.all([0, 1, 2].map((i) => health(i)));
      const logs = stack.instances.map((x) => (x.proc?.lines ?? []).filter((l) => /lease|warn|error/i.test(l)).slice(-8).join('\n'));
      throw new Error(`${(err as Error).message}: ${JSON.stringify(hs)}\n${logs.join('\n---\n')}`);
    });
    const pumps = fleetFor(await ownerOfPartitions());
    watchers[0] = await watchAlerts(stack.instances[0]!.port);
    watchers[2] = await watchAlerts(stack.instances[2]!.port);
    const startMs = Math.floor(Date.now() / 1000) * 1000 - ROUNDS * 1000;
    const lines = new Map(pumps.map((p) => [p.pump, pumpSentences(p.pump, ROUNDS, startMs, p.alarmAt, p.program)]));
    const publishRound = (r: number): Promise<unknown> => Promise.all(pumps.map((p) => {
      const line = lines.get(p.pump)![r]!;
      const d = decodeSentence(line);
      assert.ok(d.ok);
      return pub.publishAsync(`pumpwatch/gw-${p.pump.slice(-1)}/pumps/${p.pump}`, payloadOf(line, d.sentence), { qos: 1 });
    }));

    const before = pumps.filter((p) => p.alarmAt === 20).map((p) => p.pump);
    const bBefore = pumps[4 * B]!.pump; // B's first pump occludes at round 20
    const bAfter = pumps.find((p) => p.alarmAt === KILL_AT_ROUND + 5)!.pump;
    let killedAt = 0;
    let earlyAck: Promise<unknown> = Promise.resolve();
    let oldId = '';
    for (let r = 0; r < ROUNDS; r++) {
      if (r === KILL_AT_ROUND) {
        // every occlusion raised so far is on the boards before B goes
        await waitFor(() => before.every((pump) => [...watchers[0]!.snapshotAlerts, ...watchers[0]!.alerts].some((a) => a.pump === pump)), 15_000, 'the first occlusions on the board');
        await stack.instances[B]!.proc!.kill9();
        killedAt = Date.now();
        rmSync(`${stack.dir.path}/journal-${B}`, { recursive: true, force: true }); // its disk is gone too
        // a nurse acknowledges B's occlusion through C while nobody holds it yet
        oldId = [...watchers[0].snapshotAlerts, ...watchers[0].alerts].find((a) => a.pump === bBefore && a.type === 'occlusion')!.id;
        earlyAck = stack.api<Alert>(2, `/api/alerts/${encodeURIComponent(oldId)}/ack`, { method: 'POST' });
      }
      await publishRound(r);
      await new Promise((res) => setTimeout(res, 10));
    }

    // the occlusion that began after B died, judged by its new owner, on a board of A or C within LEASE_S + 5 s
    const seen = await waitFor(() => [0, 2].some((i) => watchers[i]!.alerts.some((a) => a.pump === bAfter && a.type === 'occlusion')) || null, (LEASE_S + 5) * 1000 - (Date.now() - killedAt), 'the new occlusion of a pump B held, on a surviving board', 100).catch((err: unknown) => {
      const logs = [0, 2].map((i) => stack.instances[i]!.proc!.lines.filter((l) => /lease|judging|rebuil/i.test(l)).slice(-6).map((l) => `${(JSON.parse(l) as { time: number }).time - killedAt} ${l.slice(0, 200)}`).join('\n'));
      throw new Error(`${(err as Error).message}\n${logs.join('\n---\n')}`);
    });
    assert.ok(seen);
    const takeoverMs = Date.now() - killedAt;
    assert.ok(takeoverMs <= (LEASE_S + 5) * 1000, `seen ${takeoverMs} ms after the kill`);
    await waitFor(() => balanced([0, 2]), 15_000, 'A and C hold every partition', 250);

    // every sentence stored exactly once, B's included (what it acknowledged and had not stored came from A or C)
    await waitFor(async () => {
      const c = await storedCounts();
      return pumps.every((p) => c.get(p.pump) === ROUNDS);
    }, 30_000, 'every sentence stored', 250);
    for (const [pump, n] of await storedCounts()) assert.equal(n, ROUNDS, `${pump} stored once per sentence`);

    // the occlusion raised on B before its death is held by its new owner, with the acknowledgement
    // sent while nobody held it applied and stored by that owner
    // (without assignments in PostgreSQL every running pump also has program_unassigned: not counted here)
    await earlyAck;
    const active = (await stack.api<Alert[]>(0, '/api/alerts?status=active')).filter((a) => a.type === 'occlusion');
    const expected = pumps.filter((p) => p.alarmAt !== null).map((p) => `${p.pump}:occlusion`).sort();
    assert.deepEqual(active.map((a) => `${a.pump}:${a.type}`).sort(), expected);
    await waitFor(async () => {
      const rows = await stack.influx.query(DB, `SELECT "json" FROM "alert" WHERE "id" = '${oldId}' AND "acknowledged" = true`);
      return (rows.results[0]?.series ?? []).length > 0;
    }, 10_000, 'the acknowledgement sent during the takeover stored by the new owner', 200);
    await waitFor(async () => (await stack.api<Alert[]>(0, '/api/alerts?status=active')).find((a) => a.id === oldId)?.acknowledged === true, 10_000, 'acknowledged on every board', 200);

    // billing as without the failure: on every surviving instance one episode per program pump,
    // counting every sentence from its START (seq 2) to the last, and the same records on both
    const programs = pumps.filter((p) => p.program);
    type Episode = { pump: string; programId: string; evidence: { firstSeq: number; lastSeq: number; sentences: number } };
    const reports: string[] = [];
    for (const i of [0, 2]) {
      let last = '';
      const eps = await waitFor(async () => {
        const list = await stack.api<Episode[]>(i, `/api/billing/episodes?from=${new Date(startMs - 3_600_000).toISOString()}`);
        const mine = list.filter((e) => programs.some((p) => p.pump === e.pump));
        last = JSON.stringify(mine.map((e) => [e.pump, e.evidence]));
        const complete = programs.every((p) => {
          const one = mine.filter((e) => e.pump === p.pump);
          return one.length === 1 && one[0]!.evidence.firstSeq === 2 && one[0]!.evidence.lastSeq === ROUNDS - 1 && one[0]!.evidence.sentences === ROUNDS - 2;
        });
        return complete ? mine : null;
      }, 15_000, `every program pump's whole episode on instance ${i}`, 250).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}: ${last}`);
      });
      for (const p of programs) assert.equal(eps.find((e) => e.pump === p.pump)?.programId, `RX-${p.pump}`);
      reports.push(JSON.stringify(eps.sort((a, b) => (a.pump < b.pump ? -1 : 1))));
    }
    assert.equal(reports[0], reports[1], 'the same billing records on every surviving instance');

    // B comes back (empty disk): it gets its share back; no alert raised twice
    await stack.start(B, { INSTANCE_ID: `inst-${B}` });
    await waitFor(() => balanced([0, 1, 2]), 40_000, 'B holds its share again', 250);
    const raised = await stack.influx.query(DB, 'SELECT "id", "type" FROM "alert" WHERE "status" = \'active\' AND "acknowledged" = false');
    const raisedRows = (raised.results[0]?.series ?? []).flatMap((s) => s.values.map((v) => ({ id: String(v[1]), type: String(v[2]) })));
    const raisedIds = raisedRows.map((r) => r.id);
    assert.equal(raisedIds.length, new Set(raisedIds).size, `each alert stored as raised once: ${raisedIds.join(', ')}`);
    assert.equal(raisedRows.filter((r) => r.type === 'occlusion').length, expected.length);
    for (const i of [0, 1, 2]) {
      let last = '';
      await waitFor(async () => {
        const list = (await stack.api<Alert[]>(i, '/api/alerts?status=active')).filter((a) => a.type === 'occlusion');
        last = JSON.stringify(list.map((a) => `${a.id}:${a.acknowledged}`).sort());
        return JSON.stringify(list.map((a) => `${a.pump}:${a.type}`).sort()) === JSON.stringify(expected);
      }, 15_000, `each occlusion once on instance ${i}`, 250).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}: ${last}`);
      });
    }

    // PostgreSQL restarts: never more than 64 partitions judged at once, and the leases come back
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const hs = await Promise.all([0, 1, 2].map((i) => health(i)));
        most = Math.max(most, hs.reduce((a, h) => a + (h?.cluster?.owned ?? 0), 0));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await pgServer.restart(() => new Promise((r) => setTimeout(r, 2000)));
    await waitFor(() => balanced([0, 1, 2]), 40_000, 'leases back after PostgreSQL restarted', 250);
    await new Promise((r) => setTimeout(r, LEASE_S * 1000));
    sampling = false;
    await sampler;
    assert.ok(most <= 64, `at most 64 partitions judged at once (saw ${most})`);
    const owners = await ownerOfPartitions();
    assert.equal(owners.size, 64);
  } catch (err) {
    // what the surviving instances held when it failed, with the failure
    const dbg = await Promise.all([0, 2].map(async (i) => JSON.stringify({
      i, alerts: await stack.api<Alert[]>(i, '/api/alerts?status=all').then((l) => l.map((a) => `${a.id}:${a.status}:${a.acknowledged}`)),
      rebuilds: await stack.metric(i, 'pumpwatch_cluster_rebuilds_total'), accepted: await stack.metric(i, 'pumpwatch_ingest_accepted_total'),
      ws: watchers[i]!.alerts.map((a) => `${a.pump}:${a.type}`),
    })));
    throw new Error(`${(err as Error).message}\n${dbg.join('\n')}`, { cause: err });
  } finally {
    for (const w of watchers) await w?.close();
    await pub.endAsync();
  }
});
