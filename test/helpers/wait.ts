import { setTimeout as delay } from 'node:timers/promises';

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes (integration tests only). */
export async function waitFor<T>(probe: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition', stepMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await delay(stepMs);
  }
}
