/**
 * `npm run provision` as an operator runs it, against a real Mosquitto with the shipped config:
 * the printed configuration works, revoke works after a reload, bad input exits 2 with one line.
 */
import { describe, test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startNpmScript } from '../../helpers/childProcess.ts';
import { connectOnce, startSecureMosquitto, type SecureBroker } from '../../helpers/secureMosquitto.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';

async function provision(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; lines: string[] }> {
  const p = startNpmScript('provision', args, { env });
  const code = await p.exited;
  return { code, lines: p.lines };
}

/** KEY=value lines of the printed (or written) environment */
function envOf(text: string): Map<string, string> {
  return new Map(text.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('npm run provision (real CLI, real Mosquitto)', () => {
  let broker: SecureBroker;
  let tmp: TempDir;
  let files: NodeJS.ProcessEnv;

  beforeAll(async () => {
    broker = await startSecureMosquitto();
    tmp = tempDir('pumpwatch-provision-cli-');
    // paths by environment this time (the in-process helper uses options)
    files = {
      PUMPWATCH_MQTT_PASSWORD_FILE: broker.passwordFile,
      PUMPWATCH_MQTT_ACL_FILE: broker.aclFile,
      PUMPWATCH_MQTT_PUBLIC_URL: broker.url,
      PUMPWATCH_MQTT_CA_FILE: broker.caFile,
    };
  });

  afterAll(async () => {
    await broker.dispose();
    tmp.remove();
  });

  test('gateway <id> prints a configuration that connects after a reload; revoke shuts it out', async () => {
    const r = await provision(['gateway', 'home-cli'], files);
    assert.equal(r.code, 0, r.lines.join('\n'));
    const env = envOf(r.lines.join('\n'));
    assert.equal(env.get('MQTT_USERNAME'), 'home-cli');
    assert.equal(env.get('MQTT_CA_FILE'), broker.caFile);
    assert.equal(env.get('PUMPWATCH_MQTT_URL'), broker.url);
    const password = env.get('MQTT_PASSWORD') ?? '';
    assert.match(password, /^[A-Za-z0-9_-]{32}$/);
    assert.ok(r.lines.some((l) => l.includes(`--id home-cli`) && l.includes(`--ca ${broker.caFile}`) && l.includes(`--mqtt ${broker.url}`)));
    assert.ok(r.lines.some((l) => /reload mosquitto|HUP/.test(l)));
    assert.equal(statSync(broker.passwordFile).mode & 0o777, 0o640);

    await broker.reload();
    const ca = readFileSync(broker.caFile);
    const ok = await connectOnce(broker.url, { ca, username: 'home-cli', password, protocolVersion: 5 });
    assert.ok(ok.ok);
    if (ok.ok) {
      await ok.client.publishAsync('pumpwatch/home-cli/pumps/P1', '{}', { qos: 1 });
      await ok.client.endAsync();
    }

    const revoked = await provision(['revoke', 'gateway', 'home-cli'], files);
    assert.equal(revoked.code, 0, revoked.lines.join('\n'));
    await broker.reload();
    const refused = await connectOnce(broker.url, { ca, username: 'home-cli', password, protocolVersion: 5 });
    if (refused.ok) refused.client.end(true);
    assert.equal(refused.ok, false);
  });

  test('server --env-out writes a 0600 file and keeps the password off the terminal', async () => {
    const out = join(tmp.path, 'server.env');
    const r = await provision(['server', '--env-out', out], files);
    assert.equal(r.code, 0, r.lines.join('\n'));
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const env = envOf(readFileSync(out, 'utf8'));
    assert.equal(env.get('MQTT_USERNAME'), '_server');
    const password = env.get('MQTT_PASSWORD') ?? '';
    assert.ok(password.length >= 32);
    assert.ok(!r.lines.some((l) => l.includes(password)));
    await broker.reload();
    const ok = await connectOnce(env.get('MQTT_URL') ?? '', { ca: readFileSync(env.get('MQTT_CA_FILE') ?? ''), username: '_server', password });
    assert.ok(ok.ok);
    if (ok.ok) await ok.client.endAsync();
  });

  test('bad input exits 2 with one line and changes no file', async () => {
    const before = [readFileSync(broker.passwordFile, 'utf8'), readFileSync(broker.aclFile, 'utf8')];
    for (const args of [['gateway', 'no/slash'], ['gateway', '_server'], ['revoke', 'gateway', 'never-made'], ['gateway'], ['bogus']]) {
      const r = await provision(args, files);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.lines.join(' | ')}`);
      assert.equal(r.lines.length, 1, r.lines.join('\n'));
      assert.match(r.lines[0] ?? '', /^provision: /);
    }
    assert.deepEqual([readFileSync(broker.passwordFile, 'utf8'), readFileSync(broker.aclFile, 'utf8')], before);
  });
});
