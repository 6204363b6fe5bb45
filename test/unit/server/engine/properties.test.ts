/** Random pump histories: the engine never throws, is deterministic, and keeps one active alert per (pump, type). */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Alert } from '../../../../protocol/api.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';
import { createDetectionEngine } from '../../../../server/engine/index.ts';
import { PumpFeed } from './feed.ts';

type Step =
  | { kind: 'run'; minutes: number; pressure: number }
  | { kind: 'pause'; minutes: number }
  | { kind: 'alarm'; code: string; minutes: number }
  | { kind: 'rate'; rate: number }
  | { kind: 'silence'; minutes: number }
  | { kind: 'battery'; pct: number }
  | { kind: 'clockAhead'; minutes: number }
  | { kind: 'gateway'; online: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('run' as const), minutes: fc.integer({ min: 1, max: 30 }), pressure: fc.integer({ min: 0, max: 400 }) }),
  fc.record({ kind: fc.constant('pause' as const), minutes: fc.integer({ min: 1, max: 15 }) }),
  fc.record({ kind: fc.constant('alarm' as const), code: fc.constantFrom('OCCL_DN', 'AIR', 'FAULT', 'CASS', 'RES_EMPTY', 'BATT_LOW', 'NEW_CODE'), minutes: fc.integer({ min: 0, max: 15 }) }),
  fc.record({ kind: fc.constant('rate' as const), rate: fc.constantFrom(0, 2, 5, 12, 20) }),
  fc.record({ kind: fc.constant('silence' as const), minutes: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('battery' as const), pct: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ kind: fc.constant('clockAhead' as const), minutes: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('gateway' as const), online: fc.boolean() }),
);

type Input = { msg: PumpMessage; serverMs: number } | { gateway: boolean; serverMs: number } | { tick: number };

function script(steps: Step[]): Input[] {
  const f = new PumpFeed('CS7-900001', '2026-12-07T08:00:00Z');
  let aheadMs = 0;
  const out: Input[] = [];
  const push = (msgs: PumpMessage[]): void => {
    for (const msg of msgs) out.push({ msg, serverMs: Date.parse(msg.time) - aheadMs + 200 });
  };
  push(f.start('P1', 5, 230, 46));
  for (const s of steps) {
    switch (s.kind) {
      case 'run': push(f.run(s.minutes, () => s.pressure)); break;
      case 'pause': push([f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), ...f.hold(s.minutes), f.evt('RESUME'), f.sts({ state: 'RUN' })]); break;
      case 'alarm':
        push([f.evt('ALARM_ON', s.code), f.sts({ state: 'ALARM', alarms: [s.code] }), ...f.hold(s.minutes)]);
        push([f.evt('ALARM_OFF', s.code), f.sts({ state: 'RUN', alarms: [] })]);
        break;
      case 'rate': push([f.evt('RATE', s.rate.toFixed(2)), f.sts({ rateMlH: s.rate })]); break;
      case 'silence':
        for (let m = 1; m <= s.minutes; m++) out.push({ tick: f.timeMs - aheadMs + m * 60_000 });
        f.advance(s.minutes * 60);
        break;
      case 'battery': push([f.sts({ batteryPct: s.pct })]); break;
      case 'clockAhead': aheadMs = s.minutes * 60_000; break;
      case 'gateway': out.push({ gateway: s.online, serverMs: f.timeMs - aheadMs + 300 }); break;
    }
  }
  return out;
}

function run(inputs: Input[]): { changes: Alert[]; open: Alert[] } {
  const engine = createDetectionEngine();
  const changes: Alert[] = [];
  for (const i of inputs) {
    if ('msg' in i) {
      engine.ingest(i.msg, { gateway: 'gw-1', serverTimeMs: i.serverMs });
      engine.tick(i.serverMs);
    } else if ('gateway' in i) engine.gatewayAvailability('gw-1', i.gateway ? 'online' : 'offline', i.serverMs);
    else engine.tick(i.tick);
    const { alerts } = engine.takeChanges();
    changes.push(...alerts);
    const active = engine.openAlerts().filter((a) => a.status === 'active').map((a) => a.type);
    assert.equal(new Set(active).size, active.length, `two active alerts of one type: ${active.join(',')}`);
  }
  return { changes, open: engine.openAlerts() };
}

test('random histories: no throw, deterministic, one active alert per type, messages name the pump', () => {
  const typesSeen = new Set<string>();
  fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
    const inputs = script(steps);
    const a = run(inputs);
    for (const alert of a.changes) typesSeen.add(alert.type);
    const b = run(inputs);
    assert.deepEqual(b, a);
    for (const alert of a.changes) {
      assert.match(alert.message, /CS7-900001/);
      assert.doesNotMatch(alert.message, /NaN|undefined|null/);
      assert.ok(alert.message.length < 300);
    }
  }), { numRuns: 150, seed: 20261207 });
  // the histories are rich enough to exercise most detectors
  assert.ok(typesSeen.size >= 7, [...typesSeen].join(','));
});
