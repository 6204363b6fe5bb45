/**
 * npm run users -- add <username> --role nurse|billing|admin   (password from standard input)
 *                  remove <username>
 *                  list
 * Options: --file <path> (default PUMPWATCH_USERS_FILE, else .data/users.json).
 * A running server picks the change up by itself.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { hashPassword } from '../auth/passwords.ts';
import { DEFAULT_USERS_FILE, isRole, readUsersFile, ROLES, USERNAME_RE, writeUsersFile } from '../auth/usersFile.ts';

const USAGE = 'usage: npm run users -- add <username> --role nurse|billing|admin | remove <username> | list  [--file <path>]';
const MIN_PASSWORD = 8;

class UsageError extends Error {}

interface Parsed {
  command: string;
  username: string | undefined;
  role: string | undefined;
  file: string;
}

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  let role: string | undefined;
  let file = process.env.PUMPWATCH_USERS_FILE || DEFAULT_USERS_FILE;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--role' || a === '--file') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      if (a === '--role') role = v;
      else file = v;
    } else if (a === '--help' || a === '-h') {
      throw new UsageError(USAGE);
    } else if (a.startsWith('--')) {
      throw new UsageError(`unknown option ${a}`);
    } else {
      positional.push(a);
    }
  }
  const [command, username, extra] = positional;
  if (!command) throw new UsageError(USAGE);
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  return { command, username, role, file: resolve(file) };
}

/** One line from standard input; on a terminal the typing is not echoed. */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) return readPasswordFromTerminal();
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line.replace(/\r$/, '');
  }
  return '';
}

/** raw mode (set before the prompt, so nothing typed is ever echoed); Enter ends, Ctrl-C aborts */
function readPasswordFromTerminal(): Promise<string> {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  process.stderr.write('Password: ');
  return new Promise((resolve) => {
    let typed: string[] = [];
    const finish = (aborted: boolean): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (aborted) process.exit(130);
      resolve(typed.join(''));
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(false);
        if (ch === '\u0003') return finish(true);
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch >= ' ') typed.push(ch);
      }
    };
    stdin.on('data', onData);
  });
}

async function main(argv: string[]): Promise<void> {
  const p = parseArgs(argv);
  const needName = (): string => {
    if (!p.username) throw new UsageError(`${p.command} needs a <username>`);
    if (!USERNAME_RE.test(p.username)) throw new UsageError('username: 1-64 of letters, digits and . _ @ - (starting with a letter or digit)');
    return p.username;
  };
  switch (p.command) {
    case 'list': {
      if (p.username !== undefined || p.role !== undefined) throw new UsageError('list takes no arguments');
      const { users } = readUsersFile(p.file);
      for (const name of Object.keys(users).sort()) {
        const u = users[name];
        if (u) process.stdout.write(`${name}\t${u.role}\t${u.updatedAt}\n`);
      }
      return;
    }
    case 'add': {
      const username = needName();
      if (!isRole(p.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const password = await readPassword();
      if (password.length < MIN_PASSWORD) throw new UsageError(`password (from standard input) must be at least ${MIN_PASSWORD} characters`);
      const content = readUsersFile(p.file);
      const existed = Object.hasOwn(content.users, username);
      content.users[username] = { role: p.role, password: await hashPassword(password), updatedAt: new Date().toISOString() };
      mkdirSync(dirname(p.file), { recursive: true, mode: 0o700 });
      writeUsersFile(p.file, content);
      process.stdout.write(`${existed ? 'updated' : 'added'} ${username} (${p.role}) in ${p.file}\n`);
      return;
    }
    case 'remove': {
      const username = needName();
      if (p.role !== undefined) throw new UsageError('remove takes no --role');
      const content = readUsersFile(p.file);
      if (!Object.hasOwn(content.users, username)) throw new UsageError(`no such user: ${username}`);
      delete content.users[username];
      writeUsersFile(p.file, content);
      process.stdout.write(`removed ${username} from ${p.file}\n`);
      return;
    }
    default:
      throw new UsageError(`unknown command ${p.command}; ${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  () => { process.exitCode = 0; },
  (err: unknown) => {
    process.stderr.write(`users: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
