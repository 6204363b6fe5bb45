/**
 * Detection thresholds: defaults, validation, and the frozen resolved form the detectors read.
 * Below the whole detection domain (pumps, alerts, detectors, engine), so each of them can read it
 * without importing the engine that uses them.
 */

export interface DetectionConfig {
  /** STOPPED_GRACE_S: how long a running program may be paused/halted before infusion_stopped */
  stoppedGraceS: number;
  /** SIGNAL_LOST_S: silence (server clock) from a pump with an unfinished program before signal_lost */
  signalLostS: number;
  /** unacknowledged high-severity alerts are re-pushed with escalated: true after this long */
  escalateAfterS: number;
  /** a pump time more than this ahead of the server clock is a clock_error, not used for durations */
  clockAheadToleranceS: number;
  /** further thresholds (occlusion inference, reservoir, battery, flap window...): see DEFAULT_DETECTION_CONFIG and docs/detection.md */
  [key: string]: number;
}

export interface ResolvedDetectionConfig extends DetectionConfig {
  /** seconds a flapping condition may stay cleared and still come back as the same alert */
  flapWindowS: number;
  /** seconds of pump time a sentence may lag the server clock (beyond the pump's usual lag) before it counts as replayed history */
  historyLagS: number;
  /** seconds of quiet (server clock) after a backlog before alerts it raised are published as active */
  historyQuietS: number;
  /** mmHg above the running baseline that counts as a pressure climb */
  occlusionRiseMmHg: number;
  /** seconds vi must stay still during RUN before an occlusion can be inferred */
  occlusionStallS: number;
  /** mL the pump should have delivered (rate × stall time) before an occlusion can be inferred */
  occlusionStallMl: number;
  /** weight of each new advancing-RUN pressure sample in the baseline (0–1) */
  occlusionBaselineAlpha: number;
  /** hours of delivery below which an ended or projected episode raises delivery_below_24h */
  deliveryMinHours: number;
  /** programs planned for fewer hours than this are short on purpose and never raise delivery_below_24h */
  deliveryMinPlannedHours: number;
  /** mL: reservoir short of the volume still to infuse by more than this raises low_reservoir */
  reservoirShortfallMl: number;
  /** % battery at or below which low_battery is raised during an unfinished program */
  lowBatteryPct: number;
  /** % above lowBatteryPct the battery must climb back before low_battery clears */
  lowBatteryHysteresisPct: number;
  /** mL: volume left below this counts as nothing left */
  volumeEpsilonMl: number;
  /** COMPLETE_RESIDUAL_ML: a program stopped (or halted) with no more than this left is complete, not stopped (overfill, line priming) */
  completeResidualMl: number;
  /** PROGRAM_TOLERANCE_PCT: % a program may differ from its order (rate; volume beyond what is left) before program_mismatch */
  programTolerancePct: number;
  /** mL given under an order beyond what it allows by now (with the tolerance) before delivery_above_order: vi rounding and a line prime */
  deliverySlackMl: number;
  /** NO_FLOW_MIN_S: seconds of RUN with vi frozen before no_flow, at the least (lower rates wait for noFlowDueMl) */
  noFlowMinS: number;
  /** mL that should have gone in (rate × frozen RUN time) before no_flow: several 0.01-mL counter steps */
  noFlowDueMl: number;
  /** mmHg at or below which the downstream line pressure counts as lost during RUN */
  linePressureLostMmHg: number;
  /** mmHg the running baseline must have reached before a fall to ~0 means something (a low-pressure line never alerts) */
  linePressureMinBaselineMmHg: number;
  /** seconds of pump time the pressure must stay lost before line_pressure_lost */
  linePressureLostS: number;
  /** consecutive RUN statuses with the pressure lost before line_pressure_lost */
  linePressureLostSamples: number;
}

export const DEFAULT_DETECTION_CONFIG: Readonly<ResolvedDetectionConfig> = Object.freeze({
  programTolerancePct: 10,
  deliverySlackMl: 2,
  stoppedGraceS: 300,
  signalLostS: 300,
  escalateAfterS: 600,
  clockAheadToleranceS: 600,
  flapWindowS: 600,
  historyLagS: 120,
  historyQuietS: 2,
  occlusionRiseMmHg: 100,
  occlusionStallS: 180,
  occlusionStallMl: 0.15,
  occlusionBaselineAlpha: 0.1,
  deliveryMinHours: 24,
  deliveryMinPlannedHours: 24,
  reservoirShortfallMl: 5,
  lowBatteryPct: 15,
  lowBatteryHysteresisPct: 5,
  volumeEpsilonMl: 0.05,
  noFlowMinS: 1200,
  noFlowDueMl: 0.1,
  linePressureLostMmHg: 5,
  linePressureMinBaselineMmHg: 15,
  linePressureLostS: 300,
  linePressureLostSamples: 3,
  completeResidualMl: 5,
});

export class DetectionConfigError extends Error {
  readonly code = 'BAD_DETECTION_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'DetectionConfigError';
  }
}

/** Fills defaults and checks every value once; throws DetectionConfigError with one clear line. */
export function resolveDetectionConfig(config: Partial<DetectionConfig>): Readonly<ResolvedDetectionConfig> {
  const merged: Record<string, number> = { ...DEFAULT_DETECTION_CONFIG };
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_DETECTION_CONFIG)) throw new DetectionConfigError(`detection config: unknown setting ${key}`);
    merged[key] = value;
  }
  for (const [key, value] of Object.entries(merged)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new DetectionConfigError(`detection config: ${key} must be a finite number >= 0 (got ${String(value)})`);
    }
  }
  if ((merged.occlusionBaselineAlpha ?? 0) > 1) throw new DetectionConfigError('detection config: occlusionBaselineAlpha must be <= 1');
  if ((merged.lowBatteryPct ?? 0) > 100) throw new DetectionConfigError('detection config: lowBatteryPct must be <= 100');
  return Object.freeze(merged as ResolvedDetectionConfig);
}
