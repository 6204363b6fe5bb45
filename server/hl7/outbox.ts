/**
 * One receiver's outbound HL7 feed: a durable queue (durable/, fsynced) of whole messages, sent
 * over one MLLP connection in order, one at a time, each removed only when the receiver answers
 * AA for its control id. Policy for other answers (docs/hl7.md, "Delivery"):
 * - AE (application error): resent after a backoff, up to `aeRetries` times, then parked;
 * - AR (rejected: the content will not be accepted as it is): parked at once;
 * - a malformed ACK, or one for another control id: the connection is dropped and the message
 *   resent after a backoff; counted with AE towards parking;
 * - no ACK within `ackTimeoutMs`, or the connection lost: reconnect with backoff and resend
 *   (never parked: a receiver that is down gets everything when it returns).
 * Parked messages go to `<dir>/dead-letter/` with the reason, one file each, and are counted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DurableQueue } from '../../durable/index.ts';
import { readAck } from './ack.ts';
import { MllpReader, writeFrame } from './mllp.ts';

export interface Receiver {
  host: string;
  port: number;
}

export const receiverName = (r: Receiver): string => `${r.host}:${r.port}`;

export interface OutboxOptions {
  receiver: Receiver;
  /** the queue's folder (one per receiver) */
  dir: string;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** AE answers before a message is parked (default 5) */
  aeRetries?: number;
  /** first and longest wait between attempts, ms */
  retryMinMs?: number;
  retryMaxMs?: number;
  ackTimeoutMs?: number;
  maxBytes?: number;
}

export interface OutboxHealth {
  receiver: string;
  backlog: number;
  connected: boolean;
  lastError: string | null;
  sent: number;
  errors: number;
  parked: number;
}

const controlIdOf = (msg: string): string => /^MSH\|[^|]*(?:\|[^|]*){7}\|([^|\r]*)/.exec(msg)?.[1] ?? '';

export class Outbox {
  private readonly queue: DurableQueue;
  private socket: Socket | null = null;
  private reader = new MllpReader();
  private running = false;
  private busy = false;
  private timer: NodeJS.Timeout | null = null;
  private ackTimer: NodeJS.Timeout | null = null;
  private waiting: { no: number; controlId: string; text: string } | null = null;
  private failures = 0;
  /** AE answers (and malformed ACKs) for the message at the head */
  private headErrors = 0;
  private idle: (() => void) | null = null;
  /** the connection is being closed by us (malformed ACK, timeout) */
  private dropping = false;
  connected = false;
  lastError: string | null = null;
  sent = 0;
  errors = 0;
  parked = 0;

  constructor(private readonly o: OutboxOptions) {
    this.queue = new DurableQueue({ dir: o.dir, maxBytes: o.maxBytes ?? 256 * 1024 * 1024, cursorPersistMs: 200 });
  }

  get name(): string {
    return receiverName(this.o.receiver);
  }

  get backlog(): number {
    return this.queue.depth;
  }

  health(): OutboxHealth {
    return {
      receiver: this.name, backlog: this.backlog, connected: this.connected, lastError: this.lastError,
      sent: this.sent, errors: this.errors, parked: this.parked,
    };
  }

  start(): void {
    this.queue.start();
    this.running = true;
    this.kick();
  }

  /**
   * Written before it returns (survives kill -9), fsynced soon after (one fsync for every message
   * queued meanwhile); throws DurableQueueError (QUEUE_FULL, DISK_FULL, IO_ERROR, NOT_OPEN).
   */
  enqueue(message: string): void {
    try {
      this.queue.append(message);
    } catch (err) {
      this.noteError(`not queued: ${(err as Error).message}`);
      throw err;
    }
    this.queue.flush().catch((err: unknown) => this.noteError(`queue fsync: ${(err as Error).message}`));
    this.kick();
  }

  /** waits up to `waitMs` for the backlog to be delivered, then closes; what is left stays on disk */
  async stop(waitMs = 2000): Promise<void> {
    if (this.backlog > 0 && this.connected && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, waitMs);
        this.idle = () => { clearTimeout(t); resolve(); };
      });
    }
    this.running = false;
    this.idle = null;
    if (this.timer) clearTimeout(this.timer);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.timer = null;
    this.ackTimer = null;
    this.socket?.destroy();
    this.socket = null;
    this.connected = false;
    await this.queue.stop();
  }

  /** sends the head of the queue when nothing is in flight */
  private kick(): void {
    if (!this.running || this.busy || this.timer) return;
    const head = this.queue.read(this.queue.ackedUpTo + 1, 1)[0];
    if (!head) {
      this.idle?.();
      return;
    }
    if (!this.socket) {
      this.open();
      return;
    }
    if (!this.connected) return;
    const text = head.data.toString('utf-8');
    this.busy = true;
    this.waiting = { no: head.no, controlId: controlIdOf(text), text };
    writeFrame(this.socket, text);
    this.ackTimer = setTimeout(() => this.dropConnection('no ACK in time'), this.o.ackTimeoutMs ?? 10_000);
  }

  private open(): void {
    const { host, port } = this.o.receiver;
    const socket = connect({ host, port });
    this.socket = socket;
    this.reader = new MllpReader();
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.connected = true;
      this.failures = 0;
      this.o.log.info({ receiver: this.name }, 'HL7 receiver connected');
      this.kick();
    });
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.reader.push(chunk)) this.answer(frame);
    });
    socket.on('error', (err) => this.noteError(`connection: ${err.message}`));
    socket.on('close', (hadError) => {
      if (this.socket !== socket) return;
      // a close we did not ask for, without a socket error already noted: the receiver hung up
      if (this.running && !hadError && !this.dropping && this.connected) this.noteError('connection closed by the receiver');
      this.dropping = false;
      this.socket = null;
      this.connected = false;
      this.inFlightLost();
      this.retryLater();
    });
  }

  private answer(frame: string): void {
    const w = this.waiting;
    if (!w) return;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const ack = readAck(frame);
    if (!ack.ok || ack.controlId !== w.controlId) {
      const why = ack.ok ? `ACK for ${ack.controlId.slice(0, 40)}, expected ${w.controlId}` : ack.reason;
      this.headErrors++;
      this.noteError(`malformed ACK: ${why}`);
      if (this.headErrors > this.aeRetries()) this.park(w, `malformed ACK: ${why}`);
      this.dropConnection(null);
      return;
    }
    this.waiting = null;
    this.busy = false;
    if (ack.code === 'AA') {
      this.queue.ack(w.no);
      this.sent++;
      this.headErrors = 0;
      this.failures = 0;
      this.kick();
      return;
    }
    this.headErrors++;
    this.noteError(`${ack.code}: ${ack.text || '(no text)'}`);
    if ((ack.code === 'AR' || this.headErrors > this.aeRetries()) && this.park(w, `${ack.code} ${ack.text}`)) {
      this.kick();
      return;
    }
    this.retryLater();
  }

  private aeRetries(): number {
    return this.o.aeRetries ?? 5;
  }

  /** moves the message to the dead-letter folder and on past it; false when it could not be written */
  private park(w: { no: number; controlId: string; text: string }, reason: string): boolean {
    try {
      const dir = join(this.o.dir, 'dead-letter');
      mkdirSync(dir, { recursive: true });
      const name = `${String(w.no).padStart(10, '0')}-${w.controlId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
      writeFileSync(join(dir, `${name}.hl7`), w.text);
      writeFileSync(join(dir, `${name}.reason.txt`), `${reason}\n`);
    } catch (err) {
      // not parked: keep it at the head and try again later rather than lose it
      this.noteError(`dead-letter write failed: ${(err as Error).message}`);
      return false;
    }
    this.o.log.error({ receiver: this.name, controlId: w.controlId, reason: reason.slice(0, 200), code: 'HL7_PARKED' }, 'HL7 message parked in dead-letter');
    this.queue.ack(w.no);
    this.parked++;
    this.headErrors = 0;
    this.waiting = null;
    this.busy = false;
    return true;
  }

  private inFlightLost(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.waiting = null;
    this.busy = false;
  }

  private dropConnection(reason: string | null): void {
    if (reason) this.noteError(reason);
    this.dropping = true;
    this.inFlightLost();
    this.socket?.destroy();
  }

  private retryLater(): void {
    if (!this.running || this.timer) return;
    const min = this.o.retryMinMs ?? 500;
    const max = this.o.retryMaxMs ?? 30_000;
    const wait = Math.min(max, min * 2 ** Math.min(this.failures++, 16));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, wait);
  }

  private noteError(text: string): void {
    this.errors++;
    if (this.lastError !== text) this.o.log.warn({ receiver: this.name, err: text.slice(0, 300), code: 'HL7_DELIVERY' }, 'HL7 delivery problem');
    this.lastError = text;
  }
}
