/**
 * Courses (interfaces.md §4, Episode): everything delivered under one order is one episode, across
 * bags, programs, pumps swapped mid-course and power cycles; a program on a pump with no order is an
 * episode of its own, flagged `no_order`. The code follows the order's mode; where the pump's record
 * disagrees the episode keeps the order's code and is flagged for review, never recoded.
 * Pure: built from the programs' accounting and the assignments pushed in.
 */
import type { EpisodeState } from './episodeState.ts';
import type { BillingEpisode, BillingInterruption } from './episodeView.ts';
import { isoTime } from './episodeView.ts';
import { courseServiceDays, type DeliverySegment } from './serviceDays.ts';
import type { BillingAssignment, BillingConfig, ServiceDayRule } from './types.ts';
import type { ClockAnchor, GapCheck } from './episodeState.ts';

export type ReviewReason = 'no_order' | 'short_course' | 'interrupted' | 'unverified_gap' | 'clock' | 'open';

/** One program (bag) of a course, as listed on it. */
export interface CourseProgram {
  id: string;
  pump: string;
  programId: string;
  start: string;
  end: string | null;
  deliveryHours: number;
}

export interface CourseEpisode extends BillingEpisode {
  patientId: string | null;
  mrn: string | null;
  /** extension: the clerk's CSV names the patient */
  patientName: string | null;
  orderId: string | null;
  payer: string | null;
  mode: 'continuous' | 'intermittent' | null;
  /** days billed = serviceDays.length */
  units: number;
  /** still open: figures so far */
  provisional: boolean;
  needsReview: boolean;
  reviewReasons: ReviewReason[];
  /** extension: the service-day rule applied and the zone of the dates */
  dayRule: ServiceDayRule;
  timeZone: string;
  /** extension: every pump that delivered the course, in order */
  pumps: string[];
  /** extension: the programs (bags) of the course, in order */
  programs: CourseProgram[];
  /** extension: re-anchorings of a pump clock found wrong (evidence) */
  clockAnchors: ClockAnchor[];
  /** extension: every telemetry gap and how it was judged (evidence) */
  gaps: GapEvidence[];
}

export interface GapEvidence {
  pump: string;
  from: string;
  to: string;
  seconds: number;
  rateMlH: number | null;
  viBeforeMl: number | null;
  viAfterMl: number | null;
  expectedMl: number | null;
  toleranceMl: number | null;
  verdict: GapCheck['verdict'];
}

export interface CourseRun {
  state: EpisodeState;
  /** the program's own view (at the query's "now") */
  view: BillingEpisode;
}

export interface CourseContext {
  /** the assignment the course is delivered under (null: no order) */
  assignment: BillingAssignment | null;
  /** an assignment of the order is still open and the order still prescribed */
  orderOpen: boolean;
  /** server clock, for an open course's days ("to now") */
  nowMs?: number;
}

/** `order-<id>`: a course's id, safe in a URL path. */
export function courseId(orderId: string): string {
  return `order-${orderId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

const hours = (seconds: number): number => Math.floor((seconds / 3600) * 10_000) / 10_000;
const minutes = (seconds: number): number => Math.round((seconds / 60) * 100) / 100;
const UNPROVEN = 'telemetry_gap';

/** The payer's rule (BILLING_PAYER_RULES, names compared case-insensitively), else the default. */
export function dayRuleFor(payer: string | null, config: BillingConfig): ServiceDayRule {
  if (payer !== null && config.payerRules) {
    const key = payer.trim().toLowerCase();
    for (const [name, rule] of Object.entries(config.payerRules)) if (name.trim().toLowerCase() === key) return rule;
  }
  return config.serviceDayRule;
}

const reasonsOf = (i: BillingInterruption): string[] => i.reason.split('+');
/** the record proves the therapy stood still over it (a gap it cannot prove is not such proof) */
const provenOff = (i: BillingInterruption): boolean => {
  if (i.reason === 'clock_change') return false;
  if (!i.reason.includes('+')) return i.reason !== UNPROVEN;
  const rs = reasonsOf(i);
  return !rs.includes(UNPROVEN) && !rs.every((r) => r === 'clock_change');
};

/** Builds one course from its programs (sorted by start). */
export function courseView(runs: readonly CourseRun[], ctx: CourseContext, config: BillingConfig): CourseEpisode {
  const first = runs[0];
  if (!first) throw new Error('a course has at least one program');
  const last = runs[runs.length - 1] as CourseRun;
  const a = ctx.assignment;
  const interruptions: BillingInterruption[] = [];
  let longestSec = 0;
  let deliverySec = 0;
  let unverifiedH = 0;
  let stalledMin = 0;
  let sentences = 0;
  const segments: DeliverySegment[] = [];
  const pumps: string[] = [];
  const anchors: ClockAnchor[] = [];
  let clockTrouble = false;
  runs.forEach((run, k) => {
    const { state, view } = run;
    deliverySec += state.deliverySec;
    unverifiedH += view.unverifiedHours;
    stalledMin += view.stalledMinutes;
    sentences += view.evidence.sentences;
    segments.push(...state.segments);
    if (!pumps.includes(state.pump)) pumps.push(state.pump);
    anchors.push(...(state.clockAnchors ?? []));
    const next = runs[k + 1];
    for (const i of view.interruptions) {
      if (i.reason.includes('clock_change')) clockTrouble = true;
      if (i.final && next) continue; // joined with the time to the next program below
      interruptions.push(i);
      if (!i.final) longestSec = Math.max(longestSec, Math.round(i.minutes * 60));
    }
    if (next && view.end !== null) {
      // between two programs of the course (a bag change, a pump swapped): time without delivery
      const final = view.interruptions.find((i) => i.final);
      const fromIso = final?.from ?? view.end;
      const betweenS = Math.max(0, (next.state.startMs - Date.parse(view.end)) / 1000);
      const seconds = Math.round((final ? final.minutes * 60 : 0) + betweenS);
      const reason = [...(final ? [final.reason] : []), next.state.pump === state.pump ? 'bag_change' : 'pump_change'].join('+');
      interruptions.push({ from: fromIso, to: next.view.start, minutes: minutes(seconds), reason });
      longestSec = Math.max(longestSec, seconds);
    }
  });
  if (anchors.length > 0) clockTrouble = true;

  const runOpen = runs.some((r) => r.view.end === null);
  const open = runOpen || (a !== null && ctx.orderOpen && last.view.completed !== true);
  const continuous24h = deliverySec >= 24 * 3600 && longestSec <= config.continuityToleranceMin * 60;
  const mode = a?.order.mode ?? null;
  const code = mode === 'continuous' ? 'S9330' : mode === 'intermittent' ? 'S9331' : continuous24h ? 'S9330' : 'S9331';

  const rule = dayRuleFor(a?.order.payer ?? null, config);
  const timeZone = a?.patient.timeZone ?? config.timeZone;
  let lastDeliveryMs = last.state.startMs;
  for (const seg of segments) if (seg[1] > lastDeliveryMs) lastDeliveryMs = seg[1];
  const endMs = runOpen
    ? Math.max(lastDeliveryMs, ctx.nowMs ?? last.state.maxTimeMs, last.state.maxTimeMs)
    : Date.parse(last.view.end ?? isoTime(last.state.maxTimeMs));
  const offList = interruptions.filter(provenOff);
  const off: DeliverySegment[] = offList.map((i) => [Date.parse(i.from), Date.parse(i.to)]);
  // an ongoing stop of an open course: the patient is without the therapy from its start
  const serviceDays = courseServiceDays({ rule, timeZone, segments, startMs: first.state.startMs, endMs, off });

  const reasons: ReviewReason[] = [];
  if (a === null) reasons.push('no_order');
  if (mode === 'continuous' && !open && deliverySec < 24 * 3600) reasons.push('short_course');
  const tolS = config.continuityToleranceMin * 60;
  if (mode === 'continuous' && offList.some((i) => !i.final && i.minutes * 60 > tolS)) reasons.push('interrupted');
  if (unverifiedH > 0) reasons.push('unverified_gap');
  if (clockTrouble) reasons.push('clock');
  if (open) reasons.push('open');

  return {
    ...first.view,
    id: a ? courseId(a.order.id) : first.view.id,
    drug: first.view.drug || (a?.order.drug ?? ''),
    end: open ? null : last.view.end,
    deliveryHours: hours(deliverySec),
    interruptions,
    longestInterruptionMin: minutes(longestSec),
    continuous24h,
    code,
    serviceDays,
    evidence: { firstSeq: first.view.evidence.firstSeq, lastSeq: last.view.evidence.lastSeq, sentences },
    unverifiedHours: Math.floor(unverifiedH * 10_000) / 10_000,
    stalledMinutes: Math.round(stalledMin * 100) / 100,
    endedBy: open ? null : last.view.endedBy,
    completed: open ? null : last.view.completed,
    leftMl: open ? null : last.view.leftMl,
    patientId: a?.patient.id ?? null,
    mrn: a?.patient.mrn ?? null,
    patientName: a?.patient.name ?? null,
    orderId: a?.order.id ?? null,
    payer: a?.order.payer ?? null,
    mode,
    units: serviceDays.length,
    provisional: open,
    needsReview: reasons.length > 0,
    reviewReasons: reasons,
    dayRule: rule,
    timeZone,
    pumps,
    programs: runs.map((r) => ({
      id: r.view.id, pump: r.view.pump, programId: r.view.programId, start: r.view.start, end: r.view.end, deliveryHours: r.view.deliveryHours,
    })),
    clockAnchors: anchors,
    gaps: runs.flatMap((r) => (r.state.gaps ?? []).map((g) => ({
      pump: r.state.pump, from: isoTime(g.fromMs), to: isoTime(g.toMs), seconds: g.seconds, rateMlH: g.rateMlH,
      viBeforeMl: g.viBeforeMl, viAfterMl: g.viAfterMl,
      expectedMl: g.expectedMl === null ? null : Math.round(g.expectedMl * 1000) / 1000,
      toleranceMl: g.toleranceMl === null ? null : Math.round(g.toleranceMl * 1000) / 1000, verdict: g.verdict,
    }))),
  };
}
