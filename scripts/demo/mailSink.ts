/**
 * The demo's mailbox: a local SMTP server (smtp-server) on 127.0.0.1 that takes every page the
 * server e-mails, keeps each as it came (`<folder>/<no>-<kind>-<recipient>.eml`, to open in any
 * mail program) and tells the console in one or two lines: to whom, the alert, the accept link.
 * A demo tool, not a product part: it accepts anything from anyone and relays nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SunkMail {
  /** the recipients' addresses */
  to: string;
  subject: string;
  /** `page`, `accepted`, `resolved` (X-Pumpwatch-Kind) */
  kind: string;
  /** every `/page/<token>` link in the text, in order */
  links: string[];
  file: string;
}

export interface MailSink {
  /** smtp://127.0.0.1:<port> */
  url: string;
  readonly mails: readonly SunkMail[];
  close(): Promise<void>;
}

const LINK_RE = /https?:\/\/\S+\/page\/[A-Za-z0-9_-]+/g;

/** What the console says of one message: one line, a second with the accept link (and how many more). */
export function describeMail(m: Pick<SunkMail, 'to' | 'subject' | 'kind' | 'links'>): string {
  const head = `  mail → ${m.to}  [${m.kind || 'mail'}] ${m.subject}`;
  if (m.links.length === 0) return head;
  const more = m.links.length > 1 ? ` (+${m.links.length - 1} more in the message)` : '';
  return `${head}\n         accept: ${m.links[0] ?? ''}${more}`;
}

export async function startMailSink(opts: { folder: string; onMail?: (m: SunkMail) => void }): Promise<MailSink> {
  mkdirSync(opts.folder, { recursive: true });
  const mails: SunkMail[] = [];
  const server = new SMTPServer({
    // plain SMTP on the loopback: no STARTTLS to negotiate, no login to give
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false, banner: 'pumpwatch demo mailbox',
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err: Error) => callback(err));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then((p) => {
          const header = (k: string): string => {
            const v = p.headers.get(k);
            return typeof v === 'string' ? v : '';
          };
          const to = (Array.isArray(p.to) ? p.to : p.to ? [p.to] : []).flatMap((a) => a.value.map((v) => v.address ?? '')).join(', ');
          const kind = header('x-pumpwatch-kind');
          const file = join(opts.folder, `${String(mails.length + 1).padStart(4, '0')}-${kind || 'mail'}-${to.replace(/[^A-Za-z0-9@._-]/g, '_').slice(0, 80)}.eml`);
          writeFileSync(file, raw);
          const mail: SunkMail = { to, subject: p.subject ?? '', kind, links: (p.text ?? '').match(LINK_RE) ?? [], file };
          mails.push(mail);
          opts.onMail?.(mail);
          callback();
        }, (err: Error) => callback(err));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
