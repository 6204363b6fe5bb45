/** The /ws connection: reconnects with capped backoff and reports when live updates were lost. */
import { parseServerMessage, type ServerMessage } from '../../protocol/api.ts';
import { reconnectDelayMs } from './backoff.ts';

export type LiveStatus =
  | { state: 'connecting'; sinceMs: number }
  | { state: 'live' }
  /** sinceMs: when the data on screen stopped being live */
  | { state: 'lost'; sinceMs: number; retryInMs: number };

export interface LiveOptions {
  url: string;
  onMessage(msg: ServerMessage): void;
  onStatus(status: LiveStatus): void;
  /** asked after failed connections; false = the session is gone (expired, server restarted) */
  stillAuthorised(): Promise<boolean>;
  /** the session is gone: retrying stopped, the page must ask to log in again */
  onUnauthorised(): void;
  now?: () => number;
}

export class LiveConnection {
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private lostSinceMs: number | null = null;
  private stopped = true;
  /** messages that failed validation, shown nowhere but counted for diagnosis */
  dropped = 0;
  private readonly now: () => number;

  constructor(private readonly opts: LiveOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.opts.onStatus({ state: 'connecting', sinceMs: this.now() });
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close();
    }
  }

  private connect(): void {
    const ws = new WebSocket(this.opts.url);
    this.ws = ws;
    let gotSnapshot = false;
    ws.onmessage = (ev: MessageEvent) => {
      const msg = typeof ev.data === 'string' ? parseServerMessage(ev.data) : null;
      if (!msg) {
        if (this.dropped++ === 0) console.warn('pumpwatch: dropped an invalid /ws message');
        return;
      }
      if (msg.type === 'snapshot' && !gotSnapshot) {
        // live again only once the screen has been resynchronised from the snapshot
        gotSnapshot = true;
        this.attempt = 0;
        this.lostSinceMs = null;
        this.opts.onMessage(msg);
        this.opts.onStatus({ state: 'live' });
        return;
      }
      this.opts.onMessage(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.lostSinceMs ??= this.now();
      void this.retry();
    };
    ws.onerror = () => undefined; // onclose follows
  }

  private async retry(): Promise<void> {
    if (this.stopped) return;
    const delay = reconnectDelayMs(this.attempt++, Math.random());
    this.opts.onStatus({ state: 'lost', sinceMs: this.lostSinceMs ?? this.now(), retryInMs: delay });
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.connect();
    }, delay);
    // a dead session never comes back by retrying: let the page show the login instead
    if (this.attempt >= 2 && !(await this.opts.stillAuthorised().catch(() => true)) && !this.stopped) {
      this.stop();
      this.opts.onUnauthorised();
    }
  }
}
