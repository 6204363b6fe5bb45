/**
 * A throwaway PostgreSQL cluster for tests and the demo (Debian's `postgresql` package): loopback
 * only, a free port, data and unix socket in a temp folder, durability off for speed. PostgreSQL
 * refuses to run as root, so as root every server process runs as the `postgres` system user (or
 * `nobody`) and the folder is given to that user.
 *
 * Start time: `initdb` costs seconds on a busy machine, so one pristine cluster is made once per
 * machine and PostgreSQL version (a "template" folder in /dev/shm or the OS temp dir) and each start copies
 * it (~0.2 s in /dev/shm), then starts `postgres` and creates the application's role and database: the role
 * owns its database and is no superuser, like a real installation (docs/clinical.md).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';

export interface PostgresOptions {
  /** the application's role (default `pumpwatch`) */
  user?: string;
  /** the application's database (default `pumpwatch`) */
  database?: string;
  /** where the cluster's temp folder is made (default: /dev/shm when it has room, else the OS temp dir) */
  parentDir?: string;
  /** ms to wait for the server to accept connections (default 30 000) */
  readyTimeoutMs?: number;
}

export interface PostgresServer {
  /** postgres://user:password@127.0.0.1:port/database, for DATABASE_URL */
  url: string;
  port: number;
  /** the cluster's folder (data, socket) */
  dir: string;
  /** a new empty database owned by the same role, and its URL */
  createDatabase(name: string): Promise<string>;
  /**
   * Fast shutdown (clients are disconnected), then starts again on the same port and data;
   * `whileDown` runs in between (what callers see while the database is away).
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** fast shutdown and removal of the folder */
  stop(): Promise<void>;
  /** the server's last log lines (for failure messages) */
  logTail(): string;
}

/** bump when the template's initdb options change, so an old template is not reused */
const TEMPLATE_FORMAT = 2;
const SUPERUSER = 'postgres';
/** role and database names go into SQL as they are: plain lower-case identifiers only */
const SQL_NAME_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const SERVER_SETTINGS = [
  'listen_addresses=127.0.0.1', 'fsync=off', 'full_page_writes=off', 'synchronous_commit=off',
  'shared_buffers=16MB', 'max_connections=60', 'lc_messages=C', 'timezone=UTC', 'log_timezone=UTC',
  'log_min_messages=warning', 'dynamic_shared_memory_type=mmap', 'max_wal_size=256MB',
];

/** The newest /usr/lib/postgresql/<version>/bin (PUMPWATCH_PG_BIN overrides). */
export function postgresBinDir(): string {
  if (process.env.PUMPWATCH_PG_BIN) return process.env.PUMPWATCH_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): run scripts/setup.sh');
  return join(root, newest, 'bin');
}

interface RunAs {
  uid: number;
  gid: number;
}

/** root cannot run PostgreSQL: the Debian package's `postgres` user, else `nobody` */
function unprivilegedUser(): RunAs | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('running as root and no postgres or nobody user to run PostgreSQL as');
}

function ownFolder(path: string, runAs: RunAs | null): void {
  if (runAs) chownSync(path, runAs.uid, runAs.gid);
}

function runSync(bin: string, args: string[], runAs: RunAs | null): void {
  const r = spawnSync(bin, args, { encoding: 'utf8', ...(runAs ?? {}) });
  if (r.status !== 0) throw new Error(`${bin} ${args[0] ?? ''} failed: ${(r.stderr || r.stdout || String(r.error)).trim().slice(-500)}`);
}

/** The pristine cluster copied by every start; made once, atomically (initdb in a side folder, then rename). */
function ensureTemplate(binDir: string, runAs: RunAs | null, baseDir: string): string {
  const version = binDir.split('/').at(-2) ?? 'pg';
  const owner = runAs ? runAs.uid : (userInfo().uid);
  const template = join(baseDir, `pumpwatch-pg-template-${version}-v${TEMPLATE_FORMAT}-u${owner}`);
  if (existsSync(join(template, 'data', 'PG_VERSION'))) return template;
  const side = mkdtempSync(`${template}.tmp-`);
  ownFolder(side, runAs);
  try {
    // 1 MB WAL segments: a third of the folder to copy at each start instead of 16 MB
    runSync(join(binDir, 'initdb'), ['-D', join(side, 'data'), '-U', SUPERUSER, '--auth-local=trust', '--auth-host=scram-sha-256',
      '--no-sync', '--no-instructions', '-E', 'UTF8', '--locale=C', '--wal-segsize=1'], runAs);
    renameSync(side, template);
  } catch (err) {
    rmSync(side, { recursive: true, force: true });
    // another process made it first: theirs is as good as ours
    if (!existsSync(join(template, 'data', 'PG_VERSION'))) throw err;
  }
  return template;
}

/**
 * Memory-backed /dev/shm when it is there and has room: on a busy machine copying the cluster and
 * CREATE DATABASE cost seconds on disk and a fifth of a second in memory.
 */
function defaultBaseDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    const fs = statfsSync('/dev/shm');
    if (fs.bavail * fs.bsize > 1024 * 1024 * 1024) return '/dev/shm';
  } catch {
    // no /dev/shm: the temp dir
  }
  return tmpdir();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** Starts a new cluster and returns once the application's role and database accept connections. */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const user = opts.user ?? 'pumpwatch';
  const database = opts.database ?? 'pumpwatch';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  for (const name of [user, database]) if (!SQL_NAME_RE.test(name)) throw new Error(`bad PostgreSQL name ${name}`);
  const binDir = postgresBinDir();
  const runAs = unprivilegedUser();
  const baseDir = defaultBaseDir();
  const template = ensureTemplate(binDir, runAs, baseDir);
  const dir = mkdtempSync(join(opts.parentDir ?? baseDir, 'pumpwatch-pg-'));
  ownFolder(dir, runAs);
  runSync('cp', ['-a', join(template, 'data'), join(dir, 'data')], runAs);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const superuserConfig = (db = 'postgres'): pg.ClientConfig => ({ host: dir, port, user: SUPERUSER, database: db });
  const urlFor = (db: string): string => `postgres://${user}:${password}@127.0.0.1:${port}/${db}`;

  const launch = async (): Promise<void> => {
    const args = ['-D', join(dir, 'data'), '-p', String(port), '-c', `unix_socket_directories=${dir}`];
    for (const s of SERVER_SETTINGS) args.push('-c', s);
    const child = spawn(join(binDir, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], ...(runAs ?? {}) });
    proc = child;
    const keep = (chunk: Buffer): void => {
      log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (log.length > 200) log.splice(0, log.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let gone = false;
    exited = new Promise((resolve) => child.once('exit', () => { gone = true; resolve(); }));
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (gone) throw new Error(`postgres exited at start: ${log.slice(-10).join('\n')}`);
      const client = new pg.Client(superuserConfig());
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`postgres on ${port} not ready within ${readyTimeoutMs} ms: ${log.slice(-10).join('\n')}`);
      await delay(25);
    }
  };

  const halt = async (): Promise<void> => {
    if (!proc) return;
    const p = proc;
    proc = null;
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGINT'); // fast shutdown
    const t = setTimeout(() => p.kill('SIGQUIT'), 10_000);
    await exited;
    clearTimeout(t);
  };

  // a test process that dies without stop(): do not leave a server behind
  const onExit = (): void => {
    proc?.kill('SIGQUIT');
  };
  process.once('exit', onExit);

  const createDatabase = async (name: string): Promise<string> => {
    if (!SQL_NAME_RE.test(name)) throw new Error(`bad database name ${name}`);
    const su = new pg.Client(superuserConfig());
    await su.connect();
    try {
      await su.query(`CREATE DATABASE ${name} OWNER ${user}`);
    } finally {
      await su.end();
    }
    return urlFor(name);
  };

  try {
    await launch();
    const su = new pg.Client(superuserConfig());
    await su.connect();
    try {
      // no superuser, no CREATEDB, no CREATEROLE: what the server needs is owning its database
      await su.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}' NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    } finally {
      await su.end();
    }
    await createDatabase(database);
  } catch (err) {
    await halt();
    process.removeListener('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    url: urlFor(database), port, dir, createDatabase,
    async restart(whileDown) {
      await halt();
      try {
        await whileDown?.();
      } finally {
        await launch();
      }
    },
    async stop() {
      await halt();
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
    logTail: () => log.slice(-30).join('\n'),
  };
}
