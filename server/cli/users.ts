/**
 * npm run users -- add <username> --role nurse|billing|pharmacist|admin [--email <address>]   (password from standard input)
 *                  change <username> [--role <role>] [--email <address>|--email ''] [--password]
 *                  remove <username>
 *                  list
 * With DATABASE_URL set, the accounts are in PostgreSQL (the server's users table; migrations are
 * applied first); otherwise in the users file: --file <path> (default PUMPWATCH_USERS_FILE, else
 * the server's default). A running server picks the change up by itself.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { hashPassword } from '../auth/passwords.ts';
import { EMAIL_RE, isRole, MAX_EMAIL, USERNAME_RE } from '../auth/usersFile.ts';
import { SETTINGS } from '../config/settings.ts';
import { parseDatabaseUrl } from '../db/databaseUrl.ts';
import { migrate } from '../db/migrate.ts';
import { createDatabasePool } from '../db/pool.ts';
import { databaseTarget, fileTarget, type AccountChange, type AccountsTarget } from './usersTargets.ts';

/** in the order an administrator thinks of them */
const ROLE_LIST = 'nurse, billing, admin, pharmacist';
const USAGE = `usage: npm run users -- add <username> --role <${ROLE_LIST.replaceAll(', ', '|')}> [--email <address>] | change <username> [--role <role>] [--email <address>] [--password] | remove <username> | list  [--file <path>]`;
const MIN_PASSWORD = 8;
const DEFAULT_USERS_FILE = SETTINGS.PUMPWATCH_USERS_FILE.default;

class UsageError extends Error {}

interface Parsed {
  command: string;
  username: string | undefined;
  role: string | undefined;
  email: string | undefined;
  password: boolean;
  file: string | undefined;
}

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const p: Parsed = { command: '', username: undefined, role: undefined, email: undefined, password: false, file: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--role' || a === '--file' || a === '--email') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      if (a === '--role') p.role = v;
      else if (a === '--email') p.email = v;
      else p.file = v;
    } else if (a === '--password') {
      p.password = true;
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
  return { ...p, command, username };
}

/** the users table when DATABASE_URL is set, else the users file */
async function openTarget(p: Parsed): Promise<AccountsTarget> {
  const url = process.env.DATABASE_URL?.trim();
  if (!url) return fileTarget(resolve(p.file ?? (process.env.PUMPWATCH_USERS_FILE || DEFAULT_USERS_FILE)));
  if (p.file !== undefined) throw new UsageError('--file with DATABASE_URL set: the accounts are in the database (unset DATABASE_URL to edit a users file)');
  const target = parseDatabaseUrl(url);
  const pool = createDatabasePool(target, { max: 2 });
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    throw new Error(`database ${target.redacted}: ${(err as Error).message}`);
  }
  return databaseTarget(pool, `the database ${target.redacted}`, `cli:${userInfo().username}`.slice(0, 100));
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

async function newPassword(): Promise<string> {
  const password = await readPassword();
  if (password.length < MIN_PASSWORD) throw new UsageError(`password (from standard input) must be at least ${MIN_PASSWORD} characters`);
  return hashPassword(password);
}

function checkEmail(email: string | undefined): string | null | undefined {
  if (email === undefined) return undefined;
  if (email === '') return null;
  if (email.length > MAX_EMAIL || !EMAIL_RE.test(email)) throw new UsageError('--email must be an e-mail address (name@host)');
  return email;
}

async function main(argv: string[]): Promise<void> {
  const p = parseArgs(argv);
  const needName = (): string => {
    if (!p.username) throw new UsageError(`${p.command} needs a <username>`);
    if (!USERNAME_RE.test(p.username)) throw new UsageError('username: 1-64 of letters, digits and . _ @ - (starting with a letter or digit)');
    return p.username;
  };
  const role = (): AccountChange['role'] => {
    if (p.role === undefined) return undefined;
    if (!isRole(p.role)) throw new UsageError(`--role must be one of ${ROLE_LIST}`);
    return p.role;
  };
  if (!['list', 'add', 'change', 'remove'].includes(p.command)) throw new UsageError(`unknown command ${p.command}; ${USAGE}`);
  // every argument is checked before the database or the file is touched
  if (p.command === 'list' && (p.username !== undefined || p.role !== undefined || p.email !== undefined || p.password)) throw new UsageError('list takes no arguments');
  const username = p.command === 'list' ? '' : needName();
  if (p.command === 'add' && p.role === undefined) throw new UsageError(`--role must be one of ${ROLE_LIST}`);
  if (p.command === 'remove' && (p.role !== undefined || p.email !== undefined || p.password)) throw new UsageError('remove takes no --role, --email or --password');
  const change: AccountChange = {};
  const r = role();
  if (r) change.role = r;
  const email = checkEmail(p.email);
  if (email !== undefined) change.email = email;
  if (p.command === 'add' || (p.command === 'change' && p.password)) change.passwordHash = await newPassword();
  if (p.command === 'change' && Object.keys(change).length === 0) throw new UsageError('change needs --role, --email or --password');

  const target = await openTarget(p);
  try {
    switch (p.command) {
      case 'list':
        for (const u of await target.list()) process.stdout.write(`${u.username}\t${u.role}\t${u.updatedAt}${u.email ? `\t${u.email}` : ''}\n`);
        return;
      case 'add': {
        const done = await target.put(username, change);
        process.stdout.write(`${done} ${username} (${change.role}) in ${target.where}\n`);
        return;
      }
      case 'change': {
        if (!(await target.exists(username))) throw new UsageError(`no such user: ${username}`);
        await target.put(username, change);
        process.stdout.write(`changed ${username} (${Object.keys(change).map((k) => (k === 'passwordHash' ? 'password' : k)).join(', ')}) in ${target.where}\n`);
        return;
      }
      default: {
        if (!(await target.remove(username))) throw new UsageError(`no such user: ${username}`);
        process.stdout.write(`removed ${username} from ${target.where}\n`);
      }
    }
  } finally {
    await target.close();
  }
}

main(process.argv.slice(2)).then(
  () => { process.exitCode = 0; },
  (err: unknown) => {
    process.stderr.write(`users: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
