import { readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { hashPassword } from '../../../../server/auth/passwords.ts';
import { parseUsersFile, readUsersFile, UsersFileError, writeUsersFile } from '../../../../server/auth/usersFile.ts';
import { diffUsers } from '../../../../server/auth/usersStore.ts';
import { tempDir } from '../../../helpers/tempDir.ts';

test('written atomically with mode 0600, read back identically; a missing file is empty', async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'users.json');
    assert.deepEqual(readUsersFile(path), { version: 1, users: {} });
    const password = await hashPassword('pw-123456', { N: 1024, r: 8, p: 1 });
    writeUsersFile(path, { version: 1, users: { zed: { role: 'admin', password, updatedAt: 't' }, amy: { role: 'nurse', password, updatedAt: 't' } } });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir.path), ['users.json'], 'no temporary file left');
    const back = readUsersFile(path);
    assert.deepEqual(Object.keys(back.users), ['amy', 'zed']);
    assert.equal(back.users.amy?.role, 'nurse');
    assert.doesNotMatch(readFileSync(path, 'utf8'), /pw-123456/);
  } finally {
    dir.remove();
  }
});

test('invalid content is refused with a stable code and a one-line reason without secrets', async () => {
  const good = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
  const cases = [
    'not json', '[]', '{"version":2,"users":{}}', '{"version":1}',
    JSON.stringify({ version: 1, users: { 'bad name': { role: 'nurse', password: good } } }),
    JSON.stringify({ version: 1, users: { amy: { role: 'root', password: good } } }),
    JSON.stringify({ version: 1, users: { amy: { role: 'nurse', password: 'plaintext' } } }),
  ];
  for (const text of cases) {
    assert.throws(() => parseUsersFile(text), (err: unknown) => err instanceof UsersFileError && err.code === 'USERS_FILE_INVALID' && !err.message.includes('\n') && !err.message.includes(good), text);
  }
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'u.json'), '{');
    assert.throws(() => readUsersFile(join(dir.path, 'u.json')), UsersFileError);
  } finally {
    dir.remove();
  }
});

test('diffUsers names additions, removals and role or password changes', () => {
  const r = (role: 'nurse' | 'admin', password: string) => ({ role, password, updatedAt: '' });
  assert.deepEqual(
    diffUsers({ a: r('nurse', 'h1'), b: r('nurse', 'h2'), c: r('nurse', 'h3'), d: r('admin', 'h4') }, { a: r('nurse', 'h1'), b: r('admin', 'h2'), c: r('nurse', 'h9'), e: r('nurse', 'h5') }),
    [
      { username: 'b', kind: 'changed', role: 'admin' },
      { username: 'c', kind: 'changed', role: 'nurse' },
      { username: 'e', kind: 'added', role: 'nurse' },
      { username: 'd', kind: 'removed', role: null },
    ],
  );
});
