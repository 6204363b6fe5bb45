import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeSentence, parsePumpTime, type Sentence, type StatusSentence } from '../../../protocol/index.ts';
import { loadCapture } from '../../../simulators/capture.ts';
import { runScenario, scenarioSentences, scenarioWireLines, UnknownScenarioError } from '../../../simulators/scenarioRun.ts';
import { SCENARIO_NAMES } from '../../../simulators/scenarios.ts';

const CAPTURES = join(import.meta.dirname, '../../fixtures/captures');
const H = 3_600_000;

function decodeAll(lines: string[]): Sentence[] {
  return lines.map((l) => {
    const d = decodeSentence(l);
    assert.ok(d.ok, `does not decode: ${l}`);
    return d.sentence;
  });
}
const codes = (s: Sentence[]): string[] => s.flatMap((x) => (x.type === 'event' ? [x.code] : []));
const sts = (s: Sentence[]): StatusSentence[] => s.filter((x): x is StatusSentence => x.type === 'status');

describe('scenarios', () => {
  test('the required scenarios exist', () => {
    for (const name of ['normal-46h', 'occlusion', 'short-pause', 'long-pause', 'early-end', 'low-battery', 'ble-drops', 'noisy-link', 'clock-days-off', 'power-cycle']) {
      assert.ok(SCENARIO_NAMES.includes(name), name);
    }
  });

  for (const name of SCENARIO_NAMES) {
    test(`${name}: every sentence decodes, seq +1 each (0 at each POWER_ON), deterministic`, () => {
      const lines = scenarioSentences(name, { seed: 3 });
      const s = decodeAll(lines);
      assert.ok(s.length > 1000);
      assert.equal(s[0]?.seq, 0);
      for (let i = 1; i < s.length; i++) {
        const cur = s[i] as Sentence;
        const expected = cur.type === 'event' && cur.code === 'POWER_ON' ? 0 : ((s[i - 1]?.seq ?? 0) + 1) % 65536;
        assert.equal(cur.seq, expected, lines[i]);
      }
      assert.deepEqual(scenarioSentences(name, { seed: 3 }), lines);
    });
  }

  test('normal-46h: 230 mL at 5 mL/h, END 46 h after START', () => {
    const s = decodeAll(scenarioSentences('normal-46h'));
    const start = s.find((x) => x.type === 'event' && x.code === 'START');
    const end = s.find((x) => x.type === 'event' && x.code === 'END');
    assert.ok(start && end);
    assert.equal(parsePumpTime(end.time) - parsePumpTime(start.time), 46 * H);
    assert.equal(sts(s).at(-1)?.infusedMl, 230);
  });

  test('occlusion: ~40 min of rising pressure with vi flat while RUN, then OCCL_DN, cleared, runs on to END', () => {
    const s = decodeAll(scenarioSentences('occlusion'));
    const alarmIdx = s.findIndex((x) => x.type === 'event' && x.code === 'ALARM_ON' && x.detail === 'OCCL_DN');
    assert.ok(alarmIdx > 0);
    const run = sts(s.slice(0, alarmIdx)).filter((x) => x.state === 'RUN');
    const rising = run.slice(-38);
    assert.ok(rising.every((x) => x.infusedMl === rising[0]?.infusedMl), 'vi flat');
    for (let i = 1; i < rising.length; i++) assert.ok((rising[i]?.pressureMmHg ?? 0) > (rising[i - 1]?.pressureMmHg ?? 0));
    assert.ok((rising[0]?.pressureMmHg ?? 0) < 100 && (rising.at(-1)?.pressureMmHg ?? 0) < 775);
    assert.deepEqual(codes(s).filter((c) => c !== 'POWER_ON'), ['PROGRAM', 'START', 'ALARM_ON', 'ALARM_OFF', 'END']);
    assert.equal(sts(s).at(-1)?.state, 'END');
  });

  test('pauses: short 2 min and long 45 min', () => {
    for (const [name, minutes] of [['short-pause', 2], ['long-pause', 45]] as const) {
      const s = decodeAll(scenarioSentences(name));
      const p = s.find((x) => x.type === 'event' && x.code === 'PAUSE');
      const r = s.find((x) => x.type === 'event' && x.code === 'RESUME');
      assert.ok(p && r);
      assert.equal((parsePumpTime(r.time) - parsePumpTime(p.time)) / 60_000, minutes);
    }
  });

  test('early-end: END about 19 h after START', () => {
    const s = decodeAll(scenarioSentences('early-end'));
    const start = s.find((x) => x.type === 'event' && x.code === 'START');
    const end = s.find((x) => x.type === 'event' && x.code === 'END');
    assert.ok(start && end);
    const h = (parsePumpTime(end.time) - parsePumpTime(start.time)) / H;
    assert.ok(h > 19 && h < 19.5, `${h} h`);
  });

  test('wrong-rate-4d (the ISMP case): PRG at 28.8 mL/h for 130 mL, END about 4.5 h after START, then status at END for a day', () => {
    const s = decodeAll(scenarioSentences('wrong-rate-4d'));
    const prg = s.find((x) => x.type === 'program');
    assert.ok(prg?.type === 'program');
    assert.deepEqual([prg.drug, prg.rateMlH, prg.volumeMl], ['FLUOROURACIL', 28.8, 130]);
    const start = s.find((x) => x.type === 'event' && x.code === 'START');
    const end = s.find((x) => x.type === 'event' && x.code === 'END');
    assert.ok(start && end);
    const h = (parsePumpTime(end.time) - parsePumpTime(start.time)) / H;
    assert.ok(h > 4.5 && h < 4.55, `${h} h`);
    const last = sts(s).at(-1);
    assert.equal(last?.state, 'END');
    assert.equal(last?.infusedMl, 130);
    assert.ok((parsePumpTime(last.time) - parsePumpTime(end.time)) / H >= 20);
  });

  test('low-battery: BATT_LOW while running, then BATT_DEPL halts', () => {
    const s = decodeAll(scenarioSentences('low-battery'));
    assert.ok(sts(s).some((x) => x.state === 'RUN' && x.alarms.includes('BATT_LOW')));
    assert.equal(sts(s).at(-1)?.state, 'ALARM');
    assert.ok(sts(s).at(-1)?.alarms.includes('BATT_DEPL'));
  });

  test('ble-drops: sentences lost on the wire are in the pump output but not on the wire', () => {
    const items = [...runScenario('ble-drops').items];
    const lost = items.filter((i) => i.lost);
    assert.equal(lost.length, 10 + 40 + 2 + 60);
    const wire = scenarioWireLines('ble-drops');
    assert.equal(wire.length, items.length - lost.length);
    assert.ok(lost.every((l) => !wire.includes(l.line)));
  });

  test('noisy-link: bad lines interleaved that the decoder rejects; the sentences are all there', () => {
    const wire = scenarioWireLines('noisy-link', { seed: 5 });
    const bad = wire.filter((l) => !decodeSentence(l).ok);
    assert.ok(bad.length > 50);
    assert.ok(bad.some((l) => l.length > 256));
    assert.ok(bad.some((l) => l === ''));
    assert.equal(wire.length - bad.length, scenarioSentences('noisy-link', { seed: 5 }).length);
  });

  test('clock-days-off: pump clock ~2 days ahead, set right with EVT CLOCK', () => {
    const items = [...runScenario('clock-days-off').items];
    const first = decodeAll([items[0]?.line ?? '']);
    assert.equal(parsePumpTime(first[0]?.time ?? '') - (items[0]?.atMs ?? 0), 51 * H);
    const s = decodeAll(items.map((i) => i.line));
    const clock = s.find((x) => x.type === 'event' && x.code === 'CLOCK');
    assert.ok(clock && clock.type === 'event');
    assert.equal(parsePumpTime(clock.detail) - parsePumpTime(clock.time), 51 * H);
  });

  test('power-cycle: POWER_OFF, POWER_ON with seq 0, program held then resumed, vi kept', () => {
    const s = decodeAll(scenarioSentences('power-cycle'));
    const on = s.findIndex((x, i) => i > 0 && x.type === 'event' && x.code === 'POWER_ON');
    assert.ok(on > 0);
    assert.equal(s[on]?.seq, 0);
    const before = sts(s.slice(0, on)).at(-1);
    const after = sts(s.slice(on))[0];
    assert.equal(after?.state, 'PAUSE');
    assert.equal(after?.infusedMl, before?.infusedMl);
    assert.equal(sts(s).at(-1)?.state, 'END');
  });

  test('endingAtMs: the pump clock of the last sentence is that instant', () => {
    const now = Date.parse('2026-11-27T15:04:05.678Z');
    for (const name of ['normal-46h', 'clock-days-off']) {
      const s = decodeAll(scenarioSentences(name, { endingAtMs: now }));
      assert.equal(s.at(-1)?.time, '2026-11-27T15:04:05Z');
    }
  });

  test('timing does not depend on the absolute start (float noise never shifts an event)', () => {
    for (const name of SCENARIO_NAMES) {
      const rel = (startMs: number): number[] => [...runScenario(name, { startMs }).items].map((i) => i.atMs - startMs);
      const base = rel(0);
      for (const startMs of [1000, Date.parse('2026-11-27T15:04:05Z'), Date.parse('2031-02-03T04:05:06Z')]) assert.deepEqual(rel(startMs), base, `${name} at ${startMs}`);
    }
  });

  test('capture:<file> replays the file verbatim, noise included, ending now if asked', () => {
    const file = join(CAPTURES, 'noisy-link.log');
    const items = [...runScenario(`capture:${file}`, { endingAtMs: Date.parse('2026-12-01T00:00:00Z') }).items];
    assert.deepEqual(items.map((i) => i.line), loadCapture(file));
    assert.equal(items.at(-1)?.atMs, Date.parse('2026-12-01T00:00:00Z'));
    assert.ok(items.some((i) => i.kind === 'noise'));
  });

  test('an unknown scenario is a coded error', () => {
    assert.throws(() => runScenario('nope'), (e: unknown) => e instanceof UnknownScenarioError && e.code === 'unknown_scenario');
  });
});
