/** The shared captures through the engine, with a server clock that follows pump time. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createDetectionEngine, DEFAULT_DETECTION_CONFIG } from '../../../../server/engine/index.ts';
import { byType, captureMessages, ids, replay } from './feed.ts';

describe('captures', () => {
  test('folfox-46h-normal raises nothing at all', () => {
    const engine = createDetectionEngine(DEFAULT_DETECTION_CONFIG);
    const msgs = captureMessages('folfox-46h-normal');
    assert.equal(msgs.length, 2772);
    const changes = replay(engine, msgs);
    assert.deepEqual(changes, []);
    assert.deepEqual(engine.openAlerts(), []);
    const view = engine.pump('CS7-004512');
    assert.equal(view?.state, 'END');
    assert.equal(view?.activeAlerts, 0);
  });

  test('an engine that joins folfox-46h-normal half way counts the hours before it and raises nothing', () => {
    const engine = createDetectionEngine(DEFAULT_DETECTION_CONFIG);
    const changes = replay(engine, captureMessages('folfox-46h-normal').slice(1400));
    assert.deepEqual(changes, []);
    assert.equal(engine.pump('CS7-004512')?.state, 'END');
  });

  test('occlusion-at-20h: one occlusion alert, inferred well before the pump alarm, cleared when it runs again', () => {
    const engine = createDetectionEngine(DEFAULT_DETECTION_CONFIG);
    const changes = replay(engine, captureMessages('occlusion-at-20h'));
    assert.deepEqual([...new Set(changes.map((a) => a.type))], ['occlusion'], 'no other alert type (infusion_stopped is held back by the active occlusion)');
    const occl = byType(changes, 'occlusion');
    assert.equal(ids(occl).length, 1);
    const first = occl[0]!;
    assert.equal(first.status, 'active');
    assert.equal(first.severity, 'high');
    assert.equal(first.detail.inferred, true);
    assert.equal(first.raisedAt, '2026-11-24T06:05:00Z');
    const pumpAlarmMs = Date.parse('2026-11-24T06:40:00Z');
    const leadMin = (pumpAlarmMs - Date.parse(first.raisedAt)) / 60_000;
    assert.ok(leadMin >= 30, `inferred ${leadMin} min before OCCL_DN`);
    assert.match(first.message, /CS7-004513/);
    assert.equal(first.detail.stalledSincePumpTime, '2026-11-24T06:00:00Z');
    const confirmed = occl.find((a) => a.detail.pumpAlarm === 'OCCL_DN');
    assert.ok(confirmed, 'the pump alarm is added to the same alert');
    assert.equal(confirmed.detail.pumpAlarmLeadS, 35 * 60);
    const last = occl.at(-1)!;
    assert.equal(last.status, 'cleared');
    assert.equal(last.clearedAt, '2026-11-24T07:15:00Z');
    assert.equal(last.acknowledged, false);
    assert.deepEqual(engine.openAlerts().map((a) => a.id), [first.id], 'cleared but unacknowledged stays open');
  });

  test('pause-20min: the 2-min pause raises nothing, the 20-min pause raises infusion_stopped and clears on resume', () => {
    const engine = createDetectionEngine(DEFAULT_DETECTION_CONFIG);
    const changes = replay(engine, captureMessages('pause-20min'));
    assert.deepEqual([...new Set(changes.map((a) => a.type))], ['infusion_stopped']);
    assert.equal(ids(changes).length, 1);
    const [raised, cleared] = [changes[0]!, changes.at(-1)!];
    assert.equal(raised.status, 'active');
    assert.equal(raised.raisedAt, '2026-11-24T04:08:00Z', 'first status more than 300 s after the PAUSE at 04:02');
    assert.equal(raised.detail.reason, 'paused');
    assert.equal(raised.detail.stoppedSincePumpTime, '2026-11-24T04:02:00Z');
    assert.equal(cleared.status, 'cleared');
    assert.equal(cleared.clearedAt, '2026-11-24T04:22:00Z');
  });

  test('early-end-19h: delivery_below_24h projected at START, then ended', () => {
    const engine = createDetectionEngine(DEFAULT_DETECTION_CONFIG);
    const changes = replay(engine, captureMessages('early-end-19h'));
    assert.deepEqual([...new Set(changes.map((a) => a.type))], ['delivery_below_24h']);
    const projected = changes[0]!;
    assert.equal(projected.detail.projected, true);
    assert.equal(projected.raisedAt, '2026-11-23T09:00:00Z');
    assert.ok(Math.abs(Number(projected.detail.projectedHours) - 230 / 12) < 0.01);
    const ended = changes.at(-1)!;
    assert.equal(ended.detail.projected, false);
    assert.equal(ended.status, 'active');
    assert.ok(Math.abs(Number(ended.detail.deliveredHours) - (19 + 10 / 60)) < 0.01, String(ended.detail.deliveredHours));
    assert.match(ended.message, /19\.2 h/);
  });

  test('noisy-link (valid lines only) raises nothing', () => {
    const engine = createDetectionEngine(DEFAULT_DETECTION_CONFIG);
    const msgs = captureMessages('noisy-link');
    assert.equal(msgs.length, 36);
    assert.deepEqual(replay(engine, msgs), []);
    assert.equal(engine.stats().pumps, 1);
  });
});
