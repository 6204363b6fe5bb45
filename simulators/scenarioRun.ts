import { decodeSentence, parsePumpTime } from '../protocol/decode.ts';
import { loadCapture } from './capture.ts';
import { PumpModel, type Emitted } from './pumpModel.ts';
import { createRandom, type Random } from './random.ts';
import { scenarioPlan, type PumpAction, type ScenarioPlan } from './scenarios.ts';

/** One thing on the wire: a pump sentence (maybe lost on the wire) or noise. */
export interface WireItem {
  /** true time, ms since epoch */
  atMs: number;
  line: string;
  /** a pump sentence (kept in its ?HIST memory) or garbage */
  kind: 'sentence' | 'noise';
  /** sent while the link was down: never reaches the wire */
  lost: boolean;
}

export interface ScenarioRunOptions {
  serial?: string;
  seed?: number;
  /** true time of the scenario's start, ms; default 2026-11-23T09:00:00Z */
  startMs?: number;
  /** lay the scenario so the pump clock of its last sentence is this instant (overrides startMs) */
  endingAtMs?: number;
  /** mmHg, pressure noise amplitude (default 1; 0 gives the flat line of the captures) */
  pressureNoiseMmHg?: number;
  statusIntervalS?: number;
}

export const DEFAULT_START_MS = Date.parse('2026-11-23T09:00:00Z');
export const DEFAULT_SERIAL = 'SIM-000001';
/** the model advances at most this far per step, so a long run is produced lazily */
const CHUNK_MS = 3_600_000;

export class UnknownScenarioError extends Error {
  readonly code = 'unknown_scenario';
  constructor(name: string) {
    super(`unknown scenario "${name}" (see --help)`);
  }
}

/** A run of one scenario: the wire items lazily, and the model behind them (null for captures). */
export interface ScenarioRun {
  readonly serial: string;
  readonly items: Iterable<WireItem>;
  readonly model: PumpModel | null;
  /** true time of the first item, ms */
  readonly startMs: number;
  /** pump clock of the last sentence minus startMs, ms */
  readonly spanMs: number;
}

export function runScenario(name: string, opts: ScenarioRunOptions = {}): ScenarioRun {
  if (name.startsWith('capture:')) return runCapture(name.slice('capture:'.length), opts);
  const plan = scenarioPlan(name);
  if (!plan) throw new UnknownScenarioError(name);
  let startMs = opts.startMs ?? DEFAULT_START_MS;
  if (opts.endingAtMs !== undefined) startMs = Math.floor((opts.endingAtMs - lastPumpClockRelMs(plan, opts)) / 1000) * 1000;
  const model = newModel(plan, opts, startMs);
  return { serial: model.serial, model, items: planItems(plan, model, startMs, opts.seed ?? 1), startMs, spanMs: lastPumpClockRelMs(plan, opts) };
}

/** Every sentence the pump sends in a scenario (lost ones included, noise excluded), for tests. */
export function scenarioSentences(name: string, opts: ScenarioRunOptions = {}): string[] {
  const lines: string[] = [];
  for (const item of runScenario(name, opts).items) if (item.kind === 'sentence') lines.push(item.line);
  return lines;
}

/** What reaches the wire: sentences not lost, and noise. */
export function scenarioWireLines(name: string, opts: ScenarioRunOptions = {}): string[] {
  const lines: string[] = [];
  for (const item of runScenario(name, opts).items) if (!item.lost) lines.push(item.line);
  return lines;
}

function newModel(plan: ScenarioPlan, opts: ScenarioRunOptions, startMs: number): PumpModel {
  return new PumpModel({
    ...plan.model, serial: opts.serial ?? DEFAULT_SERIAL, seed: opts.seed ?? 1,
    ...(opts.pressureNoiseMmHg !== undefined ? { pressureNoiseMmHg: opts.pressureNoiseMmHg } : {}),
    ...(opts.statusIntervalS !== undefined ? { statusIntervalS: opts.statusIntervalS } : {}),
  }, startMs);
}

const lastRelCache = new Map<string, number>();

/** Pump clock of the last sentence minus the start's true time (independent of the start). */
function lastPumpClockRelMs(plan: ScenarioPlan, opts: ScenarioRunOptions): number {
  const key = `${plan.name}|${opts.statusIntervalS ?? ''}`;
  const cached = lastRelCache.get(key);
  if (cached !== undefined) return cached;
  const model = newModel(plan, { ...opts, endingAtMs: undefined }, 0);
  let lastAt = 0;
  for (const item of planItems(plan, model, 0, 1)) if (item.kind === 'sentence') lastAt = item.atMs;
  // the offset in force at the end is what the last sentence's clock carried
  const rel = lastAt + (model.pumpClockMs - model.now);
  lastRelCache.set(key, rel);
  return rel;
}

function* planItems(plan: ScenarioPlan, model: PumpModel, startMs: number, seed: number): Generator<WireItem> {
  const rng = createRandom(seed, `${model.serial}/link`);
  const lost = (atMs: number): boolean => (plan.link?.lost ?? []).some(([a, b]) => atMs >= startMs + a * 1000 && atMs < startMs + b * 1000);
  const noiseEvery = plan.link?.noiseEvery ?? 0;
  function* wrap(emitted: Emitted[]): Generator<WireItem> {
    for (const e of emitted) {
      if (noiseEvery > 0 && rng.next() < 1 / noiseEvery) yield { atMs: e.atMs, line: noiseLine(rng, e.line), kind: 'noise', lost: false };
      yield { atMs: e.atMs, line: e.line, kind: 'sentence', lost: lost(e.atMs) };
    }
  }
  let t = startMs;
  const endMs = startMs + plan.endS * 1000;
  for (const step of plan.steps) {
    const at = startMs + step.atS * 1000;
    while (t < at) {
      t = Math.min(at, t + CHUNK_MS);
      yield* wrap(model.advanceTo(t));
    }
    yield* wrap(applyAction(model, at, step.action));
  }
  while (t < endMs) {
    t = Math.min(endMs, t + CHUNK_MS);
    yield* wrap(model.advanceTo(t));
  }
}

export function applyAction(model: PumpModel, t: number, a: PumpAction): Emitted[] {
  switch (a.kind) {
    case 'powerOn': return model.powerOn(t);
    case 'powerOff': return model.powerOff(t);
    case 'program': return model.loadProgram(t, a.program);
    case 'start': return model.start(t);
    case 'pause': return model.pause(t);
    case 'resume': return model.resume(t);
    case 'stop': return model.stop(t);
    case 'rate': return model.setRate(t, a.rateMlH);
    case 'occlude': return model.occlude(t, a.rampMmHgMin);
    case 'clearOcclusion': return model.clearOcclusion(t);
    case 'alarmOn': return model.alarmOn(t, a.code);
    case 'alarmOff': return model.alarmOff(t, a.code);
    case 'clock': return model.setClock(t, a.offsetS);
  }
}

/** Garbage a bad link produces, built from the sentence it damages. */
function noiseLine(rng: Random, line: string): string {
  switch (rng.int(0, 4)) {
    case 0: { // wrong checksum
      const cs = line.slice(-2);
      const bad = ((parseInt(cs, 16) + 1) % 256).toString(16).toUpperCase().padStart(2, '0');
      return line.slice(0, -2) + bad;
    }
    case 1: return line.slice(0, rng.int(5, line.length - 4)); // truncated
    case 2: return Array.from({ length: rng.int(4, 24) }, () => String.fromCharCode(rng.int(0, 255))).join('').replace(/[\r\n]/g, '?');
    case 3: return 'X'.repeat(300);
    default: return '';
  }
}

/** Replays a capture verbatim, each line at its sentence's pump time (undecodable lines at the previous one). */
function runCapture(path: string, opts: ScenarioRunOptions): ScenarioRun {
  const lines = loadCapture(path);
  const times: number[] = [];
  let last = NaN;
  let serial = opts.serial ?? DEFAULT_SERIAL;
  for (const line of lines) {
    const d = decodeSentence(line);
    if (d.ok) {
      last = parsePumpTime(d.sentence.time);
      serial = d.sentence.pump;
    }
    times.push(last);
  }
  const first = times.find((t) => !Number.isNaN(t)) ?? 0;
  const lastT = [...times].reverse().find((t) => !Number.isNaN(t)) ?? first;
  const shift = opts.endingAtMs !== undefined ? Math.floor(opts.endingAtMs / 1000) * 1000 - lastT
    : opts.startMs !== undefined ? opts.startMs - first : 0;
  function* items(): Generator<WireItem> {
    for (let i = 0; i < lines.length; i++) {
      const t = times[i];
      const atMs = (t === undefined || Number.isNaN(t) ? first : t) + shift;
      yield { atMs, line: lines[i] as string, kind: decodeSentence(lines[i] as string).ok ? 'sentence' : 'noise', lost: false };
    }
  }
  return { serial, model: null, items: items(), startMs: first + shift, spanMs: lastT - first };
}
