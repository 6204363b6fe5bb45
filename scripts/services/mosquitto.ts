/**
 * Mosquitto configuration for local runs (tests, demo). It stays root (`user root`: otherwise it
 * drops to user mosquitto and cannot write its folder) and queues without limit for offline
 * persistent sessions (the default max_queued_messages of 1000 silently drops).
 */
export interface MosquittoConfigOptions {
  port: number;
  /** persistence folder, absolute */
  dir: string;
  /** log to this file instead of stdout */
  logFile?: string;
  extraConfig?: string;
}

export function mosquittoConfig(o: MosquittoConfigOptions): string {
  return [
    'user root',
    `listener ${o.port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${o.dir}/`,
    'autosave_interval 1',
    'max_queued_messages 0',
    'max_inflight_messages 0',
    o.logFile ? `log_dest file ${o.logFile}` : 'log_dest stdout',
    'log_type error',
    'log_type warning',
    o.extraConfig ?? '',
  ].join('\n');
}
