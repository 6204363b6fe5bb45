/**
 * Sends claimed pages: grouped per person (PageGroups), each message on every channel of the
 * person in parallel with retries (deliver.ts), every attempt recorded in page_deliveries, and
 * counted per channel for /metrics and health. Reports each page's outcome back to the chain.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { ChannelName, Contact, PageChannel, PageMessage } from './channel.ts';
import { deliver, reached, type ChannelOutcome } from './deliver.ts';
import { pageMessage, type DuePage } from './messages.ts';
import { PageGroups } from './pageGroups.ts';
import type { PagingStore } from './pagingStore.ts';

export const CHANNEL_NAMES: readonly ChannelName[] = ['email', 'push', 'webhook'];

export interface ClaimedPage extends DuePage {
  alertId: string;
  round: number;
  step: number;
  to: string;
}

export interface SenderOptions {
  store: PagingStore;
  channels: readonly PageChannel[];
  clock: Clock;
  log: Logger;
  groupMs: number;
  retries: number;
  firstRetryMs: number;
  sleep: (ms: number) => Promise<void>;
  /** is this page still worth sending (its chain still waits on this step)? */
  stillDue(p: ClaimedPage): boolean;
  /** the outcome of each page, for the chain */
  onOutcome(p: ClaimedPage, ok: boolean, outcomes: readonly ChannelOutcome[]): void;
}

export interface ChannelHealth {
  sent: number;
  failed: number;
  retrying: number;
  lastError: string | null;
  /** the last attempt on this channel failed */
  failing: boolean;
}

export class PageSender {
  private readonly groups: PageGroups<ClaimedPage>;
  readonly stats = new Map<ChannelName, ChannelHealth>(CHANNEL_NAMES.map((c) => [c, { sent: 0, failed: 0, retrying: 0, lastError: null, failing: false }]));
  private inFlight = new Set<Promise<void>>();

  constructor(private readonly o: SenderOptions) {
    this.groups = new PageGroups(o.groupMs);
  }

  offer(p: ClaimedPage): void {
    const now = this.o.clock.now();
    const items = this.groups.offer(p.to, p, now);
    if (items) this.track(this.send(p.to, items));
  }

  /** sends the groups whose window is over; call on every tick */
  tick(): void {
    for (const g of this.groups.due(this.o.clock.now())) this.track(this.send(g.person, g.items));
  }

  /** a message that is not a page (accepted, resolved): not grouped, not recorded per page */
  notify(person: string, message: PageMessage): void {
    this.track((async () => {
      const contact = await this.contactOf(person);
      const out = await deliver(this.o.channels, contact, message, { retries: this.o.retries, firstRetryMs: this.o.firstRetryMs, sleep: this.o.sleep });
      this.count(out);
    })().catch((err: Error) => this.o.log.warn({ err: err.message, kind: message.kind }, 'paging notice not sent')));
  }

  get held(): number {
    return this.groups.held;
  }

  retrying(): number {
    let n = 0;
    for (const s of this.stats.values()) n += s.retrying;
    return n;
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async contactOf(person: string): Promise<Contact> {
    return (await this.o.store.contact(person)) ?? { username: person, email: null, push: [] };
  }

  private async send(person: string, all: ClaimedPage[]): Promise<void> {
    const items = all.filter((p) => this.o.stillDue(p));
    for (const p of all) {
      if (!items.includes(p)) {
        this.o.store.markPage(p.pageId, 'expired', this.o.clock.now())
          .catch((err: Error) => this.o.log.warn({ err: err.message }, 'page not marked expired'));
      }
    }
    if (items.length === 0) return;
    try {
      const contact = await this.contactOf(person);
      const message = pageMessage(items);
      const store = this.o.store;
      // written in the order they happened (one after the other), all done before the page's outcome
      let writes = Promise.resolve();
      const record = (channel: ChannelName, status: 'sending' | 'retrying' | 'sent' | 'failed', attempts: number, error: string | null): void => {
        const s = this.stats.get(channel)!;
        // one delivery waiting for a retry from its first failure until its last attempt
        if (status === 'retrying' && attempts === 1) s.retrying++;
        if ((status === 'sent' || status === 'failed') && attempts > 1) s.retrying = Math.max(0, s.retrying - 1);
        for (const p of items) {
          writes = writes.then(() => store.recordDelivery(p.pageId, channel, status, attempts, error))
            .catch((err: Error) => this.o.log.warn({ err: err.message }, 'page delivery not recorded'));
        }
      };
      const outcomes = await deliver(this.o.channels, contact, message, {
        retries: this.o.retries, firstRetryMs: this.o.firstRetryMs, sleep: this.o.sleep, onAttempt: record,
      });
      await writes;
      this.count(outcomes);
      const ok = reached(outcomes);
      const now = this.o.clock.now();
      for (const p of items) {
        await store.markPage(p.pageId, ok ? 'sent' : 'failed', now);
        this.o.onOutcome(p, ok, outcomes);
      }
    } catch (err) {
      // the database went away mid-send: the chain's next step still comes when its time is up
      this.o.log.error({ err: (err as Error).message, pages: items.length }, 'pages not sent');
      for (const p of items) this.o.onOutcome(p, false, []);
    }
  }

  private count(outcomes: readonly ChannelOutcome[]): void {
    for (const o of outcomes) {
      const s = this.stats.get(o.channel)!;
      if (o.ok) {
        s.sent++;
        s.failing = false;
      } else {
        s.failed++;
        s.failing = true;
        s.lastError = o.error;
      }
    }
  }
}
