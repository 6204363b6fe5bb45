/** `npm run users` as a real process, and a running HTTP layer picking its changes up without a restart. */
import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tempDir.ts';
import { describe, test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { waitFor } from '../../helpers/wait.ts';
import { makeFixture, PASSWORDS, type Fixture } from '../../unit/server/http/appFixture.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runUsers(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<Run> {
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

describe('npm run users', () => {
  let f: Fixture;
  let base: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    f = await makeFixture({ usersPollMs: 1000 });
    await f.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = f.app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    env = { PUMPWATCH_USERS_FILE: f.usersFile };
  });
  afterAll(async () => { await f.close(); });

  const login = async (username: string, password: string): Promise<{ status: number; role?: string; cookie?: string }> => {
    const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    const body = (await res.json()) as { role?: string };
    const cookie = res.headers.get('set-cookie')?.split(';')[0];
    return { status: res.status, ...(body.role ? { role: body.role } : {}), ...(cookie ? { cookie } : {}) };
  };

  test('add reads the password from stdin; the running server accepts the new account without a restart', async () => {
    assert.equal((await login('nina', 'nina-secret-pw')).status, 401);
    const run = await runUsers(['add', 'nina', '--role', 'nurse'], env, 'nina-secret-pw\n');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^added nina \(nurse\)/);
    assert.equal(statSync(f.usersFile).mode & 0o777, 0o600);
    const ok = await waitFor(async () => { const r = await login('nina', 'nina-secret-pw'); return r.status === 200 ? r : null; }, 15_000, 'new account live');
    assert.equal(ok.role, 'nurse');
    assert.ok(f.backend.audits.some((e) => e.action === 'user_added' && e.target === 'nina'));
  });

  test('on a terminal the password is read without echo', async () => {
    // the CLI's stdin is one end of a socat pty pair with the default line discipline (echo on);
    // the test types on the other end and reads back whatever the terminal echoed
    const tmp = tempDir('pumpwatch-users-tty-');
    const term = join(tmp.path, 'term');
    const keys = join(tmp.path, 'keys');
    const socat = spawn('socat', [`pty,link=${term}`, `pty,raw,echo=0,link=${keys}`], { stdio: 'ignore' });
    const fds: number[] = [];
    try {
      await waitFor(() => existsSync(term) && existsSync(keys), 10_000, 'pty pair');
      const ttyFd = openSync(term, 'r+');
      const keysFd = openSync(keys, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY);
      fds.push(ttyFd, keysFd);
      const child = spawn('npm', ['run', '--silent', 'users', '--', 'add', 'tina', '--role', 'billing'], { env: { ...process.env, ...env }, stdio: [ttyFd, 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
      const closed = new Promise<number | null>((r) => child.on('close', r));
      await waitFor(() => stderr.includes('Password: '), 30_000, 'password prompt');
      writeSync(keysFd, 'tina-secret-pw\r');
      assert.equal(await closed, 0, stderr);
      // a fixed wait on purpose: socat relays whatever the terminal echoed, and the secret must not be in it
      await new Promise((r) => setTimeout(r, 300));
      let echoed = '';
      const buf = Buffer.alloc(4096);
      for (;;) {
        let n = 0;
        try {
          n = readSync(keysFd, buf, 0, buf.length, null);
        } catch {
          break; // EAGAIN: nothing more
        }
        if (n <= 0) break;
        echoed += buf.subarray(0, n).toString();
      }
      assert.ok(!echoed.includes('tina-secret'), `the terminal echoed ${JSON.stringify(echoed)}`);
      await waitFor(async () => (await login('tina', 'tina-secret-pw')).status === 200, 15_000, 'new account live');
      assert.equal((await runUsers(['remove', 'tina'], env)).code, 0); // the other tests list the accounts
    } finally {
      for (const fd of fds) closeSync(fd);
      socat.kill();
      tmp.remove();
    }
  });

  test('add on an existing account changes its role; remove ends its sessions; list shows accounts without hashes', async () => {
    const run = await runUsers(['add', 'alice', '--role', 'billing'], env, `${PASSWORDS.alice}\n`);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^updated alice \(billing\)/);
    await waitFor(async () => (await login('alice', PASSWORDS.alice)).role === 'billing', 15_000, 'role change live');

    const nina = await login('nina', 'nina-secret-pw');
    assert.ok(nina.cookie);
    const rm = await runUsers(['remove', 'nina'], env);
    assert.equal(rm.code, 0, rm.stderr);
    await waitFor(async () => (await fetch(`${base}/api/me`, { headers: { cookie: nina.cookie ?? '' } })).status === 401, 15_000, 'session ended');
    assert.equal((await login('nina', 'nina-secret-pw')).status, 401);

    const list = await runUsers(['list'], env);
    assert.equal(list.code, 0);
    const rows = list.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 2).join(' '));
    assert.deepEqual(rows, ['alice billing', 'bob billing', 'carol admin']);
    assert.doesNotMatch(list.stdout, /scrypt/);
  });

  test('bad usage exits non-zero with one clear line and leaves the file alone', async () => {
    const before = statSync(f.usersFile).mtimeMs;
    const cases: [string[], string, RegExp][] = [
      [['add', 'zoe', '--role', 'root'], 'long-enough-pw\n', /--role must be one of nurse, billing, admin/],
      [['add', 'zoe', '--role', 'nurse'], 'short\n', /at least 8 characters/],
      [['add', 'bad name', '--role', 'nurse'], 'long-enough-pw\n', /username/],
      [['remove', 'nobody'], '', /no such user: nobody/],
      [['frobnicate'], '', /unknown command/],
      [['add', 'zoe', '--rol', 'nurse'], '', /unknown option --rol/],
    ];
    for (const [args, stdin, re] of cases) {
      const run = await runUsers(args, env, stdin);
      assert.notEqual(run.code, 0, args.join(' '));
      assert.match(run.stderr, re, args.join(' '));
      assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
    }
    assert.equal(statSync(f.usersFile).mtimeMs, before);
  });
});
