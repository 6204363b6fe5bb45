/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291), through
 * the `web-push` package: one page to every subscribed device of the person. The service worker
 * (dashboard/sw/serviceWorker.ts) shows the payload as a notification with an Accept action.
 * A push service answering 404/410 says the subscription is gone for good: the channel reports it
 * (`onGone`, which removes it from push_subscriptions) and does not retry it; anything else is
 * retryable with a stable code (docs/push.md).
 */
import { createHash } from 'node:crypto';
import type { Agent } from 'node:https';
import webPush from 'web-push';
import type { PushPayload } from '../../protocol/push.ts';
import { ChannelError, type Contact, type PageChannel, type PageMessage, type PushTarget } from './channel.ts';

export type { PushPayload };

export interface PushChannelOptions {
  /** VAPID_PUBLIC_KEY, base64url */
  publicKey: string;
  /** VAPID_PRIVATE_KEY, base64url */
  privateKey: string;
  /** VAPID_SUBJECT: mailto: or https: */
  subject: string;
  /** a subscription the push service says no longer exists (404/410): remove it; must not throw */
  onGone?: (endpoint: string) => void | Promise<void>;
  /** how long a push service keeps an undelivered page (default 3600 s: after that the chain has moved on) */
  ttlS?: number;
  /** per request (default 10000 ms) */
  timeoutMs?: number;
  /** HTTPS agent for the push services (a proxy; tests: one that trusts the local push service) */
  agent?: Agent;
}

/** stable codes of a failed push; only PUSH_GONE is permanent */
export type PushErrorCode = 'PUSH_GONE' | 'PUSH_THROTTLED' | 'PUSH_SERVICE_ERROR' | 'PUSH_REJECTED' | 'PUSH_UNREACHABLE' | 'PUSH_NO_SUBSCRIPTION';

/** a lock screen shows little; a push service refuses more than ~4 kB */
const TITLE_MAX = 120;
const BODY_MAX = 1000;

export function pushPayload(message: PageMessage): PushPayload {
  return {
    kind: message.kind,
    title: message.title.slice(0, TITLE_MAX),
    body: message.body.slice(0, BODY_MAX),
    acceptUrl: message.acceptUrl,
    alertId: message.alert.id,
    pageId: message.pageId,
  };
}

/**
 * RFC 8030 Topic (≤ 32 base64url characters): a later message on the same alert (accepted,
 * resolved) replaces a page the push service still holds for an offline phone.
 */
export function pushTopic(alertId: string): string {
  return createHash('sha256').update(alertId).digest('base64url').slice(0, 32);
}

interface StatusError {
  statusCode?: unknown;
}

/** a web-push failure as a ChannelError with a stable code */
export function pushError(err: unknown): ChannelError {
  const status = typeof (err as StatusError | null)?.statusCode === 'number' ? (err as { statusCode: number }).statusCode : null;
  if (status === 404 || status === 410) return new ChannelError('PUSH_GONE', `push service: subscription gone (HTTP ${status})`, true);
  if (status === 429) return new ChannelError('PUSH_THROTTLED', 'push service: too many requests (HTTP 429)');
  if (status !== null && status >= 500) return new ChannelError('PUSH_SERVICE_ERROR', `push service error (HTTP ${status})`);
  if (status !== null) return new ChannelError('PUSH_REJECTED', `push service refused the message (HTTP ${status})`);
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return new ChannelError('PUSH_UNREACHABLE', `push service unreachable${typeof code === 'string' ? ` (${code})` : ''}`);
}

export function createPushChannel(o: PushChannelOptions): PageChannel {
  const vapidDetails = { subject: o.subject, publicKey: o.publicKey, privateKey: o.privateKey };
  const ttlS = o.ttlS ?? 3600;
  const timeoutMs = o.timeoutMs ?? 10_000;

  const sendOne = async (target: PushTarget, payload: string, message: PageMessage): Promise<void> => {
    try {
      await webPush.sendNotification({ endpoint: target.endpoint, keys: target.keys }, payload, {
        vapidDetails,
        TTL: ttlS,
        // a page wakes the phone at once; the follow-ups may wait for the next wake-up
        urgency: message.kind === 'page' ? 'high' : 'normal',
        topic: pushTopic(message.alert.id),
        timeout: timeoutMs,
        ...(o.agent ? { agent: o.agent } : {}),
      });
    } catch (err) {
      const failure = pushError(err);
      if (failure.code === 'PUSH_GONE') await Promise.resolve(o.onGone?.(target.endpoint)).catch(() => undefined);
      throw failure;
    }
  };

  return {
    name: 'push',
    canReach: (contact: Contact) => contact.push.length > 0,
    /** every device of the person; delivered when one push service took it */
    async send(contact: Contact, message: PageMessage): Promise<void> {
      if (contact.push.length === 0) throw new ChannelError('PUSH_NO_SUBSCRIPTION', 'no Web Push subscription for this person', true);
      const payload = JSON.stringify(pushPayload(message));
      const results = await Promise.allSettled(contact.push.map((t) => sendOne(t, payload, message)));
      if (results.some((r) => r.status === 'fulfilled')) return;
      const errors = results.map((r) => (r.status === 'rejected' ? (r.reason as ChannelError) : null)).filter((e): e is ChannelError => e !== null);
      // retry while any device may still take it; permanent only when every device is gone
      throw errors.find((e) => !e.permanent) ?? errors[0] ?? new ChannelError('PUSH_UNREACHABLE', 'push failed');
    },
  };
}
