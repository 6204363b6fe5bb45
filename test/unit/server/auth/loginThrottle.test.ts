import { test } from 'vitest';
import assert from 'node:assert/strict';
import { LoginThrottle } from '../../../../server/auth/loginThrottle.ts';

function make(now: { ms: number }, maxEntries?: number): LoginThrottle {
  return new LoginThrottle({ maxPerIp: 10, maxPerUser: 3, windowS: 60, lockoutS: 120, clock: () => now.ms, ...(maxEntries ? { maxEntries } : {}) });
}

test('a username is locked on the third failure in the window, for the lockout time', () => {
  const now = { ms: 0 };
  const t = make(now);
  assert.deepEqual(t.fail('1.1.1.1', 'alice'), { lockedIp: false, lockedUser: false });
  t.fail('1.1.1.2', 'Alice');
  assert.deepEqual(t.fail('1.1.1.3', 'alice '), { lockedIp: false, lockedUser: true }, 'case and spaces do not dodge it');
  assert.deepEqual(t.check('9.9.9.9', 'alice'), { allowed: false, by: 'user', retryAfterS: 120 });
  now.ms = 119_500;
  assert.deepEqual(t.check('9.9.9.9', 'alice'), { allowed: false, by: 'user', retryAfterS: 1 });
  now.ms = 120_000;
  assert.deepEqual(t.check('9.9.9.9', 'alice'), { allowed: true });
});

test('failures outside the window start a new count; success clears the username count', () => {
  const now = { ms: 0 };
  const t = make(now);
  t.fail('1.1.1.1', 'bob');
  t.fail('1.1.1.1', 'bob');
  now.ms = 61_000;
  assert.equal(t.fail('1.1.1.1', 'bob').lockedUser, false);
  t.succeed('bob');
  t.fail('1.1.1.1', 'bob');
  assert.equal(t.fail('1.1.1.1', 'bob').lockedUser, false);
  assert.equal(t.fail('1.1.1.1', 'bob').lockedUser, true);
});

test('an IP is locked after maxPerIp failures across usernames', () => {
  const now = { ms: 0 };
  const t = make(now);
  for (let i = 0; i < 9; i++) assert.equal(t.fail('2.2.2.2', `u${i}`).lockedIp, false);
  assert.equal(t.fail('2.2.2.2', 'u9').lockedIp, true);
  assert.deepEqual(t.check('2.2.2.2', 'someone'), { allowed: false, by: 'ip', retryAfterS: 120 });
  assert.deepEqual(t.check('2.2.2.3', 'someone'), { allowed: true });
});

test('memory stays bounded under a flood of distinct names', () => {
  const now = { ms: 0 };
  const t = make(now, 100);
  for (let i = 0; i < 10_000; i++) t.fail(`10.0.${i >> 8}.${i & 255}`, `user-${i}`);
  assert.ok(t.entries <= 200, `${t.entries} entries`);
});
