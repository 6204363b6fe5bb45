import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  /** resolves with the first output line matching `re`; rejects after `timeoutMs` or if the child exits */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string>;
}

/**
 * The demo's child processes, each in its own process group (so `npm run x` and the node process
 * under it are signalled together), output kept in a log file. stopAll() ends them in reverse start
 * order, each until its whole group is gone (npm exits at once on SIGTERM while the server under it
 * is still flushing); whatever is still alive when this process exits is killed.
 */
export class Children {
  private readonly children: Child[] = [];

  constructor(private readonly logDir: string) {
    process.on('exit', () => {
      for (const c of this.children) if (groupAlive(c.proc)) signalGroup(c.proc, 'SIGKILL');
    });
  }

  start(name: string, command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Child {
    const proc = spawn(command, args, {
      env: { ...process.env, ...opts.env }, detached: true, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) proc.stdin?.end(opts.input);
    const logFile = `${this.logDir}/${name}.log`;
    const log = createWriteStream(logFile, { flags: 'a' });
    const lines: string[] = [];
    const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
    log.on('error', () => undefined);
    const onLine = (line: string): void => {
      if (!log.writableEnded) log.write(`${line}\n`);
      if (lines.length < 1000) lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i];
        if (w?.re.test(line)) { waiters.splice(i, 1); w.resolve(line); }
      }
    };
    // the log ends when both output streams have closed (they may outlive the process a little)
    const streams = [proc.stdout, proc.stderr].filter((x) => x !== null);
    let open = streams.length;
    for (const input of streams) {
      createInterface({ input }).on('line', onLine).on('close', () => { if (--open === 0) log.end(); });
    }
    const exited = new Promise<number | null>((resolve) => {
      proc.once('exit', (code) => resolve(code));
      proc.once('error', () => resolve(-1));
    });
    const child: Child = {
      name, proc, exited,
      waitForLine(re, timeoutMs) {
        const seen = lines.find((l) => re.test(l));
        if (seen) return Promise.resolve(seen);
        return new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`${name}: no line matching ${re} within ${timeoutMs} ms (see ${logFile})`)), timeoutMs);
          void exited.then((code) => { clearTimeout(t); reject(new Error(`${name} exited with ${code} (see ${logFile})`)); });
          waiters.push({ re, resolve: (l) => { clearTimeout(t); resolve(l); } });
        });
      },
    };
    this.children.push(child);
    return child;
  }

  /** SIGTERM to each group, newest first; SIGKILL after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    for (const c of [...this.children].reverse()) await stopChild(c, graceMs);
  }
}

function signalGroup(proc: ChildProcess, sig: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, sig);
  } catch {
    /* already gone */
  }
}

/** true while any process of the child's group is there (the leader, or what it started) */
function groupAlive(proc: ChildProcess): boolean {
  if (proc.pid === undefined) return false;
  try {
    process.kill(-proc.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the child's group; SIGKILL after `graceMs`; returns when the group is gone. */
export async function stopChild(c: Child, graceMs: number): Promise<void> {
  if (!groupAlive(c.proc)) return;
  signalGroup(c.proc, 'SIGTERM');
  const killAt = Date.now() + graceMs;
  let killed = false;
  // bounded: a member left a zombie by a parent that does not reap would keep the group "alive"
  while (groupAlive(c.proc) && Date.now() < killAt + 5_000) {
    if (!killed && Date.now() >= killAt) {
      signalGroup(c.proc, 'SIGKILL');
      killed = true;
    }
    await delay(50);
  }
  await c.exited;
}
