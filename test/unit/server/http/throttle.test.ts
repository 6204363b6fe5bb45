import { describe, test, beforeEach, afterEach } from 'vitest';
import assert from 'node:assert/strict';
import { makeFixture, PASSWORDS, type Fixture } from './appFixture.ts';

describe('brute-force login protection', () => {
  let f: Fixture;
  beforeEach(async () => { f = await makeFixture({ loginMaxPerUser: 5, loginMaxPerIp: 8, loginWindowS: 900, loginLockoutS: 600 }); });
  afterEach(async () => { await f.close(); });

  const attempt = (username: string, password: string, ip: string) =>
    f.app.inject({ method: 'POST', url: '/api/session', remoteAddress: ip, payload: { username, password } });

  test('five failures lock the username out, even with the right password, until the lockout ends', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await attempt('alice', `guess-${i}`, `10.0.1.${i}`)).statusCode, 401);
    const locked = await attempt('alice', PASSWORDS.alice, '10.0.2.1');
    assert.equal(locked.statusCode, 429);
    assert.equal(locked.json<{ error: string }>().error, 'too_many_attempts');
    assert.ok(Number(locked.headers['retry-after']) > 0 && Number(locked.headers['retry-after']) <= 600);
    assert.equal(locked.headers['set-cookie'], undefined);
    // other accounts are unaffected
    assert.equal((await attempt('bob', PASSWORDS.bob, '10.0.2.1')).statusCode, 200);
    f.now.ms += 599_000;
    assert.equal((await attempt('alice', PASSWORDS.alice, '10.0.2.1')).statusCode, 429);
    f.now.ms += 2_000;
    assert.equal((await attempt('alice', PASSWORDS.alice, '10.0.2.1')).statusCode, 200);
  });

  test('an unknown username is locked the same way (the lockout tells nothing about which names exist)', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await attempt('ghost', `guess-${i}`, `10.0.3.${i}`)).statusCode, 401);
    assert.equal((await attempt('ghost', 'guess-x', '10.0.3.9')).statusCode, 429);
  });

  test('one IP spraying many usernames is throttled per IP', async () => {
    for (let i = 0; i < 8; i++) assert.equal((await attempt(`user${i}`, 'guess', '10.0.4.1')).statusCode, 401);
    const res = await attempt('carol', PASSWORDS.carol, '10.0.4.1');
    assert.equal(res.statusCode, 429);
    assert.equal((await attempt('carol', PASSWORDS.carol, '10.0.4.2')).statusCode, 200, 'other IPs still log in');
  });

  test('failures spread beyond the window do not add up; a success clears the count', async () => {
    for (let i = 0; i < 4; i++) await attempt('alice', 'nope', '10.0.5.1');
    f.now.ms += 901_000;
    for (let i = 0; i < 4; i++) assert.equal((await attempt('alice', 'nope', '10.0.5.1')).statusCode, 401);
    assert.equal((await attempt('alice', PASSWORDS.alice, '10.0.5.1')).statusCode, 200);
    for (let i = 0; i < 4; i++) assert.equal((await attempt('alice', 'nope', '10.0.5.2')).statusCode, 401);
    assert.equal((await attempt('alice', PASSWORDS.alice, '10.0.5.2')).statusCode, 200);
  });
});
