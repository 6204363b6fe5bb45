import { SerialPort } from 'serialport';
import { decodeHistRequest } from '../protocol/encode.ts';
import { decodeSentence } from '../protocol/decode.ts';
import { PumpHistory } from './pumpHistory.ts';

/** bytes written between two tcdrain waits, well under a pty's buffer */
const DRAIN_EVERY_BYTES = 2048;

export interface SerialPumpPortOptions {
  /** the pump's end of the virtual cable (PtyPair.pumpPath) */
  path: string;
  historySize?: number;
  /** line end the pump sends; CR LF per the spec */
  lineEnd?: string;
}

/**
 * The pump's side of a serial link: writes sentences, keeps the last ones, and answers
 * `?HIST,<from>` by replaying them byte-identical. Bytes written while the link is "down"
 * (`send(line, { lost: true })`) are kept in history but never reach the wire.
 */
export class SerialPumpPort {
  readonly history: PumpHistory;
  private port: SerialPort | null = null;
  private pending = '';
  private readonly lineEnd: string;
  private undrainedBytes = 0;
  private writeChain: Promise<void> = Promise.resolve();
  /** ?HIST requests answered, for tests */
  histRequests: number[] = [];

  constructor(private readonly opts: SerialPumpPortOptions) {
    this.history = new PumpHistory(opts.historySize ?? 1000);
    this.lineEnd = opts.lineEnd ?? '\r\n';
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  async open(): Promise<void> {
    if (this.port) return;
    const port = new SerialPort({ path: this.opts.path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', () => undefined); // the gateway end vanishing is normal life for a pump
    port.on('close', () => { if (this.port === port) this.port = null; });
    this.port = port;
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** Sends a sentence (no line end). Valid sentences go into the history either way. */
  async send(line: string, opts: { lost?: boolean } = {}): Promise<void> {
    const decoded = decodeSentence(line);
    if (decoded.ok) this.history.push(line, decoded.sentence.seq);
    if (!opts.lost) await this.writeRaw(line + this.lineEnd);
  }

  /** Arbitrary bytes on the wire (noise, truncated lines); not kept in history. */
  writeRaw(data: string | Buffer): Promise<void> {
    // one writer at a time (scenario and ?HIST replays interleave by whole lines), so the
    // pacing below bounds what the pty holds
    const next = this.writeChain.then(() => this.writeNow(data));
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  private async writeNow(data: string | Buffer): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return;
    this.undrainedBytes += data.length;
    if (!port.write(data)) await new Promise<void>((resolve) => port.once('drain', () => resolve()));
    // Never let the pty fill up: a write that meets a full pty waits on the bindings' poller,
    // and a ?HIST read arriving meanwhile leaves that wait hanging for good. Pacing with tcdrain
    // every few kB keeps writes from ever blocking.
    if (this.undrainedBytes >= DRAIN_EVERY_BYTES) {
      this.undrainedBytes = 0;
      await this.drain();
    }
  }

  /** Waits until everything written so far has left the process. */
  async drain(): Promise<void> {
    const port = this.port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.drain(() => resolve()));
  }

  private onData(chunk: Buffer): void {
    this.pending += chunk.toString('latin1');
    if (this.pending.length > 4096) this.pending = this.pending.slice(-256); // the pump ignores other input
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl).replace(/\r$/, '');
      this.pending = this.pending.slice(nl + 1);
      const from = decodeHistRequest(line);
      if (from !== null) {
        this.histRequests.push(from);
        void this.replay(from);
      }
    }
  }

  private async replay(from: number): Promise<void> {
    for (const line of this.history.since(from)) await this.writeRaw(line + this.lineEnd);
  }
}
