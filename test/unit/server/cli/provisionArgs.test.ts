import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { DEFAULT_ACL_FILE, DEFAULT_CA_FILE, DEFAULT_PASSWORD_FILE, UsageError, parseProvisionArgs } from '../../../../server/cli/provisionArgs.ts';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseProvisionArgs(argv, env, 'broker.local');

describe('provision command line', () => {
  test('gateway <id> with documented defaults', () => {
    const o = parse(['gateway', 'home-1']);
    assert.deepEqual(o.command, { action: 'add-gateway', gatewayId: 'home-1' });
    assert.equal(o.passwordFile, DEFAULT_PASSWORD_FILE);
    assert.equal(o.aclFile, DEFAULT_ACL_FILE);
    assert.equal(o.caFile, DEFAULT_CA_FILE);
    assert.equal(o.mqttUrl, 'mqtts://broker.local:8883');
    assert.equal(o.envOut, null);
    assert.ok(Object.isFrozen(o));
  });

  test('options beat the environment, which beats the defaults', () => {
    const env = { PUMPWATCH_MQTT_PASSWORD_FILE: '/env/pw', PUMPWATCH_MQTT_ACL_FILE: '/env/acl', PUMPWATCH_MQTT_PUBLIC_URL: 'mqtts://env:8883', PUMPWATCH_MQTT_CA_FILE: '/env/ca' };
    const fromEnv = parse(['server'], env);
    assert.deepEqual([fromEnv.passwordFile, fromEnv.aclFile, fromEnv.mqttUrl, fromEnv.caFile], ['/env/pw', '/env/acl', 'mqtts://env:8883', '/env/ca']);
    const fromOpts = parse(['server', '--passwd-file', '/o/pw', '--acl-file', '/o/acl', '--mqtt', 'mqtts://o:1', '--ca', '/o/ca', '--env-out', '/o/env'], env);
    assert.deepEqual([fromOpts.passwordFile, fromOpts.aclFile, fromOpts.mqttUrl, fromOpts.caFile, fromOpts.envOut], ['/o/pw', '/o/acl', 'mqtts://o:1', '/o/ca', '/o/env']);
  });

  test('revoke, list and help', () => {
    assert.deepEqual(parse(['revoke', 'gateway', 'g1']).command, { action: 'revoke-gateway', gatewayId: 'g1' });
    assert.deepEqual(parse(['revoke', 'server']).command, { action: 'revoke-server', instance: null });
    assert.deepEqual(parse(['server']).command, { action: 'add-server', instance: null });
    assert.deepEqual(parse(['server', 'b']).command, { action: 'add-server', instance: 'b' });
    assert.deepEqual(parse(['revoke', 'server', 'b']).command, { action: 'revoke-server', instance: 'b' });
    assert.deepEqual(parse(['list']).command, { action: 'list' });
    assert.deepEqual(parse(['--help']).command, { action: 'help' });
  });

  const bad: [string[], RegExp][] = [
    [[], /missing command/],
    [['gateway'], /missing gateway id/],
    [['gateway', '_server'], /invalid gateway id/],
    [['gateway', 'a/b'], /invalid gateway id/],
    [['gateway', 'a+'], /invalid gateway id/],
    [['gateway', 'x'.repeat(65)], /invalid gateway id/],
    [['gateway', 'a', 'b'], /unexpected argument: b/],
    [['revoke'], /revoke what/],
    [['revoke', 'gateway', 'bad id'], /invalid gateway id/],
    [['frobnicate'], /unknown command/],
    [['server', '_x'], /invalid server instance/],
    [['server', 'a', 'b'], /unexpected argument: b/],
    [['gateway', 'a', '--nope'], /unknown option/],
    [['gateway', 'a', '--acl-file'], /needs a value/],
    [['gateway', 'a', '--mqtt', 'mqtt://plain:1883'], /mqtts/],
    [['gateway', 'a', '--mqtt', 'not a url'], /not a URL/],
    [['gateway', 'a', '--mqtt', 'mqtts://u:p@h:8883'], /credentials/],
  ];
  for (const [argv, re] of bad) {
    test(`bad input ${JSON.stringify(argv).slice(0, 60)} is a one-line UsageError`, () => {
      assert.throws(() => parse(argv), (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n'));
    });
  }
});
