/**
 * program_mismatch (high): the program on an assigned pump contradicts its order (interfaces.md §4,
 * §6). Rate more than programTolerancePct off the order's; volume more than that above what the
 * order still has to give (a smaller bag is fine); planned hours more than that off the time the
 * program's volume takes at the ordered rate. Checked at PRG, START, RATE, a status with a new rate,
 * and when the assignment or the records change. Cleared when the program matches again or the
 * assignment ends; a wrong program that ended keeps it until then (the dose went in).
 */
import type { OrderCourse } from '../pumps/orderCourse.ts';
import { orderLeftForProgramMl } from '../pumps/orderCourse.ts';
import type { PumpRecord } from '../pumps/pumpRecord.ts';
import { hoursText, mlText, round2 } from './messageText.ts';
import type { VerifyInput } from './types.ts';

export interface FieldCheck {
  programmed: number;
  ordered: number;
  mismatch: boolean;
}

export interface ProgramComparison {
  rateMlH: FieldCheck | null;
  /** ordered: what the order had left for this program */
  volumeMl: (FieldCheck & { orderVolumeMl: number; givenBeforeMl: number }) | null;
  /** ordered: the hours the program's volume (at most what is left) takes at the ordered rate */
  hours: FieldCheck | null;
  mismatched: ('rateMlH' | 'volumeMl' | 'hours')[];
}

/** Half the pump's 0.1-h display step: hours rounded on the pump are not a mismatch. */
const HOURS_ROUNDING = 0.05;
/** floating-point noise in rate × tolerance comparisons */
const EPS = 1e-9;

/**
 * The rate the check looks at: the running rate, or the programmed one of a program not started
 * or halted (a pump stopped in ALARM still holds the wrong program it will resume with).
 */
export function checkedRateMlH(rec: PumpRecord, trigger: string): number | null {
  const running = rec.programActive && !rec.programPending;
  const live = rec.rateMlH;
  return trigger === 'PRG' || !running || live === null || live <= 0 ? rec.programRateMlH : live;
}

/** null when there is nothing to compare (no program figures). */
export function compareProgram(rec: PumpRecord, c: OrderCourse, tolerancePct: number, trigger: string): ProgramComparison | null {
  const tol = tolerancePct / 100;
  const order = c.terms;
  const rate = checkedRateMlH(rec, trigger);
  if (rate === null || rate <= 0) return null;
  const out: ProgramComparison = { rateMlH: null, volumeMl: null, hours: null, mismatched: [] };
  out.rateMlH = { programmed: rate, ordered: order.rateMlH, mismatch: Math.abs(rate - order.rateMlH) > order.rateMlH * tol + EPS };
  const volume = rec.programVolumeMl;
  if (volume !== null) {
    const left = Math.max(0, orderLeftForProgramMl(c, rec));
    out.volumeMl = {
      programmed: volume, ordered: round2(left), orderVolumeMl: order.volumeMl, givenBeforeMl: round2(order.volumeMl - left),
      mismatch: volume > left * (1 + tol) + EPS,
    };
    // planned hours only mean something while the programmed rate is the one running
    if (rec.programHours !== null && rate === rec.programRateMlH && order.rateMlH > 0) {
      const expected = Math.min(volume, left) / order.rateMlH;
      out.hours = {
        programmed: rec.programHours, ordered: round2(expected),
        mismatch: Math.abs(rec.programHours - expected) > expected * tol + HOURS_ROUNDING,
      };
    }
  }
  if (out.rateMlH.mismatch) out.mismatched.push('rateMlH');
  if (out.volumeMl?.mismatch === true) out.mismatched.push('volumeMl');
  if (out.hours?.mismatch === true) out.mismatched.push('hours');
  return out;
}

function mismatchText(cmp: ProgramComparison): string {
  const parts: string[] = [];
  if (cmp.rateMlH?.mismatch === true) parts.push(`rate ${cmp.rateMlH.programmed} mL/h, ordered ${cmp.rateMlH.ordered} mL/h`);
  if (cmp.volumeMl?.mismatch === true) parts.push(`volume ${mlText(cmp.volumeMl.programmed)}, the order has ${mlText(cmp.volumeMl.ordered)} left`);
  if (cmp.hours?.mismatch === true) parts.push(`${hoursText(cmp.hours.programmed)}, ordered ${hoursText(cmp.hours.ordered)}`);
  return parts.join('; ');
}

function messageOf(rec: PumpRecord, c: OrderCourse, cmp: ProgramComparison): string {
  const drug = rec.drug !== null && rec.drug !== '' ? rec.drug : c.terms.drug;
  const what = `Pump ${rec.pump} is programmed against its order for ${drug}: ${mismatchText(cmp)}.`;
  if (rec.programActive && !rec.programPending) {
    return `${what} The wrong dose is going in: call the patient to stop the pump, and check the program with the pharmacy.`;
  }
  return `${what} It has not started: do not start it; check the program with the pharmacy.`;
}

export function detectProgramMismatch(v: VerifyInput): void {
  const { rec, store, at, cfg } = v;
  const c = rec.course;
  if (c === null || !v.clinical.assignmentsKnown) return;
  const cmp = compareProgram(rec, c, cfg.programTolerancePct, v.trigger);
  if (cmp === null) return;
  const active = store.isActive(rec.pump, 'program_mismatch');
  if (cmp.mismatched.length === 0) {
    if (active) store.clear(rec.pump, 'program_mismatch', at, { clearedBecause: 'the program matches its order', clearedCheck: v.trigger, ...clearedEvidence(v) });
    return;
  }
  const detail: Record<string, unknown> = {
    ...v.evidence, check: v.trigger, programId: rec.programId, drug: rec.drug, orderDrug: c.terms.drug,
    assignmentId: c.terms.assignmentId, orderId: c.terms.orderId, tolerancePct: cfg.programTolerancePct, mismatched: cmp.mismatched,
    rateMlH: cmp.rateMlH, volumeMl: cmp.volumeMl, hours: cmp.hours,
  };
  const message = messageOf(rec, c, cmp);
  if (!active) {
    store.raise(rec.pump, rec.gateway, 'program_mismatch', at, message, detail);
    return;
  }
  // one alert, not a storm: a wrong program keyed again updates the alert already raised, if anything changed
  const current = store.current(rec.pump, 'program_mismatch')!.alert;
  if (current.message !== message || !sameFigures(current.detail, detail, FIGURES)) store.update(rec.pump, 'program_mismatch', message, detail, at.historic);
}

const FIGURES = ['mismatched', 'rateMlH', 'volumeMl', 'hours'] as const;

/** Whether two details say the same on these keys (plain JSON values). */
export function sameFigures(a: Record<string, unknown>, b: Record<string, unknown>, keys: readonly string[]): boolean {
  for (const k of keys) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}

function clearedEvidence(v: VerifyInput): Record<string, unknown> {
  const e = v.evidence;
  return e === null ? {} : { clearedSeq: e.seq, clearedPumpTime: e.pumpTime };
}
