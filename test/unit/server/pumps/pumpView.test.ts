import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createDetectionEngine, DEFAULT_DETECTION_CONFIG, DetectionConfigError } from '../../../../server/engine/index.ts';
import { captureMessages, PumpFeed, replay } from '../engine/feed.ts';

describe('pump view', () => {
  test('program info, lastSeen on the server clock, projectedEnd mapped from the pump clock', () => {
    const f = new PumpFeed('CS7-600001', '2026-12-06T08:00:00Z');
    const engine = createDetectionEngine();
    // the server clock runs 90 s after this pump's clock
    replay(engine, [...f.start('P1', 5, 230, 46), ...f.run(60)], { offsetMs: 90_000, gateway: 'home-7' });
    const v = engine.pump('CS7-600001');
    assert.ok(v);
    assert.equal(v.gateway, 'home-7');
    assert.equal(v.state, 'RUN');
    assert.equal(v.programId, 'P1');
    assert.equal(v.drug, 'FLUOROURACIL');
    assert.equal(v.programVolumeMl, 230);
    assert.equal(v.programHours, 46);
    assert.equal(v.infusedMl, 5);
    assert.equal(v.vtbiMl, 225);
    assert.equal(v.pumpTime, '2026-12-06T09:00:00Z');
    assert.equal(v.lastSeen, '2026-12-06T09:01:30.000Z');
    // 225 mL at 5 mL/h = 45 h after 09:00 pump time, plus the 90 s offset: 06:01:30, shown to the minute
    assert.equal(v.projectedEnd, '2026-12-08T06:02:00.000Z'); // to the minute
    assert.equal(v.activeAlerts, 0);
    assert.equal(v.gatewayOnline, null);
    engine.gatewayAvailability('home-7', 'online', f.timeMs);
    assert.equal(engine.pump('CS7-600001')?.gatewayOnline, true);
  });

  test('no projectedEnd while paused; activeAlerts counts active ones', () => {
    const engine = createDetectionEngine();
    const msgs = captureMessages('pause-20min');
    const cut = msgs.findIndex((m) => m.time > '2026-11-24T04:10:00Z');
    replay(engine, msgs.slice(0, cut));
    const v = engine.pump('CS7-004514');
    assert.equal(v?.state, 'PAUSE');
    assert.equal(v?.projectedEnd, null);
    assert.equal(v?.activeAlerts, 1);
    assert.equal(engine.pumps().length, 1);
  });

  test('takeChanges lists each changed pump once', () => {
    const f = new PumpFeed('CS7-600002', '2026-12-06T08:00:00Z');
    const engine = createDetectionEngine();
    for (const m of [...f.start('P1', 5, 230, 46), ...f.run(3)]) engine.ingest(m, { gateway: 'g', serverTimeMs: f.timeMs });
    const { pumps } = engine.takeChanges();
    assert.deepEqual(pumps.map((p) => p.pump), ['CS7-600002']);
    assert.deepEqual(engine.takeChanges().pumps, []);
  });
});

describe('detection config', () => {
  test('defaults are the documented ones and frozen', () => {
    assert.equal(DEFAULT_DETECTION_CONFIG.stoppedGraceS, 300);
    assert.equal(DEFAULT_DETECTION_CONFIG.signalLostS, 300);
    assert.equal(DEFAULT_DETECTION_CONFIG.escalateAfterS, 600);
    assert.equal(DEFAULT_DETECTION_CONFIG.clockAheadToleranceS, 600);
    assert.ok(Object.isFrozen(DEFAULT_DETECTION_CONFIG));
  });

  test('a bad value is refused with one clear line and a stable code', () => {
    for (const bad of [{ stoppedGraceS: -1 }, { signalLostS: Number.NaN }, { lowBatteryPct: 120 }, { nosuchSetting: 1 }]) {
      assert.throws(() => createDetectionEngine({ ...DEFAULT_DETECTION_CONFIG, ...bad }), (err: unknown) => {
        assert.ok(err instanceof DetectionConfigError);
        assert.equal(err.code, 'BAD_DETECTION_CONFIG');
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    }
  });

  test('a shorter grace is honoured', () => {
    const engine = createDetectionEngine({ ...DEFAULT_DETECTION_CONFIG, stoppedGraceS: 60 });
    const changes = replay(engine, captureMessages('pause-20min'));
    assert.equal(new Set(changes.map((a) => a.id)).size, 2, 'both pauses are now longer than the grace');
  });
});

describe('isoFromMs', () => {
  test('matches Date#toISOString', async () => {
    const { isoFromMs } = await import('../../../../server/pumps/isoTime.ts');
    for (const ms of [0, 1, 9, 10, 99, 100, 999, 1000, 1_764_000_000_123, 1_764_000_000_999, 1_764_000_001_005, 1_764_000_000_500]) {
      assert.equal(isoFromMs(ms), new Date(ms).toISOString(), String(ms));
    }
  });
});
