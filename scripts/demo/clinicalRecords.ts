/**
 * What the pharmacy recorded for the demo's homes (interfaces.md §6): one fictional patient per
 * home, the order that home's pump was meant to be programmed with, and whether the pump has been
 * assigned yet. Pure: the times come from the scenarios' own timing and the given clock.
 *
 * The orders are what was prescribed, not what the pump was keyed with: home-4's pump (early-end,
 * 12 mL/h) and home-6's (the ISMP case, 28.8 mL/h) contradict their orders, and the board says so.
 */
import type { NewOrder, NewPatient } from '../../protocol/clinical.ts';
import { runScenario } from '../../simulators/scenarioRun.ts';
import { scenarioPlan } from '../../simulators/scenarios.ts';
import type { DemoHome } from './homes.ts';

const HOUR_MS = 3_600_000;

export interface DemoRecord {
  gatewayId: string;
  pump: string;
  patient: NewPatient;
  /** the order without its patient id (known once the patient is created) */
  order: Omit<NewOrder, 'patientId'>;
  /** ISO time the pump was put on the patient; null: not assigned yet */
  assignFrom: string | null;
}

/** mFOLFOX6 fluorouracil as the demo's 46-h scenarios program it (simulators/scenarios.ts) */
const FOLFOX_46H = { drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46, mode: 'continuous' } as const;
/** the ISMP order: 4 days at 1.2 mL/h (115.2 mL); the pump was keyed with the daily volume as the hourly rate */
const FLUOROURACIL_4D = { drug: 'FLUOROURACIL', rateMlH: 1.2, volumeMl: 115.2, hours: 96, mode: 'continuous' } as const;

interface Person {
  name: string;
  /** 555-0100..0199: numbers reserved for fiction */
  phone: string;
}

const PEOPLE: Readonly<Record<string, Person>> = {
  'home-1': { name: 'Alma Fictional', phone: '+1 202 555 0101' },
  'home-2': { name: 'Bruno Fictional', phone: '+1 202 555 0102' },
  'home-3': { name: 'Celia Fictional', phone: '+1 202 555 0103' },
  'home-4': { name: 'Dmitri Fictional', phone: '+1 202 555 0104' },
  'home-5': { name: 'Esther Fictional', phone: '+1 202 555 0105' },
  'home-6': { name: 'Farid Fictional', phone: '+1 202 555 0106' },
  'home-7': { name: 'Greta Fictional', phone: '+1 202 555 0107' },
};

/** homes whose pump the pharmacy has not assigned yet (the pharmacist can, from the dashboard) */
export const UNASSIGNED_HOMES: readonly string[] = ['home-7'];
/** homes whose pump was keyed against its order */
export const MISPROGRAMMED_HOMES: readonly string[] = ['home-4', 'home-6'];

/**
 * The pump-clock time of the home's START when its pump is started at `nowMs` (as scripts/demo.ts
 * starts it: history ending now, live from `liveFromH` at `speed`; simulators/simulatedPump.ts).
 */
export function programStartMs(home: DemoHome, nowMs: number): number {
  const plan = scenarioPlan(home.scenario);
  const start = plan?.steps.find((s) => s.action.kind === 'start');
  if (!plan || !start) throw new Error(`${home.gatewayId}: scenario ${home.scenario} starts no program`);
  const spanMs = runScenario(home.scenario).spanMs;
  const liveMs = Math.max(0, spanMs - home.liveFromH * HOUR_MS);
  const scenarioStartMs = Math.floor((nowMs + liveMs / home.speed - spanMs) / 1000) * 1000;
  return scenarioStartMs + start.atS * 1000;
}

/** One record per home, its times laid against the pumps that start at `nowMs` or later. */
export function demoClinicalRecords(homes: readonly DemoHome[], nowMs: number): DemoRecord[] {
  return homes.map((home, i) => {
    const person = PEOPLE[home.gatewayId];
    if (!person) throw new Error(`${home.gatewayId}: no demo patient`);
    // the order starts, and the pump is put on the patient, at the infusion centre half an hour before START
    const fromMs = Math.floor((programStartMs(home, nowMs) - 30 * 60_000) / 60_000) * 60_000;
    const terms = home.scenario === 'wrong-rate-4d' ? FLUOROURACIL_4D : FOLFOX_46H;
    return {
      gatewayId: home.gatewayId,
      pump: home.serial,
      patient: {
        mrn: `DEMO-${String(1001 + i)}`, name: person.name, phone: person.phone, timezone: 'America/New_York',
        notes: 'fictional demo patient',
      },
      order: {
        ...terms, start: new Date(fromMs).toISOString(), stop: null, payer: 'Demo Health Plan', prescriber: 'Dr. Demo Oncologist',
      },
      assignFrom: UNASSIGNED_HOMES.includes(home.gatewayId) ? null : new Date(fromMs).toISOString(),
    };
  });
}
