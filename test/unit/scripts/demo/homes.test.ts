import { test } from 'vitest';
import assert from 'node:assert/strict';
import { decodeSentence } from '../../../../protocol/index.ts';
import { runScenario } from '../../../../simulators/scenarioRun.ts';
import { DEMO_HOMES } from '../../../../scripts/demo/homes.ts';

const isEvent = (l: string, code: string): boolean => l.startsWith('$EVT') && l.includes(`,${code},`);
/** the sentence that makes each demo home worth watching, and within how many real seconds it comes */
const NOTABLE: Record<string, { sentence: (line: string) => boolean; withinS: number }> = {
  'home-1': { sentence: (l) => isEvent(l, 'END'), withinS: 20 * 60 }, // the uneventful one: its end
  'home-2': { sentence: (l) => l.includes(',ALARM_ON,OCCL_DN'), withinS: 180 },
  'home-3': { sentence: (l) => l.includes(',PAUSE,*') && l.startsWith('$EVT'), withinS: 180 },
  'home-4': { sentence: (l) => isEvent(l, 'END'), withinS: 180 },
  'home-5': { sentence: () => false, withinS: 180 }, // the first sentence lost on the wire, below
  // program_mismatch and program_unassigned come at START: within seconds
  'home-6': { sentence: (l) => isEvent(l, 'START'), withinS: 10 },
  'home-7': { sentence: (l) => isEvent(l, 'START'), withinS: 10 },
};

test('seven homes with distinct gateways, serials and the scenarios the demo promises', () => {
  assert.equal(DEMO_HOMES.length, 7);
  assert.equal(new Set(DEMO_HOMES.map((h) => h.gatewayId)).size, 7);
  assert.equal(new Set(DEMO_HOMES.map((h) => h.serial)).size, 7);
  assert.deepEqual(DEMO_HOMES.map((h) => h.scenario).sort(),
    ['ble-drops', 'early-end', 'long-pause', 'normal-46h', 'normal-46h', 'occlusion', 'wrong-rate-4d']);
});

test('each home\'s notable moment comes live, within 3 minutes of real time (the uneventful one ends within 20, START within 10 s)', () => {
  for (const home of DEMO_HOMES) {
    const run = runScenario(home.scenario, { serial: home.serial, startMs: 0 });
    const liveFromMs = home.liveFromH * 3_600_000;
    const items = [...run.items];
    const want = NOTABLE[home.gatewayId];
    assert.ok(want, home.gatewayId);
    const notable = home.scenario === 'ble-drops'
      ? items.find((i) => i.lost && i.atMs >= liveFromMs)
      : items.find((i) => i.kind === 'sentence' && want.sentence(i.line));
    assert.ok(notable, home.gatewayId);
    assert.ok(decodeSentence(notable.line).ok);
    const realS = (notable.atMs - liveFromMs) / home.speed / 1000;
    assert.ok(realS > 0 && realS < want.withinS, `${home.gatewayId}: ${realS} s after the start`);
  }
});
