/**
 * HEARTBEAT_URL: a healthchecks-style call every HEARTBEAT_S while this instance is healthy, so a
 * monitor outside pumpwatch (healthchecks.io, Uptime Kuma push, a cron-job checker) pages a human
 * when no instance calls any more (docs/scaling.md, "Somebody knows when nothing is alive").
 * Healthy = /api/health says ok (broker and InfluxDB up) and, in lease mode, the lease table
 * answered in the last round. An unhealthy instance stays silent: silence is the alarm.
 */
import type { Logger } from 'pino';
import type { HealthView } from '../http/backend.ts';

export interface HeartbeatOptions {
  url: string;
  method: 'GET' | 'POST';
  periodMs: number;
  instanceId: string;
  health(): Promise<HealthView>;
  /** lease mode: false while the lease table does not answer */
  leasesReachable?(): boolean;
  log: Pick<Logger, 'info' | 'warn'>;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export class Heartbeat {
  sent = 0;
  skipped = 0;
  failed = 0;
  private timer: NodeJS.Timeout | null = null;
  private failing = false;

  constructor(private readonly o: HeartbeatOptions) {}

  /** one beat: true when the monitor was called and answered 2xx */
  async beat(): Promise<boolean> {
    const h = await this.o.health().catch(() => null);
    const reachable = this.o.leasesReachable?.() ?? true;
    if (!h || h.status !== 'ok' || !reachable) {
      this.skipped++;
      return false;
    }
    const f = this.o.fetch ?? fetch;
    const owned = (h.cluster as { owned?: number } | undefined)?.owned;
    try {
      const res = await f(this.o.url, {
        method: this.o.method,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        ...(this.o.method === 'POST'
          ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instance: this.o.instanceId, status: h.status, ...(owned !== undefined ? { owned } : {}) }) }
          : {}),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.sent++;
      if (this.failing) this.o.log.info({}, 'heartbeat monitor answers again');
      this.failing = false;
      return true;
    } catch (err) {
      this.failed++;
      if (!this.failing) this.o.log.warn({ err: (err as Error).message }, 'heartbeat monitor call failed');
      this.failing = true;
      return false;
    }
  }

  start(): void {
    if (this.timer) return;
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.o.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
