/** Restart and handover: export → new engine → restore behaves exactly like the engine that never stopped. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import { createDetectionEngine, type DetectionEngine, type PumpSnapshot } from '../../../../server/engine/index.ts';
import { captureMessages, ids, replay } from './feed.ts';

function handover(from: DetectionEngine, serial: string, alertsFirst = false): DetectionEngine {
  const snapshot = JSON.parse(JSON.stringify(from.exportPump(serial))) as PumpSnapshot;
  const stored = JSON.parse(JSON.stringify(from.openAlerts())) as ReturnType<DetectionEngine['openAlerts']>;
  const to = createDetectionEngine();
  if (!alertsFirst) to.restorePump(snapshot);
  for (const a of stored) to.restoreAlert(a);
  if (alertsFirst) to.restorePump(snapshot);
  return to;
}

function splitAt(msgs: PumpMessage[], time: string): [PumpMessage[], PumpMessage[]] {
  const i = msgs.findIndex((m) => m.time > time);
  return [msgs.slice(0, i), msgs.slice(i)];
}

describe('restore', () => {
  for (const [capture, serial, at] of [
    ['occlusion-at-20h', 'CS7-004513', '2026-11-24T06:20:00Z'], // inferred occlusion active
    ['occlusion-at-20h', 'CS7-004513', '2026-11-24T06:50:00Z'], // pump alarm, halted
    ['pause-20min', 'CS7-004514', '2026-11-24T04:05:00Z'], // paused, inside the grace
    ['pause-20min', 'CS7-004514', '2026-11-24T04:10:00Z'], // infusion_stopped active
    ['early-end-19h', 'CS7-004515', '2026-11-23T20:00:00Z'], // projection active
  ] as const) {
    test(`${capture} handed over at ${at} continues identically (pump or alerts restored first)`, () => {
      for (const alertsFirst of [false, true]) {
        const [before, after] = splitAt(captureMessages(capture), at);
        const original = createDetectionEngine();
        replay(original, before);
        const restored = handover(original, serial, alertsFirst);
        assert.deepEqual(restored.takeChanges().alerts, [], 'restoring publishes nothing');
        assert.deepEqual(restored.openAlerts(), original.openAlerts());
        assert.deepEqual(restored.pump(serial), original.pump(serial));
        const a = replay(original, after);
        const b = replay(restored, after);
        assert.deepEqual(b, a);
        assert.deepEqual(restored.openAlerts(), original.openAlerts());
      }
    });
  }

  test('alerts restored from storage and the same history delivered again: same ids, no duplicate', () => {
    const msgs = captureMessages('occlusion-at-20h');
    const first = createDetectionEngine();
    const firstChanges = replay(first, msgs);
    const again = createDetectionEngine();
    for (const a of first.openAlerts()) again.restoreAlert(a);
    const secondChanges = replay(again, msgs);
    assert.deepEqual(ids(secondChanges), ids(firstChanges));
    assert.equal(again.openAlerts().length, 1);
    assert.equal(again.openAlerts()[0]!.status, 'cleared');
  });

  test('after a restart the backlog gets signalLostS to arrive before a pump is called silent', () => {
    const msgs = captureMessages('folfox-46h-normal').slice(0, 100);
    const original = createDetectionEngine();
    replay(original, msgs);
    const restored = handover(original, 'CS7-004512');
    const lastServer = Date.parse(msgs.at(-1)!.time) + 200;
    const restart = lastServer + 10 * 60_000; // the server was down for 10 min
    restored.tick(restart);
    assert.deepEqual(restored.takeChanges().alerts, []);
    restored.tick(restart + 299_000);
    assert.deepEqual(restored.takeChanges().alerts, []);
    restored.tick(restart + 300_000);
    assert.deepEqual(restored.takeChanges().alerts.map((a) => a.type), ['signal_lost']);
  });

  test('unknown pumps and malformed snapshots are ignored', () => {
    const engine = createDetectionEngine();
    assert.equal(engine.exportPump('NOPE'), undefined);
    engine.restorePump({ pump: 'X-1', version: 1 });
    engine.restorePump({ pump: 'X-1', version: 1, record: { pump: 'OTHER' }, alerts: [] });
    assert.equal(engine.pump('X-1'), undefined);
  });

  test('forgetPump drops the pump and its alerts', () => {
    const engine = createDetectionEngine();
    replay(engine, captureMessages('pause-20min'));
    assert.equal(engine.openAlerts().length, 1);
    engine.forgetPump('CS7-004514');
    assert.equal(engine.pump('CS7-004514'), undefined);
    assert.deepEqual(engine.openAlerts(), []);
    assert.deepEqual(engine.takeChanges(), { alerts: [], pumps: [] });
  });
});
