/** File adapters for `npm run provision`: the Mosquitto password file (via mosquitto_passwd) and the ACL file. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PasswordStore {
  has(username: string): boolean;
  /** adds or replaces */
  set(username: string, password: string): Promise<void>;
  remove(username: string): Promise<void>;
}

export interface AclStore {
  /** '' when the file does not exist yet */
  read(): string;
  write(text: string): void;
}

/** Failure of the files or tools (not bad input); the CLI exits 1. */
export class ProvisionError extends Error {
  constructor(readonly code: 'PASSWD_TOOL_FAILED' | 'FILE_UNWRITABLE' | 'LOCKED', message: string) {
    super(message);
  }
}

/** Keeps the owner and mode an operator gave the file (root:mosquitto 0640); new files get 0640. */
function keepOwnership(file: string, before: { mode: number; uid: number; gid: number } | null): void {
  if (!before) {
    chmodSync(file, 0o640);
    return;
  }
  chmodSync(file, before.mode & 0o7777);
  try {
    chownSync(file, before.uid, before.gid);
  } catch {
    /* not root: the tool kept the owner anyway */
  }
}

function statOf(file: string): { mode: number; uid: number; gid: number } | null {
  if (!existsSync(file)) return null;
  const s = statSync(file);
  return { mode: s.mode, uid: s.uid, gid: s.gid };
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0] ?? '';
}

/** mosquitto_passwd on `file`; the password goes through `-b` (briefly visible to local `ps`). */
export function mosquittoPasswordFile(file: string, tool = 'mosquitto_passwd'): PasswordStore {
  const usernames = (): string[] => {
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').map((l) => l.split(':')[0] ?? '').filter((u) => u !== '');
  };
  return {
    has: (username) => usernames().includes(username),
    async set(username, password) {
      const before = statOf(file);
      const args = before ? ['-b', file, username, password] : ['-c', '-b', file, username, password];
      try {
        await run(tool, args);
      } catch (err) {
        throw new ProvisionError('PASSWD_TOOL_FAILED', `${tool} failed on ${file}: ${firstLine(err)}`);
      }
      keepOwnership(file, before);
    },
    async remove(username) {
      if (!usernames().includes(username)) return;
      const before = statOf(file);
      try {
        await run(tool, ['-D', file, username]);
      } catch (err) {
        throw new ProvisionError('PASSWD_TOOL_FAILED', `${tool} failed on ${file}: ${firstLine(err)}`);
      }
      keepOwnership(file, before);
    },
  };
}

/** The ACL file, replaced atomically (write beside it, then rename) so Mosquitto never reads half of it. */
export function aclFile(file: string): AclStore {
  return {
    read: () => (existsSync(file) ? readFileSync(file, 'utf8') : ''),
    write(text) {
      const before = statOf(file);
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        writeFileSync(tmp, text, { mode: 0o640 });
        keepOwnership(tmp, before);
        renameSync(tmp, file);
      } catch (err) {
        throw new ProvisionError('FILE_UNWRITABLE', `cannot write ${file}: ${firstLine(err)}`);
      }
    },
  };
}

/** 32 characters of base64url: 192 random bits. */
export function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The client's environment file, readable by its owner only. */
export function writeSecretFile(file: string, text: string): void {
  try {
    writeFileSync(file, text, { mode: 0o600 });
    chmodSync(file, 0o600);
  } catch (err) {
    throw new ProvisionError('FILE_UNWRITABLE', `cannot write ${file}: ${firstLine(err)}`);
  }
}

/**
 * `<aclFile>.lock`, created exclusively: two provision runs must not interleave their
 * read-modify-write of the ACL. Returns the release function.
 */
export function lockFiles(aclFilePath: string): () => void {
  const lock = `${aclFilePath}.lock`;
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ProvisionError('LOCKED', `another provision run holds ${lock} (remove it if none is running)`);
    }
    throw new ProvisionError('FILE_UNWRITABLE', `cannot create ${lock}: ${firstLine(err)}`);
  }
  writeFileSync(fd, `${process.pid}\n`);
  closeSync(fd);
  return () => rmLock(lock);
}

function rmLock(lock: string): void {
  try {
    unlinkSync(lock);
  } catch {
    /* already gone */
  }
}
