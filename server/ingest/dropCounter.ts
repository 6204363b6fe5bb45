import type { Logger } from 'pino';

/** Counts dropped input by stable reason and logs the first of each reason only. */
export class DropCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly log: Pick<Logger, 'warn'>) {}

  drop(reason: string, detail: Record<string, unknown> = {}): void {
    const n = (this.counts.get(reason) ?? 0) + 1;
    this.counts.set(reason, n);
    if (n === 1) this.log.warn({ reason, ...detail }, 'message dropped (logged once per reason)');
  }

  count(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  get total(): number {
    let t = 0;
    for (const n of this.counts.values()) t += n;
    return t;
  }
}
