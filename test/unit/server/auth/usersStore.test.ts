import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, vi } from 'vitest';
import assert from 'node:assert/strict';
import { hashPassword } from '../../../../server/auth/passwords.ts';
import { writeUsersFile } from '../../../../server/auth/usersFile.ts';
import { UsersStore, type UserChange } from '../../../../server/auth/usersStore.ts';
import { tempDir } from '../../../helpers/tempDir.ts';

test('the mtime poll picks changes up where fs.watch cannot (folder created later), and stop() ends it', async () => {
  const dir = tempDir();
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  try {
    const folder = join(dir.path, 'later');
    const path = join(folder, 'users.json');
    const changes: UserChange[] = [];
    const errors: string[] = [];
    const store = new UsersStore({ path, pollMs: 1000, onChange: (c) => changes.push(...c), onError: (m) => errors.push(m) });
    store.start(); // the folder does not exist: no watcher, an empty account list
    assert.equal(store.count(), 0);
    mkdirSync(folder);
    const password = await hashPassword('pw-pw-pw-pw', { N: 1024, r: 8, p: 1 });
    writeUsersFile(path, { version: 1, users: { amy: { role: 'nurse', password, updatedAt: '' } } });
    vi.advanceTimersByTime(1000);
    assert.deepEqual(changes, [{ username: 'amy', kind: 'added', role: 'nurse' }]);
    assert.equal(store.get('amy')?.role, 'nurse');
    assert.equal(store.get('constructor'), undefined, 'no prototype lookups');

    vi.advanceTimersByTime(5000);
    assert.equal(changes.length, 1, 'unchanged file, no events');
    store.stop();
    writeUsersFile(path, { version: 1, users: {} });
    vi.advanceTimersByTime(5000);
    assert.equal(changes.length, 1, 'stopped');
    assert.deepEqual(errors, []);
  } finally {
    vi.useRealTimers();
    dir.remove();
  }
});

test('a bad users file at start is refused with a one-line reason', () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'users.json');
    writeFileSync(path, '{oops');
    const store = new UsersStore({ path, pollMs: 1000, onChange: () => undefined, onError: () => undefined });
    assert.throws(() => store.start(), /^Error: users file is not valid JSON$|users file is not valid JSON/);
    store.stop();
  } finally {
    dir.remove();
  }
});
