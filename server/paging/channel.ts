/**
 * A paging channel: one real protocol (e-mail over SMTP, Web Push, a signed webhook) that carries
 * a page to a person. The escalation chain (server/paging/) decides who is paged and when; a
 * channel only delivers, and says why when it cannot. Declared here, once, for every channel.
 */
import type { Alert } from '../../protocol/api.ts';

export type ChannelName = 'email' | 'push' | 'webhook';

/** one Web Push subscription of one of the person's devices (PushSubscription.toJSON() in the browser) */
export interface PushTarget {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** where a person can be reached */
export interface Contact {
  username: string;
  email: string | null;
  push: readonly PushTarget[];
}

/**
 * What a page says. `page` asks the person to accept; `accepted` tells the others someone owns it;
 * `resolved` tells those paged that the alert cleared before anyone accepted.
 */
export interface PageMessage {
  kind: 'page' | 'accepted' | 'resolved';
  /** stable id of this page (one person, one step of one chain) */
  pageId: string;
  alert: Alert;
  /** null when the pump is not assigned */
  patient: { mrn: string; name: string; phone: string | null } | null;
  /** one line, fit for a lock screen */
  title: string;
  /** a few lines: patient, pump, what happened, what to do */
  body: string;
  /** `<PUBLIC_URL>/page/<token>`; null for `accepted` and `resolved` */
  acceptUrl: string | null;
  /** for `accepted`: who accepted */
  acceptedBy?: string;
}

/** a failure with a stable code; `permanent` (push endpoint gone, address refused) is not retried */
export class ChannelError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly permanent = false,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

export interface PageChannel {
  readonly name: ChannelName;
  /** true when this channel has a way to reach the person (an address, a subscription, a webhook URL) */
  canReach(contact: Contact): boolean;
  /** resolves once the receiver took it (SMTP 250, push service 201, webhook 2xx); throws ChannelError */
  send(contact: Contact, message: PageMessage): Promise<void>;
}
