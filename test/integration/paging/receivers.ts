/**
 * The receivers pages go to, started by the test: a real SMTP server (smtp-server) whose messages
 * are parsed with mailparser, and a node:http webhook receiver that checks the HMAC signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  pageId: string;
  kind: string;
  at: number;
}

export class SmtpReceiver {
  readonly mails: Mail[] = [];
  /** called with each message as it is taken (benches time it) */
  onMail: ((m: Mail) => void) | null = null;
  private server: SMTPServer | null = null;

  constructor(readonly port: number) {}

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onData: (stream, _session, callback) => {
        simpleParser(stream).then((m) => {
          const header = (k: string): string => {
            const v = m.headers.get(k);
            return typeof v === 'string' ? v : '';
          };
          const to = Array.isArray(m.to) ? m.to.map((a) => a.text).join(',') : m.to?.text ?? '';
          const mail: Mail = {
            to, subject: m.subject ?? '', text: m.text ?? '', at: Date.now(),
            pageId: header('x-pumpwatch-page'), kind: header('x-pumpwatch-kind'),
          };
          this.mails.push(mail);
          this.onMail?.(mail);
          callback();
        }, (err: Error) => callback(err));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  to(address: string, kind = 'page'): Mail[] {
    return this.mails.filter((m) => m.to.includes(address) && m.kind === kind);
  }
}

export interface Hook {
  body: Record<string, unknown> & { kind: string; to: { username: string }; alert: { id: string }; acceptUrl: string | null; pageId: string };
  signatureOk: boolean;
}

export class WebhookReceiver {
  readonly hooks: Hook[] = [];
  private server: Server | null = null;
  port = 0;

  constructor(private readonly secret: string) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const expected = Buffer.from(`sha256=${createHmac('sha256', this.secret).update(raw).digest('hex')}`);
        const given = Buffer.from(String(req.headers['x-pumpwatch-signature'] ?? ''));
        const signatureOk = given.length === expected.length && timingSafeEqual(given, expected);
        this.hooks.push({ body: JSON.parse(raw.toString('utf8')) as Hook['body'], signatureOk });
        res.writeHead(signatureOk ? 204 : 401).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/pumpwatch`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
