import { test } from 'vitest';
import assert from 'node:assert/strict';
import { decodeSentence } from '../../../../protocol/index.ts';
import { runScenario } from '../../../../simulators/scenarioRun.ts';
import { DEMO_HOMES } from '../../../../scripts/demo/homes.ts';

/** the sentence that makes each demo home worth watching */
const NOTABLE: Record<string, (line: string) => boolean> = {
  occlusion: (l) => l.includes(',ALARM_ON,OCCL_DN'),
  'long-pause': (l) => l.includes(',PAUSE,*') && l.startsWith('$EVT'),
  'early-end': (l) => l.startsWith('$EVT') && l.includes(',END,'),
  'ble-drops': () => false,
  'normal-46h': (l) => l.startsWith('$EVT') && l.includes(',END,'),
};

test('five homes with distinct gateways, serials and the scenarios the demo promises', () => {
  assert.equal(DEMO_HOMES.length, 5);
  assert.equal(new Set(DEMO_HOMES.map((h) => h.gatewayId)).size, 5);
  assert.equal(new Set(DEMO_HOMES.map((h) => h.serial)).size, 5);
  assert.deepEqual(DEMO_HOMES.map((h) => h.scenario).sort(), ['ble-drops', 'early-end', 'long-pause', 'normal-46h', 'occlusion']);
});

test('each home\'s notable moment comes live, within 3 minutes of real time (the uneventful one ends within 20)', () => {
  for (const home of DEMO_HOMES) {
    const run = runScenario(home.scenario, { serial: home.serial, startMs: 0 });
    const liveFromMs = home.liveFromH * 3_600_000;
    const items = [...run.items];
    const notable = home.scenario === 'ble-drops'
      ? items.find((i) => i.lost && i.atMs >= liveFromMs)
      : items.find((i) => i.kind === 'sentence' && NOTABLE[home.scenario]?.(i.line));
    assert.ok(notable, home.scenario);
    assert.ok(decodeSentence(notable.line).ok);
    const realS = (notable.atMs - liveFromMs) / home.speed / 1000;
    const limitS = home.scenario === 'normal-46h' ? 20 * 60 : 180;
    assert.ok(realS > 0 && realS < limitS, `${home.scenario}: ${realS} s after the start`);
  }
});
