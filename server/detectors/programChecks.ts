/**
 * Programming verification (interfaces.md §4, §6): when the checks run, and program_unassigned.
 *
 * A pump's program is checked at PRG, START, RATE and a status carrying a rate not yet checked (a
 * RATE event that never reached us), and again whenever the records change: an assignment set or
 * ended, the assignments becoming known, new drug limits. Delivery against the order is checked on
 * every status. Until the core says the assignments are known nothing program_* is raised (a
 * server with no database never turns it on); the first check after that covers every pump,
 * so a program that arrived meanwhile is checked then.
 *
 * program_unassigned (low): a program starts (or is found running) on a pump with no open
 * assignment, so nothing can check it against a prescription. Cleared when the pump is assigned
 * (and then verified) or the program ends.
 */
import type { Stamp } from '../alerts/alertStore.ts';
import { detectDeliveryAboveOrder, verifyDeliveryNow } from './deliveryAboveOrder.ts';
import { detectDrugLimit } from './drugLimit.ts';
import { mlText } from './messageText.ts';
import { detectProgramMismatch } from './programMismatch.ts';
import { sentenceEvidence, type SentenceInput, type VerifyInput } from './types.ts';

/** What in this sentence calls for a program check, or null (most statuses). */
function triggerOf(d: SentenceInput): string | null {
  const { msg, fx, rec } = d;
  if (msg.type === 'program') return 'PRG';
  if (fx.started) return rec.startSeen ? 'START' : 'status';
  if (fx.restarted) return 'START';
  if (msg.type === 'event') return msg.code === 'RATE' ? 'RATE' : null;
  return rec.programActive && msg.rateMlH > 0 && msg.rateMlH !== rec.verifiedRateMlH ? 'status' : null;
}

export function runProgramChecks(d: SentenceInput): void {
  const trigger = triggerOf(d);
  if (trigger !== null) {
    const { rec } = d;
    if (trigger !== 'PRG') rec.verifiedRateMlH = rec.rateMlH;
    const v: VerifyInput = { rec, cfg: d.cfg, store: d.store, clinical: d.clinical, at: d.at, trigger, evidence: sentenceEvidence(d) };
    detectProgramMismatch(v);
    detectDrugLimit(v);
    if (d.fx.started || d.fx.restarted) raiseUnassigned(v);
  }
  if (d.fx.ended !== null && d.store.isActive(d.rec.pump, 'program_unassigned')) {
    d.store.clear(d.rec.pump, 'program_unassigned', d.at, { clearedBecause: 'the program ended', clearedSeq: d.msg.seq, clearedPumpTime: d.msg.time });
  }
  detectDeliveryAboveOrder(d);
}

function raiseUnassigned(v: VerifyInput): void {
  const { rec, store } = v;
  if (rec.course !== null || !v.clinical.assignmentsKnown || !rec.programActive || store.isActive(rec.pump, 'program_unassigned')) return;
  const drug = rec.drug !== null && rec.drug !== '' ? `${rec.drug} ` : '';
  const figures = rec.programVolumeMl !== null ? `${drug}${rec.rateMlH ?? rec.programRateMlH ?? '?'} mL/h, ${mlText(rec.programVolumeMl)}` : `${drug}${rec.rateMlH ?? '?'} mL/h`;
  store.raise(rec.pump, rec.gateway, 'program_unassigned', v.at,
    `Pump ${rec.pump} started a program (${figures}) but no order is assigned to it, so it cannot be checked against a prescription. Assign the pump to its patient's order.`,
    { ...v.evidence, check: v.trigger, programId: rec.programId, drug: rec.drug, rateMlH: rec.rateMlH, programVolumeMl: rec.programVolumeMl, programHours: rec.programHours });
}

/** The pump's assignment ended or changed: what was raised against the old order no longer stands. */
export function endAssignmentAlerts(v: VerifyInput, why: string): void {
  for (const type of ['program_mismatch', 'delivery_above_order'] as const) {
    if (v.store.isActive(v.rec.pump, type)) v.store.clear(v.rec.pump, type, v.at, { clearedBecause: why });
  }
}

/**
 * A change of the records: verify the program on the pump now (running, or loaded and not started).
 * `unassigned` raises program_unassigned for a running program with no assignment (assignments
 * just became known); an assignment ending alone does not (the pump is being taken off).
 */
export function verifyPumpNow(v: VerifyInput, unassigned: boolean): void {
  const { rec, store } = v;
  if (rec.course !== null && store.isActive(rec.pump, 'program_unassigned')) {
    store.clear(rec.pump, 'program_unassigned', v.at, { clearedBecause: 'an order was assigned to the pump' });
  }
  if (rec.programActive || rec.programPending) {
    detectProgramMismatch(v);
    detectDrugLimit(v);
    if (unassigned) raiseUnassigned(v);
  }
  verifyDeliveryNow(v);
}

/** A stamp for a check that no sentence caused: the pump's duration clock, raised at server time. */
export function recordsStamp(effMs: number | null, serverMs: number): Stamp {
  return { ms: effMs ?? serverMs, clock: 'pump', iso: new Date(serverMs).toISOString(), idMs: serverMs, serverMs, historic: false };
}
