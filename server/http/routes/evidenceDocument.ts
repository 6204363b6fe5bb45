/**
 * The per-episode evidence an auditor recomputes by hand (GET /api/billing/episodes/:id/evidence?format=json):
 * the order, the programs, every raw sentence with its seq, pump time and arrival time, every
 * telemetry gap with the volume arithmetic that judged it, the interruptions, and the pump-clock
 * re-anchorings. docs/billing.md, "Evidence".
 */
import type { Episode } from '../../../protocol/api.ts';

const METHOD = [
  'deliveryHours: sum, over consecutive sentences (seq +1, at most 2.5 status intervals apart) while the pump was in RUN at a rate > 0, of the pump-time difference; times re-anchored where clockAnchors say so (pump time − offsetS).',
  'A gap (sentences missing or further apart) counts only when |viAfterMl − viBeforeMl − expectedMl| ≤ toleranceMl (verdict proven); otherwise it is an interruption telemetry_gap and counts in unverifiedHours.',
  'code: the order\'s mode (continuous → S9330, intermittent → S9331); with no order, S9330 when deliveryHours ≥ 24 and no interruption is longer than the continuity tolerance.',
  'serviceDays: per dayRule in timeZone (docs/billing.md, "Service days"); units = their number.',
];

type Course = Episode & Record<string, unknown>;

export function evidenceDocument(episode: Episode, sentences: readonly unknown[]): Record<string, unknown> {
  const e = episode as Course;
  return {
    episode: e.id,
    method: METHOD,
    order: {
      orderId: e.orderId ?? null, mode: e.mode ?? null, payer: e.payer ?? null, patientId: e.patientId ?? null, mrn: e.mrn ?? null,
      dayRule: e.dayRule ?? null, timeZone: e.timeZone ?? null,
    },
    result: {
      code: e.code, units: e.units ?? e.serviceDays.length, serviceDays: e.serviceDays, deliveryHours: e.deliveryHours,
      unverifiedHours: e.unverifiedHours ?? 0, longestInterruptionMin: e.longestInterruptionMin, continuous24h: e.continuous24h,
      needsReview: e.needsReview ?? null, reviewReasons: e.reviewReasons ?? [], provisional: e.provisional ?? null,
      reviewedBy: e.reviewedBy ?? null, reviewedAt: e.reviewedAt ?? null, reviewNote: e.reviewNote ?? null,
    },
    programs: e.programs ?? [],
    interruptions: e.interruptions,
    gaps: e.gaps ?? [],
    clockAnchors: e.clockAnchors ?? [],
    sentences,
  };
}
