/**
 * Pages by e-mail over SMTP (nodemailer). Resolves when the server accepted the message (250);
 * a refused recipient (5xx) is permanent, a connection failure or 4xx is retried.
 */
import nodemailer from 'nodemailer';
import { ChannelError, type Contact, type PageChannel, type PageMessage } from './channel.ts';

export interface EmailChannelOptions {
  /** smtp://host:port or smtps://user:pass@host:port */
  smtpUrl: string;
  from: string;
  /** per attempt, ms */
  timeoutMs?: number;
}

export function createEmailChannel(o: EmailChannelOptions): PageChannel & { close(): void } {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({
    url: o.smtpUrl, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
    // a local relay without a certificate (tests, a hospital's internal relay) is still reached
    tls: { rejectUnauthorized: false },
  });
  return {
    name: 'email',
    canReach: (c: Contact) => c.email !== null && c.email !== '',
    async send(contact: Contact, m: PageMessage): Promise<void> {
      // a grouped page lists each alert with its own link already
      const text = m.acceptUrl && !m.body.includes(m.acceptUrl) ? `${m.body}\n\nAccept or decline: ${m.acceptUrl}\n` : `${m.body}\n`;
      try {
        await transport.sendMail({
          from: o.from, to: contact.email ?? '', subject: m.title, text,
          headers: { 'X-Pumpwatch-Page': m.pageId, 'X-Pumpwatch-Kind': m.kind },
        });
      } catch (err) {
        const e = err as Error & { responseCode?: number; code?: string };
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
        throw new ChannelError(permanent ? 'SMTP_REFUSED' : 'SMTP_FAILED', `${e.code ?? ''} ${e.message}`.trim().slice(0, 200), permanent);
      }
    },
    close: () => transport.close(),
  };
}
