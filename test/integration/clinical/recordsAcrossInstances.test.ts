/**
 * Two real `npm run server` instances (SHARD 0/2 and 1/2) on one PostgreSQL, Mosquitto and influxd:
 * a clinical change made through A reaches B through LISTEN/NOTIFY (docs/scaling.md, "Clinical
 * records"), well before B's periodic reload (left at its 30-s default), so a pump B judges is
 * checked against the order assigned through A at once: no false program_unassigned, and a wrong
 * program is program_mismatch from its START.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Alert, PumpView } from '../../../protocol/api.ts';
import type { Assignment, Order, Patient } from '../../../protocol/clinical.ts';
import { decodeSentence } from '../../../protocol/decode.ts';
import { encodeSentence } from '../../../protocol/encode.ts';
import type { Sentence } from '../../../protocol/sentence.ts';
import { hashPassword } from '../../../server/auth/passwords.ts';
import { writeUsersFile } from '../../../server/auth/usersFile.ts';
import { shardOf } from '../../../server/ingest/shard.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { waitFor } from '../../helpers/wait.ts';
import { fleetPublisher, payloadOf, startScaleoutStack, type ScaleoutStack } from '../scaleout/scaleoutStack.ts';
import type { MqttClient } from 'mqtt';

const PASSWORD = 'pharmacy-pass-0001';
const A = 0;
const B = 1;
/** made-up serials that SHARD 1/2 (instance B) judges */
const ON_B = Array.from({ length: 200 }, (_, i) => `NT${String(i).padStart(5, '0')}`).filter((s) => shardOf(s, 2) === B).slice(0, 3);
const [SEEN, MATCHING, WRONG] = ON_B as [string, string, string];
const ORDER = { drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 };

let pgServer: PostgresServer;
let stack: ScaleoutStack;
let pub: MqttClient;
let pharma: { cookie: string; csrf: string };
const seqs = new Map<string, number>();

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

type Body = Sentence extends infer S ? (S extends Sentence ? Omit<S, 'pump' | 'seq' | 'time'> : never) : never;

async function send(pump: string, body: Body): Promise<void> {
  const seq = seqs.get(pump) ?? 0;
  seqs.set(pump, seq + 1);
  const line = encodeSentence({ ...body, pump, seq, time: iso(Date.now()) });
  const d = decodeSentence(line);
  if (!d.ok) throw new Error(`bad test sentence ${line}`);
  await pub.publishAsync(`pumpwatch/gw-notify/pumps/${pump}`, payloadOf(line, d.sentence), { qos: 1 });
}

async function powerOn(pump: string): Promise<void> {
  await send(pump, { type: 'event', code: 'POWER_ON', detail: '4.2.1' });
  await send(pump, { type: 'status', state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0, reservoirMl: null, pressureMmHg: 0, batteryPct: 97, alarms: [] });
}

/** a change through A as the pharmacist (session cookie and CSRF token) */
async function onA<T>(method: string, path: string, body?: unknown): Promise<T> {
  const base = `http://127.0.0.1:${stack.instances[A]!.port}`;
  const res = await fetch(`${base}${path}`, {
    method, headers: { cookie: pharma.cookie, 'x-csrf-token': pharma.csrf, origin: base, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${path} on A: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const pumpOnB = async (serial: string): Promise<PumpView | undefined> => (await stack.api<PumpView[]>(B, '/api/pumps')).find((p) => p.pump === serial);
const alertsOnB = (serial: string): Promise<Alert[]> =>
  stack.api<Alert[]>(B, `/api/alerts?status=all&from=${new Date(Date.now() - 3_600_000).toISOString()}&pump=${serial}`);

async function assignThroughA(pump: string, mrn: string): Promise<{ order: Order; assignment: Assignment }> {
  const patient = await onA<Patient>('POST', '/api/patients', { mrn, name: `Test Patient ${mrn}`, phone: '+1 555 010 0000' });
  const order = await onA<Order>('POST', '/api/orders', { mode: 'continuous', ...ORDER, patientId: patient.id, start: new Date(Date.now() - 3_600_000).toISOString() });
  return { order, assignment: await onA<Assignment>('POST', '/api/assignments', { pump, orderId: order.id }) };
}

beforeAll(async () => {
  pgServer = await startPostgres();
  stack = await startScaleoutStack(2, { env: { DATABASE_URL: pgServer.url } });
  writeUsersFile(`${stack.dir.path}/users.json`, { version: 1, users: { pharma: { role: 'pharmacist', password: await hashPassword(PASSWORD), updatedAt: '' } } });
  await stack.start(A);
  await stack.start(B);
  for (const i of [A, B]) {
    await waitFor(async () => (await stack.api<{ database?: string }>(i, '/api/health')).database === 'up', 30_000, `database up on ${i}`, 100);
  }
  await stack.instances[B]!.proc!.waitForLine(/listening for clinical record changes/, 30_000);
  const base = `http://127.0.0.1:${stack.instances[A]!.port}`;
  pharma = await waitFor(async () => {
    const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { origin: base, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'pharma', password: PASSWORD }) });
    if (res.status !== 200) return null;
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('pumpwatch_session='));
    return cookie ? { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken } : null;
  }, 30_000, 'pharmacist logged in on A', 200);
  pub = await fleetPublisher(stack.broker.url, 'notify-fleet');
  for (const p of ON_B) await powerOn(p);
  await waitFor(async () => (await stack.api<PumpView[]>(B, '/api/pumps')).filter((p) => ON_B.includes(p.pump)).length === ON_B.length, 20_000, 'pumps on B', 100);
}, 150_000);

afterAll(async () => {
  await pub?.endAsync();
  await stack?.dispose();
  await pgServer?.stop();
});

test('an assignment created through A shows on B\'s GET /api/pumps within 2 s, and its end too', async () => {
  const t0 = Date.now();
  const { order, assignment } = await assignThroughA(SEEN, 'MRN-NOTIFY-1');
  const seen = await waitFor(async () => ((await pumpOnB(SEEN))?.order?.id === order.id ? Date.now() : null), 2000, 'order on B', 50);
  expect(seen - t0).toBeLessThan(2000);
  expect((await pumpOnB(SEEN))?.patient).toMatchObject({ mrn: 'MRN-NOTIFY-1' });
  const t1 = Date.now();
  await onA('POST', `/api/assignments/${assignment.id}/end`);
  await waitFor(async () => (await pumpOnB(SEEN))?.patient === null, 2000, 'assignment end on B', 50);
  expect(Date.now() - t1).toBeLessThan(2000);
});

test('pumps B judges, assigned through A: a matching program raises no program_unassigned, a wrong one program_mismatch at its START', async () => {
  const t0 = Date.now();
  const [match, wrong] = await Promise.all([assignThroughA(MATCHING, 'MRN-NOTIFY-2'), assignThroughA(WRONG, 'MRN-NOTIFY-3')]);
  await waitFor(async () => (await pumpOnB(MATCHING))?.order?.id === match.order.id && (await pumpOnB(WRONG))?.order?.id === wrong.order.id, 2000, 'both orders on B', 50);
  expect(Date.now() - t0).toBeLessThan(2000);
  // started right away, as a nurse at the bedside would
  await send(MATCHING, { type: 'program', programId: 'RX-OK', ...ORDER });
  await send(MATCHING, { type: 'event', code: 'START', detail: 'RX-OK' });
  await send(WRONG, { type: 'program', programId: 'RX-BAD', drug: 'FLUOROURACIL', rateMlH: 28.8, volumeMl: 230, hours: 8 });
  const started = Date.now();
  await send(WRONG, { type: 'event', code: 'START', detail: 'RX-BAD' });
  const mismatch = await waitFor(async () => (await alertsOnB(WRONG)).find((a) => a.type === 'program_mismatch') ?? null, 3000, 'program_mismatch on B', 50);
  expect(Date.now() - started).toBeLessThan(3000);
  expect(mismatch).toMatchObject({ status: 'active', orderId: wrong.order.id });
  // the matching pump was judged against its order: nothing raised, and B's board agrees
  await send(MATCHING, { type: 'status', state: 'RUN', rateMlH: 5, infusedMl: 0, vtbiMl: 230, reservoirMl: null, pressureMmHg: 35, batteryPct: 97, alarms: [] });
  await waitFor(async () => (await pumpOnB(MATCHING))?.state === 'RUN', 3000, 'matching pump running on B', 50);
  expect((await alertsOnB(MATCHING)).map((a) => a.type)).toEqual([]);
  expect((await alertsOnB(WRONG)).map((a) => a.type)).toEqual(['program_mismatch']);
  expect(await stack.api<Alert[]>(A, '/api/alerts?status=active')).toEqual(expect.arrayContaining([expect.objectContaining({ pump: WRONG, type: 'program_mismatch' })]));
});

test('after PostgreSQL restarts, B listens again by itself and sees the next change through A within 2 s', async () => {
  const listening = (): number => stack.instances[B]!.proc!.lines.filter((l) => l.includes('listening for clinical record changes')).length;
  const before = listening();
  await pgServer.restart();
  await waitFor(() => listening() > before, 20_000, 'B listening again', 100);
  for (const i of [A, B]) await waitFor(async () => (await stack.api<{ database?: string }>(i, '/api/health')).database === 'up', 20_000, `database up on ${i}`, 100);
  const pump = ON_B[0]!;
  const t0 = Date.now();
  const { order } = await waitFor(async () => assignThroughA(pump, `MRN-NOTIFY-4-${t0}`).catch(() => null), 10_000, 'assignment through A', 200);
  const t1 = Date.now();
  await waitFor(async () => (await pumpOnB(pump))?.order?.id === order.id, 2000, 'order on B after the restart', 50);
  expect(Date.now() - t1).toBeLessThan(2000);
});
