import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameSecret, SessionStore } from '../../../../server/auth/sessions.ts';

test('sessions expire when idle and at the absolute limit; only hashes of ids are stored', () => {
  const now = { ms: 0 };
  const store = new SessionStore({ idleS: 60, absoluteS: 300, clock: () => now.ms });
  const { id, session } = store.create('alice', 'nurse');
  assert.ok(id.length >= 40);
  assert.doesNotMatch(JSON.stringify([...(store as unknown as { byHash: Map<string, unknown> }).byHash.keys()]), new RegExp(id));
  assert.equal(store.expiresAtMs(session), 60_000);
  now.ms = 59_000;
  assert.ok(store.touch(id));
  now.ms = 118_000;
  assert.ok(store.touch(id));
  now.ms = 179_000;
  assert.equal(store.touch(id), undefined);
  assert.equal(store.size, 0);

  const b = store.create('bob', 'billing');
  for (let t = 50_000; t < 300_000; t += 50_000) {
    now.ms += 50_000;
    assert.ok(store.touch(b.id), `at ${t}`);
  }
  now.ms = 179_000 + 300_000;
  assert.equal(store.touch(b.id), undefined, 'absolute limit');
});

test('destroyUser ends every session of that account; the store stays bounded', () => {
  const store = new SessionStore({ idleS: 60, absoluteS: 300, clock: () => 0, maxSessions: 3 });
  const a = store.create('alice', 'nurse');
  store.create('alice', 'nurse');
  const c = store.create('carol', 'admin');
  assert.equal(store.destroyUser('alice'), 2);
  assert.equal(store.touch(a.id), undefined);
  assert.ok(store.touch(c.id));
  for (let i = 0; i < 10; i++) store.create('x', 'nurse');
  assert.equal(store.size, 3);
});

test('sameSecret compares exactly', () => {
  assert.equal(sameSecret('abc', 'abc'), true);
  assert.equal(sameSecret('abc', 'abd'), false);
  assert.equal(sameSecret('abc', 'abcd'), false);
});
