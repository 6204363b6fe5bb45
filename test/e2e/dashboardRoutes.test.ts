/**
 * Every route the dashboard calls (dashboard/src/routes.ts) exists on the real server: each is
 * walked as each role that makes it, with its method and a valid body, and must answer 2xx with the
 * documented shape (docs/api.md), never 404/405; on one server, and on an instance of a scale-out
 * pair for a pump the other instance holds. A scan of dashboard/src makes sure no call bypasses
 * the list.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { createECDH, randomBytes } from 'node:crypto';
import webPush from 'web-push';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { Alert, Episode, PumpView, TelemetryPoint } from '../../protocol/api.ts';
import type { Assignment, Order, Patient } from '../../protocol/clinical.ts';
import { DASHBOARD_ROUTES, routeUrl, type DashboardRoute, type RouteName } from '../../dashboard/src/routes.ts';
import { EPISODE_CSV_COLUMNS } from '../../server/billing/index.ts';
import { startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { LiveServer, type TestUser } from './liveServer.ts';
import { infuse, statusNow } from './pumpWorld.ts';

const H = 3_600_000;
const USERS: TestUser[] = [
  { name: 'nurse', password: 'nurse-pass-1', role: 'nurse' },
  { name: 'billing', password: 'billing-pass-1', role: 'billing' },
  { name: 'admin', password: 'admin-pass-1', role: 'admin' },
  { name: 'pharmacist', password: 'pharmacist-pass-1', role: 'pharmacist' },
];
const SRC = fileURLToPath(new URL('../../dashboard/src/', import.meta.url));
/** Web Push on (docs/push.md), so the board's push routes answer */
const VAPID = webPush.generateVAPIDKeys();
const PUSH_ENV = { VAPID_PUBLIC_KEY: VAPID.publicKey, VAPID_PRIVATE_KEY: VAPID.privateKey, VAPID_SUBJECT: 'mailto:routes@example.org' };
const walkEndpoint = (user: string): string => `https://push.example.net/walk/${user}`;
/** a browser's PushSubscription.toJSON(): a real P-256 key and a 16-byte secret */
function walkSubscription(user: string): { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint: walkEndpoint(user), expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
}

/** A browser's session on one server: cookie, CSRF token, same-origin headers. */
class Session {
  cookie = '';
  csrf = '';
  constructor(readonly base: string) {}

  async login(user: TestUser): Promise<Response> {
    const res = await this.call('POST', routeUrl('login'), { username: user.name, password: user.password });
    this.cookie = (res.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const me = await this.call('GET', routeUrl('me'));
    this.csrf = ((await me.json()) as { csrfToken: string }).csrfToken;
    return res;
  }

  call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', origin: this.base };
    if (this.cookie) headers.cookie = this.cookie;
    if (method !== 'GET' && this.csrf) headers['x-csrf-token'] = this.csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${this.base}${path}`, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** the value is an object whose named fields have these JavaScript types */
function expectFields(v: unknown, types: Record<string, 'string' | 'number' | 'boolean' | 'object'>, what = ''): void {
  expect(isObject(v), what).toBe(true);
  const o = v as Record<string, unknown>;
  for (const [key, type] of Object.entries(types)) expect(typeof o[key], `${what} ${key}`).toBe(type);
}
const ROLES = ['nurse', 'billing', 'admin'];

function checkAlert(a: unknown): asserts a is Alert {
  expect(isObject(a)).toBe(true);
  const x = a as Alert;
  expect(typeof x.id).toBe('string');
  expect(x.pump).toMatch(/^[A-Z0-9-]{3,20}$/);
  expect(['high', 'medium', 'low']).toContain(x.severity);
  expect(['active', 'cleared']).toContain(x.status);
  expect(typeof x.acknowledged).toBe('boolean');
  expect(Number.isNaN(Date.parse(x.raisedAt))).toBe(false);
}

function checkPump(p: unknown): asserts p is PumpView {
  expect(isObject(p)).toBe(true);
  const x = p as PumpView;
  expect(x.pump).toMatch(/^[A-Z0-9-]{3,20}$/);
  expect(['IDLE', 'RUN', 'PAUSE', 'ALARM', 'END', null]).toContain(x.state);
  expect(Array.isArray(x.alarms)).toBe(true);
}

function checkEpisode(e: unknown): asserts e is Episode {
  expect(isObject(e)).toBe(true);
  const x = e as Episode;
  expect(typeof x.id).toBe('string');
  expect(['S9330', 'S9331']).toContain(x.code);
  expect(typeof x.deliveryHours).toBe('number');
  expect(Array.isArray(x.interruptions)).toBe(true);
  expect(isObject(x.evidence)).toBe(true);
}

/** what the clinical routes are walked with: a patient and order, and open assignments to end (one per walk) */
interface ClinicalIds {
  patientId: string;
  orderId: string;
  openAssignments: string[];
}

/** unique per walk: MRNs and pump serials never repeat, so no walk meets a 409 of another */
let walkSeq = 0;

function checkPatient(p: unknown): asserts p is Patient {
  expectFields(p, { id: 'string', mrn: 'string', name: 'string' }, 'patient');
}

function checkOrder(o: unknown): asserts o is Order {
  expectFields(o, { id: 'string', patientId: 'string', drug: 'string', rateMlH: 'number', volumeMl: 'number', hours: 'number', mode: 'string', start: 'string' }, 'order');
}

function checkAssignment(a: unknown): asserts a is Assignment {
  expectFields(a, { id: 'string', pump: 'string', orderId: 'string', patientId: 'string', from: 'string' }, 'assignment');
}

interface Walk {
  params: Record<string, string>;
  query?: URLSearchParams;
  body?: unknown;
  /** the documented answer */
  check(res: Response, role: string): Promise<void>;
}

/** One entry per route: a Record over RouteName, so a new route without a walk does not compile. */
function walks(ids: { pump: string; alertId: string; episodeId: string; clinical: ClinicalIds }, user: TestUser): Record<RouteName, Walk> {
  const json = async (res: Response): Promise<unknown> => {
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    return res.json();
  };
  return {
    me: {
      params: {},
      check: async (res, role) => {
        const me = await json(res);
        expectFields(me, { csrfToken: 'string' });
        expect(me).toMatchObject({ username: user.name, role });
      },
    },
    login: { params: {}, body: { username: user.name, password: user.password }, check: async (res, role) => expect(await json(res)).toMatchObject({ username: user.name, role }) },
    logout: { params: {}, check: async (res) => expect(await res.text()).toBe('') },
    health: {
      params: {},
      check: async (res) => {
        const h = await json(res);
        expectFields(h, { status: 'string', mqtt: 'string', influx: 'string' });
        expect(['ok', 'degraded']).toContain((h as { status: string }).status);
      },
    },
    live: { params: {}, check: () => Promise.resolve() }, // walked as a WebSocket below
    acknowledge: {
      params: { id: ids.alertId },
      check: async (res) => {
        const a = await json(res);
        checkAlert(a);
        expect(a.acknowledged).toBe(true);
        expect(typeof a.ackedBy).toBe('string');
      },
    },
    pumpAlerts: {
      params: {}, query: new URLSearchParams({ status: 'all', pump: ids.pump, from: new Date(Date.now() - 3 * H).toISOString(), to: new Date().toISOString() }),
      check: async (res) => {
        const list = await json(res);
        expect(Array.isArray(list)).toBe(true);
        expect((list as unknown[]).length).toBeGreaterThan(0);
        for (const a of list as unknown[]) checkAlert(a);
      },
    },
    telemetry: {
      params: { pump: ids.pump }, query: new URLSearchParams({ from: new Date(Date.now() - 3 * H).toISOString(), to: new Date().toISOString() }),
      check: async (res) => {
        const points = (await json(res)) as TelemetryPoint[];
        expect(points.length).toBeGreaterThan(0);
        for (const p of points) expectFields(p, { time: 'string', seq: 'number', state: 'string', rateMlH: 'number' }, 'telemetry point');
      },
    },
    pumpLabel: {
      params: { pump: ids.pump }, body: { label: `Round ${user.name}` },
      check: async (res) => {
        const p = await json(res);
        checkPump(p);
        expect(p.label).toBe(`Round ${user.name}`);
      },
    },
    pumpVisit: {
      params: { pump: ids.pump }, body: { minutes: 30 },
      check: async (res) => {
        const p = await json(res);
        checkPump(p);
        expect(p.visit).toMatchObject({ by: user.name });
      },
    },
    endPumpVisit: {
      params: { pump: ids.pump },
      check: async (res) => {
        const p = await json(res);
        checkPump(p);
        expect(p.visit).toBeNull();
      },
    },
    episodes: {
      params: {}, query: new URLSearchParams({ pump: ids.pump }),
      check: async (res) => {
        const list = (await json(res)) as unknown[];
        expect(list.length).toBeGreaterThan(0);
        for (const e of list) checkEpisode(e);
      },
    },
    episodesCsv: {
      params: {}, query: new URLSearchParams({ pump: ids.pump }),
      check: async (res) => {
        expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
        expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
        const [header, ...rows] = (await res.text()).trim().split('\r\n');
        expect(header).toBe(EPISODE_CSV_COLUMNS.join(','));
        expect(rows.some((r) => r.split(',')[EPISODE_CSV_COLUMNS.indexOf('pump')] === ids.pump)).toBe(true);
      },
    },
    evidence: {
      params: { id: ids.episodeId },
      check: async (res) => {
        expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
        const lines = (await res.text()).trim().split('\n');
        expect(lines.length).toBeGreaterThan(0);
        for (const l of lines) expectFields(JSON.parse(l), { seq: 'number', time: 'string', received: 'string', raw: 'string' }, 'evidence line');
      },
    },
    reviewEpisode: {
      params: { id: ids.episodeId }, body: { note: `checked by ${user.name}` },
      check: async (res) => {
        const e = await json(res);
        checkEpisode(e);
        expect(e).toMatchObject({ reviewedBy: user.name, reviewNote: `checked by ${user.name}` });
      },
    },
    patients: {
      params: {},
      check: async (res) => {
        const list = (await json(res)) as unknown[];
        expect(list.length).toBeGreaterThan(0);
        for (const p of list) checkPatient(p);
        expect(list.some((p) => (p as Patient).id === ids.clinical.patientId)).toBe(true);
      },
    },
    createPatient: {
      params: {}, body: { mrn: `WALK-${process.pid}-${++walkSeq}`, name: `Walk ${user.name}`, phone: '+1 555 0100', timezone: 'America/Chicago' },
      check: async (res) => {
        expect(res.status).toBe(201);
        const p = await json(res);
        checkPatient(p);
        expect(p).toMatchObject({ name: `Walk ${user.name}`, phone: '+1 555 0100', timezone: 'America/Chicago' });
      },
    },
    orders: {
      params: {}, query: new URLSearchParams({ patientId: ids.clinical.patientId }),
      check: async (res) => {
        const list = (await json(res)) as unknown[];
        for (const o of list) checkOrder(o);
        expect(list.some((o) => (o as Order).id === ids.clinical.orderId)).toBe(true);
      },
    },
    createOrder: {
      params: {},
      body: { patientId: ids.clinical.patientId, drug: 'FLUOROURACIL', rateMlH: 1.2, volumeMl: 115.2, hours: 96, mode: 'continuous', start: new Date().toISOString(), payer: 'Medicare', prescriber: 'Dr Walk' },
      check: async (res) => {
        expect(res.status).toBe(201);
        const o = await json(res);
        checkOrder(o);
        expect(o).toMatchObject({ patientId: ids.clinical.patientId, rateMlH: 1.2, mode: 'continuous' });
      },
    },
    assignments: {
      params: {}, query: new URLSearchParams({ active: 'true' }),
      check: async (res) => {
        const list = (await json(res)) as unknown[];
        for (const a of list) checkAssignment(a);
      },
    },
    createAssignment: {
      params: {}, body: { pump: `CS7-W${process.pid % 1000}-${++walkSeq}`, orderId: ids.clinical.orderId },
      check: async (res) => {
        expect(res.status).toBe(201);
        const a = await json(res);
        checkAssignment(a);
        expect(a).toMatchObject({ orderId: ids.clinical.orderId, patientId: ids.clinical.patientId, to: null });
      },
    },
    drugLimits: {
      params: {},
      check: async (res) => {
        const body = await json(res);
        expect(Array.isArray((body as { limits?: unknown }).limits)).toBe(true);
        for (const l of (body as { limits: unknown[] }).limits) expectFields(l, { drug: 'string', maxRateMlH: 'number' }, 'drug limit');
      },
    },
    saveDrugLimits: {
      params: {}, body: { limits: [{ drug: 'FLUOROURACIL', maxRateMlH: 10, maxVolumeMl: null }, { drug: `WALK-${user.name}`, maxRateMlH: 50, maxVolumeMl: 500 }] },
      check: async (res) => {
        const body = (await json(res)) as { limits: { drug: string; maxRateMlH: number; maxVolumeMl: number | null }[] };
        expect(body.limits).toEqual(expect.arrayContaining([{ drug: 'FLUOROURACIL', maxRateMlH: 10, maxVolumeMl: null }, { drug: `WALK-${user.name}`, maxRateMlH: 50, maxVolumeMl: 500 }]));
        expect(body.limits).toHaveLength(2);
      },
    },
    pushKey: { params: {}, check: async (res) => expect(await json(res)).toEqual({ publicKey: VAPID.publicKey }) },
    pushSubscribe: {
      params: {}, body: walkSubscription(user.name),
      check: async (res) => {
        expect(res.status).toBe(201);
        expect(await json(res)).toMatchObject({ endpoint: walkEndpoint(user.name) });
      },
    },
    pushUnsubscribe: { params: {}, body: { endpoint: walkEndpoint(user.name) }, check: async (res) => expect(await res.text()).toBe('') },
    onCall: {
      params: {}, query: new URLSearchParams({ at: new Date().toISOString() }),
      check: async (res) => {
        const body = await json(res);
        expect(isObject(body)).toBe(true);
        const o = body as { shift: unknown; chain: unknown };
        expect(Array.isArray(o.chain)).toBe(true);
        if (o.shift !== null) expectFields(o.shift, { from: 'string', to: 'string', chain: 'object' }, 'shift');
      },
    },
    onCallShifts: {
      params: {},
      check: async (res) => {
        const body = await json(res);
        expect(Array.isArray((body as { shifts?: unknown }).shifts)).toBe(true);
        for (const s of (body as { shifts: unknown[] }).shifts) expectFields(s, { from: 'string', to: 'string', chain: 'object' }, 'shift');
      },
    },
    saveOnCall: {
      params: {}, body: { shifts: [{ from: new Date(Date.now() - H).toISOString(), to: new Date(Date.now() + 8 * H).toISOString(), chain: ['nurse', 'admin'] }] },
      check: async (res) => {
        const body = (await json(res)) as { shifts: unknown[] };
        expect(body.shifts).toHaveLength(1);
        expect(body.shifts[0]).toMatchObject({ chain: ['nurse', 'admin'] });
      },
    },
    contact: {
      // an admin reads anyone's; the others their own
      params: { username: user.role === 'admin' ? 'nurse' : user.name },
      check: async (res) => {
        const c = await json(res);
        expect(isObject(c)).toBe(true);
        const email = (c as { email?: unknown }).email;
        expect(email === undefined || email === null || typeof email === 'string').toBe(true);
      },
    },
    saveContact: {
      params: { username: user.name }, body: { email: `${user.name}@example.org` },
      check: async (res) => expect(await json(res)).toMatchObject({ email: `${user.name}@example.org` }),
    },
    alertPages: {
      params: { id: ids.alertId },
      check: async (res) => {
        const list = await json(res);
        expect(Array.isArray(list)).toBe(true);
        for (const p of list as unknown[]) {
          expectFields(p, { to: 'string', channel: 'string', sentAt: 'string', status: 'string' }, 'page');
          expect(['sent', 'failed', 'accepted', 'declined', 'expired']).toContain((p as { status: string }).status);
        }
      },
    },
    endAssignment: {
      // one open assignment per walk (this entry is built for every route walked, so taken lazily)
      get params() { return { id: ids.clinical.openAssignments.pop() ?? 'none-left' }; },
      check: async (res) => {
        const a = await json(res);
        checkAssignment(a);
        expect(typeof a.to).toBe('string');
      },
    },
  };
}

/** the first message on /ws, as the board's LiveConnection receives it */
function firstWsMessage(base: string, cookie: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${routeUrl('live')}`, { headers: { cookie, origin: base } });
    ws.once('message', (data) => {
      resolve(JSON.parse((data as Buffer).toString('utf8')));
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`/ws answered ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Walks every route as every role that makes it against one server; `pump` is labelled by each. */
async function walkAll(base: string, ids: { pump: string; alertId: string; episodeId: string; clinical: ClinicalIds }): Promise<string[]> {
  const walked: string[] = [];
  for (const [name, route] of Object.entries(DASHBOARD_ROUTES) as [RouteName, DashboardRoute][]) {
    const roles = route.roles.includes('anyone') ? ROLES : route.roles;
    for (const role of roles) {
      const user = USERS.find((u) => u.role === role)!;
      const session = new Session(base);
      if (name !== 'login' && !route.roles.includes('anyone')) expect((await session.login(user)).status).toBe(200);
      if (name === 'me') await session.login(user);
      const w = walks(ids, user)[name];
      const what = `${route.method} ${route.path} as ${role}`;
      if (route.answer === 'websocket') {
        const first = await firstWsMessage(base, session.cookie);
        expectFields(first, { type: 'string', pumps: 'object', alerts: 'object' }, what);
        const snap = first as { type: string; pumps: unknown[]; alerts: unknown[] };
        expect(snap.type).toBe('snapshot');
        for (const p of snap.pumps) checkPump(p);
        for (const a of snap.alerts) checkAlert(a);
        walked.push(what);
        continue;
      }
      const res = await session.call(route.method, routeUrl(name, w.params, w.query), w.body);
      expect([404, 405], `${what} answered ${res.status}`).not.toContain(res.status);
      expect(res.status, `${what}: ${res.status} ${res.ok ? '' : await res.clone().text()}`).toBeLessThan(300);
      await w.check(res, role);
      walked.push(what);
    }
  }
  return walked;
}

/** one pump with a finished infusion (an episode with evidence) and an open occlusion alert */
async function seed(live: LiveServer, serial: string): Promise<{ pump: string; alertId: string; episodeId: string }> {
  const feed = live.pump(serial, 'home-routes');
  const now = Date.now();
  await infuse(feed, { startMs: now - 2 * H, endMs: now - 30 * 60_000, untilMs: now - 20 * 60_000, programId: 'R-C1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, programHours: 46 });
  await statusNow(feed, 'ALARM', { pressureMmHg: 790, alarms: ['OCCL_DN'] });
  await feed.send({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' });
  return vi.waitFor(async () => {
    const alerts = await live.api<Alert[]>(`/api/alerts?pump=${serial}`);
    const episodes = await live.api<Episode[]>(`/api/billing/episodes?pump=${serial}`);
    const telemetry = await live.api<TelemetryPoint[]>(`/api/pumps/${serial}/telemetry?from=${new Date(now - 3 * H).toISOString()}`);
    const alert = alerts.find((a) => a.type === 'occlusion');
    const episode = episodes[0];
    if (!alert || episode?.id === undefined || telemetry.length === 0) throw new Error('not stored yet');
    return { pump: serial, alertId: alert.id, episodeId: episode.id };
  }, { timeout: 30_000, interval: 250 });
}

/** a patient with an order, and `ends` open assignments for the endAssignment walks, made through the API */
async function seedClinical(live: LiveServer, ends: number): Promise<ClinicalIds> {
  // the server starts without waiting for its database (it never blocks the alarm path): wait until it is up
  await vi.waitFor(async () => expect((await live.api<{ database?: string }>('/api/health')).database).toBe('up'), { timeout: 30_000, interval: 100 });
  // clinical records are changed by a pharmacist (an API token may not)
  const pharmacist = new Session(live.url);
  expect((await pharmacist.login(USERS.find((u) => u.role === 'pharmacist')!)).status).toBe(200);
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await pharmacist.call('POST', path, body);
    if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const patient = await post<Patient>('/api/patients', { mrn: `ROUTES-${process.pid}-${++walkSeq}`, name: 'Route Walker', phone: '+1 555 0199' });
  const order = await post<Order>('/api/orders', { patientId: patient.id, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46, mode: 'continuous', start: new Date(Date.now() - H).toISOString() });
  const openAssignments: string[] = [];
  for (let i = 0; i < ends; i++) openAssignments.push((await post<Assignment>('/api/assignments', { pump: `CS7-E${process.pid % 1000}-${++walkSeq}`, orderId: order.id })).id);
  return { patientId: patient.id, orderId: order.id, openAssignments };
}

/** how many times endAssignment is walked on one walkAll */
const END_WALKS = DASHBOARD_ROUTES.endAssignment.roles.length;

let pg: PostgresServer;
beforeAll(async () => { pg = await startPostgres(); }, 60_000);
afterAll(() => pg?.stop());

describe('one server', () => {
  const live = new LiveServer();
  beforeAll(() => live.start(USERS, { DATABASE_URL: pg.url, ...PUSH_ENV }), 60_000);
  afterAll(() => live.dispose());

  test('every route the dashboard calls answers its documented shape, as every role that calls it', async () => {
    const ids = { ...(await seed(live, 'CS7-ROUTE01')), clinical: await seedClinical(live, END_WALKS) };
    const walked = await walkAll(live.url, ids);
    // every route as each role that calls it; the public ones as nurse, billing and admin
    expect(walked.length).toBe((Object.values(DASHBOARD_ROUTES) as DashboardRoute[]).reduce((n, r) => n + (r.roles.includes('anyone') ? 3 : r.roles.length), 0));
    // the last label set sticks, and survives a restart (stored in InfluxDB)
    expect((await live.api<PumpView>(`/api/pumps/${ids.pump}`)).label).toBe('Round admin');
    await live.stopServer();
    await live.startServer();
    expect((await live.api<PumpView>(`/api/pumps/${ids.pump}`)).label).toBe('Round admin');
  }, 120_000);
});

describe('scale-out: two instances (SHARD, relay on)', () => {
  const a = new LiveServer();
  const b = new LiveServer();
  const shard = (i: number): Record<string, string> => ({ SHARD: `${i}/2`, SERVER_INSTANCE_ID: `e2e-${i}`, CLUSTER_RELAY: 'on' });
  beforeAll(async () => {
    // one clinical records database for both instances, as a scale-out deployment has
    const url = await pg.createDatabase('routes_shard');
    await a.start(USERS, { ...shard(0), DATABASE_URL: url, ...PUSH_ENV });
    await b.start(USERS, { ...shard(1), DATABASE_URL: url, ...PUSH_ENV }, { broker: a.broker, influx: a.influx });
  }, 90_000);
  afterAll(async () => {
    await b.dispose();
    await a.dispose();
  });

  test('every route answers on either instance, and a label set on one shows on the other', async () => {
    // a pump of each shard: each instance holds one and relays the other
    const serials = ['CS7-SHARD01', 'CS7-SHARD02', 'CS7-SHARD03', 'CS7-SHARD04'];
    const ids = await Promise.all(serials.map((s) => seed(a, s)));
    for (const live of [a, b]) {
      for (const id of ids) await vi.waitFor(async () => expect(await live.api<PumpView>(`/api/pumps/${id.pump}`)).toBeDefined(), { timeout: 10_000 });
    }
    // routes on instance b, for a pump whichever instance holds (billing episodes come from storage for a remote pump)
    for (const id of ids) await walkAll(b.url, { ...id, clinical: await seedClinical(a, END_WALKS) });
    // a label given on b shows on a, live
    await b.api(`/api/pumps/${serials[0]}/label`, { method: 'PUT', body: JSON.stringify({ label: 'Set on b' }) });
    await vi.waitFor(async () => expect((await a.api<PumpView>(`/api/pumps/${serials[0]}`)).label).toBe('Set on b'), { timeout: 5000 });
  }, 240_000);
});

describe('dashboard/src makes no call outside routes.ts', () => {
  const files = readdirSync(SRC).filter((f) => f.endsWith('.ts'));
  const sources = files.map((f) => ({ file: f, text: readFileSync(join(SRC, f), 'utf8') }));
  const names = new Set(Object.keys(DASHBOARD_ROUTES));

  test('no server path is written anywhere else', () => {
    for (const { file, text } of sources) {
      if (file === 'routes.ts') continue;
      expect(text.match(/['"`]\/(api|ws)\b[^'"`]*/g) ?? [], file).toEqual([]);
      expect(text.match(/\b(XMLHttpRequest|EventSource|sendBeacon)\b/g) ?? [], file).toEqual([]);
    }
  });

  test('every fetch( and request( takes its URL from the list', () => {
    let fetches = 0;
    let requests = 0;
    for (const { file, text } of sources) {
      for (const m of text.matchAll(/\bfetch\(([^,)]*)/g)) {
        fetches++;
        expect(m[1], `${file}: fetch(${m[1]}`).toMatch(/^routeUrl\(/);
      }
      // api.ts's request() is the only way to the server besides fetch (not exported); any call of
      // it with a path or a variable instead of a route name bypasses the list
      if (file !== 'api.ts') continue;
      expect(text).not.toMatch(/export\s+(async\s+)?function\s+request\b/);
      const all = [...text.matchAll(/(?<![.\w])request(?:<[^>]*>)?\(/g)].filter((m) => !/function request/.test(text.slice(Math.max(0, m.index - 9), m.index + 8)));
      const named = [...text.matchAll(/(?<![.\w])request(?:<[^>]*>)?\(\s*'[A-Za-z]+'/g)];
      expect(all.length, `${file}: request( without a route name`).toBe(named.length);
      for (const m of named) {
        const name = /'([A-Za-z]+)'/.exec(m[0])![1]!;
        requests++;
        expect(names.has(name), `${file}: request('${name}') is not in DASHBOARD_ROUTES`).toBe(true);
      }
    }
    // the live socket's URL is built in main.ts from the list
    for (const { file, text } of sources) {
      for (const m of text.matchAll(/new WebSocket\(([^)]*)\)/g)) expect(`${file}: ${m[1]}`).toBe('live.ts: this.opts.url');
    }
    expect(sources.find((f) => f.file === 'main.ts')?.text).toMatch(/url: `[^`]*\$\{routeUrl\('live'\)\}`/);
    expect(fetches).toBeGreaterThanOrEqual(2);
    expect(requests).toBeGreaterThanOrEqual(8);
  });

  test('every listed route is used, so the list is what the dashboard calls', () => {
    const used = new Set<string>();
    for (const { file, text } of sources) {
      if (file === 'routes.ts') continue;
      for (const m of text.matchAll(/(?<![.\w])(?:routeUrl|request(?:<[^>]*>)?)\(\s*'([A-Za-z]+)'/g)) used.add(m[1]!);
    }
    expect([...used].sort()).toEqual([...names].sort());
  });
});
