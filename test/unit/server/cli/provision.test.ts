import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { runProvision, type ProvisionDeps } from '../../../../server/cli/provision.ts';
import { ProvisionError, type PasswordStore } from '../../../../server/cli/provisionFiles.ts';

/** In-memory files: the password file as a map, the ACL as text. */
function fakeDeps(initialAcl = '# header\n') {
  const passwords = new Map<string, Map<string, string>>();
  const acls = new Map<string, string>();
  const secrets = new Map<string, string>();
  const locks = new Set<string>();
  const out: string[] = [];
  const err: string[] = [];
  let n = 0;
  const deps: ProvisionDeps = {
    passwords(file): PasswordStore {
      const m = passwords.get(file) ?? new Map<string, string>();
      passwords.set(file, m);
      return { has: (u) => m.has(u), set: (u, p) => { m.set(u, p); return Promise.resolve(); }, remove: (u) => { m.delete(u); return Promise.resolve(); } };
    },
    acl: (file) => ({ read: () => acls.get(file) ?? initialAcl, write: (t) => { acls.set(file, t); } }),
    newPassword: () => `pw${++n}`,
    writeSecret: (f, t) => { secrets.set(f, t); },
    lock: (file) => {
      if (locks.has(file)) throw new ProvisionError('LOCKED', `another provision run holds ${file}.lock`);
      locks.add(file);
      return () => { locks.delete(file); };
    },
    now: () => new Date('2026-11-27T12:00:00Z'),
    hostname: 'broker.local',
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  };
  return { deps, passwords, acls, secrets, locks, out, err };
}

const FILES = ['--passwd-file', '/pw', '--acl-file', '/acl', '--mqtt', 'mqtts://broker.example:8883', '--ca', '/etc/pumpwatch/ca.crt'];

describe('provision', () => {
  test('gateway <id>: password and ACL written, configuration printed, reload asked for', async () => {
    const f = fakeDeps();
    assert.equal(await runProvision(['gateway', 'home-1', ...FILES], {}, f.deps), 0);
    assert.equal(f.passwords.get('/pw')?.get('home-1'), 'pw1');
    assert.match(f.acls.get('/acl') ?? '', /user home-1\n# pumpwatch gateway provisioned 2026-11-27T12:00:00.000Z\ntopic write pumpwatch\/home-1\/#\n/);
    const printed = f.out.join('');
    for (const line of ['MQTT_USERNAME=home-1', 'MQTT_PASSWORD=pw1', 'MQTT_CA_FILE=/etc/pumpwatch/ca.crt', 'PUMPWATCH_MQTT_URL=mqtts://broker.example:8883']) {
      assert.ok(printed.includes(line), line);
    }
    assert.match(printed, /npm run gateway -- --id home-1 --serial \S+ --mqtt mqtts:\/\/broker\.example:8883 --ca \/etc\/pumpwatch\/ca\.crt/);
    assert.match(printed, /systemctl reload mosquitto|SIGHUP|kill -HUP/);
    assert.deepEqual(f.err, []);
  });

  test('provisioning again rotates the password and keeps one ACL block', async () => {
    const f = fakeDeps();
    await runProvision(['gateway', 'home-1', ...FILES], {}, f.deps);
    await runProvision(['gateway', 'home-1', ...FILES], {}, f.deps);
    assert.equal(f.passwords.get('/pw')?.get('home-1'), 'pw2');
    assert.equal((f.acls.get('/acl') ?? '').split('user home-1').length, 2);
  });

  test('--env-out writes the secret to a file and keeps it off the terminal', async () => {
    const f = fakeDeps();
    assert.equal(await runProvision(['server', ...FILES, '--env-out', '/tmp/server.env'], {}, f.deps), 0);
    assert.match(f.secrets.get('/tmp/server.env') ?? '', /MQTT_USERNAME=_server\n/);
    assert.match(f.secrets.get('/tmp/server.env') ?? '', /MQTT_PASSWORD=pw1\n/);
    assert.match(f.secrets.get('/tmp/server.env') ?? '', /MQTT_CLIENT_ID=_server\n/);
    assert.ok(!f.out.join('').includes('pw1'));
  });

  test('revoke gateway removes both entries; revoking an unknown one is bad input (exit 2)', async () => {
    const f = fakeDeps();
    await runProvision(['gateway', 'home-1', ...FILES], {}, f.deps);
    await runProvision(['gateway', 'home-2', ...FILES], {}, f.deps);
    assert.equal(await runProvision(['revoke', 'gateway', 'home-1', ...FILES], {}, f.deps), 0);
    assert.equal(f.passwords.get('/pw')?.has('home-1'), false);
    assert.ok(!(f.acls.get('/acl') ?? '').includes('home-1'));
    assert.ok((f.acls.get('/acl') ?? '').includes('user home-2'));
    assert.equal(await runProvision(['revoke', 'gateway', 'home-1', ...FILES], {}, f.deps), 2);
    assert.equal(f.err.length, 1);
    assert.match(f.err[0] ?? '', /^provision: no gateway account "home-1".*\n$/);
  });

  test('the server account cannot be revoked as a gateway, nor a hand-written account overwritten', async () => {
    const f = fakeDeps('# header\n\nuser ops\ntopic read #\n');
    await runProvision(['server', ...FILES], {}, f.deps);
    assert.equal(await runProvision(['gateway', 'ops', ...FILES], {}, f.deps), 2);
    assert.equal(f.passwords.get('/pw')?.has('ops'), false, 'nothing written on refusal');
    assert.equal(await runProvision(['revoke', 'server', ...FILES], {}, f.deps), 0);
    assert.ok((f.acls.get('/acl') ?? '').includes('user ops'));
  });

  test('each further server instance gets its own account with the same rights', async () => {
    const f = fakeDeps();
    assert.equal(await runProvision(['server', ...FILES], {}, f.deps), 0);
    assert.equal(await runProvision(['server', 'b', ...FILES], {}, f.deps), 0);
    const acl = f.acls.get('/acl') ?? '';
    assert.ok(acl.includes('user _server\n') && acl.includes('user _server-b\n'));
    assert.equal(acl.split('topic readwrite pumpwatch/_server/#').length, 3);
    assert.equal(await runProvision(['revoke', 'server', 'b', ...FILES], {}, f.deps), 0);
    assert.ok(!(f.acls.get('/acl') ?? '').includes('_server-b'));
    assert.equal(f.passwords.get('/pw')?.has('_server'), true);
  });

  test('a run in progress (lock held) makes another exit 1 without touching the files; the lock is released after each run', async () => {
    const f = fakeDeps();
    assert.equal(await runProvision(['gateway', 'home-1', ...FILES], {}, f.deps), 0);
    assert.equal(f.locks.size, 0, 'released after success');
    f.locks.add('/acl');
    assert.equal(await runProvision(['gateway', 'home-2', ...FILES], {}, f.deps), 1);
    assert.match(f.err.join(''), /^provision: another provision run holds \/acl\.lock\n$/);
    assert.equal(f.passwords.get('/pw')?.has('home-2'), false);
    f.locks.clear();
    assert.equal(await runProvision(['revoke', 'gateway', 'nobody', ...FILES], {}, f.deps), 2);
    assert.equal(f.locks.size, 0, 'released after a failure too');
  });

  test('bad input exits 2 with exactly one line', async () => {
    for (const argv of [['gateway', '../etc'], ['gateway'], ['nope'], ['gateway', 'a', '--mqtt', 'mqtt://h:1883']]) {
      const f = fakeDeps();
      assert.equal(await runProvision(argv, {}, f.deps), 2, argv.join(' '));
      assert.equal(f.err.join('').split('\n').filter(Boolean).length, 1);
      assert.equal(f.passwords.size, 0);
    }
  });

  test('a failing password tool exits 1 with one line and leaves the ACL alone', async () => {
    const f = fakeDeps();
    f.deps.passwords = () => ({ has: () => false, set: () => Promise.reject(new Error('mosquitto_passwd failed on /pw: denied\nmore')), remove: () => Promise.resolve() });
    assert.equal(await runProvision(['gateway', 'home-1', ...FILES], {}, f.deps), 1);
    assert.deepEqual(f.err, ['provision: mosquitto_passwd failed on /pw: denied\n']);
    assert.equal(f.acls.size, 0);
  });
});
