import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { waitFor } from '../../helpers/wait.ts';
import { startStack, TOKEN, type ServerStack } from './serverStack.ts';

/** The real server stores every audit event in InfluxDB, and an admin reads them back through /api/audit. */
let stack: ServerStack;
let usersFile: string;

function users(args: string[], password = ''): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'users', '--', ...args], { env: { ...process.env, PUMPWATCH_USERS_FILE: usersFile }, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('close', resolve);
    child.stdin.end(`${password}\n`);
  });
}

beforeAll(async () => {
  stack = await startStack();
  usersFile = `${stack.dir.path}/users.json`;
  assert.equal(await users(['add', 'nina', '--role', 'nurse'], 'night-shift-pass-1'), 0);
  await stack.startServer();
});

afterAll(async () => {
  await stack?.dispose();
});

interface AuditRecord { action: string; actor?: string; from?: string; time?: string }

test('logins, failed logins, logouts, billing exports and user changes are stored with who, when and from where', async () => {
  const base = `http://127.0.0.1:${stack.port}`;
  const origin = { origin: base, 'content-type': 'application/json' };
  const bad = await fetch(`${base}/api/session`, { method: 'POST', headers: origin, body: JSON.stringify({ username: 'nina', password: 'wrong-password' }) });
  assert.equal(bad.status, 401);
  const ok = await fetch(`${base}/api/session`, { method: 'POST', headers: origin, body: JSON.stringify({ username: 'nina', password: 'night-shift-pass-1' }) });
  assert.equal(ok.status, 200);
  const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const { csrfToken } = (await ok.json()) as { csrfToken: string };
  const out = await fetch(`${base}/api/session`, { method: 'DELETE', headers: { cookie, origin: base, 'x-csrf-token': csrfToken } });
  assert.ok(out.status < 300, `logout ${out.status}`);
  const csv = await fetch(`${base}/api/billing/episodes.csv`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(csv.status, 200);
  assert.equal(await users(['add', 'bill', '--role', 'billing'], 'billing-pass-22'), 0);

  const want = ['login_failed', 'login', 'logout', 'billing_export', 'user_added'];
  const records = await waitFor(async () => {
    const r = await stack.api<AuditRecord[]>('/api/audit');
    const actions = new Set(r.map((a) => a.action));
    return want.every((w) => actions.has(w)) ? r : null;
  }, 20_000, `audit actions ${want.join(', ')} stored`);
  const login = records.find((r) => r.action === 'login');
  assert.equal(login?.actor, 'nina');
  assert.ok(login?.from, 'from where');
  assert.ok(login?.time && !Number.isNaN(Date.parse(login.time)), 'when');
  const rows = await stack.influx.query('pumpwatch_it', 'SELECT count("json") FROM "audit"');
  assert.ok(Number(rows.results[0]?.series?.[0]?.values[0]?.[1] ?? 0) >= want.length, 'the audit trail is in InfluxDB, not only in memory');
});
