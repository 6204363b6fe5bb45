import { rmSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { problemKey, type HealthVerdict } from './health.ts';

/**
 * Renews the health file while the gateway is healthy; bin/pumpwatch-watchdog pings systemd only
 * while the file's modification time is recent. The file lives on tmpfs (/run) so a heartbeat
 * every few seconds never wears the box's flash.
 */
export class Heartbeat {
  private lastKey = '';
  private writeFailed = false;

  constructor(private readonly opts: { file: string; log: Logger; now: () => number }) {}

  /** Logs each change of verdict once; touches the file only when healthy. */
  beat(verdict: HealthVerdict): void {
    const key = problemKey(verdict);
    if (key !== this.lastKey) {
      if (verdict.healthy) this.opts.log.info({ event: 'healthy' }, 'healthy again: heartbeat resumes');
      else this.opts.log.error({ event: 'unhealthy', problems: verdict.problems }, 'unhealthy: heartbeat withheld, the watchdog will restart the gateway');
      this.lastKey = key;
    }
    if (!verdict.healthy) return;
    try {
      writeFileSync(this.opts.file, `${new Date(this.opts.now()).toISOString()}\n`);
      if (this.writeFailed) this.opts.log.info({ event: 'health_file_ok', file: this.opts.file }, 'health file writable again');
      this.writeFailed = false;
    } catch (err) {
      if (!this.writeFailed) this.opts.log.error({ event: 'health_file_failed', file: this.opts.file, err: (err as Error).message }, 'cannot write the health file');
      this.writeFailed = true;
    }
  }

  /** At shutdown: a stopping gateway is no longer vouched for. */
  remove(): void {
    try {
      rmSync(this.opts.file, { force: true });
    } catch {
      /* the wrapper stops pinging at shutdown anyway */
    }
  }
}
