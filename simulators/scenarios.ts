import type { PumpModelOptions, PumpProgram } from './pumpModel.ts';

/** What happens to the pump, at seconds of true time after the scenario starts. */
export type PumpAction =
  | { kind: 'powerOn' }
  | { kind: 'powerOff' }
  | { kind: 'program'; program: PumpProgram }
  | { kind: 'start' }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'stop' }
  | { kind: 'rate'; rateMlH: number }
  | { kind: 'occlude'; rampMmHgMin: number }
  | { kind: 'clearOcclusion' }
  | { kind: 'alarmOn'; code: string }
  | { kind: 'alarmOff'; code: string }
  | { kind: 'clock'; offsetS: number };

export interface ScenarioStep {
  /** seconds after the scenario's start */
  atS: number;
  action: PumpAction;
}

/** What the wire does to the pump's bytes. */
export interface LinkEffects {
  /** [from, to) seconds: sentences sent meanwhile are lost on the wire (kept for ?HIST) */
  lost?: readonly (readonly [number, number])[];
  /** on average one bad line per this many sentences */
  noiseEvery?: number;
}

export interface ScenarioPlan {
  name: string;
  description: string;
  model: Omit<PumpModelOptions, 'serial' | 'seed'>;
  steps: readonly ScenarioStep[];
  /** seconds: the run stops here */
  endS: number;
  link?: LinkEffects;
}

const H = 3600;
const MIN = 60;
/** power-on, then the nurse loads and starts the program five minutes later */
const T0 = 5 * MIN;
const folfox = (rateMlH = 5): PumpProgram => ({ programId: 'FOLFOX-C3', drug: 'FLUOROURACIL', rateMlH, volumeMl: 230, hours: 46 });

function infusion(program: PumpProgram, extra: ScenarioStep[] = []): ScenarioStep[] {
  const steps: ScenarioStep[] = [
    { atS: 0, action: { kind: 'powerOn' } },
    { atS: T0, action: { kind: 'program', program } },
    { atS: T0, action: { kind: 'start' } },
    ...extra,
  ];
  return steps.sort((a, b) => a.atS - b.atS);
}

/** seconds from start until a 230-mL program at `rateMlH` is complete, plus held time */
const endOf = (rateMlH: number, heldS = 0): number => T0 + Math.round((230 / rateMlH) * H) + heldS + 5 * MIN;

const PLANS: readonly ScenarioPlan[] = [
  {
    name: 'normal-46h', description: 'uneventful mFOLFOX6 fluorouracil, 230 mL at 5 mL/h for 46 h',
    model: {}, steps: infusion(folfox()), endS: endOf(5),
  },
  {
    name: 'occlusion',
    description: 'downstream occlusion at 20 h: pressure climbs ~19 mmHg/min with vi flat for ~40 min until the pump\'s own OCCL_DN (775 mmHg); cleared 35 min later; runs to the end',
    model: {},
    steps: infusion(folfox(), [
      { atS: T0 + 20 * H, action: { kind: 'occlude', rampMmHgMin: 19 } },
      { atS: T0 + 20 * H + 75 * MIN, action: { kind: 'clearOcclusion' } },
    ]),
    endS: endOf(5, 75 * MIN),
  },
  {
    name: 'short-pause', description: 'a 2-min pause at 6 h (the patient disconnects to shower)', model: {},
    steps: infusion(folfox(), [
      { atS: T0 + 6 * H, action: { kind: 'pause' } },
      { atS: T0 + 6 * H + 2 * MIN, action: { kind: 'resume' } },
    ]),
    endS: endOf(5, 2 * MIN),
  },
  {
    name: 'long-pause', description: 'a 45-min pause at 16 h (held and forgotten)', model: {},
    steps: infusion(folfox(), [
      { atS: T0 + 16 * H, action: { kind: 'pause' } },
      { atS: T0 + 16 * H + 45 * MIN, action: { kind: 'resume' } },
    ]),
    endS: endOf(5, 45 * MIN),
  },
  {
    name: 'early-end', description: 'programmed for 46 h but keyed at 12 mL/h: the 230 mL are gone after about 19 h', model: {},
    steps: infusion(folfox(12)), endS: endOf(12),
  },
  {
    name: 'wrong-rate-4d',
    description: 'the ISMP case: fluorouracil ordered over 4 days at 1.2 mL/h, keyed at 28.8 mL/h (a daily volume read as hourly): the 130 mL are gone 4.5 h after START; the pump then sits at END until the patient is seen the next day',
    model: {},
    steps: infusion({ programId: 'FU-4D-C1', drug: 'FLUOROURACIL', rateMlH: 28.8, volumeMl: 130, hours: 4.5 }),
    endS: T0 + Math.round((130 / 28.8) * H) + 20 * H,
  },
  {
    name: 'low-battery', description: 'battery not charged (40 %): BATT_LOW at about 19.5 h, BATT_DEPL halts delivery at about 39.5 h',
    model: { batteryPct: 40, batteryDrainPctH: 1 }, steps: infusion(folfox()), endS: T0 + Math.round(39.5 * H) + 15 * MIN,
  },
  {
    name: 'ble-drops', description: 'uneventful 46 h over a BLE link that drops: 10 min at 2 h, 40 min at 9 h, 2 min at 20 h, 1 h at 33 h (sentences lost on the wire, kept for ?HIST)',
    model: {}, steps: infusion(folfox()), endS: endOf(5),
    link: { lost: [[2 * H, 2 * H + 10 * MIN], [9 * H, 9 * H + 40 * MIN], [20 * H, 20 * H + 2 * MIN], [33 * H, 34 * H]] },
  },
  {
    name: 'noisy-link', description: 'uneventful 46 h with garbage among the sentences: bad checksums, truncated lines, binary noise, 300-byte lines, empty lines',
    model: {}, steps: infusion(folfox()), endS: endOf(5), link: { noiseEvery: 20 },
  },
  {
    name: 'clock-days-off', description: 'pump clock 2 days 3 h ahead of true time; set right at 30 h (EVT CLOCK)',
    model: { clockOffsetS: 51 * H },
    steps: infusion(folfox(), [{ atS: T0 + 30 * H, action: { kind: 'clock', offsetS: 0 } }]),
    endS: endOf(5),
  },
  {
    name: 'power-cycle', description: 'power lost for 3 min at 10 h; back on, seq restarts at 0, the program held until resumed 2 min later',
    model: {},
    steps: infusion(folfox(), [
      { atS: T0 + 10 * H, action: { kind: 'powerOff' } },
      { atS: T0 + 10 * H + 3 * MIN, action: { kind: 'powerOn' } },
      { atS: T0 + 10 * H + 5 * MIN, action: { kind: 'resume' } },
    ]),
    endS: endOf(5, 5 * MIN),
  },
];

export const SCENARIO_NAMES: readonly string[] = PLANS.map((p) => p.name);

/** The plan for a built-in scenario name, or null (`capture:<file>` is handled by the runner). */
export function scenarioPlan(name: string): ScenarioPlan | null {
  return PLANS.find((p) => p.name === name) ?? null;
}

export function describeScenarios(): string[] {
  return [...PLANS.map((p) => `${p.name.padEnd(16)} ${p.description}`), `${'capture:<file>'.padEnd(16)} replays a capture file verbatim, timed by its sentences`];
}
