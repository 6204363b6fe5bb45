import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeSentence, parsePumpTime, type Sentence, type StatusSentence } from '../../../protocol/index.ts';
import { loadCapture } from '../../../simulators/capture.ts';
import { PumpModel, type Emitted, type PumpProgram } from '../../../simulators/pumpModel.ts';

const CAPTURES = join(import.meta.dirname, '../../fixtures/captures');
const MIN = 60_000;
const H = 3_600_000;
const T0 = Date.parse('2026-11-23T09:00:00Z');
const FOLFOX: PumpProgram = { programId: 'FOLFOX-C3', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 };

function decoded(out: Emitted[]): Sentence[] {
  return out.map((e) => {
    const d = decodeSentence(e.line);
    assert.ok(d.ok, `does not decode: ${e.line}`);
    return d.sentence;
  });
}
const statuses = (s: Sentence[]): StatusSentence[] => s.filter((x): x is StatusSentence => x.type === 'status');
const events = (s: Sentence[]): string[] => s.flatMap((x) => (x.type === 'event' ? [`${x.code}:${x.detail}`] : []));

/** power on at T0, program + start at T0 + 5 min */
function running(opts: Partial<ConstructorParameters<typeof PumpModel>[0]> = {}, program = FOLFOX): { m: PumpModel; out: Emitted[] } {
  const m = new PumpModel({ serial: 'SIM-1', pressureNoiseMmHg: 0, ...opts }, T0);
  const out = [...m.powerOn(T0), ...m.loadProgram(T0 + 5 * MIN, program), ...m.start(T0 + 5 * MIN)];
  return { m, out };
}

describe('PumpModel reproduces the captures byte for byte', () => {
  test('folfox-46h-normal.log', () => {
    const t0 = Date.parse('2026-11-23T08:55:00Z');
    const m = new PumpModel({ serial: 'CS7-004512', pressureNoiseMmHg: 0 }, t0);
    const out = [...m.powerOn(t0), ...m.loadProgram(t0 + 5 * MIN, FOLFOX), ...m.start(t0 + 5 * MIN), ...m.advanceTo(t0 + 5 * MIN + 46 * H)];
    assert.deepEqual(out.map((e) => e.line), loadCapture(join(CAPTURES, 'folfox-46h-normal.log')));
  });

  test('early-end-19h.log (keyed at 12 mL/h)', () => {
    const m = new PumpModel({ serial: 'CS7-004515', pressureNoiseMmHg: 0 }, T0);
    const prog = { ...FOLFOX, programId: 'FOLFOX-C5', rateMlH: 12 };
    const out = [...m.powerOn(T0), ...m.loadProgram(T0, prog), ...m.start(T0), ...m.advanceTo(T0 + 19 * H + 10 * MIN)];
    assert.deepEqual(out.map((e) => e.line), loadCapture(join(CAPTURES, 'early-end-19h.log')));
  });

  test('pause-20min.log (2-min and 20-min pauses)', () => {
    const t0 = Date.parse('2026-11-23T12:00:00Z');
    const m = new PumpModel({ serial: 'CS7-004514', pressureNoiseMmHg: 0 }, t0);
    const prog: PumpProgram = { programId: 'FU-96H', drug: 'FLUOROURACIL', rateMlH: 2.5, volumeMl: 240, hours: 96 };
    const out = [
      ...m.powerOn(t0), ...m.loadProgram(t0, prog), ...m.start(t0),
      ...m.pause(t0 + 6 * H), ...m.resume(t0 + 6 * H + 2 * MIN),
      ...m.pause(t0 + 16 * H + 2 * MIN), ...m.resume(t0 + 16 * H + 22 * MIN),
      ...m.advanceTo(Date.parse('2026-11-24T08:22:00Z')),
    ];
    assert.deepEqual(out.map((e) => e.line), loadCapture(join(CAPTURES, 'pause-20min.log')));
  });
});

describe('PumpModel states, sequence and status interval', () => {
  test('power-on is seq 0 then IDLE status; PRG, PROGRAM, START then a RUN status at once', () => {
    const { out } = running();
    const s = decoded(out);
    assert.deepEqual(s.map((x) => [x.seq, x.type]), [[0, 'event'], [1, 'status'], [2, 'status'], [3, 'status'], [4, 'status'], [5, 'status'], [6, 'status'], [7, 'program'], [8, 'event'], [9, 'event'], [10, 'status']]);
    assert.deepEqual(events(s), ['POWER_ON:4.2.1', 'PROGRAM:FOLFOX-C3', 'START:FOLFOX-C3']);
    assert.equal(statuses(s).at(-1)?.state, 'RUN');
  });

  test('status every interval, and at once after a change of state, the interval restarting from it', () => {
    const { m } = running({ statusIntervalS: 10 });
    const a = decoded(m.advanceTo(T0 + 5 * MIN + 35_000));
    assert.deepEqual(a.map((x) => x.time.slice(11)), ['09:05:10Z', '09:05:20Z', '09:05:30Z']);
    const b = decoded(m.pause(T0 + 5 * MIN + 37_000));
    assert.deepEqual(b.map((x) => (x.type === 'status' ? x.state : x.type)), ['event', 'PAUSE']);
    const c = decoded(m.advanceTo(T0 + 5 * MIN + 60_000));
    assert.deepEqual(c.map((x) => x.time.slice(11)), ['09:05:47Z', '09:05:57Z']);
  });

  test('seq wraps 65535 → 0 without a power-on, and restarts at 0 at POWER_ON', () => {
    const { m } = running({ statusIntervalS: 10 }, { ...FOLFOX, volumeMl: 9999, rateMlH: 0.5, hours: 9999 });
    const out = m.advanceTo(T0 + 8 * 24 * H);
    const i = out.findIndex((e) => e.seq === 65535);
    assert.ok(i > 0);
    assert.equal(out[i + 1]?.seq, 0);
    assert.ok(out[i + 1]?.line.startsWith('$STS'));
    for (let k = 1; k < out.length; k++) assert.equal(out[k]?.seq, ((out[k - 1]?.seq ?? 0) + 1) % 65536);
    const off = decoded(m.powerOff(T0 + 8 * 24 * H + MIN));
    const on = decoded(m.powerOn(T0 + 8 * 24 * H + 2 * MIN));
    assert.deepEqual(events(off), ['POWER_OFF:']);
    assert.equal(on[0]?.seq, 0);
    assert.deepEqual(events(on), ['POWER_ON:4.2.1']);
    assert.equal(statuses(on)[0]?.state, 'PAUSE', 'a running program is held after a power cut');
  });

  test('nothing is sent while powered off', () => {
    const { m } = running();
    m.powerOff(T0 + H);
    assert.deepEqual(m.advanceTo(T0 + 2 * H), []);
  });
});

describe('PumpModel delivery', () => {
  test('vi = rate × time in RUN, rounded to 2 decimals, never decreasing; vtbi and reservoir follow', () => {
    const { m } = running();
    const s = statuses(decoded(m.advanceTo(T0 + 5 * MIN + 10 * H)));
    let last = 0;
    for (const st of s) {
      const elapsedH = (parsePumpTime(st.time) - (T0 + 5 * MIN)) / H;
      assert.equal(st.infusedMl, Math.round(5 * elapsedH * 100) / 100);
      assert.ok(st.infusedMl >= last);
      last = st.infusedMl;
      assert.ok(Math.abs(st.vtbiMl - (230 - 5 * elapsedH)) <= 0.005 + 1e-9);
      assert.equal(st.reservoirMl, st.vtbiMl);
    }
    assert.equal(s.at(-1)?.infusedMl, 50);
  });

  test('paused time delivers nothing and does not drain the battery', () => {
    const { m } = running({ batteryDrainPctH: 10 });
    m.pause(T0 + 5 * MIN + H);
    const during = statuses(decoded(m.advanceTo(T0 + 5 * MIN + 3 * H)));
    assert.ok(during.every((st) => st.infusedMl === 5 && st.batteryPct === 90 && st.state === 'PAUSE'));
  });

  test('early end: keyed at 12 mL/h the 230 mL are done after 19 h 10 min: END then an END status', () => {
    const { m } = running({}, { ...FOLFOX, rateMlH: 12 });
    const s = decoded(m.advanceTo(T0 + 30 * H));
    const endAt = s.find((x) => x.type === 'event' && x.code === 'END');
    assert.ok(endAt);
    assert.equal(parsePumpTime(endAt.time) - (T0 + 5 * MIN), (230 / 12) * H);
    const last = statuses(s).at(-1);
    assert.equal(last?.state, 'END');
    assert.equal(last?.infusedMl, 230);
  });

  test('a reservoir smaller than the program empties first: RES_EMPTY halts delivery', () => {
    const { m } = running({}, { ...FOLFOX, reservoirMl: 100 });
    const s = decoded(m.advanceTo(T0 + 46 * H));
    assert.ok(events(s).includes('ALARM_ON:RES_EMPTY'));
    const last = statuses(s).at(-1);
    assert.equal(last?.state, 'ALARM');
    assert.equal(last?.infusedMl, 100);
    assert.equal(last?.reservoirMl, 0);
  });

  test('RATE changes the slope from that moment on', () => {
    const { m } = running();
    const r = decoded(m.setRate(T0 + 5 * MIN + H, 10));
    assert.deepEqual(events(r), ['RATE:10.00']);
    const st = statuses(decoded(m.advanceTo(T0 + 5 * MIN + 2 * H))).at(-1);
    assert.equal(st?.infusedMl, 15);
  });
});

describe('PumpModel occlusion, battery, pressure, clock', () => {
  test('occlusion: vi flat, pressure rising every status, pump alarms near 775 mmHg about 40 min later; clear runs on', () => {
    const { m } = running();
    const onset = T0 + 5 * MIN + 20 * H;
    m.advanceTo(onset);
    m.occlude(onset, 19);
    const s = decoded(m.advanceTo(onset + 60 * MIN));
    const before = statuses(s).filter((st) => st.state === 'RUN');
    assert.ok(before.length >= 35);
    assert.ok(before.every((st) => st.infusedMl === 100), 'vi does not advance');
    for (let i = 1; i < before.length; i++) assert.ok((before[i]?.pressureMmHg ?? 0) > (before[i - 1]?.pressureMmHg ?? 0));
    const alarm = s.find((x) => x.type === 'event' && x.code === 'ALARM_ON');
    assert.ok(alarm && alarm.type === 'event' && alarm.detail === 'OCCL_DN');
    const minutes = (parsePumpTime(alarm.time) - onset) / MIN;
    assert.ok(minutes > 35 && minutes < 42, `alarm after ${minutes} min`);
    const halted = statuses(s).filter((st) => st.state === 'ALARM');
    assert.ok(halted.every((st) => st.alarms.join() === 'OCCL_DN' && (st.pressureMmHg ?? 0) >= 775 && st.infusedMl === 100));
    const cleared = decoded(m.clearOcclusion(onset + 75 * MIN));
    assert.deepEqual(events(cleared), ['ALARM_OFF:OCCL_DN']);
    assert.equal(statuses(cleared).at(-1)?.state, 'RUN');
    assert.equal(statuses(cleared).at(-1)?.pressureMmHg, 35);
    const after = statuses(decoded(m.advanceTo(onset + 135 * MIN))).at(-1);
    assert.equal(after?.infusedMl, 105);
  });

  test('battery drains 0.8 %/h of pumping; BATT_LOW warns while running, BATT_DEPL halts', () => {
    const { m } = running({ batteryPct: 30, batteryDrainPctH: 1 });
    const s = decoded(m.advanceTo(T0 + 40 * H));
    const low = s.find((x) => x.type === 'event' && x.detail === 'BATT_LOW');
    assert.ok(low);
    assert.equal(statuses(s).find((st) => st.alarms.includes('BATT_LOW'))?.state, 'RUN');
    const depl = s.find((x) => x.type === 'event' && x.detail === 'BATT_DEPL');
    assert.ok(depl);
    assert.ok(Math.abs((parsePumpTime(depl.time) - (T0 + 5 * MIN)) / H - 29.51) < 0.02);
    const last = statuses(s).at(-1);
    assert.equal(last?.state, 'ALARM');
    assert.equal(last?.batteryPct, 0);
    const { m: normal } = running();
    assert.equal(statuses(decoded(normal.advanceTo(T0 + 5 * MIN + 10 * H))).at(-1)?.batteryPct, 92);
  });

  test('pressure noise is small, deterministic per seed, and absent with amplitude 0', () => {
    const run = (seed: number): number[] => {
      const m = new PumpModel({ serial: 'SIM-1', seed }, T0);
      m.powerOn(T0);
      return statuses(decoded(m.advanceTo(T0 + 5 * H))).map((st) => st.pressureMmHg ?? -1);
    };
    assert.deepEqual(run(7), run(7));
    assert.notDeepEqual(run(7), run(8));
    assert.ok(run(7).every((p) => p >= 34 && p <= 36));
    assert.ok(new Set(run(7)).size > 1);
  });

  test('pump clock = true time + offset; CLOCK carries the time before it was set', () => {
    const m = new PumpModel({ serial: 'SIM-1', clockOffsetS: -3 * 86400 }, T0);
    const s = decoded(m.powerOn(T0));
    assert.equal(s[0]?.time, '2026-11-20T09:00:00Z');
    const c = decoded(m.setClock(T0 + H, 0));
    assert.deepEqual(events(c), ['CLOCK:2026-11-20T10:00:00Z']);
    assert.equal(c.find((x) => x.type === 'event')?.time, '2026-11-23T10:00:00Z');
  });
});

describe('PumpModel history for ?HIST', () => {
  test('keeps the last 1,000 sentences; since(from) replays from `from` to the newest, across the wrap', () => {
    const { m } = running({ statusIntervalS: 10 }, { ...FOLFOX, volumeMl: 9999, rateMlH: 0.5, hours: 9999 });
    const out = [...m.advanceTo(T0 + 8 * 24 * H)];
    assert.equal(m.history.size, 1000);
    const newest = out.at(-1);
    assert.ok(newest);
    const last1000 = out.slice(-1000).map((e) => e.line);
    assert.deepEqual(m.history.since(out.at(-5)?.seq ?? -1), last1000.slice(-5));
    assert.deepEqual(m.history.since((newest.seq + 1) % 65536), [], 'nothing when asked for the next one');
    assert.deepEqual(m.history.since(out.at(-2000)?.seq ?? -1), last1000, 'no longer kept: all that is kept');
    // a window spanning the wrap
    const wrapIdx = out.findIndex((e) => e.seq === 65530);
    const m2 = running({ statusIntervalS: 10 }, { ...FOLFOX, volumeMl: 9999, rateMlH: 0.5, hours: 9999 }).m;
    const out2 = m2.advanceTo(out[wrapIdx + 20]?.atMs ?? 0);
    assert.deepEqual(m2.history.since(65530), out2.slice(-(out2.length - out2.findIndex((e) => e.seq === 65530))).map((e) => e.line));
    assert.equal(m2.history.since(65530).length, 20 + 1);
  });
});
