/**
 * Two real servers (`npm run server`) on one PostgreSQL, Mosquitto and InfluxDB, no sticky
 * sessions: the users file imported on the first start, a login on A used on B, a logout on A
 * refused on B, PostgreSQL stopped (the session held keeps working, a new login is 503) and the
 * audit events of the outage in the table after A restarts.
 */
import type pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { hashPassword } from '../../../server/auth/passwords.ts';
import { writeUsersFile } from '../../../server/auth/usersFile.ts';
import { parseDatabaseUrl } from '../../../server/db/databaseUrl.ts';
import { createDatabasePool } from '../../../server/db/pool.ts';
import { startNpmScript, type RunningProcess } from '../../helpers/childProcess.ts';
import { startInfluxd, type InfluxServer } from '../../helpers/influxd.ts';
import { startMosquitto, type Broker } from '../../helpers/mosquitto.ts';
import { freePort } from '../../helpers/ports.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';

const TOKEN = 'two-servers-token-0123456789';
const PASSWORD = 'night-shift-pass-1';

let pgServer: PostgresServer;
let broker: Broker;
let influx: InfluxServer;
let dir: TempDir;
let pool: pg.Pool;
const servers: Record<'a' | 'b', { port: number; proc: RunningProcess | null }> = { a: { port: 0, proc: null }, b: { port: 0, proc: null } };

async function startServer(name: 'a' | 'b'): Promise<RunningProcess> {
  const s = servers[name];
  const proc = startNpmScript('server', [], {
    env: {
      MQTT_URL: broker.url, INFLUX_URL: influx.urlFor('pumpwatch_accounts'), HOST: '127.0.0.1', PORT: String(s.port),
      MQTT_CLIENT_ID: `pumpwatch-${name}`, SERVER_INSTANCE_ID: name, DATABASE_URL: pgServer.url,
      PUMPWATCH_JOURNAL_DIR: `${dir.path}/journal-${name}`, PUMPWATCH_USERS_FILE: `${dir.path}/users-${name}.json`,
      PUMPWATCH_API_TOKENS: TOKEN, LOG_LEVEL: 'info',
    },
  });
  s.proc = proc;
  await proc.waitForLine(/"msg":"listening"/, 90_000);
  return proc;
}

const base = (name: 'a' | 'b'): string => `http://127.0.0.1:${servers[name].port}`;

async function login(name: 'a' | 'b', username: string, password: string): Promise<{ status: number; cookie: string; csrf: string; body: string }> {
  const res = await fetch(`${base(name)}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base(name) }, body: JSON.stringify({ username, password }) });
  const body = await res.text();
  const csrf = res.status === 200 ? (JSON.parse(body) as { csrfToken: string }).csrfToken : '';
  return { status: res.status, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '', csrf, body };
}

const me = async (name: 'a' | 'b', cookie: string): Promise<number> => (await fetch(`${base(name)}/api/me`, { headers: { cookie } })).status;

beforeAll(async () => {
  [pgServer, broker, influx] = await Promise.all([startPostgres(), startMosquitto(), startInfluxd()]);
  dir = tempDir('pumpwatch-accounts-it-');
  pool = createDatabasePool(parseDatabaseUrl(pgServer.url), { connectTimeoutMs: 10_000 });
  const password = await hashPassword(PASSWORD);
  writeUsersFile(`${dir.path}/users-a.json`, { version: 1, users: { nina: { role: 'nurse', password, updatedAt: '' }, adam: { role: 'admin', password, updatedAt: '' } } });
  servers.a.port = await freePort();
  servers.b.port = await freePort();
  await startServer('a');
  await startServer('b'); // its users file does not exist: the accounts come from the table
}, 180_000);

afterAll(async () => {
  await Promise.all([servers.a.proc?.stop(), servers.b.proc?.stop()]);
  await pool?.end();
  await Promise.all([pgServer?.stop(), broker?.dispose(), influx?.dispose()]);
  dir?.remove();
});

test('the users file is imported once on the first start, logged with a count and no secrets', async () => {
  const line = await servers.a.proc?.waitForLine(/users file imported/, 30_000);
  expect(JSON.parse(line ?? '{}')).toMatchObject({ count: 2, file: `${dir.path}/users-a.json` });
  expect(line).not.toMatch(/scrypt|nina|adam/);
  const { rows } = await pool.query<{ username: string }>('SELECT username FROM users ORDER BY username');
  expect(rows.map((r) => r.username)).toEqual(['adam', 'nina']);
  expect(servers.b.proc?.lines.some((l) => l.includes('users file imported'))).toBe(false);
});

test('a login on A is good on B with the same cookie; a logout on A is refused on B within the flush period', async () => {
  const nina = await waitFor(async () => { const r = await login('a', 'nina', PASSWORD); return r.status === 200 ? r : null; }, 30_000, 'nina logs in on A');
  expect(await me('b', nina.cookie)).toBe(200);
  const ws = await fetch(`${base('b')}/api/pumps`, { headers: { cookie: nina.cookie } });
  expect(ws.status).toBe(200);
  const out = await fetch(`${base('a')}/api/session`, { method: 'DELETE', headers: { cookie: nina.cookie, 'x-csrf-token': nina.csrf, origin: base('a') } });
  expect(out.status).toBe(204);
  expect(await me('a', nina.cookie)).toBe(401);
  const t0 = Date.now();
  await waitFor(async () => (await me('b', nina.cookie)) === 401, 5000, 'logout seen on B', 100);
  expect(Date.now() - t0).toBeLessThan(3000);
});

test('PostgreSQL stopped: the session held keeps working and a new login is 503; the outage\'s audit events are in the table after A restarts', async () => {
  const held = await login('a', 'nina', PASSWORD);
  expect(held.status).toBe(200);
  await pgServer.restart(async () => {
    expect(await me('a', held.cookie)).toBe(200);
    const fresh = await login('a', 'adam', PASSWORD);
    expect(fresh.status).toBe(503);
    const reason = JSON.parse(fresh.body) as { error: string; message: string };
    expect(reason.error).toBe('unavailable');
    expect(reason.message).toMatch(/account database is unavailable/);
    const csv = await fetch(`${base('a')}/api/billing/episodes.csv`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(csv.status).toBe(200);
    const pumps = await fetch(`${base('a')}/api/pumps`, { headers: { cookie: held.cookie } });
    expect(pumps.status).toBe(200);
  });
  await waitFor(async () => {
    const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE action = 'billing.export' OR (action = 'session.login_failed' AND detail->'detail'->>'reason' = 'database_unavailable')");
    return Number(rows[0]?.n) >= 2;
  }, 20_000, 'the outage\'s audit events written');
  await servers.a.proc?.stop();
  await startServer('a');
  // asked at once, before the restarted A has read the accounts: a wait or a 503, never the end of the session
  await waitFor(async () => (await me('a', held.cookie)) === 200, 30_000, 'held session good after A restarts');
  const audit = await waitFor(async () => {
    const res = await fetch(`${base('a')}/api/audit`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const list = (await res.json()) as { action: string; actor: string; detail?: { reason?: string } }[];
    return res.status === 200 && list.some((e) => e.action === 'billing_export') ? list : null;
  }, 30_000, 'audit read back after the restart');
  expect(audit.some((e) => e.action === 'login_failed' && e.actor === 'adam' && e.detail?.reason === 'database_unavailable')).toBe(true);
  expect(audit.some((e) => e.action === 'logout' && e.actor === 'nina')).toBe(true);
  expect(await me('a', held.cookie)).toBe(200);
  expect((await login('b', 'adam', PASSWORD)).status).toBe(200);
}, 120_000);
