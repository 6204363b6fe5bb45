/** `npm run users` as a real process against DATABASE_URL, and a running HTTP layer on that database picking its changes up. */
import { spawn } from 'node:child_process';
import type pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseDatabaseUrl } from '../../../server/db/databaseUrl.ts';
import { createDatabasePool } from '../../../server/db/pool.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { waitFor } from '../../helpers/wait.ts';
import { makeFixture, type Fixture } from '../../unit/server/http/appFixture.ts';

let server: PostgresServer;
let url: string;
let pool: pg.Pool;
let f: Fixture;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runUsers(args: string[], stdin = '', env: NodeJS.ProcessEnv = { DATABASE_URL: url }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'users', '--', ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase('users_cli');
  pool = createDatabasePool(parseDatabaseUrl(url), { connectTimeoutMs: 10_000 });
});

afterAll(async () => {
  await f?.close();
  await pool?.end();
  await server?.stop();
});

const login = async (username: string, password: string): Promise<{ status: number; role?: string; cookie?: string }> => {
  const res = await f.app.inject({ method: 'POST', url: '/api/session', headers: { origin: f.origin }, payload: { username, password } });
  const c = res.cookies.find((k) => k.name === 'pumpwatch_session');
  return { status: res.statusCode, ...(res.statusCode === 200 ? { role: res.json<{ role: string }>().role } : {}), ...(c ? { cookie: `pumpwatch_session=${c.value}` } : {}) };
};

test('on an empty database the CLI applies the migrations and adds a pharmacist with an e-mail; a running server accepts her', async () => {
  const run = await runUsers(['add', 'phoebe', '--role', 'pharmacist', '--email', 'phoebe@example.org'], 'pharmacy-pass-1\n');
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^added phoebe \(pharmacist\) in the database postgres:\/\/pumpwatch:\*\*\*@127\.0\.0\.1:\d+\/users_cli/);
  expect(run.stdout).not.toContain(new URL(url).password);
  const { rows } = await pool.query<{ role: string; email: string; password_hash: string }>("SELECT role, email, password_hash FROM users WHERE username = 'phoebe'");
  expect(rows[0]).toMatchObject({ role: 'pharmacist', email: 'phoebe@example.org' });
  expect(rows[0]?.password_hash).toMatch(/^scrypt\$/);
  // the table has an account: the fixture's users file is not imported
  f = await makeFixture({ database: { pool }, usersPollMs: 200 });
  expect((await login('phoebe', 'pharmacy-pass-1')).role).toBe('pharmacist');
  expect((await login('alice', 'alice-password')).status).toBe(401);
});

test('change and remove end the account\'s sessions on every instance; list shows no hashes; each change is audited by the CLI', async () => {
  const before = await login('phoebe', 'pharmacy-pass-1');
  expect(before.cookie).toBeDefined();
  const change = await runUsers(['change', 'phoebe', '--role', 'nurse']);
  expect(change.code).toBe(0);
  expect(change.stdout).toMatch(/^changed phoebe \(role\)/);
  expect((await pool.query("SELECT 1 FROM sessions WHERE username = 'phoebe'")).rowCount).toBe(0);
  await waitFor(async () => (await f.app.inject({ url: '/api/me', headers: { cookie: before.cookie ?? '' } })).statusCode === 401, 5000, 'session ended');
  await waitFor(async () => (await login('phoebe', 'pharmacy-pass-1')).role === 'nurse', 5000, 'new role live');

  const pw = await runUsers(['change', 'phoebe', '--password'], 'a-new-password-2\n');
  expect(pw.code).toBe(0);
  await waitFor(async () => (await login('phoebe', 'a-new-password-2')).status === 200, 5000, 'new password live');

  const list = await runUsers(['list']);
  expect(list.code).toBe(0);
  expect(list.stdout.trim().split('\n').map((l) => l.split('\t').filter((_, i) => i !== 2).join(' '))).toEqual(['phoebe nurse phoebe@example.org']);
  expect(list.stdout).not.toMatch(/scrypt/);

  const session = await login('phoebe', 'a-new-password-2');
  const rm = await runUsers(['remove', 'phoebe']);
  expect(rm.code).toBe(0);
  await waitFor(async () => (await f.app.inject({ url: '/api/me', headers: { cookie: session.cookie ?? '' } })).statusCode === 401, 5000, 'session ended with the account');
  expect((await login('phoebe', 'a-new-password-2')).status).toBe(401);

  const audit = await pool.query<{ actor: string; action: string; entity_id: string; detail: { detail: Record<string, string> } }>(
    "SELECT actor, action, entity_id, detail FROM audit_log WHERE action LIKE 'user.%' ORDER BY id",
  );
  expect(audit.rows.map((r) => [r.action, r.entity_id, r.detail.detail])).toEqual([
    ['user.add', 'phoebe', { role: 'pharmacist' }],
    ['user.change', 'phoebe', { role: 'nurse', fields: 'role' }],
    ['user.change', 'phoebe', { role: 'nurse', fields: 'password' }],
    ['user.remove', 'phoebe', {}],
  ]);
  expect(audit.rows.every((r) => r.actor.startsWith('cli:'))).toBe(true);
  expect(JSON.stringify(audit.rows)).not.toMatch(/scrypt|password-2|pharmacy-pass/);
  // and GET /api/audit shows them under the HTTP layer's names
  // (the CLI writes at the real time; the fixture's clock is fixed)
  const range = `from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 86_400_000).toISOString()}`;
  const shown = await f.app.inject({ url: `/api/audit?action=user_changed&${range}`, headers: { authorization: 'Bearer machine-token-0123456789' } });
  expect(shown.statusCode, shown.body).toBe(200);
  expect(shown.json<{ action: string; target: string }[]>().map((e) => `${e.action} ${e.target}`)).toEqual(['user_changed phoebe', 'user_changed phoebe']);
});

test('an account removed while an instance still holds its old copy: a login there is 401 (not 500), and says why in the audit log', async () => {
  expect((await runUsers(['add', 'rita', '--role', 'nurse'], 'rita-password-1\n')).code).toBe(0);
  // an instance that reads the accounts once an hour: it still holds rita after the removal
  const stale = await makeFixture({ database: { pool }, usersPollMs: 3_600_000 });
  try {
    expect((await runUsers(['remove', 'rita'])).code).toBe(0);
    const res = await stale.app.inject({ method: 'POST', url: '/api/session', headers: { origin: stale.origin }, payload: { username: 'rita', password: 'rita-password-1' } });
    expect(res.statusCode, res.body).toBe(401);
    await waitFor(async () => (await pool.query("SELECT 1 FROM audit_log WHERE action = 'session.login_failed' AND actor = 'rita' AND detail->'detail'->>'reason' = 'account_removed'")).rowCount === 1, 5000, 'login_failed audited');
  } finally {
    await stale.close();
  }
});

test('bad usage exits non-zero with one clear line and changes nothing', async () => {
  const count = async (): Promise<string> => (await pool.query<{ n: string }>('SELECT count(*) AS n FROM audit_log')).rows[0]?.n ?? '';
  const before = await count();
  const cases: [string[], string, RegExp, NodeJS.ProcessEnv?][] = [
    [['add', 'zoe', '--role', 'root'], 'long-enough-pw\n', /--role must be one of nurse, billing, admin, pharmacist/],
    [['add', 'zoe', '--role', 'nurse', '--email', 'not-an-address'], 'long-enough-pw\n', /--email must be an e-mail address/],
    [['change', 'nobody', '--role', 'nurse'], '', /no such user: nobody/],
    [['change', 'zoe'], '', /change needs --role, --email or --password/],
    [['remove', 'nobody'], '', /no such user: nobody/],
    [['list', '--file', '/tmp/users.json'], '', /--file with DATABASE_URL set/],
    [['list'], '', /DATABASE_URL must start with postgres:|DATABASE_URL/, { DATABASE_URL: 'mysql://x@y/z' }],
  ];
  for (const [args, stdin, re, env] of cases) {
    const run = await runUsers(args, stdin, env);
    expect(run.code, args.join(' ')).not.toBe(0);
    expect(run.stderr, args.join(' ')).toMatch(re);
    expect(run.stderr.trim().split('\n'), `one line: ${run.stderr}`).toHaveLength(1);
  }
  expect(await count()).toBe(before);
});
