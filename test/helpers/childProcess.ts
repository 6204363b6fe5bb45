import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** resolves with the first output line matching `re` (already seen lines count) */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM to the whole process group; resolves with the exit code */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL to the whole process group, as a power cut would */
  kill9(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Starts a command in its own process group (so `npm run x` and the node process under it are
 * signalled together) and keeps its stdout/stderr lines.
 */
export function startProcess(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; echo?: boolean } = {}): RunningProcess {
  const child = spawn(command, args, {
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, ...opts.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onLine = (line: string): void => {
    if (lines.length < 200_000) lines.push(line);
    if (opts.echo || process.env.PUMPWATCH_TEST_ECHO) process.stderr.write(`[${command} ${args[1] ?? ''}] ${line}\n`);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w && w.re.test(line)) {
        waiters.splice(i, 1);
        w.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const groupAlive = (): boolean => {
    try {
      process.kill(-child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  /** npm may exit before the node process under it has finished shutting down: wait for the whole group */
  const groupGone = async (deadlineMs: number): Promise<boolean> => {
    while (groupAlive()) {
      if (Date.now() > deadlineMs) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  };
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  return {
    child, lines, exited,
    waitForLine(re, timeoutMs = 15_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => { clearTimeout(t); resolve(l); } });
      });
    },
    async stop(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      if (child.exitCode === null && child.signalCode === null) signalGroup('SIGTERM');
      const t = setTimeout(() => signalGroup('SIGKILL'), timeoutMs);
      const code = await exited;
      if (!(await groupGone(deadline))) {
        signalGroup('SIGKILL');
        await groupGone(Date.now() + 5000);
      }
      clearTimeout(t);
      return code;
    },
    async kill9() {
      signalGroup('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit').catch(() => undefined);
      await groupGone(Date.now() + 5000);
    },
  };
}

/** `npm run <script> -- args`, as a user would start it, from the repository root. */
export function startNpmScript(script: string, args: string[], opts: { env?: NodeJS.ProcessEnv; echo?: boolean } = {}): RunningProcess {
  return startProcess('npm', ['run', '--silent', script, '--', ...args], opts);
}
