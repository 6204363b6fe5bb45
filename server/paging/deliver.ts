/**
 * One message to one person on every channel that can reach them, in parallel. A failing channel
 * is retried with backoff (firstRetryMs, doubling, `retries` times), unless its error is permanent;
 * the person is reached when any channel took it.
 */
import { ChannelError, type ChannelName, type Contact, type PageChannel, type PageMessage } from './channel.ts';

export interface ChannelOutcome {
  channel: ChannelName;
  ok: boolean;
  attempts: number;
  error: string | null;
}

export interface DeliverOptions {
  retries: number;
  firstRetryMs: number;
  /** waits between attempts (tests pass a fake) */
  sleep: (ms: number) => Promise<void>;
  /** each attempt's result as it happens: 'retrying' after a failure that will be retried */
  onAttempt?(channel: ChannelName, status: 'sending' | 'retrying' | 'sent' | 'failed', attempts: number, error: string | null): void;
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

async function onChannel(ch: PageChannel, contact: Contact, m: PageMessage, o: DeliverOptions): Promise<ChannelOutcome> {
  let error: string | null = null;
  for (let attempt = 1; ; attempt++) {
    o.onAttempt?.(ch.name, 'sending', attempt, null);
    try {
      await ch.send(contact, m);
      o.onAttempt?.(ch.name, 'sent', attempt, null);
      return { channel: ch.name, ok: true, attempts: attempt, error: null };
    } catch (err) {
      const e = err instanceof ChannelError ? err : new ChannelError('CHANNEL_FAILED', (err as Error).message ?? String(err));
      error = `${e.code}: ${e.message}`.slice(0, 300);
      if (e.permanent || attempt > o.retries) {
        o.onAttempt?.(ch.name, 'failed', attempt, error);
        return { channel: ch.name, ok: false, attempts: attempt, error };
      }
      o.onAttempt?.(ch.name, 'retrying', attempt, error);
      await o.sleep(o.firstRetryMs * 2 ** (attempt - 1));
    }
  }
}

/** the outcome per channel tried; empty when no channel can reach the person */
export async function deliver(channels: readonly PageChannel[], contact: Contact, m: PageMessage, o: DeliverOptions): Promise<ChannelOutcome[]> {
  const usable = channels.filter((c) => c.canReach(contact));
  return Promise.all(usable.map((c) => onChannel(c, contact, m, o)));
}

export const reached = (outcomes: readonly ChannelOutcome[]): boolean => outcomes.some((o) => o.ok);
