/**
 * delivery_above_order (high): on every status of an assigned pump, the volume given under the
 * order (across its bags) against the most the order allows by now: ordered rate × pump-clock time
 * since the course's first START, at most the order's volume, both with programTolerancePct on top,
 * plus deliverySlackMl for vi's rounding and a line prime. Catches a pump that delivers faster than
 * ordered with a program that looks right (a rate change that never reached us, a pump fault) while
 * it runs. Held back while program_mismatch is active: that alert already says the dose is wrong.
 * Cleared when delivery is back within the allowance, or the assignment ends.
 */
import type { AlertStore, Stamp } from '../alerts/alertStore.ts';
import type { OrderCourse } from '../pumps/orderCourse.ts';
import { courseDeliveredMl } from '../pumps/orderCourse.ts';
import type { PumpRecord } from '../pumps/pumpRecord.ts';
import type { ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
import { clockText, durationText, messageZone, mlText, round2 } from './messageText.ts';
import { sentenceEvidence, type SentenceInput, type VerifyInput } from './types.ts';

/** mL the order allows to have been given by the pump's time now; NaN before the course started. */
export function allowedByNowMl(rec: PumpRecord, c: OrderCourse, cfg: ResolvedDetectionConfig): number {
  if (c.startEffMs === null || rec.effMs === null) return Number.NaN;
  const hours = Math.max(0, rec.effMs - c.startEffMs) / 3_600_000;
  const due = Math.min(c.terms.rateMlH * hours, c.terms.volumeMl);
  return due * (1 + cfg.programTolerancePct / 100) + cfg.deliverySlackMl;
}

/** The check on every status: numbers only, nothing allocated unless an alert changes. */
export function detectDeliveryAboveOrder(d: SentenceInput): void {
  const c = d.rec.course;
  if (c === null || c.startEffMs === null || d.msg.type !== 'status' || !d.clinical.assignmentsKnown) return;
  checkDelivery(d.rec, c, d.cfg, d.store, d.at, 'status', d, d.clinical.serverTimeZone);
}

/** The same check after a change of the records (assignments became known, a new assignment). */
export function verifyDeliveryNow(v: VerifyInput): void {
  const c = v.rec.course;
  if (c === null || c.startEffMs === null || !v.clinical.assignmentsKnown) return;
  checkDelivery(v.rec, c, v.cfg, v.store, v.at, v.trigger, null, v.clinical.serverTimeZone);
}

function checkDelivery(
  rec: PumpRecord, c: OrderCourse, cfg: ResolvedDetectionConfig, store: AlertStore, at: Stamp, trigger: string, d: SentenceInput | null, serverZone: string,
): void {
  const allowed = allowedByNowMl(rec, c, cfg);
  const given = courseDeliveredMl(c);
  const active = store.isActive(rec.pump, 'delivery_above_order');
  if (!(given > allowed)) {
    if (active) {
      store.clear(rec.pump, 'delivery_above_order', at, {
        clearedBecause: 'delivery is within what the order allows by now', clearedDeliveredMl: round2(given), clearedAllowedMl: round2(allowed),
        ...(d !== null ? { clearedSeq: d.msg.seq, clearedPumpTime: d.msg.time } : {}),
      });
    }
    return;
  }
  if (active || store.isActive(rec.pump, 'program_mismatch')) return;
  const elapsedMs = Math.max(0, (rec.effMs ?? 0) - (c.startEffMs ?? 0));
  const since = c.startPumpTime !== null ? ` since ${clockText(c.startPumpTime, messageZone(rec, serverZone))}` : '';
  const message = `Pump ${rec.pump} has given ${mlText(given)} of ${c.terms.drug} in ${durationText(elapsedMs)}${since}; `
    + `at the ordered ${c.terms.rateMlH} mL/h no more than ${mlText(allowed)} should have gone in by now. `
    + 'It is delivering faster than ordered although its program looks right: call the patient to stop the pump, and call the prescriber.';
  store.raise(rec.pump, rec.gateway, 'delivery_above_order', at, message, {
    ...(d !== null ? sentenceEvidence(d) : {}), check: trigger, deliveredMl: round2(given), allowedMl: round2(allowed),
    excessMl: round2(given - allowed), orderRateMlH: c.terms.rateMlH, orderVolumeMl: c.terms.volumeMl,
    elapsedHours: round2(elapsedMs / 3_600_000), courseStartPumpTime: c.startPumpTime, rateMlH: rec.rateMlH, infusedMl: rec.infusedMl,
    programId: rec.programId, tolerancePct: cfg.programTolerancePct, slackMl: cfg.deliverySlackMl,
    assignmentId: c.terms.assignmentId, orderId: c.terms.orderId,
  });
}
