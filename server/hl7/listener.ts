/**
 * A small MLLP receiver of IHE PCD messages: each message is validated (pcdValidation.ts) and
 * answered AA, or AE with the reason; `answer` forces AE or AR (to try a sender's policy). Used by
 * `npm run hl7-listen` and by the tests as the hospital's side.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { buildAck, type AckCode } from './ack.ts';
import { MllpReader, writeFrame } from './mllp.ts';
import { hl7Time } from './pcdMessages.ts';
import { validatePcd, type Validation } from './pcdValidation.ts';

export interface Received extends Validation {
  text: string;
  answered: AckCode;
}

export interface ListenerOptions {
  port: number;
  host?: string;
  /** forced answer; null: AA when valid, AE when not */
  answer?: AckCode | null;
  onMessage?: (r: Received) => void;
}

export class Hl7Listener {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** may be changed while running */
  answer: AckCode | null;

  constructor(private readonly o: ListenerOptions) {
    this.answer = o.answer ?? null;
  }

  listen(): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host ?? '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : this.o.port);
      });
    });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const reader = new MllpReader();
    socket.on('data', (chunk: Buffer) => {
      for (const text of reader.push(chunk)) this.handle(socket, text);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private handle(socket: Socket, text: string): void {
    const v = validatePcd(text);
    const answered: AckCode = this.answer ?? (v.errors.length === 0 ? 'AA' : 'AE');
    const reason = answered === 'AA' ? undefined : (v.errors.join('; ') || `answering ${answered} as told`);
    // kept (printed, written) before the ACK, as a receiver should: an ACKed message is never lost
    this.o.onMessage?.({ ...v, text, answered });
    writeFrame(socket, buildAck(v.message, answered, v.controlId, hl7Time(Date.now()), reason));
  }

  /** closes the listener and every connection */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
