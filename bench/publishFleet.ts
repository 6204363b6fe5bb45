/**
 * A fleet's load as fast as one socket carries it: MQTT 3.1.1 QoS 1 PUBLISH packets encoded before
 * the clock starts and written in large chunks, `WINDOW` unacknowledged at most, like many busy
 * gateways behind one connection. Encoding per message through mqtt.js would make the publisher,
 * not the subscriber under test, the slowest part of the run.
 */
import { connect, type Socket } from 'node:net';

/** PUBLISH packets unacknowledged at most */
const WINDOW = 2000;
/** packets per socket write */
const CHUNK = 250;

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function packet(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, ...remainingLength(body.length)]), body]);
}

function utf8Field(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function connectPacket(clientId: string): Buffer {
  // protocol name, level 4, flags: clean session, keep-alive 60 s
  return packet(0x10, Buffer.concat([utf8Field('MQTT'), Buffer.from([4, 0x02, 0, 60]), utf8Field(clientId)]));
}

/** QoS 1 PUBLISH packets with ids 1..65535 in turn */
export function encodePublishes(messages: readonly { topic: string; body: string }[]): Buffer[] {
  return messages.map((m, i) => {
    const id = Buffer.alloc(2);
    id.writeUInt16BE((i % 65535) + 1);
    return packet(0x32, Buffer.concat([utf8Field(m.topic), id, Buffer.from(m.body, 'utf8')]));
  });
}

/** Counts the PUBACKs in the broker's bytes (the only packets it sends a publisher after CONNACK). */
class AckCounter {
  private pending = Buffer.alloc(0);
  acked = 0;
  connacked = false;

  feed(chunk: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      let len = 0;
      let mult = 1;
      let i = 1;
      for (; i < buf.length && i <= 4; i++) {
        const b = buf[i] as number;
        len += (b & 0x7f) * mult;
        mult *= 128;
        if ((b & 0x80) === 0) break;
      }
      if (i >= buf.length || buf.length < i + 1 + len) break;
      const type = (buf[0] as number) >> 4;
      if (type === 2) {
        if (buf[i + 2] !== 0) throw new Error(`CONNACK refused: ${buf[i + 2]}`);
        this.connacked = true;
      } else if (type === 4) this.acked++;
      buf = buf.subarray(i + 1 + len);
    }
    this.pending = Buffer.from(buf);
  }
}

export interface PublishOptions {
  clientId?: string;
  /** offered load, messages per second; unset: as fast as the broker acknowledges */
  ratePerS?: number;
}

/** Publishes pre-encoded packets (see encodePublishes); resolves when the broker has acknowledged all. */
export async function publishEncoded(url: string, packets: readonly Buffer[], opts: PublishOptions = {}): Promise<void> {
  const clientId = opts.clientId ?? `bench-pub-${process.pid}`;
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  socket.setNoDelay(true);
  const acks = new AckCounter();
  let wake: () => void = () => undefined;
  let failed: Error | null = null;
  socket.on('data', (chunk: Buffer) => {
    try {
      acks.feed(chunk);
    } catch (err) {
      failed = err as Error;
    }
    wake();
  });
  socket.on('error', (err) => {
    failed = err;
    wake();
  });
  const until = async (ready: () => boolean): Promise<void> => {
    while (!ready()) {
      if (failed) throw failed;
      await new Promise<void>((r) => (wake = r));
    }
    if (failed) throw failed;
  };
  try {
    await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
    socket.write(connectPacket(clientId));
    await until(() => acks.connacked);
    let sent = 0;
    const t0 = performance.now();
    while (sent < packets.length) {
      if (opts.ratePerS !== undefined) {
        const dueMs = (sent / opts.ratePerS) * 1000 - (performance.now() - t0);
        if (dueMs > 1) await new Promise((r) => setTimeout(r, dueMs));
      }
      await until(() => sent - acks.acked + CHUNK <= WINDOW);
      const end = Math.min(packets.length, sent + CHUNK);
      socket.write(Buffer.concat(packets.slice(sent, end)));
      sent = end;
    }
    await until(() => acks.acked >= packets.length);
    socket.end(Buffer.from([0xe0, 0x00]));
  } finally {
    socket.destroy();
  }
}
