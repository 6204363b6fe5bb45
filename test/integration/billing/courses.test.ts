/**
 * Issue 15 through the real chain: simulated pumps on ptys → gateway → Mosquitto → server with
 * PostgreSQL and InfluxDB. Each pump writes a course of two days in minutes (its record, stamped on
 * its own clock, as a pump writes its history), under an order made by a pharmacist; billing must
 * answer with the order's code, the units and the review reasons. Then a billing clerk marks one
 * reviewed, the CSV is read back with csv-parse, and a course 70 days old, whose stored records
 * are that old too, is listed after a restart on a fresh journal.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Episode } from '../../../protocol/api.ts';
import type { InfluxQueryResult } from '../../helpers/influxd.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DetectionRig, type RigPump } from '../detection/detectionRig.ts';
import { rigPost, rigSession } from '../detection/rigSession.ts';

const H = 3_600_000;
const MIN = 60_000;
const STEP = 5 * MIN;
const RATE = 5;
const ENV = { BILLING_PAYER_RULES: 'Acme=24h_up,Beta=24h_nearest', SERVICE_DAY_RULE: 'nhia' };
const PUMPS = {
  pause: 'BC-PAUSE', bag: 'BC-BAG', acme: 'BC-ACME', beta: 'BC-BETA', clock: 'BC-CLOCK', gap: 'BC-GAP', old: 'BC-OLD',
} as const;

type Course = Episode & {
  units: number; reviewReasons: string[]; needsReview: boolean; mrn: string; orderId: string; payer: string | null; dayRule: string;
  programs: { programId: string }[]; clockAnchors: { by: string }[]; reviewedBy: string | null; reviewNote: string | null;
};

let rig: DetectionRig;
let pharmacist: Record<string, string>;
let clerk: Record<string, string>;
const NOW = Date.now();

/** a session of an account put straight into the users table (API tokens change nothing) */
const session = (username: string, role: 'pharmacist' | 'billing', password: string): Promise<Record<string, string>> => rigSession(rig, username, role, password);
const post = <T>(s: Record<string, string>, path: string, body: unknown, expected = 201): Promise<T> => rigPost<T>(rig, s, path, body, expected);

/** a patient, a continuous 46-h order (payer given) and the pump assigned from before the course */
async function order(pump: string, startMs: number, payer: string | null): Promise<string> {
  const mrn = `MRN-${pump}`;
  const patient = await post<{ id: string }>(pharmacist, '/api/patients', { mrn, name: `Patient, ${pump}`, timezone: 'UTC' });
  const o = await post<{ id: string }>(pharmacist, '/api/orders', {
    patientId: patient.id, drug: 'FLUOROURACIL', rateMlH: RATE, volumeMl: 500, hours: 46, mode: 'continuous',
    start: new Date(startMs - H).toISOString(), ...(payer ? { payer } : {}),
  });
  await post(pharmacist, '/api/assignments', { pump, orderId: o.id, from: new Date(startMs - H).toISOString() });
  return o.id;
}

/** Writes a pump's record: a status every 5 min, the volume counter kept consistent. */
class Writer {
  private vi = 0;
  constructor(private readonly p: RigPump, public t: number) {}
  /** `lost`: written by the pump but never heard, not even by ?HIST (its buffer was overwritten): only its seq is used */
  private async sts(state: 'RUN' | 'PAUSE' | 'END', lost = false): Promise<void> {
    const body = this.p.status({ state, rateMlH: RATE, infusedMl: Math.round(this.vi * 100) / 100, vtbiMl: Math.max(0, Math.round((500 - this.vi) * 100) / 100) });
    if (lost) this.p.line(body, this.t);
    else await this.p.write(body, this.t);
  }
  private async evt(code: string, detail: string, lost = false): Promise<void> {
    if (lost) this.p.line({ type: 'event', code, detail }, this.t);
    else await this.p.write({ type: 'event', code, detail }, this.t);
  }
  async start(programId: string): Promise<void> {
    this.vi = 0;
    await this.p.write({ type: 'program', programId, drug: 'FLUOROURACIL', rateMlH: RATE, volumeMl: 500, hours: 46 }, this.t);
    await this.p.write({ type: 'event', code: 'START', detail: programId }, this.t);
    await this.sts('RUN');
  }
  async run(ms: number, lost = false): Promise<void> {
    for (const end = this.t + ms; this.t < end;) {
      const step = Math.min(STEP, end - this.t);
      this.t += step;
      this.vi += (RATE * step) / H;
      await this.sts('RUN', lost);
    }
  }
  async pause(ms: number, lost = false): Promise<void> {
    await this.evt('PAUSE', '', lost);
    await this.sts('PAUSE', lost);
    for (const end = this.t + ms; this.t < end;) {
      this.t += Math.min(STEP, end - this.t);
      await this.sts('PAUSE', lost);
    }
    await this.evt('RESUME', '', lost);
  }
  /** pump time passes with nothing written (the pump is off the line) */
  idle(ms: number): void {
    this.t += ms;
  }
  async end(programId: string): Promise<void> {
    await this.p.write({ type: 'event', code: 'END', detail: programId }, this.t);
    await this.sts('END');
  }
  async clockSet(toMs: number, oldMs: number): Promise<void> {
    this.t = toMs;
    await this.p.write({ type: 'event', code: 'CLOCK', detail: new Date(oldMs).toISOString().replace(/\.\d{3}Z$/, 'Z') }, toMs);
  }
}

const courseStart = NOW - 50 * H;
const oldStart = NOW - 70 * 24 * H;
const orders: Record<string, string> = {};

async function write(): Promise<void> {
  const w = (pump: string, t = courseStart): Writer => new Writer(rig.pump(pump), t);
  await Promise.all([
    (async () => { // a 31-min pause in a 46-h continuous course
      const x = w(PUMPS.pause);
      await x.start('P1'); await x.run(20 * H); await x.pause(31 * MIN); await x.run(26 * H - 31 * MIN); await x.end('P1');
    })(),
    (async () => { // the bag changed at 23.5 h
      const x = w(PUMPS.bag);
      await x.start('BAG1'); await x.run(23.5 * H); await x.end('BAG1'); x.idle(10 * MIN);
      await x.start('BAG2'); await x.run(22.5 * H); await x.end('BAG2');
    })(),
    ...[PUMPS.acme, PUMPS.beta].map(async (pump) => { // 46 h under payers counting 24-h days
      const x = w(pump);
      await x.start('P1'); await x.run(46 * H); await x.end('P1');
    }),
    (async () => { // the pump clock 51 h ahead until hour 30, then set right
      const p = rig.pump(PUMPS.clock);
      const x = new Writer(p, courseStart + 51 * H);
      await x.start('P1'); await x.run(30 * H);
      await x.clockSet(courseStart + 30 * H, x.t);
      await x.run(16 * H); await x.end('P1');
    })(),
    (async () => { // our own outage: an hour of sentences lost for good, the pump paused 30 min of it
      const x = w(PUMPS.gap);
      await x.start('P1'); await x.run(20 * H);
      await x.run(30 * MIN, true); await x.pause(30 * MIN, true); await x.run(25 * H); await x.end('P1');
    })(),
    (async () => { // 70 days ago
      const x = w(PUMPS.old, oldStart);
      await x.start('P1'); await x.run(46 * H); await x.end('P1');
    })(),
  ]);
}

const list = (from: number, to: number, pump?: string): Promise<Course[]> =>
  rig.api<Course[]>(`/api/billing/episodes?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}${pump ? `&pump=${pump}` : ''}`);
const recent = async (): Promise<Map<string, Course>> => {
  const all = await list(NOW - 60 * H, NOW);
  return new Map(all.flatMap((e) => ((e as { pumps?: string[] }).pumps ?? [e.pump]).map((p): [string, Course] => [p, e])));
};

beforeAll(async () => {
  rig = await DetectionRig.start({ pumps: Object.values(PUMPS), database: true, env: ENV });
  [pharmacist, clerk] = await Promise.all([session('pharm', 'pharmacist', 'pharmacist-pass-1'), session('clerk', 'billing', 'clerk-pass-0001')]);
  for (const [pump, start, payer] of [
    [PUMPS.pause, courseStart, 'Medicare'], [PUMPS.bag, courseStart, 'Medicare'], [PUMPS.acme, courseStart, 'Acme'], [PUMPS.beta, courseStart, 'Beta'],
    [PUMPS.clock, courseStart, null], [PUMPS.gap, courseStart, null], [PUMPS.old, oldStart, 'Medicare'],
  ] as const) orders[pump] = await order(pump, start, payer);
  await write();
  // every course closed, billing's assignments loaded (a course under its order carries the MRN)
  await waitFor(async () => {
    const m = await recent();
    return [PUMPS.pause, PUMPS.bag, PUMPS.acme, PUMPS.beta, PUMPS.clock, PUMPS.gap].every((p) => m.get(p)?.end && m.get(p)?.mrn) ? m : null;
  }, 60_000, 'every course closed under its order');
}, 240_000);

afterAll(async () => {
  await rig?.stop();
});

describe('courses through pty, gateway, broker and server', () => {
  test('a 31-min pause in a 46-h continuous course: S9330, flagged interrupted', async () => {
    const e = (await recent()).get(PUMPS.pause)!;
    expect(e).toMatchObject({ code: 'S9330', orderId: orders[PUMPS.pause], mrn: `MRN-${PUMPS.pause}`, units: 3, longestInterruptionMin: 31 });
    expect(e.deliveryHours).toBeCloseTo(46 - 31 / 60, 2);
    expect(e.reviewReasons).toEqual(['interrupted']);
  });

  test('a bag changed at 23.5 h: one course of two programs, S9330, nothing to review', async () => {
    const e = (await recent()).get(PUMPS.bag)!;
    expect(e.programs.map((p) => p.programId)).toEqual(['BAG1', 'BAG2']);
    expect(e).toMatchObject({ code: 'S9330', needsReview: false, units: 3 });
    expect(e.deliveryHours).toBeCloseTo(46, 1);
  });

  test('46 h: 2 units for a payer counting 24-h days rounded up, and to the nearest', async () => {
    const m = await recent();
    expect(m.get(PUMPS.acme)).toMatchObject({ code: 'S9330', units: 2, dayRule: '24h_up', payer: 'Acme' });
    expect(m.get(PUMPS.beta)).toMatchObject({ code: 'S9330', units: 2, dayRule: '24h_nearest', payer: 'Beta' });
  });

  test('a clock 51 h ahead until hour 30: 46 h, S9330, flagged clock, the course where it happened', async () => {
    const e = (await recent()).get(PUMPS.clock)!;
    expect(e.deliveryHours).toBeCloseTo(46, 1);
    expect(e).toMatchObject({ code: 'S9330', reviewReasons: ['clock'] });
    expect(Math.abs(Date.parse(e.start) - Math.floor(courseStart / 1000) * 1000)).toBeLessThan(MIN);
    expect(e.clockAnchors.map((a) => a.by)).toEqual(['received', 'CLOCK']);
  });

  test('our own telemetry gap: unverified_gap, the code unchanged', async () => {
    const e = (await recent()).get(PUMPS.gap)!;
    expect(e).toMatchObject({ code: 'S9330', reviewReasons: ['unverified_gap'] });
    // from the last status heard (20 h) to the first after the outage (21 h 05): 65 min, 35 min of volume
    expect(e.unverifiedHours).toBeCloseTo(65 / 60, 2);
  });

  test('a billing clerk marks an episode reviewed with a note; the CSV reads back with csv-parse', async () => {
    const e = (await recent()).get(PUMPS.pause)!;
    const reviewed = await post<Course>(clerk, `/api/billing/episodes/${encodeURIComponent(e.id!)}/review`, { note: '=pause agreed with nurse' }, 200);
    expect(reviewed).toMatchObject({ reviewedBy: 'clerk', reviewNote: '=pause agreed with nurse', reviewed: true });
    expect((await recent()).get(PUMPS.pause)).toMatchObject({ reviewedBy: 'clerk' });
    const res = await fetch(`${rig.url}/api/billing/episodes.csv?from=${new Date(NOW - 60 * H).toISOString()}`, { headers: { cookie: clerk.cookie! } });
    expect(res.status).toBe(200);
    const rows = parse<Record<string, string>>(await res.text(), { columns: true });
    const row = rows.find((r) => r.orderId === orders[PUMPS.pause]);
    expect(row).toMatchObject({ mrn: `MRN-${PUMPS.pause}`, patientName: `Patient, ${PUMPS.pause}`, code: 'S9330', units: '3', reviewReasons: 'interrupted', reviewNote: "'=pause agreed with nurse", needsReview: 'true', provisional: 'false' });
    // the evidence document: the order, and every sentence with seq, pump time and arrival
    const doc = await rig.api<{ order: { orderId: string }; sentences: { seq: number; time: string; received: string }[] }>(
      `/api/billing/episodes/${encodeURIComponent(e.id!)}/evidence?format=json`);
    expect(doc.order.orderId).toBe(orders[PUMPS.pause]);
    expect(doc.sentences.length).toBe(e.evidence.sentences);
  });

  test('a course 70 days old, its stored records as old, is listed after a restart on a fresh journal', async () => {
    const from = oldStart - 24 * H;
    const to = oldStart + 72 * H;
    await waitFor(async () => ((await list(from, to))[0]?.end ? true : null), 30_000, 'the old course closed');
    await waitFor(async () => (await rig.api<{ writeBacklog: number }>('/api/health')).writeBacklog === 0, 30_000, 'storage caught up');
    await new Promise((r) => setTimeout(r, 1500)); // a checkpoint after the last sentence
    await ageEpisodeRecords(PUMPS.old, 70 * 24 * H);
    await rig.server.stop();
    await rig.startServer({ ...ENV, PUMPWATCH_JOURNAL_DIR: join(rig.dir.path, 'journal-2') });
    let last: unknown = null;
    const [e] = await waitFor(async () => {
      const l = await list(from, to);
      last = l;
      return l.length > 0 && l[0]?.mrn ? l : null;
    }, 30_000, 'the old course listed').catch(async (err: unknown) => {
      const db = 'pumpwatch_detection';
      const base = rig.influx.urlFor(db).slice(0, -(db.length + 1));
      const q = `SELECT "id" FROM "episode_week" WHERE "pump" = '${PUMPS.old}'`;
      const stored = await (await fetch(`${base}/query?db=${db}&epoch=ms&q=${encodeURIComponent(q)}`)).text();
      throw new Error(`${(err as Error).message}: last answer ${JSON.stringify(last).slice(0, 600)}; stored ${stored.slice(0, 800)}; since ${from - 2 * 24 * H}`);
    });
    expect(e).toMatchObject({ code: 'S9330', orderId: orders[PUMPS.old], units: 3, needsReview: false });
    expect(e!.deliveryHours).toBeCloseTo(46, 1);
    // the review made before the restart is still shown (PostgreSQL)
    const reviewed = await waitFor(async () => (await recent()).get(PUMPS.pause) ?? null, 30_000, 'the recent course restored');
    expect(reviewed).toMatchObject({ reviewedBy: 'clerk', reviewNote: '=pause agreed with nurse' });
  });
});

/** `2026-12-03T19:40:12.123456789Z` → epoch ns */
function nanos(time: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(time);
  if (!m) throw new Error(`not an RFC 3339 time: ${time}`);
  return BigInt(Date.parse(`${m[1] ?? ''}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9));
}

/** Moves a pump's stored episode records back in time, as they would be that much later (influx line protocol). */
async function ageEpisodeRecords(pump: string, byMs: number): Promise<void> {
  const db = 'pumpwatch_detection';
  const base = rig.influx.urlFor(db).slice(0, -(db.length + 1));
  const q = `SELECT "id", "json", "journalEpoch", "journalId" FROM "episode_week" WHERE "pump" = '${pump}'`;
  // RFC 3339 times to the nanosecond: the server stamps points apart below the millisecond
  const res = (await (await fetch(`${base}/query?db=${db}&q=${encodeURIComponent(q)}`)).json()) as InfluxQueryResult;
  const series = res.results[0]?.series?.[0];
  if (!series) throw new Error('no stored episode records');
  const col = (name: string): number => series.columns.indexOf(name);
  const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const lines = series.values.map((v) => `episode_week,pump=${pump} id="${esc(String(v[col('id')]))}",json="${esc(String(v[col('json')]))}",journalEpoch="${esc(String(v[col('journalEpoch')]))}",journalId=${Number(v[col('journalId')])} ${nanos(String(v[col('time')])) - BigInt(byMs) * 1_000_000n}`);
  const w = await fetch(`${base}/write?db=${db}&precision=ns`, { method: 'POST', body: lines.join('\n') });
  if (w.status !== 204) throw new Error(`influx write: HTTP ${w.status} ${await w.text()}`);
  const d = await fetch(`${base}/query?db=${db}&q=${encodeURIComponent(`DELETE FROM "episode_week" WHERE "pump" = '${pump}' AND time > now() - 30d`)}`, { method: 'POST' });
  if (d.status !== 200) throw new Error(`influx delete: HTTP ${d.status}`);
}
