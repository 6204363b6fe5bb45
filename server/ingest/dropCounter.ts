import type { Logger } from 'pino';

/** Counts dropped input by stable reason and logs the first of each reason only. */
export class DropCounter<R extends string> {
  private readonly counts = new Map<R, number>();

  /** `reasons`: every reason this counter can be given, for metrics that show each from the start */
  constructor(private readonly log: Pick<Logger, 'warn'>, readonly reasons: readonly R[]) {}

  drop(reason: R, detail: Record<string, unknown> = {}): void {
    const n = (this.counts.get(reason) ?? 0) + 1;
    this.counts.set(reason, n);
    if (n === 1) this.log.warn({ reason, ...detail }, 'message dropped (logged once per reason)');
  }

  count(reason: R): number {
    return this.counts.get(reason) ?? 0;
  }

  /** the reasons seen so far and their counts */
  snapshot(): Partial<Record<R, number>> {
    return Object.fromEntries(this.counts) as Partial<Record<R, number>>;
  }

  get total(): number {
    let t = 0;
    for (const n of this.counts.values()) t += n;
    return t;
  }
}
