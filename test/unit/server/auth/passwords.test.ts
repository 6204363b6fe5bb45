import { test } from 'vitest';
import assert from 'node:assert/strict';
import { hashPassword, parsePasswordHash, verifyPassword } from '../../../../server/auth/passwords.ts';

const cost = { N: 1024, r: 8, p: 1 };

test('a hash verifies its password only, and two hashes of one password differ (per-user salt)', async () => {
  const a = await hashPassword('correct horse', cost);
  const b = await hashPassword('correct horse', cost);
  assert.notEqual(a, b);
  assert.match(a, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(await verifyPassword('correct horse', a), true);
  assert.equal(await verifyPassword('correct horse ', a), false);
  assert.equal(await verifyPassword('', a), false);
});

test('the default cost is the production one', async () => {
  assert.match(await hashPassword('x'), /^scrypt\$16384\$8\$1\$/);
});

test('malformed or absurd hashes are refused, never thrown on', async () => {
  for (const h of ['', 'plain', 'scrypt$1024$8$1$AAAA', 'scrypt$1000$8$1$AAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAA', 'scrypt$4194304$8$1$AAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAA', 'bcrypt$1$2$3$4$5']) {
    assert.equal(parsePasswordHash(h), null, h);
    assert.equal(await verifyPassword('x', h), false, h);
  }
});
