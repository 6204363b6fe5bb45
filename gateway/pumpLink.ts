import { SerialPort } from 'serialport';
import type { Logger } from 'pino';
import type { LinkHealthView } from './health.ts';
import { LineFramer } from './lineFramer.ts';

export type LinkState = 'opening' | 'up' | 'down';

export interface PumpLinkOptions {
  path: string;
  baud: number;
  /** seconds with the port open but nothing arriving before onSilence; twice that → reopen */
  silenceS: number;
  log: Logger;
  now?: () => number;
  onLine: (line: string, path: string) => void;
  onTooLong: (path: string) => void;
  /** the port (re)opened: ask the pumps on it for what we missed */
  onOpen: (path: string) => void;
  /** the port is open but silent */
  onSilence: (path: string) => void;
}

export interface LinkStatus {
  state: LinkState;
  opens: number;
  errors: number;
  lastError: string | null;
  /** seconds since the last byte, null before any */
  silentS: number | null;
}

const BACKOFF_MIN_MS = 250;
/** longest wait before a failed port is opened again, ms */
export const BACKOFF_MAX_MS = 3000;

/**
 * One serial port, kept open forever: 115200 8N1, lines out. A vanished device node or a read
 * error closes it and it is reopened with a backoff capped at 3 s; a silent link is nudged
 * (onSilence) and then reopened.
 */
export class PumpLink {
  private port: SerialPort | null = null;
  private readonly framer: LineFramer;
  private state: LinkState = 'down';
  /** ms: when `state` was entered */
  private stateSinceMs: number;
  private stopped = true;
  private backoffMs = BACKOFF_MIN_MS;
  private reopenTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  private lastDataMs = 0;
  private nudged = false;
  private opens = 0;
  private errors = 0;
  private lastError: string | null = null;
  private lastOpenError: string | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: PumpLinkOptions) {
    this.now = opts.now ?? Date.now;
    this.stateSinceMs = this.now();
    this.framer = new LineFramer((line) => opts.onLine(line, opts.path), () => opts.onTooLong(opts.path));
  }

  get path(): string {
    return this.opts.path;
  }

  status(): LinkStatus {
    return {
      state: this.state, opens: this.opens, errors: this.errors, lastError: this.lastError,
      silentS: this.lastDataMs ? Math.round((this.now() - this.lastDataMs) / 1000) : null,
    };
  }

  /** What the watchdog's health check needs: how long the link has been in its state. */
  healthView(): LinkHealthView {
    return { path: this.opts.path, state: this.state, stateSinceMs: this.stateSinceMs, lastDataMs: this.lastDataMs, silenceS: this.opts.silenceS };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const checkMs = Math.min(1000, Math.max(50, (this.opts.silenceS * 1000) / 4));
    this.silenceTimer = setInterval(() => this.checkSilence(), checkMs);
    this.open();
  }

  /** Sends one line to the pump (CR LF added); dropped silently when the link is down. */
  write(line: string): void {
    const port = this.port;
    if (this.state === 'up' && port?.isOpen) port.write(`${line}\r\n`);
  }

  /** Stops reading at once (pending bytes are discarded) and closes the port. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    if (this.silenceTimer) clearInterval(this.silenceTimer);
    this.reopenTimer = this.silenceTimer = null;
    const port = this.port;
    this.detach();
    this.framer.stop();
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.setState('down');
  }

  private open(): void {
    if (this.stopped) return;
    this.setState('opening');
    const port = new SerialPort({
      path: this.opts.path, baudRate: this.opts.baud, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false,
      highWaterMark: 16 * 1024, // read pool; the 64 kB default only adds memory at 115200 baud
    });
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      this.lastDataMs = this.now();
      this.nudged = false;
      this.framer.write(chunk);
    });
    port.on('error', (err: Error) => this.fail(port, err));
    port.on('close', () => this.fail(port, new Error('port closed')));
    port.open((err) => {
      if (err) return this.fail(port, err);
      if (this.port !== port || this.stopped) return;
      this.setState('up');
      this.opens++;
      this.backoffMs = BACKOFF_MIN_MS;
      this.lastDataMs = this.now();
      this.nudged = false;
      this.opts.log.info({ event: 'link_up', port: this.opts.path }, 'serial link up');
      this.opts.onOpen(this.opts.path);
    });
  }

  private fail(port: SerialPort, err: Error): void {
    if (this.port !== port || this.stopped) return;
    const wasUp = this.state === 'up';
    this.errors++;
    this.lastError = err.message;
    this.detach();
    if (port.isOpen) port.close(() => undefined);
    this.framer.reset();
    this.setState('down');
    if (wasUp) {
      this.opts.log.warn({ event: 'link_down', port: this.opts.path, reason: err.message }, 'serial link down');
    } else if (err.message !== this.lastOpenError) {
      // a port that cannot be opened is retried forever; say so once per distinct reason
      this.opts.log.warn({ event: 'link_open_failed', port: this.opts.path, reason: err.message }, 'serial port cannot be opened; retrying');
    }
    this.lastOpenError = wasUp ? null : err.message;
    this.scheduleReopen();
  }

  private setState(state: LinkState): void {
    this.state = state;
    this.stateSinceMs = this.now();
  }

  private detach(): void {
    const port = this.port;
    this.port = null;
    if (!port) return;
    port.removeAllListeners('data');
    port.removeAllListeners('close');
    port.removeAllListeners('error');
    port.on('error', () => undefined); // a late error from a port we gave up must not crash us
  }

  private scheduleReopen(): void {
    if (this.stopped || this.reopenTimer) return;
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      this.open();
    }, delayMs);
  }

  private checkSilence(): void {
    if (this.state !== 'up') return;
    const silentMs = this.now() - this.lastDataMs;
    const limitMs = this.opts.silenceS * 1000;
    if (silentMs >= 2 * limitMs) {
      const port = this.port;
      this.opts.log.warn({ event: 'link_silent_reopen', port: this.opts.path, silentS: Math.round(silentMs / 1000) }, 'silent link: reopening');
      if (port) this.fail(port, new Error('silent'));
    } else if (silentMs >= limitMs && !this.nudged) {
      this.nudged = true;
      this.opts.log.info({ event: 'link_silent', port: this.opts.path, silentS: Math.round(silentMs / 1000) }, 'silent link: asking for history');
      this.opts.onSilence(this.opts.path);
    }
  }
}
