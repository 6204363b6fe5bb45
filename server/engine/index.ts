/** Entry point of the pure detection core. */
import { DEFAULT_DETECTION_CONFIG, resolveDetectionConfig } from '../thresholds/detectionConfig.ts';
import { Engine } from './engine.ts';
import type { DetectionConfig, DetectionEngine } from './types.ts';

export { DEFAULT_DETECTION_CONFIG, DetectionConfigError, resolveDetectionConfig, type ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
export type { DetectionConfig, DetectionEngine, DrugLimit, EngineChanges, EngineStats, IngestContext, OrderTerms, PumpSnapshot } from './types.ts';

/** Validates the config once (throws DetectionConfigError, code BAD_DETECTION_CONFIG) and builds an engine. */
export function createDetectionEngine(config: Partial<DetectionConfig> = DEFAULT_DETECTION_CONFIG): DetectionEngine {
  return new Engine(resolveDetectionConfig(config));
}
