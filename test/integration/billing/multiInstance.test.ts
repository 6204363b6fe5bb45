/**
 * Issue 15, "every instance of a multi-instance deployment gives the same answer for the same query
 * at the same time": two real `npm run server` instances (SHARD 0/2 and 1/2, the cluster relay on)
 * share one Mosquitto, one influxd and one PostgreSQL. Pumps of both shards publish courses, each
 * assigned to an order through the API of the instance that judges it; then both instances are
 * asked for the same period at the same moment, as JSON and as CSV, and must answer alike — for
 * the last days and for a period 70 days back (older than what an instance holds in memory).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'csv-parse/sync';
import type { MqttClient } from 'mqtt';
import type { Episode } from '../../../protocol/api.ts';
import { encodeSentence } from '../../../protocol/encode.ts';
import type { Sentence } from '../../../protocol/sentence.ts';
import { hashPassword } from '../../../server/auth/passwords.ts';
import { databaseTarget } from '../../../server/cli/usersTargets.ts';
import { parseDatabaseUrl } from '../../../server/db/databaseUrl.ts';
import { createDatabasePool } from '../../../server/db/pool.ts';
import { shardOf } from '../../../server/ingest/shard.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { waitFor } from '../../helpers/wait.ts';
import { fleetPublisher, payloadOf, startScaleoutStack, TOKEN, type ScaleoutStack } from '../scaleout/scaleoutStack.ts';

const H = 3_600_000;
const MIN = 60_000;
const STEP = 5 * MIN;
const RATE = 5;
const NOW = Date.now();
const RECENT = NOW - 50 * H;
const OLD = NOW - 70 * 24 * H;

type Course = Episode & {
  units: number; needsReview: boolean; reviewReasons: string[]; mrn: string; orderId: string | null; pumps: string[]; programs: { programId: string }[];
};
/** NHIA days of a closed course in UTC: every date from its start to its end */
const utcDays = (e: Course): number => Math.floor(Date.parse(e.end!) / 86_400_000) - Math.floor(Date.parse(e.start) / 86_400_000) + 1;
type Kind = 'clean' | 'pause' | 'bag' | 'old' | 'no_order';
interface Pump { pump: string; shard: number; kind: Kind }

/** two pumps of each shard, plus one of shard 1 with no order */
function fleet(): Pump[] {
  const wanted: [number, Kind][] = [[0, 'clean'], [0, 'pause'], [1, 'bag'], [1, 'old'], [1, 'no_order']];
  const out: Pump[] = [];
  for (let i = 0; out.length < wanted.length; i++) {
    const pump = `MI${String(i).padStart(5, '0')}`;
    const next = wanted.find(([shard, kind]) => shard === shardOf(pump, 2) && !out.some((p) => p.kind === kind));
    if (next) out.push({ pump, shard: next[0], kind: next[1] });
  }
  return out;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A pump's record: a status every 5 min of pump time, the volume counter consistent. */
function course(pump: string, kind: Kind): Sentence[] {
  const out: Sentence[] = [];
  let t = kind === 'old' ? OLD : RECENT;
  let seq = 0;
  let vi = 0;
  const add = (s: Record<string, unknown>): void => {
    out.push({ pump, seq: seq++, time: iso(t), ...s } as Sentence);
  };
  const sts = (state: 'RUN' | 'PAUSE' | 'END'): void => add({
    type: 'status', state, rateMlH: RATE, infusedMl: Math.round(vi * 100) / 100, vtbiMl: Math.max(0, Math.round((500 - vi) * 100) / 100),
    reservoirMl: null, pressureMmHg: 35, batteryPct: 90, alarms: [],
  });
  const start = (programId: string): void => {
    vi = 0;
    add({ type: 'program', programId, drug: 'FLUOROURACIL', rateMlH: RATE, volumeMl: 500, hours: 46 });
    add({ type: 'event', code: 'START', detail: programId });
    sts('RUN');
  };
  const run = (ms: number): void => {
    for (const end = t + ms; t < end;) {
      const step = Math.min(STEP, end - t);
      t += step;
      vi += (RATE * step) / H;
      sts('RUN');
    }
  };
  const end = (programId: string): void => {
    add({ type: 'event', code: 'END', detail: programId });
    sts('END');
  };
  if (kind === 'pause') {
    start('P1'); run(20 * H);
    add({ type: 'event', code: 'PAUSE', detail: '' }); sts('PAUSE');
    for (const stop = t + 31 * MIN; t < stop;) { t += Math.min(STEP, stop - t); sts('PAUSE'); }
    add({ type: 'event', code: 'RESUME', detail: '' });
    run(26 * H - 31 * MIN); end('P1');
  } else if (kind === 'bag') {
    start('BAG1'); run(23.5 * H); end('BAG1'); t += 10 * MIN;
    start('BAG2'); run(22.5 * H); end('BAG2');
  } else {
    start('P1'); run(46 * H); end('P1');
  }
  return out;
}

let pg: PostgresServer;
let stack: ScaleoutStack;
let pub: MqttClient;
const pumps = fleet();
const orders = new Map<string, string>();

/** a billing/pharmacy account put straight into the shared users table, logged in on instance i */
async function session(i: number, username: string, password: string): Promise<Record<string, string>> {
  const url = `http://127.0.0.1:${stack.instances[i]!.port}`;
  let res: Response | null = null;
  for (let refused = 0, deadline = Date.now() + 20_000; refused < 3 && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 2500)); // the server re-reads the accounts every 2 s
    res = await fetch(`${url}/api/session`, {
      method: 'POST', headers: { origin: url, 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
    });
    if (res.status === 200) break;
    if (res.status !== 503) refused++;
  }
  if (res?.status !== 200) throw new Error(`${username} login on instance ${i}: HTTP ${res?.status ?? 'none'}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('pumpwatch_session=')) ?? '';
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie, origin: url, 'x-csrf-token': csrfToken, 'content-type': 'application/json' };
}

async function post<T>(i: number, s: Record<string, string>, path: string, body: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${stack.instances[i]!.port}${path}`, { method: 'POST', headers: s, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST ${path} on instance ${i}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

const query = (from: number, to: number): string => `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
const text = async (i: number, path: string): Promise<string> => {
  const res = await fetch(`http://127.0.0.1:${stack.instances[i]!.port}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (res.status !== 200) throw new Error(`${path} on instance ${i}: HTTP ${res.status}`);
  return res.text();
};
/** the same request to both instances at the same moment */
const both = (path: string): Promise<[string, string]> => Promise.all([text(0, path), text(1, path)]);

beforeAll(async () => {
  pg = await startPostgres();
  stack = await startScaleoutStack(2, { env: { DATABASE_URL: pg.url, CHECKPOINT_MS: '500' } });
  await Promise.all([0, 1].map((i) => stack.start(i)));
  const passwordHash = await hashPassword('pharmacist-pass-1');
  // the servers migrate the shared database once they are up: the users table may come a moment later
  await waitFor(async () => {
    const pool = createDatabasePool(parseDatabaseUrl(pg.url), { max: 1 });
    const accounts = databaseTarget(pool, 'the test database', 'test');
    try {
      await accounts.put('pharm', { role: 'pharmacist', passwordHash });
      return true;
    } catch {
      return null;
    } finally {
      await accounts.close();
      await pool.end().catch(() => undefined);
    }
  }, 30_000, 'the users table migrated', 500);
  const sessions = await Promise.all([0, 1].map((i) => session(i, 'pharm', 'pharmacist-pass-1')));
  // each pump's order made through the instance that judges it: the other learns it by its reload
  for (const p of pumps.filter((x) => x.kind !== 'no_order')) {
    const s = sessions[p.shard]!;
    const startMs = (p.kind === 'old' ? OLD : RECENT) - H;
    const patient = await post<{ id: string }>(p.shard, s, '/api/patients', { mrn: `MRN-${p.pump}`, name: `Patient, ${p.pump}`, timezone: 'UTC' });
    const o = await post<{ id: string }>(p.shard, s, '/api/orders', {
      patientId: patient.id, drug: 'FLUOROURACIL', rateMlH: RATE, volumeMl: 500, hours: 46, mode: 'continuous', start: new Date(startMs).toISOString(), payer: 'Medicare',
    });
    await post(p.shard, s, '/api/assignments', { pump: p.pump, orderId: o.id, from: new Date(startMs).toISOString() });
    orders.set(p.pump, o.id);
  }
  pub = await fleetPublisher(stack.broker.url, 'billing-multi-fleet');
  await Promise.all(pumps.map(async (p) => {
    for (const s of course(p.pump, p.kind)) {
      await pub.publishAsync(`pumpwatch/gw-${p.shard}/pumps/${p.pump}`, payloadOf(encodeSentence(s), s), { qos: 1 });
    }
  }));
  // both instances know every course, closed and under its order (the assignments reload every 30 s)
  const complete = async (i: number, from: number, to: number, want: Pump[]): Promise<boolean> => {
    const list = JSON.parse(await text(i, `/api/billing/episodes?${query(from, to)}`)) as Course[];
    return want.every((p) => list.some((e) => e.pumps.includes(p.pump) && e.end !== null && (p.kind === 'no_order' || e.mrn === `MRN-${p.pump}`)));
  };
  const recent = pumps.filter((p) => p.kind !== 'old');
  const old = pumps.filter((p) => p.kind === 'old');
  await waitFor(async () => ((await complete(0, RECENT - H, NOW, recent)) && (await complete(1, RECENT - H, NOW, recent))
    && (await complete(0, OLD - 24 * H, OLD + 72 * H, old)) && (await complete(1, OLD - 24 * H, OLD + 72 * H, old)) ? true : null), 60_000, 'both instances know every course');
}, 150_000);

afterAll(async () => {
  await pub?.endAsync();
  await stack?.dispose();
  await pg?.stop();
});

describe('two instances, one answer', () => {
  test('the last days: the same courses, codes and units from both, as JSON and as CSV', async () => {
    const [a, b] = await both(`/api/billing/episodes?${query(RECENT - H, NOW)}`);
    expect(a).toBe(b);
    const list = JSON.parse(a) as Course[];
    const of = (kind: Kind): Course | undefined => list.find((e) => e.pumps.includes(pumps.find((p) => p.kind === kind)!.pump));
    expect(list).toHaveLength(4);
    expect(of('clean')).toMatchObject({ code: 'S9330', needsReview: false, orderId: orders.get(pumps.find((p) => p.kind === 'clean')!.pump) });
    expect(of('pause')).toMatchObject({ code: 'S9330', reviewReasons: ['interrupted'] });
    expect(of('bag')?.programs.map((p) => p.programId)).toEqual(['BAG1', 'BAG2']);
    expect(of('bag')).toMatchObject({ code: 'S9330', needsReview: false });
    for (const kind of ['clean', 'pause', 'bag'] as const) expect(of(kind)!.units).toBe(utcDays(of(kind)!));
    expect(of('no_order')).toMatchObject({ code: 'S9330', reviewReasons: ['no_order'] });
    const [csvA, csvB] = await both(`/api/billing/episodes.csv?${query(RECENT - H, NOW)}`);
    expect(csvA).toBe(csvB);
    expect(parse<Record<string, string>>(csvA, { columns: true }).map((r) => r.id)).toEqual(list.map((e) => e.id));
  });

  test('a period 70 days back: the same course from both, from the stored record', async () => {
    const [a, b] = await both(`/api/billing/episodes?${query(OLD - 24 * H, OLD + 72 * H)}`);
    expect(a).toBe(b);
    const list = JSON.parse(a) as Course[];
    expect(list).toHaveLength(1);
    expect(list[0]!.units).toBe(utcDays(list[0]!));
    expect(list[0]).toMatchObject({ code: 'S9330', needsReview: false, mrn: `MRN-${pumps.find((p) => p.kind === 'old')!.pump}` });
    const [csvA, csvB] = await both(`/api/billing/episodes.csv?${query(OLD - 24 * H, OLD + 72 * H)}`);
    expect(csvA).toBe(csvB);
  });

  test('one episode by id: the same from both', async () => {
    const list = JSON.parse((await both(`/api/billing/episodes?${query(RECENT - H, NOW)}`))[0]) as Course[];
    for (const e of list) {
      const [a, b] = await both(`/api/billing/episodes/${encodeURIComponent(e.id!)}`);
      expect(a).toBe(b);
    }
  });
});
