/** InfluxDB 1.x configuration for local runs (tests, demo): loopback only, data in one folder. */
export interface InfluxdConfigOptions {
  /** HTTP port */
  port: number;
  /** RPC (backup) port */
  rpcPort: number;
  /** data folder, absolute */
  dir: string;
}

export function influxdConfig(o: InfluxdConfigOptions): string {
  return `
reporting-disabled = true
bind-address = "127.0.0.1:${o.rpcPort}"
[meta]
  dir = "${o.dir}/meta"
[data]
  dir = "${o.dir}/data"
  wal-dir = "${o.dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${o.port}"
  log-enabled = false
  auth-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
`;
}
