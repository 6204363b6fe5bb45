/** clock_error, signal_lost and gateway_offline: the alerts about clocks and silence. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { Alert } from '../../../../protocol/api.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import { createDetectionEngine, type DetectionEngine } from '../../../../server/engine/index.ts';
import { byType, ids, PumpFeed, replay } from '../engine/feed.ts';

const MIN = 60_000;

/** Ingests each message at the given server time, ticking every 10 s in between. */
function drive(engine: DetectionEngine, steps: Array<[PumpMessage, number]>, gateway = 'gw-1'): Alert[] {
  const out: Alert[] = [];
  let last: number | null = null;
  for (const [m, serverMs] of steps) {
    for (let t = (last ?? serverMs) + 10_000; last !== null && t < serverMs; t += 10_000) {
      engine.tick(t);
      out.push(...engine.takeChanges().alerts);
    }
    engine.ingest(m, { gateway, serverTimeMs: serverMs });
    engine.tick(serverMs);
    out.push(...engine.takeChanges().alerts);
    last = serverMs;
  }
  return out;
}

/** A message as the gateway stamps it when it reads the line at server time `serverMs` (its clock agrees with the server's). */
function live(m: PumpMessage, serverMs: number): [PumpMessage, number] {
  return [{ ...m, received: new Date(serverMs).toISOString() }, serverMs];
}

describe('clock_error', () => {
  test('a pump clock 20 min ahead: clock_error, and durations carried on by the server clock', () => {
    const f = new PumpFeed('CS7-400001', '2026-12-04T08:20:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(10), f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), ...f.hold(8)];
    const engine = createDetectionEngine();
    const changes = replay(engine, msgs, { offsetMs: -20 * MIN });
    const clock = byType(changes, 'clock_error');
    assert.equal(ids(clock).length, 1);
    assert.equal(clock[0]!.severity, 'low');
    assert.equal(clock[0]!.detail.aheadS, 20 * 60);
    assert.equal(clock[0]!.raisedAt, '2026-12-04T08:00:00.000Z', 'server time, since the pump time is wrong');
    assert.equal(byType(changes, 'infusion_stopped').length, 1, 'the pause still counts, on the server clock');
    assert.equal(engine.stats().clockAheadSentences, msgs.length);
  });

  test('an older sentence never moves the state back', () => {
    const f = new PumpFeed('CS7-400002', '2026-12-04T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(10)];
    const old = msgs[6]!;
    const engine = createDetectionEngine();
    replay(engine, msgs);
    const before = engine.pump('CS7-400002');
    engine.ingest(old, { gateway: 'gw-1', serverTimeMs: f.timeMs + 30_000 });
    const after = engine.pump('CS7-400002');
    assert.equal(after?.infusedMl, before?.infusedMl);
    assert.equal(after?.pumpTime, before?.pumpTime);
    assert.equal(engine.stats().staleSentences, 1);
    // same pump second, sequence number behind: also older
    const g = new PumpFeed('CS7-400002', f.iso);
    g.seq = f.seq - 2;
    engine.ingest(g.sts({ state: 'RUN', rateMlH: 5, infusedMl: 0.1, vtbiMl: 229.9, reservoirMl: 229.9 }), { gateway: 'gw-1', serverTimeMs: f.timeMs + 40_000 });
    assert.equal(engine.pump('CS7-400002')?.infusedMl, before?.infusedMl);
    assert.equal(engine.stats().staleSentences, 2);
  });

  test('EVT CLOCK setting the clock forward by an hour neither raises infusion_stopped nor loses the pause time', () => {
    const f = new PumpFeed('CS7-400003', '2026-12-04T07:00:00Z'); // pump clock one hour behind the server (and the gateway)
    const steps: Array<[PumpMessage, number]> = [];
    for (const m of [...f.start('P1', 5, 230, 46), ...f.run(10), f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), ...f.hold(3)]) steps.push(live(m, Date.parse(m.time) + 60 * MIN + 200));
    const oldTime = f.advance(10).iso;
    const behind = byType(drive(createDetectionEngine(), steps), 'clock_error');
    assert.deepEqual(behind.map((a) => [a.status, a.detail.behindS]), [['active', 3600]], 'heard live an hour behind');
    f.advance(60 * 60);
    // the clock is set right: the pump's time now agrees with the server's
    const clockSet = f.evt('CLOCK', oldTime);
    const afterSet = f.hold(1);
    const engine = createDetectionEngine();
    const first = drive(engine, [...steps, live(clockSet, f.timeMs - 60_000 + 200), ...afterSet.map((m) => live(m, f.timeMs + 200))]);
    assert.deepEqual(byType(first, 'infusion_stopped'), [], '4 min of pause so far');
    const clock = byType(first, 'clock_error');
    assert.equal(ids(clock).length, 1);
    assert.equal(clock.at(-1)!.status, 'cleared', 'the clock is right again; the change itself stays on record for a look');
    assert.equal(clock.at(-1)!.detail.clockChangeS, 3600);
    const more: Array<[PumpMessage, number]> = f.hold(2).map((m) => live(m, f.timeMs + 200));
    const later = drive(engine, more);
    assert.equal(byType(later, 'infusion_stopped').length, 1, 'over 5 min of pause in total');
  });
});

describe('signal_lost', () => {
  test('raised after signalLostS of server-clock silence during a program, cleared by the next sentence, revived when it flaps', () => {
    const f = new PumpFeed('CS7-400004', '2026-12-04T08:00:00Z');
    const engine = createDetectionEngine();
    replay(engine, [...f.start('P1', 5, 230, 46), ...f.run(10)]);
    const lastServer = f.timeMs + 200;
    engine.tick(lastServer + 299_000);
    assert.deepEqual(engine.takeChanges().alerts, []);
    engine.tick(lastServer + 300_000);
    const [lost] = engine.takeChanges().alerts;
    assert.equal(lost?.type, 'signal_lost');
    assert.equal(lost.severity, 'medium');
    assert.equal(lost.raisedAt, new Date(lastServer + 300_000).toISOString());
    assert.equal(lost.detail.lastPumpTime, f.iso);
    f.advance(6 * 60);
    engine.ingest(f.sts(), { gateway: 'gw-1', serverTimeMs: f.timeMs + 200 });
    const cleared = engine.takeChanges().alerts;
    assert.deepEqual(cleared.map((a) => [a.id, a.status]), [[lost.id, 'cleared']]);
    engine.tick(f.timeMs + 200 + 300_000);
    const again = engine.takeChanges().alerts;
    assert.deepEqual(again.map((a) => [a.id, a.status]), [[lost.id, 'active']], 'the same alert, not a new page');
    assert.equal(again[0]!.detail.flaps, 1);
  });

  test('never for a pump whose program has ended', () => {
    const f = new PumpFeed('CS7-400005', '2026-12-04T08:00:00Z');
    const engine = createDetectionEngine();
    replay(engine, [...f.start('P1', 60, 60, 1), ...f.run(61), f.evt('END', 'P1'), f.sts({ state: 'END' })]);
    engine.tick(f.timeMs + 3_600_000);
    assert.deepEqual(engine.openAlerts(), []);
  });
});

describe('gateway_offline', () => {
  test('one alert per pump with an unfinished program; signal_lost held back while offline; cleared when online', () => {
    // medium alerts escalate too: kept out of this hour's picture by a later escalation
    const engine = createDetectionEngine({ escalateAfterS: 86_400 });
    const a = new PumpFeed('CS7-400006', '2026-12-04T08:00:00Z');
    const b = new PumpFeed('CS7-400007', '2026-12-04T08:00:00Z');
    replay(engine, [...a.start('P1', 5, 230, 46), ...a.run(3)]);
    replay(engine, [...b.start('P2', 60, 60, 1), ...b.run(61), b.evt('END', 'P2')]);
    engine.takeChanges();
    const t0 = b.timeMs + 1000;
    engine.gatewayAvailability('gw-1', 'offline', t0);
    const off = engine.takeChanges();
    assert.deepEqual(off.alerts.map((x) => [x.type, x.pump, x.status]), [['gateway_offline', 'CS7-400006', 'active']]);
    assert.equal(off.pumps.find((p) => p.pump === 'CS7-400006')?.gatewayOnline, false);
    engine.tick(t0 + 3_600_000);
    assert.deepEqual(engine.takeChanges().alerts, [], 'no signal_lost on top');
    engine.gatewayAvailability('gw-1', 'online', t0 + 3_600_000);
    assert.deepEqual(engine.takeChanges().alerts.map((x) => [x.type, x.status]), [['gateway_offline', 'cleared']]);
  });
});
