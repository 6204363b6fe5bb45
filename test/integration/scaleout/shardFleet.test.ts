import { test } from 'vitest';
import assert from 'node:assert/strict';
import { decodeSentence } from '../../../protocol/decode.ts';
import type { Alert } from '../../../protocol/api.ts';
import { shardOf } from '../../../server/ingest/shard.ts';
import { waitFor } from '../../helpers/wait.ts';
import {
  DB, fleetPublisher, payloadOf, pumpSentences, startScaleoutStack, watchAlerts, type AlertWatcher,
} from './scaleoutStack.ts';

const N = 3;
const ROUNDS = 140;
const KILLED = 1;
const KILL_AT_ROUND = 50;

/** 4 pumps per shard; in each shard one occludes before the kill, one after the restart, one runs a program */
function fleet(): { pump: string; alarmAt: number | null; program: boolean }[] {
  const byShard: string[][] = [[], [], []];
  for (let i = 0; byShard.some((s) => s.length < 4); i++) {
    const serial = `SO${String(i).padStart(5, '0')}`;
    const list = byShard[shardOf(serial, N)]!;
    if (list.length < 4) list.push(serial);
  }
  return byShard.flatMap((list) => list.map((pump, k) => ({ pump, alarmAt: k === 0 ? 30 : k === 1 ? 110 : null, program: k === 2 })));
}

test('three SHARD instances, one killed mid-stream and restarted: every sentence stored once, every alert raised once and seen everywhere', { timeout: 180_000 }, async () => {
  const stack = await startScaleoutStack(N);
  const watchers: AlertWatcher[] = [];
  const pub = await fleetPublisher(stack.broker.url, 'scaleout-fleet');
  try {
    await Promise.all([0, 1, 2].map((i) => stack.start(i)));
    // watchers on the instances that stay up; each alert is checked on one that does not own it
    watchers[0] = await watchAlerts(stack.instances[0]!.port);
    watchers[2] = await watchAlerts(stack.instances[2]!.port);
    const pumps = fleet();
    const startMs = Math.floor(Date.now() / 1000) * 1000 - ROUNDS * 1000;
    const lines = new Map(pumps.map((p) => [p.pump, pumpSentences(p.pump, ROUNDS, startMs, p.alarmAt, p.program)]));
    let restarted: Promise<unknown> = Promise.resolve();
    for (let r = 0; r < ROUNDS; r++) {
      if (r === KILL_AT_ROUND) {
        await stack.instances[KILLED]!.proc!.kill9();
        restarted = stack.start(KILLED); // the fleet keeps publishing while it comes back
      }
      await Promise.all(pumps.map((p) => {
        const line = lines.get(p.pump)![r]!;
        const d = decodeSentence(line);
        assert.ok(d.ok);
        return pub.publishAsync(`pumpwatch/gw-${p.pump.slice(-1)}/pumps/${p.pump}`, payloadOf(line, d.sentence), { qos: 1 });
      }));
      await new Promise((res) => setTimeout(res, 15)); // pacing, as a fleet publishes: not a wait for anything
    }
    await restarted;

    // every sentence stored exactly once: one point per (pump, seq, time), none missing, none extra
    const expected = pumps.length * ROUNDS;
    await waitFor(async () => {
      const res = await stack.influx.query(DB, 'SELECT count("seq") FROM "status", "event", "program" GROUP BY "pump"');
      let n = 0;
      for (const s of res.results[0]?.series ?? []) n += Number(s.values[0]?.[1] ?? 0);
      return n === expected;
    }, 60_000, `${expected} sentences stored`, 250);
    const perPump = await stack.influx.query(DB, 'SELECT count("seq") FROM "status", "event", "program" GROUP BY "pump"');
    const counts = new Map<string, number>();
    for (const s of perPump.results[0]?.series ?? []) counts.set(s.tags?.pump ?? '', (counts.get(s.tags?.pump ?? '') ?? 0) + Number(s.values[0]?.[1] ?? 0));
    for (const p of pumps) assert.equal(counts.get(p.pump), ROUNDS, `${p.pump} stored once each`);

    // every expected alert raised exactly once (deterministic ids), and nothing else
    const occluding = pumps.filter((p) => p.alarmAt !== null).map((p) => p.pump).sort();
    const all = await waitFor(async () => {
      const list = await stack.api<Alert[]>(0, '/api/alerts?status=active');
      return list.length >= occluding.length ? list : null;
    }, 30_000, 'all occlusions active on instance 0');
    assert.deepEqual(all.map((a) => `${a.pump}:${a.type}`).sort(), occluding.map((p) => `${p}:occlusion`));
    const stored = await stack.influx.query(DB, 'SELECT "id", "type" FROM "alert"');
    const ids = new Set<string>();
    for (const s of stored.results[0]?.series ?? []) for (const v of s.values) ids.add(`${String(v[2])}|${String(v[1])}`);
    assert.deepEqual([...ids].map((x) => x.split('|')[0]).sort(), occluding.map(() => 'occlusion'), `one alert id per occluding pump: ${[...ids].join(', ')}`);
    // raised once: one stored 'active, unacknowledged' state per alert, even across the kill and restart
    const raisedRows = await stack.influx.query(DB, 'SELECT "id" FROM "alert" WHERE "status" = \'active\' AND "acknowledged" = false');
    const raisedIds = (raisedRows.results[0]?.series ?? []).flatMap((s) => s.values.map((v) => String(v[1])));
    assert.deepEqual(raisedIds.sort(), [...ids].map((x) => x.split('|')[1]).sort(), 'each alert stored as raised exactly once');

    // each alert reached a WebSocket on an instance that does not own its pump
    for (const a of all) {
      const owner = shardOf(a.pump, N);
      const w = owner === 0 ? watchers[2] : watchers[0];
      await waitFor(() => [...w.snapshotAlerts, ...w.alerts].some((x) => x.id === a.id), 10_000, `${a.id} on a non-owner's WebSocket`);
    }
    // every instance serves the whole fleet
    for (const i of [0, 1, 2]) {
      const list = await waitFor(async () => {
        const l = await stack.api<{ pump: string }[]>(i, '/api/pumps');
        return l.length === pumps.length ? l : null;
      }, 10_000, `all pumps on instance ${i}`);
      assert.equal(list.length, pumps.length);
    }

    // billing: every instance reports the episodes of the whole fleet, each once (others' from storage)
    const everyPump = pumps.map((p) => p.pump).sort();
    for (const i of [0, 1, 2]) {
      const eps = await waitFor(async () => {
        const list = await stack.api<{ pump: string; programId: string }[]>(i, `/api/billing/episodes?from=${new Date(startMs - 3_600_000).toISOString()}`);
        return JSON.stringify(list.map((e) => e.pump).sort()) === JSON.stringify(everyPump) ? list : null;
      }, 10_000, `one episode per pump on instance ${i}`);
      for (const p of pumps.filter((x) => x.program)) assert.equal(eps.find((e) => e.pump === p.pump)?.programId, `RX-${p.pump}`);
    }

    // acknowledging through an instance that does not own the alert: the owner records it
    const target = all.find((a) => shardOf(a.pump, N) === KILLED)!;
    const acked = await stack.api<Alert>(0, `/api/alerts/${encodeURIComponent(target.id)}/ack`, { method: 'POST' });
    assert.equal(acked.acknowledged, true);
    assert.ok(acked.ackedBy);
    await waitFor(async () => {
      const onOwner = await stack.api<Alert[]>(KILLED, `/api/alerts?status=active&pump=${target.pump}`);
      return onOwner.find((a) => a.id === target.id)?.acknowledged === true;
    }, 10_000, 'the owner holds the acknowledgement');
    await waitFor(() => watchers[2]!.alerts.some((x) => x.id === target.id && x.acknowledged), 10_000, 'the acknowledgement relayed to a third instance');
  } finally {
    for (const w of watchers) await w?.close();
    await pub.endAsync();
    await stack.dispose();
  }
});
