/** Thin adapter over InfluxDB 1.x (`influx`): database set-up, batched writes and raw queries. */
import { InfluxDB, escape } from 'influx';
import { linesOf, type PointOrLine } from './lineProtocol.ts';

export const RETENTION_POLICY = 'pumpwatch';

export interface InfluxSeriesRaw {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface PointStore {
  /** creates the database and retention policy when missing; throws when InfluxDB is unreachable */
  ensureSchema(): Promise<void>;
  write(points: PointOrLine[]): Promise<void>;
  /** newline-separated lines, as they are */
  writeLines(body: Buffer): Promise<void>;
  /** rows as objects; `time` in microseconds since the epoch (exact in a double) */
  select(query: string): Promise<{ tags: Record<string, string>; rows: Record<string, unknown>[] }[]>;
  /** the same as columns and value arrays, as InfluxDB sends them (no object per row: large reads) */
  selectValues?(query: string): Promise<InfluxSeriesRaw[]>;
  /** true when InfluxDB answers /ping */
  ping(): Promise<boolean>;
  close(): void;
}

export interface InfluxStoreOptions {
  url: string;
  database: string;
  /** 0 = keep forever */
  retentionDays: number;
  username?: string | null;
  password?: string | null;
}

/** one write request gives up after this long (the writer retries) */
const WRITE_TIMEOUT_MS = 15_000;

export function createInfluxStore(o: InfluxStoreOptions): PointStore {
  const u = new URL(o.url);
  const influx = new InfluxDB({
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
    protocol: u.protocol === 'https:' ? 'https' : 'http',
    database: o.database,
    username: o.username ?? (u.username ? decodeURIComponent(u.username) : undefined),
    password: o.password ?? (u.password ? decodeURIComponent(u.password) : undefined),
    // retries are ours (storage writer); the pool must not hide an outage for long
    pool: { maxRetries: 0, requestTimeout: 15_000 },
  });
  let rp: string | undefined;
  const username = o.username ?? (u.username ? decodeURIComponent(u.username) : null);
  const password = o.password ?? (u.password ? decodeURIComponent(u.password) : null);
  const auth = username !== null ? `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` : null;
  const writeBase = `${u.protocol}//${u.host}/write?db=${encodeURIComponent(o.database)}&precision=n`;
  const post = async (body: string | Buffer): Promise<void> => {
    if (body.length === 0) return;
    const res = await fetch(rp ? `${writeBase}&rp=${encodeURIComponent(rp)}` : writeBase, {
      method: 'POST',
      // a view of the bytes, not a copy (allocUnsafeSlow chunks are plain ArrayBuffers)
      body: typeof body === 'string' ? body : new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.length),
      signal: AbortSignal.timeout(WRITE_TIMEOUT_MS),
      headers: { 'content-type': 'text/plain; charset=utf-8', ...(auth ? { authorization: auth } : {}) },
    });
    if (!res.ok) {
      const text = (await res.text().catch(() => '')).slice(0, 300);
      throw new Error(`InfluxDB write failed: HTTP ${res.status} ${text}`);
    }
    await res.body?.cancel().catch(() => undefined);
  };
  return {
    async ensureSchema() {
      const names = await influx.getDatabaseNames();
      if (!names.includes(o.database)) await influx.createDatabase(o.database);
      const policies = await influx.showRetentionPolicies(o.database);
      if (!policies.some((p) => p.name === RETENTION_POLICY)) {
        await influx.createRetentionPolicy(RETENTION_POLICY, {
          database: o.database,
          duration: o.retentionDays === 0 ? 'INF' : `${o.retentionDays}d`,
          replication: 1,
          isDefault: true,
        });
      }
      rp = RETENTION_POLICY;
    },
    async write(points) {
      if (points.length === 0) return;
      // our own line protocol and POST: `influx`'s writePoints costs more CPU than the rest of a point's path
      const { body } = linesOf(points);
      await post(body);
    },
    async writeLines(body) {
      await post(body);
    },
    async select(query) {
      const raw = (await influx.queryRaw(query, { database: o.database, precision: 'u' })) as {
        results?: { series?: InfluxSeriesRaw[]; error?: string }[];
      };
      const out: { tags: Record<string, string>; rows: Record<string, unknown>[] }[] = [];
      for (const r of raw.results ?? []) {
        if (r.error) throw new Error(`InfluxDB query failed: ${r.error}`);
        for (const s of r.series ?? []) {
          out.push({
            tags: s.tags ?? {},
            rows: s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))),
          });
        }
      }
      return out;
    },
    async selectValues(query) {
      const res = await fetch(`${u.protocol}//${u.host}/query?db=${encodeURIComponent(o.database)}&epoch=u&q=${encodeURIComponent(query)}`, {
        signal: AbortSignal.timeout(120_000), headers: auth ? { authorization: auth } : {},
      });
      if (!res.ok) throw new Error(`InfluxDB query failed: HTTP ${res.status} ${(await res.text().catch(() => '')).slice(0, 300)}`);
      const raw = (await res.json()) as { results?: { series?: InfluxSeriesRaw[]; error?: string }[] };
      const out: InfluxSeriesRaw[] = [];
      for (const r of raw.results ?? []) {
        if (r.error) throw new Error(`InfluxDB query failed: ${r.error}`);
        out.push(...(r.series ?? []));
      }
      return out;
    },
    async ping() {
      const hosts = await influx.ping(3000);
      return hosts.some((h) => h.online);
    },
    close() {
      /* the pool holds no open sockets between requests */
    },
  };
}

/** InfluxQL string literal, for values that are not placeholders */
export function quote(value: string): string {
  return escape.stringLit(value);
}

/** epoch ms to an InfluxQL time literal in ns */
export function timeLiteral(ms: number): string {
  return `${Math.round(ms)}000000`;
}
