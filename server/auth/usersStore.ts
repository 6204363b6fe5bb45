/**
 * The server's live view of the users file: reloaded on fs.watch events and, as a fallback for
 * filesystems where watching is unreliable, on an mtime poll. A bad file keeps the last good one.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Role } from '../../protocol/api.ts';
import { readUsersFile, type UserRecord } from './usersFile.ts';

export interface UserChange {
  username: string;
  kind: 'added' | 'removed' | 'changed';
  role: Role | null;
}

/** The accounts the authenticator checks: the users file (below) or the users table (pgUsers.ts), held in memory. */
export interface UserDirectory {
  get(username: string): UserRecord | undefined;
  count(): number;
  /** false while the accounts could not be read yet (the database is down since start) */
  ready?(): boolean;
  /** resolves true once the accounts are read, false after `ms` without them */
  whenReady?(ms: number): Promise<boolean>;
}

export interface UsersStoreOptions {
  path: string;
  pollMs: number;
  /** every account added, removed or changed by a reload (not by the first load) */
  onChange: (changes: readonly UserChange[]) => void;
  /** a reload that failed; the message has no secrets */
  onError: (message: string) => void;
}

export class UsersStore implements UserDirectory {
  private users: Record<string, UserRecord> = {};
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private lastStamp = '';
  private lastError = '';

  constructor(private readonly opts: UsersStoreOptions) {}

  /** First load; throws with a one-line reason when the file exists but is bad. */
  start(): void {
    this.users = readUsersFile(this.opts.path).users;
    this.lastStamp = this.stamp();
    try {
      this.watcher = watch(dirname(this.opts.path), { persistent: false }, (_event, file) => {
        if (file === null || file === basename(this.opts.path)) this.reload();
      });
      this.watcher.on('error', () => this.closeWatcher());
    } catch {
      this.watcher = undefined; // the poll still sees changes
    }
    this.poll = setInterval(() => {
      if (this.stamp() !== this.lastStamp) this.reload();
    }, this.opts.pollMs);
    this.poll.unref();
  }

  stop(): void {
    this.closeWatcher();
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }

  get(username: string): UserRecord | undefined {
    return Object.hasOwn(this.users, username) ? this.users[username] : undefined;
  }

  count(): number {
    return Object.keys(this.users).length;
  }

  /** Re-reads the file now; public so tests and SIGHUP handlers can force it. */
  reload(): void {
    const stamp = this.stamp();
    let next: Record<string, UserRecord>;
    try {
      next = readUsersFile(this.opts.path).users;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.lastError) this.opts.onError(message);
      this.lastError = message;
      this.lastStamp = stamp;
      return;
    }
    this.lastError = '';
    this.lastStamp = stamp;
    const changes = diffUsers(this.users, next);
    this.users = next;
    if (changes.length > 0) this.opts.onChange(changes);
  }

  private stamp(): string {
    try {
      const s = statSync(this.opts.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  private closeWatcher(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

export function diffUsers(before: Record<string, UserRecord>, after: Record<string, UserRecord>): UserChange[] {
  const changes: UserChange[] = [];
  for (const [name, rec] of Object.entries(after)) {
    const old = before[name];
    if (!old) changes.push({ username: name, kind: 'added', role: rec.role });
    else if (old.role !== rec.role || old.password !== rec.password) changes.push({ username: name, kind: 'changed', role: rec.role });
  }
  for (const name of Object.keys(before)) {
    if (!Object.hasOwn(after, name)) changes.push({ username: name, kind: 'removed', role: null });
  }
  return changes;
}
