/** Reconnect delay: exponential, capped, with jitter so a restarted server is not hit all at once. */
export interface BackoffOptions {
  /** ms */
  baseMs: number;
  /** ms */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 500, capMs: 10_000 });

/** Delay before reconnect attempt `attempt` (0 = first retry); `random` in [0, 1). */
export function reconnectDelayMs(attempt: number, random: number, o: BackoffOptions = DEFAULT_BACKOFF): number {
  const exp = Math.min(o.capMs, o.baseMs * 2 ** Math.min(attempt, 20));
  // between 50% and 100% of the exponential step
  return Math.round(exp * (0.5 + 0.5 * Math.min(Math.max(random, 0), 1)));
}
