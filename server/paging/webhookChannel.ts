/**
 * Pages as a signed webhook (docs/paging.md, "Webhook"): a JSON POST per page and per person,
 * `X-Pumpwatch-Signature: sha256=<hex HMAC-SHA256 of the raw body with the shared secret>`, so a
 * pharmacy can bridge to SMS, Vocera or PagerDuty. 2xx is delivered; 4xx other than 408/429 is
 * permanent (the receiver refuses this message), anything else is retried.
 */
import { createHmac } from 'node:crypto';
import { ChannelError, type Contact, type PageChannel, type PageMessage } from './channel.ts';

export interface WebhookChannelOptions {
  url: string;
  secret: string;
  timeoutMs?: number;
}

/** the JSON body of one webhook call (the version is bumped on an incompatible change) */
export interface WebhookPayload {
  version: 1;
  kind: PageMessage['kind'];
  pageId: string;
  to: { username: string; email: string | null };
  title: string;
  body: string;
  acceptUrl: string | null;
  acceptedBy: string | null;
  alert: { id: string; pump: string; type: string; severity: string; message: string; raisedAt: string; status: string };
  patient: PageMessage['patient'];
}

export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function webhookPayload(contact: Contact, m: PageMessage): WebhookPayload {
  const a = m.alert;
  return {
    version: 1, kind: m.kind, pageId: m.pageId, to: { username: contact.username, email: contact.email },
    title: m.title, body: m.body, acceptUrl: m.acceptUrl, acceptedBy: m.acceptedBy ?? null,
    alert: { id: a.id, pump: a.pump, type: a.type, severity: a.severity, message: a.message, raisedAt: a.raisedAt, status: a.status },
    patient: m.patient,
  };
}

export function createWebhookChannel(o: WebhookChannelOptions): PageChannel {
  const timeoutMs = o.timeoutMs ?? 10_000;
  return {
    name: 'webhook',
    canReach: () => true,
    async send(contact: Contact, m: PageMessage): Promise<void> {
      const body = JSON.stringify(webhookPayload(contact, m));
      let res: Response;
      try {
        res = await fetch(o.url, {
          method: 'POST', body, signal: AbortSignal.timeout(timeoutMs),
          headers: { 'content-type': 'application/json', 'x-pumpwatch-signature': signature(body, o.secret), 'user-agent': 'pumpwatch-pager/1' },
        });
      } catch (err) {
        throw new ChannelError('WEBHOOK_UNREACHABLE', (err as Error).message.slice(0, 200));
      }
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return;
      const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      throw new ChannelError(permanent ? 'WEBHOOK_REFUSED' : 'WEBHOOK_FAILED', `HTTP ${res.status}`, permanent);
    },
  };
}
