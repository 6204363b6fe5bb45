/** The engine's thresholds live below the detection domain (server/thresholds); kept here for the engine's importers. */
export {
  DEFAULT_DETECTION_CONFIG, DetectionConfigError, resolveDetectionConfig, type ResolvedDetectionConfig,
} from '../thresholds/detectionConfig.ts';
