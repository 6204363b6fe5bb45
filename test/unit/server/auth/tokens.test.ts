import { createHash } from 'node:crypto';
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { labelOfToken, TokenSet } from '../../../../server/auth/tokens.ts';

test('tokens match exactly and are labelled by the first 8 hex of their SHA-256', () => {
  const set = new TokenSet(['alpha-token', 'beta-token', '']);
  assert.equal(set.size, 2, 'an empty entry is not a token');
  const label = `token:${createHash('sha256').update('beta-token').digest('hex').slice(0, 8)}`;
  assert.deepEqual(set.match('beta-token'), { label });
  assert.equal(labelOfToken('beta-token'), label);
  assert.equal(set.match('beta-token '), undefined);
  assert.equal(set.match(''), undefined);
  assert.equal(set.match('alpha'), undefined);
});

test('the raw tokens are not kept', () => {
  const set = new TokenSet(['super-secret-token']);
  assert.doesNotMatch(JSON.stringify(set) + String(Object.values(set)), /super-secret-token/);
});
