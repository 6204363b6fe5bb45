import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('sessions written to their file survive a restart; the file holds hashes only, owner-readable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pumpwatch-sessions-'));
  try {
    const file = join(dir, 'sessions.json');
    const now = { ms: 1_000_000 };
    const first = new SessionStore({ idleS: 60, absoluteS: 3600, clock: () => now.ms, file });
    const kept = first.create('alice', 'nurse');
    const gone = first.create('bob', 'billing');
    first.destroy(gone.id);
    first.flush();
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, new RegExp(kept.id), 'no usable cookie in the file');
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const restarted = new SessionStore({ idleS: 60, absoluteS: 3600, clock: () => now.ms, file });
    const s = restarted.touch(kept.id);
    assert.equal(s?.username, 'alice');
    assert.equal(s?.csrfToken, kept.session.csrfToken, 'the page keeps working with its CSRF token');
    assert.equal(restarted.touch(gone.id), undefined, 'a logged-out session stays out');
    restarted.flush();

    now.ms += 61_000; // idle expiry passes while the server is down
    const later = new SessionStore({ idleS: 60, absoluteS: 3600, clock: () => now.ms, file });
    assert.equal(later.size, 0, 'expired sessions are not loaded');

    const corrupt = join(dir, 'bad.json');
    writeFileSync(corrupt, '{"v":1,"sessions":[["nothex",{"username":"x"}]]');
    assert.equal(new SessionStore({ idleS: 60, absoluteS: 3600, clock: () => now.ms, file: corrupt }).size, 0, 'a damaged file starts empty');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
