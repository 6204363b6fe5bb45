/**
 * A pump's open assignment and what it has delivered under it: the course of one order, across bags
 * and programs (interfaces.md §6). Plain JSON data held on the pump record, so a snapshot carries
 * it; ids and order terms only, never a name or an MRN.
 */
import type { OrderMode } from '../../protocol/clinical.ts';
import type { PumpMessage } from '../../protocol/payloads.ts';
import type { MessageEffects } from './applyMessage.ts';
import type { PumpRecord } from './pumpRecord.ts';

/**
 * What programming verification needs of a pump's open assignment (§6), pushed into the engine by
 * the core whenever the clinical records change: the engine never queries anything. No names, no
 * MRN: detection state and snapshots carry no patient identifiers beyond the ids.
 */
export interface OrderTerms {
  assignmentId: string;
  orderId: string;
  patientId: string;
  drug: string;
  rateMlH: number;
  volumeMl: number;
  hours: number;
  mode: OrderMode;
  /** the assignment's start, epoch ms (may be before the pump was first heard) */
  fromMs: number;
  /** the patient's IANA time zone, for the times in messages (not an identifier); absent or null: the server's */
  timeZone?: string | null;
}

export interface OrderCourse {
  terms: OrderTerms;
  /** duration clock of the course's first START under this assignment; null until a program runs */
  startEffMs: number | null;
  /** pump time of that START, for messages */
  startPumpTime: string | null;
  /** mL given by the earlier programs (bags) of this course */
  doneMl: number;
  /** mL given by the program on the pump now (its vi), once the course has started */
  currentMl: number;
  /** programId of the program currentMl belongs to */
  currentProgramId: string | null;
}

/** A new assignment. A program already running on the pump is the order's: it counts from its own start. */
export function newCourse(terms: OrderTerms, rec: PumpRecord): OrderCourse {
  const course: OrderCourse = { terms, startEffMs: null, startPumpTime: null, doneMl: 0, currentMl: 0, currentProgramId: null };
  if (rec.programActive) beginCourse(course, rec);
  return course;
}

function beginCourse(c: OrderCourse, rec: PumpRecord): void {
  // joined mid-program: the hours given before the engine saw it are part of the course too
  const startEff = rec.episodeStartEffMs ?? rec.effMs ?? 0;
  c.startEffMs = startEff - rec.priorDeliveryH * 3_600_000;
  c.startPumpTime = rec.startSeen ? rec.pumpTime : null;
  c.currentMl = rec.infusedMl ?? 0;
  c.currentProgramId = rec.programId;
}

/** The program on the pump is finished with: its vi joins what the course has given. */
function fold(c: OrderCourse): void {
  c.doneMl += c.currentMl;
  c.currentMl = 0;
}

/**
 * Follows delivery under the order after each accepted sentence (applyMessage calls it). vi is
 * per program and back to 0 when a new one starts: a START, or vi going back (a START we never
 * got, or the 0 of IDLE after STOP), closes the previous program's count.
 */
export function trackCourse(c: OrderCourse, rec: PumpRecord, msg: PumpMessage, fx: MessageEffects, epsilonMl: number): void {
  if (fx.started) {
    if (c.startEffMs === null) {
      beginCourse(c, rec);
      return;
    }
    const vi = rec.infusedMl ?? 0;
    if (rec.startSeen || vi + epsilonMl < c.currentMl) fold(c);
    c.currentMl = Math.max(c.currentMl, vi);
    c.currentProgramId = rec.programId;
    return;
  }
  if (msg.type !== 'status' || c.startEffMs === null) return;
  if (msg.infusedMl + epsilonMl < c.currentMl) fold(c);
  if (msg.infusedMl > c.currentMl) c.currentMl = msg.infusedMl;
}

/** mL given under the order so far, across bags. */
export function courseDeliveredMl(c: OrderCourse): number {
  return c.doneMl + c.currentMl;
}

/**
 * mL the order had left for the program on the pump: its volume minus what the other programs of
 * the course gave (the running program's own delivery is part of its volume, not taken from it).
 */
export function orderLeftForProgramMl(c: OrderCourse, rec: PumpRecord): number {
  const running = c.startEffMs !== null && rec.programActive && !rec.programPending;
  return c.terms.volumeMl - (running ? c.doneMl : c.doneMl + c.currentMl);
}

/** The assignment changed: same assignment keeps its course (terms refreshed), another starts anew. */
export function reconcileCourse(held: OrderCourse | null, terms: OrderTerms | null, rec: PumpRecord): OrderCourse | null {
  if (terms === null) return null;
  if (held !== null && held.terms.assignmentId === terms.assignmentId) {
    held.terms = { ...terms };
    return held;
  }
  return newCourse({ ...terms }, rec);
}
