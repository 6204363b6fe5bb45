/** Entry point of the pure detection core. */
import { isTimeZone } from '../../protocol/clinicalValidation.ts';
import { DEFAULT_DETECTION_CONFIG, DetectionConfigError, resolveDetectionConfig } from '../thresholds/detectionConfig.ts';
import { Engine } from './engine.ts';
import type { DetectionConfig, DetectionEngine, EngineOptions } from './types.ts';

export { DEFAULT_DETECTION_CONFIG, DetectionConfigError, resolveDetectionConfig, type ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
export type { DetectionConfig, DetectionEngine, DrugLimit, EngineChanges, EngineOptions, EngineStats, IngestContext, OrderTerms, PumpSnapshot } from './types.ts';

/** Validates the config once (throws DetectionConfigError, code BAD_DETECTION_CONFIG) and builds an engine. */
export function createDetectionEngine(config: Partial<DetectionConfig> = DEFAULT_DETECTION_CONFIG, options: EngineOptions = {}): DetectionEngine {
  if (options.timeZone !== undefined) checkTimeZone(options.timeZone);
  return new Engine(resolveDetectionConfig(config), options);
}

function checkTimeZone(zone: string): void {
  if (!isTimeZone(zone)) throw new DetectionConfigError(`detection config: timeZone must be an IANA time zone (got "${zone}")`);
}
