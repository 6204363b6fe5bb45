/**
 * Liveness and the pump clock: live or history is judged from what the gateway knows (received,
 * the replay flag) and the steps of the pump clock, never from whether that clock is right; a pump
 * heard live with its clock more than 10 min behind raises clock_error.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { Alert } from '../../../../protocol/api.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import { createDetectionEngine, type DetectionEngine } from '../../../../server/engine/index.ts';
import { byType, PumpFeed } from '../engine/feed.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** As the gateway sends it: read at server time `serverMs` (gateway and server clocks agree), optionally a ?HIST answer. */
function stamped(m: PumpMessage, serverMs: number, replay = false): PumpMessage {
  const out: PumpMessage = { ...m, received: new Date(serverMs).toISOString() };
  if (replay) out.replay = true;
  return out;
}

/** Ingests live: the gateway reads each sentence as the pump writes it; the server clock is pump time + behindMs (+ 150 ms transport). */
function feedLive(engine: DetectionEngine, msgs: PumpMessage[], behindMs: number): Alert[] {
  const out: Alert[] = [];
  for (const m of msgs) {
    const serverMs = Date.parse(m.time) + behindMs + 150;
    engine.ingest(stamped(m, serverMs), { gateway: 'gw-1', serverTimeMs: serverMs });
    out.push(...engine.takeChanges().alerts); // no tick: what a live sentence raises is out at once
  }
  return out;
}

function occlusion(f: PumpFeed): PumpMessage[] {
  f.advance(30);
  return [f.sts({ state: 'ALARM', alarms: ['OCCL_DN'] }), f.evt('ALARM_ON', 'OCCL_DN')];
}

describe('a pump heard live with its clock behind', () => {
  test('5 h behind (local time instead of UTC): clock_error once heard live, saying how far and what it shifts', () => {
    const f = new PumpFeed('CS7-410001', '2026-12-04T03:00:00Z');
    const engine = createDetectionEngine();
    const changes = feedLive(engine, [...f.start('P1', 5, 230, 46), ...f.run(3)], 5 * HOUR);
    const clock = byType(changes, 'clock_error');
    assert.equal(clock.length, 1);
    const a = clock[0]!;
    assert.equal(a.status, 'active');
    assert.equal(a.severity, 'low');
    assert.equal(a.detail.behindS, 5 * 3600);
    assert.equal(a.detail.seq, 4, 'raised at the first status a minute in step after the start');
    assert.equal(a.raisedAt, '2026-12-04T08:01:00.150Z', 'server time: the pump time is the wrong one');
    assert.match(a.message, /CS7-410001/);
    assert.match(a.message, /5 h behind real time/);
    assert.match(a.message, /alert and billing times from this pump are 5 h early/);
    assert.equal(engine.stats().historicSentences, 0, 'a clock behind is not a backlog');
    assert.equal(engine.openAlerts().length, 1, 'and nothing else');
  });

  test('stays raised through a ?HIST replay and clears when the clock is set right', () => {
    const f = new PumpFeed('CS7-410002', '2026-12-04T03:00:00Z');
    const engine = createDetectionEngine();
    feedLive(engine, [...f.start('P1', 5, 230, 46), ...f.run(3)], 5 * HOUR);
    assert.equal(engine.pump('CS7-410002')?.activeAlerts, 1);
    // the link drops for 5 min; then the replay, all read at once
    const gap = f.run(5);
    const back = f.timeMs + 5 * HOUR + 1000;
    gap.forEach((m, i) => engine.ingest(stamped(m, back + i, true), { gateway: 'gw-1', serverTimeMs: back + i }));
    engine.tick(back + 5000);
    assert.equal(engine.stats().historicSentences, 5);
    assert.equal(engine.pump('CS7-410002')?.activeAlerts, 1, 'the replay does not clear it');
    const old = f.advance(10).iso;
    f.advance(5 * 3600);
    const changes = feedLive(engine, [f.evt('CLOCK', old), ...f.run(1)], 0);
    assert.equal(byType(changes, 'clock_error').at(-1)?.status, 'cleared');
  });

  test('negative twin: a correct clock, heard live for an hour, raises nothing', () => {
    const f = new PumpFeed('CS7-410003', '2026-12-04T08:00:00Z');
    const engine = createDetectionEngine();
    assert.deepEqual(feedLive(engine, [...f.start('P1', 5, 230, 46), ...f.run(60)], 0), []);
  });

  test('9 min behind is within tolerance: nothing', () => {
    const f = new PumpFeed('CS7-410004', '2026-12-04T08:00:00Z');
    const engine = createDetectionEngine();
    assert.deepEqual(feedLive(engine, [...f.start('P1', 5, 230, 46), ...f.run(10)], 9 * MIN), []);
  });
});

describe('live or history never depends on the pump clock being right', () => {
  for (const [name, behindMs] of [['a correct clock', 0], ['a clock 4 min slow', 4 * MIN], ['a clock 5 h slow', 5 * HOUR]] as const) {
    test(`${name}: its occlusion alarm is out at once, not held like a backlog`, () => {
      const f = new PumpFeed('CS7-420001', '2026-12-04T08:00:00Z');
      const engine = createDetectionEngine();
      feedLive(engine, [...f.start('P1', 5, 230, 46), ...f.run(2)], behindMs);
      const [sts, evt] = occlusion(f);
      const changes = feedLive(engine, [sts!], behindMs);
      assert.deepEqual(byType(changes, 'occlusion').map((a) => [a.status, a.detail.pumpAlarm]), [['active', 'OCCL_DN']]);
      feedLive(engine, [evt!], behindMs);
      assert.equal(engine.stats().historicSentences, 0);
    });
  }

  test('a 4 min slow pump heard for the very first time: its first sentences are live too', () => {
    const f = new PumpFeed('CS7-420002', '2026-12-04T08:00:00Z');
    const engine = createDetectionEngine();
    f.status = { ...f.status, state: 'RUN', rateMlH: 5, vtbiMl: 200, reservoirMl: 200 };
    const changes = feedLive(engine, [f.sts({ state: 'ALARM', alarms: ['OCCL_DN'] })], 4 * MIN);
    assert.deepEqual(byType(changes, 'occlusion').map((a) => a.status), ['active']);
  });

  test('a ?HIST replay is history even with a correct clock, and its lag is not a clock behind', () => {
    const f = new PumpFeed('CS7-420003', '2026-12-04T08:00:00Z');
    const engine = createDetectionEngine();
    feedLive(engine, [...f.start('P1', 5, 230, 46), ...f.run(2)], 0);
    // 20 min lost on the link, with an occlusion raised and over inside it
    const gap = [...f.run(5), ...occlusion(f), ...f.hold(3), f.sts({ state: 'RUN', alarms: [] }), ...f.run(10)];
    const back = f.timeMs + 2000;
    const seen: Alert[] = [];
    gap.forEach((m, i) => {
      engine.ingest(stamped(m, back + i, true), { gateway: 'gw-1', serverTimeMs: back + i });
      seen.push(...engine.takeChanges().alerts);
    });
    engine.tick(back + gap.length + 2000);
    seen.push(...engine.takeChanges().alerts);
    assert.deepEqual(seen.map((a) => [a.type, a.status]), [['occlusion', 'cleared']], 'once, already over; no clock_error');
    assert.equal(engine.stats().historicSentences, gap.length);
    // and the pump carries on live: at once again
    const after = feedLive(engine, occlusion(f), 0);
    assert.deepEqual(byType(after, 'occlusion').map((a) => a.status), ['active']);
  });

  test('a backlog that waited in the gateway queue is history, even with a correct clock, and no clock error', () => {
    const f = new PumpFeed('CS7-420004', '2026-12-04T08:00:00Z');
    const engine = createDetectionEngine();
    feedLive(engine, [...f.start('P1', 5, 230, 46), ...f.run(2)], 0);
    // MQTT down 30 min: each sentence read live (received on time), published when the broker is back
    const queued = [...f.run(30)];
    const back = f.timeMs + 5000;
    queued.forEach((m, i) => {
      const receivedMs = Date.parse(m.time) + 150;
      engine.ingest(stamped(m, receivedMs), { gateway: 'gw-1', serverTimeMs: back + i });
    });
    engine.tick(back + queued.length + 2000);
    assert.equal(engine.stats().historicSentences, 28, 'all but the last two minutes, which are late by less than HISTORY_LAG_S');
    assert.deepEqual(engine.takeChanges().alerts, []);
  });

  test('a burst of history written at once, without the flag (an older gateway), is history and not a clock behind', () => {
    const f = new PumpFeed('CS7-420005', '2026-12-04T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(30), ...occlusion(f), ...f.hold(2)];
    const engine = createDetectionEngine();
    // all read by the gateway within 50 ms, 5 min after the newest was written: pump times span 33 min
    const nowMs = f.timeMs + 5 * MIN;
    const seen: Alert[] = [];
    msgs.forEach((m, i) => {
      engine.ingest(stamped(m, nowMs - 50 + i), { gateway: 'gw-1', serverTimeMs: nowMs - 50 + i });
      seen.push(...engine.takeChanges().alerts);
    });
    assert.deepEqual(seen, [], 'held while the burst streams in');
    assert.ok(engine.stats().historicSentences >= msgs.length - 4, `${engine.stats().historicSentences} of ${msgs.length} judged history`);
    engine.tick(nowMs + 3000);
    assert.deepEqual(engine.takeChanges().alerts.map((a) => [a.type, a.status]), [['occlusion', 'active']]);
  });

  test('a burst written at once that ends now, from a correct clock: its end is live at once (its clock agrees with the gateway)', () => {
    const f = new PumpFeed('CS7-420008', '2026-12-04T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(30), f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), ...f.hold(8)];
    const engine = createDetectionEngine();
    const nowMs = f.timeMs + 150;
    const seen: Alert[] = [];
    msgs.forEach((m, i) => {
      engine.ingest(stamped(m, nowMs + i), { gateway: 'gw-1', serverTimeMs: nowMs + i });
      seen.push(...engine.takeChanges().alerts);
    });
    assert.deepEqual(seen.map((a) => [a.type, a.status]), [['infusion_stopped', 'active']], 'no tick needed');
  });

  test('a clock running fast (a simulator playing an hour a minute), one sentence a second: live, not a burst, and not heard live', () => {
    const f = new PumpFeed('CS7-420007', '2026-12-04T06:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(30), f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), ...f.hold(8)];
    const engine = createDetectionEngine();
    const t0 = Date.parse('2026-12-04T08:00:00Z');
    const seen: Alert[] = [];
    msgs.forEach((m, i) => {
      const serverMs = t0 + i * 1000;
      engine.ingest(stamped(m, serverMs), { gateway: 'gw-1', serverTimeMs: serverMs });
      seen.push(...engine.takeChanges().alerts);
    });
    assert.equal(engine.stats().historicSentences, 0);
    assert.deepEqual(seen.map((a) => [a.type, a.status]), [['infusion_stopped', 'active']], 'out at once; no clock_error from a clock not in step');
  });

  test('a slow clock does not turn a burst into a live pump: no clock_error from a backlog of a correct-clock pump written at once', () => {
    const f = new PumpFeed('CS7-420006', '2026-12-04T02:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(300)];
    const engine = createDetectionEngine();
    const nowMs = f.timeMs + 150;
    msgs.forEach((m, i) => engine.ingest(stamped(m, nowMs + i), { gateway: 'gw-1', serverTimeMs: nowMs + i }));
    engine.tick(nowMs + msgs.length + 3000);
    assert.deepEqual(byType(engine.openAlerts(), 'clock_error'), []);
  });
});
