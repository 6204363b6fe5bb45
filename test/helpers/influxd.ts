import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { startProcess, type RunningProcess } from './childProcess.ts';
import { tempDir } from './tempDir.ts';
import { waitFor } from './wait.ts';
import { influxdConfig } from '../../scripts/services/influxd.ts';

export interface InfluxServer {
  port: number;
  /** http://127.0.0.1:port (add /<database> for INFLUX_URL) */
  baseUrl: string;
  urlFor(database: string): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  dispose(): Promise<void>;
  /** runs an InfluxQL query over HTTP and returns the parsed JSON */
  query(database: string, q: string): Promise<InfluxQueryResult>;
}

export interface InfluxSeries { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }
export interface InfluxQueryResult { results: { series?: InfluxSeries[]; error?: string }[] }

/** A real InfluxDB 1.x (Debian's influxd) on free ports with its data in a temp folder. */
export async function startInfluxd(): Promise<InfluxServer> {
  const port = await freePort();
  const rpcPort = await freePort();
  const tmp = tempDir('pumpwatch-influxd-');
  const conf = join(tmp.path, 'influxdb.conf');
  writeFileSync(conf, influxdConfig({ port, rpcPort, dir: tmp.path }));
  let proc: RunningProcess | null = null;
  const baseUrl = `http://127.0.0.1:${port}`;
  const server: InfluxServer = {
    port, baseUrl,
    urlFor: (db) => `${baseUrl}/${db}`,
    async start() {
      proc = startProcess('influxd', ['-config', conf]);
      await waitFor(async () => (await fetch(`${baseUrl}/ping`)).status === 204, 20_000, `influxd on ${port}`, 100);
    },
    async stop() {
      if (proc) await proc.stop();
      proc = null;
    },
    async dispose() {
      await server.stop();
      tmp.remove();
    },
    async query(database, q) {
      const res = await fetch(`${baseUrl}/query?db=${encodeURIComponent(database)}&q=${encodeURIComponent(q)}`);
      return (await res.json()) as InfluxQueryResult;
    },
  };
  await server.start();
  return server;
}
