/**
 * Paging across a lease takeover (issues 14 and 17): three real `npm run server` instances in
 * CLUSTER_MODE=lease on one Mosquitto, influxd and PostgreSQL, a real SMTP server (smtp-server,
 * mailparser), an on-call chain ana → ben → cy. An occlusion on a pump owned by B pages ana;
 * B is killed with its disk before the next step; the new owner pages ben once, at the time the
 * stored step says (not restarted at the takeover); ana is never paged again for her step;
 * accepting ben's link through the other surviving instance stops the chain.
 */
import { rmSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, test } from 'vitest';
import pg from 'pg';
import type { Alert } from '../../../protocol/api.ts';
import { decodeSentence } from '../../../protocol/decode.ts';
import { encodeSentence } from '../../../protocol/encode.ts';
import { toPumpMessage } from '../../../protocol/payloads.ts';
import type { Sentence } from '../../../protocol/sentence.ts';
import { hashPassword } from '../../../server/auth/passwords.ts';
import { writeUsersFile, type UsersFileContent } from '../../../server/auth/usersFile.ts';
import { partitionOf } from '../../../server/cluster/leasePlan.ts';
import { freePort } from '../../helpers/ports.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { waitFor } from '../../helpers/wait.ts';
import { SmtpReceiver, type Mail } from '../paging/receivers.ts';
import { startScaleoutStack, type ScaleoutStack } from '../scaleout/scaleoutStack.ts';

const LEASE_S = 6;
/** long enough for B's partitions to be taken over (≤ LEASE_S + a round) before ben's step is due */
const ACCEPT_S = 10;
const B = 1;
const NURSES = ['ana', 'ben', 'cy'] as const;
const email = (u: string): string => `${u}@homecare.test`;

let pgServer: PostgresServer;
let stack: ScaleoutStack;
let db: pg.Pool;
let smtp: SmtpReceiver;
let gateway: MqttClient;

const base = (i: number): string => `http://127.0.0.1:${stack.instances[i]!.port}`;

async function login(i: number, username: string, password: string): Promise<Record<string, string>> {
  const res = await fetch(`${base(i)}/api/session`, {
    method: 'POST', headers: { origin: base(i), 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: HTTP ${res.status}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('pumpwatch_session='));
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie: cookie ?? '', origin: base(i), 'x-csrf-token': csrfToken, 'content-type': 'application/json' };
}

beforeAll(async () => {
  pgServer = await startPostgres();
  smtp = new SmtpReceiver(await freePort());
  await smtp.start();
  stack = await startScaleoutStack(3, {
    shard: false,
    env: {
      DATABASE_URL: pgServer.url, CLUSTER_MODE: 'lease', LEASE_S: String(LEASE_S), CHECKPOINT_MS: '500',
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, PAGE_FROM: 'pager@homecare.test', PAGE_ACCEPT_S: String(ACCEPT_S),
      PAGE_GROUP_S: '1', PAGE_RETRY_MS: '100',
    },
  });
  const users: UsersFileContent = { version: 1, users: {} };
  for (const u of NURSES) users.users[u] = { role: 'nurse', password: await hashPassword(`${u}-password-0001`), email: email(u), updatedAt: new Date().toISOString() };
  users.users.boss = { role: 'admin', password: await hashPassword('boss-password-0001'), updatedAt: new Date().toISOString() };
  writeUsersFile(`${stack.dir.path}/users.json`, users);
  db = new pg.Pool({ connectionString: pgServer.url, max: 2 });
  await Promise.all([0, 1, 2].map((i) => stack.start(i, { INSTANCE_ID: `inst-${i}` })));
  gateway = await mqtt.connectAsync(stack.broker.url, { clientId: 'paging-takeover-gw', clean: true });
  const admin = await waitFor(() => login(0, 'boss', 'boss-password-0001'), 20_000, 'admin signed in');
  const res = await fetch(`${base(0)}/api/oncall`, {
    method: 'PUT', headers: admin,
    body: JSON.stringify({ shifts: [{ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString(), chain: NURSES }] }),
  });
  expect(res.status).toBe(200);
}, 150_000);

afterAll(async () => {
  await gateway?.endAsync();
  await db?.end();
  await stack?.dispose();
  await smtp?.stop();
  await pgServer?.stop();
});

/** the live owner of each partition, by PostgreSQL's clock */
async function owners(): Promise<Map<number, string>> {
  const res = await db.query<{ partition: number; owner: string }>('SELECT partition, owner FROM cluster_leases WHERE owner IS NOT NULL AND expires_at > now()');
  return new Map(res.rows.map((r) => [r.partition, r.owner]));
}

/** every partition held, each instance its fair share (21 or 22) */
async function balanced(): Promise<boolean> {
  const o = await owners();
  const per = [0, 1, 2].map((i) => [...o.values()].filter((x) => x === `inst-${i}`).length);
  return o.size === 64 && per.every((n) => n >= 21 && n <= 22);
}

const seqs = new Map<string, number>();
async function send(pump: string, body: Record<string, unknown>): Promise<void> {
  const seq = seqs.get(pump) ?? 0;
  seqs.set(pump, seq + 1);
  const line = encodeSentence({ ...body, pump, seq, time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') } as Sentence);
  const d = decodeSentence(line);
  if (!d.ok) throw new Error(`bad test sentence ${line}`);
  await gateway.publishAsync(`pumpwatch/gw-pt/pumps/${pump}`, JSON.stringify(toPumpMessage(d.sentence, line, new Date())), { qos: 1 });
}

const running = { type: 'status', state: 'RUN', rateMlH: 5, infusedMl: 10, vtbiMl: 220, reservoirMl: 220, pressureMmHg: 35, batteryPct: 90, alarms: [] };

const pagesTo = (pump: string, who: string, kind = 'page'): Mail[] => smtp.to(email(who), kind).filter((m) => m.text.includes(pump));
const linkPort = (m: Mail): number => Number(/http:\/\/127\.0\.0\.1:(\d+)\/page\//.exec(m.text)?.[1]);
const tokenOf = (m: Mail): string => /\/page\/([A-Za-z0-9_-]+)/.exec(m.text)![1]!;

test('B killed with its disk between two steps: the new owner pages the next nurse once, at the stored step time; an accept through another instance stops the chain', { timeout: 120_000 }, async () => {
  await waitFor(() => balanced(), 40_000, 'three instances sharing the 64 partitions', 250);
  const o = await owners();
  const pump = Array.from({ length: 2000 }, (_, i) => `PT${String(i).padStart(5, '0')}`).find((s) => o.get(partitionOf(s)) === `inst-${B}`)!;
  const partition = partitionOf(pump);

  await send(pump, { type: 'event', code: 'POWER_ON', detail: '4.2.1' });
  await send(pump, running);
  await send(pump, { ...running, state: 'ALARM', rateMlH: 0, pressureMmHg: 790, alarms: ['OCCL_DN'] });
  await send(pump, { type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' });
  const ana = await waitFor(() => pagesTo(pump, 'ana')[0], 10_000, 'page to ana');
  expect(linkPort(ana)).toBe(stack.instances[B]!.port);
  const alert = await waitFor(async () => (await stack.api<Alert[]>(0, `/api/alerts?status=active&pump=${pump}`)).find((a) => a.type === 'occlusion'), 5000, 'the occlusion on A');
  // B recorded ana's page as delivered (so she is told when someone accepts)
  await waitFor(async () => (await db.query("SELECT 1 FROM pages WHERE alert_id = $1 AND username = 'ana' AND status = 'sent'", [alert.id])).rowCount === 1, 5000, 'ana\'s page recorded as sent');

  // B dies with its disk, ana's step under way
  await stack.instances[B]!.proc!.kill9();
  const killedAt = Date.now();
  rmSync(`${stack.dir.path}/journal-${B}`, { recursive: true, force: true });
  const ownerId = await waitFor(async () => {
    const now = (await owners()).get(partition);
    return now !== undefined && now !== `inst-${B}` ? now : null;
  }, (LEASE_S + 5) * 1000, 'the pump\'s partition taken over', 100).catch(async (err: unknown) => {
    const row = await db.query('SELECT owner, token::text, expires_at, now() AS now FROM cluster_leases WHERE partition = $1', [partition]);
    const logs = [0, 2].map((i) => (stack.instances[i]!.proc?.lines ?? []).filter((l) => /lease|partition|warn|error/i.test(l)).slice(-6).join('\n'));
    throw new Error(`${(err as Error).message}: ${JSON.stringify(row.rows)}\n${logs.join('\n---\n')}`);
  });
  const takenAt = Date.now();
  const owner = Number(ownerId.slice('inst-'.length));
  expect(takenAt - killedAt).toBeLessThan((LEASE_S + 5) * 1000);
  const other = owner === 0 ? 2 : 0;

  // the new owner pages ben when ana's step runs out: ACCEPT_S after her page, not after the takeover
  const ben = await waitFor(() => pagesTo(pump, 'ben')[0], ACCEPT_S * 1000 + 8000, 'page to ben');
  expect(linkPort(ben)).toBe(stack.instances[owner]!.port);
  expect(ben.at - ana.at).toBeGreaterThanOrEqual(ACCEPT_S * 1000 - 500);
  expect(ben.at - ana.at).toBeLessThan(ACCEPT_S * 1000 + 2500);
  expect(ben.at - takenAt).toBeLessThan(ACCEPT_S * 1000 - 1000);
  expect(pagesTo(pump, 'ana')).toHaveLength(1);

  // ben accepts through the surviving instance that does not drive the chain
  const res = await fetch(`${base(other)}/api/pages/${tokenOf(ben)}/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ result: 'ok', acceptedBy: 'ben' });
  await waitFor(() => pagesTo(pump, 'ana', 'accepted')[0], 5000, 'ana told ben accepted');
  await waitFor(async () => (await stack.api<Alert[]>(owner, `/api/alerts?status=active&pump=${pump}`)).find((a) => a.id === alert.id)?.acceptedBy === 'ben', 5000, 'accepted on the owner');

  // a whole step more: nobody else paged, nobody twice
  await new Promise((r) => setTimeout(r, (ACCEPT_S + 2) * 1000));
  const count = (who: string, kind: string): number => pagesTo(pump, who, kind).length;
  expect(NURSES.map((u) => [u, count(u, 'page'), count(u, 'accepted')])).toEqual([['ana', 1, 1], ['ben', 1, 0], ['cy', 0, 0]]);
  const rows = await db.query<{ username: string; round: number; step: number; status: string }>(
    'SELECT username, round, step, status FROM pages WHERE alert_id = $1 ORDER BY id', [alert.id]);
  expect(rows.rows.map((r) => `${r.username}:${r.round}.${r.step}:${r.status}`)).toEqual(['ana:0.0:expired', 'ben:0.1:accepted']);
  const chain = await db.query<{ status: string; accepted_by: string }>('SELECT status, accepted_by FROM paging_chains WHERE alert_id = $1', [alert.id]);
  expect(chain.rows[0]).toEqual({ status: 'accepted', accepted_by: 'ben' });
});
