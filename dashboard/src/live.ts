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
  /**
   * Resolves true when the server answers. A socket can look open for minutes after the network
   * died (no FIN arrives); while live this is asked every `probeMs`, and a failure counts as lost.
   */
  probe(): Promise<boolean>;
  /** ms; default 15000 */
  probeMs?: number;
  /** ms from opening the socket to its snapshot before the attempt counts as failed; default 10000 */
  connectTimeoutMs?: number;
  now?: () => number;
}

export class LiveConnection {
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private lostSinceMs: number | null = null;
  private stopped = true;
  private probeTimer: ReturnType<typeof setInterval> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
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
    this.probeTimer = setInterval(() => { void this.checkAlive(); }, this.opts.probeMs ?? 15_000);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
    this.clearConnectTimer();
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
    // a handshake or snapshot that never comes (half-dead network, stuck proxy) must not wait forever
    this.connectTimer = setTimeout(() => { this.connectTimer = null; if (!gotSnapshot) this.lost(ws); }, this.opts.connectTimeoutMs ?? 10_000);
    ws.onmessage = (ev: MessageEvent) => {
      const msg = typeof ev.data === 'string' ? parseServerMessage(ev.data) : null;
      if (!msg) {
        if (this.dropped++ === 0) console.warn('pumpwatch: dropped an invalid /ws message');
        return;
      }
      if (msg.type === 'snapshot' && !gotSnapshot) {
        // live again only once the screen has been resynchronised from the snapshot
        gotSnapshot = true;
        this.clearConnectTimer();
        this.attempt = 0;
        this.lostSinceMs = null;
        this.opts.onMessage(msg);
        this.opts.onStatus({ state: 'live' });
        return;
      }
      this.opts.onMessage(msg);
    };
    ws.onclose = () => this.lost(ws);
    ws.onerror = () => undefined; // onclose follows
  }

  /** The socket is gone (closed, or silently dead): say so at once and start reconnecting. */
  private lost(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.clearConnectTimer();
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
    this.lostSinceMs ??= this.now();
    void this.retry();
  }

  private clearConnectTimer(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private async checkAlive(): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const ok = await this.opts.probe().catch(() => false);
    if (!ok && this.ws === ws && !this.stopped) this.lost(ws);
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
