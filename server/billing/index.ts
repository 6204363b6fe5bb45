/** Billing: continuous-infusion episodes backed by the pump's own record (docs/billing.md). */
export { createEpisodeTracker, episodeId } from './episodeTracker.ts';
export { DEFAULT_BILLING_CONFIG } from './config.ts';
export { episodesToCsv, csvCell, EPISODE_CSV_COLUMNS } from './csv.ts';
export { serviceDays, courseServiceDays, localDate, isValidTimeZone, type DeliverySegment } from './serviceDays.ts';
export type { BillingEpisode, BillingInterruption } from './episodeView.ts';
export { courseId, courseView, dayRuleFor, type CourseEpisode, type CourseProgram, type ReviewReason } from './courses.ts';
export type { ClockAnchor } from './episodeState.ts';
export { GAP_INTERVALS, VOLUME_TOLERANCE_ML, VOLUME_TOLERANCE_S, VOLUME_TOLERANCE_FRACTION } from './pumpCursor.ts';
export type * from './types.ts';
