/**
 * Fans live changes out to WebSocket clients. Each message is serialized once and the same bytes go
 * to every client. A new client gets the snapshot first; changes that arrive while the snapshot is
 * being read are queued for it, so nothing falls in between. A client whose unsent bytes pass the
 * limit (slow) or that missed a pong (dead) is terminated; the others never wait for it.
 */
import type { WebSocket } from 'ws';
import type { ServerMessage } from '../../protocol/api.ts';
import type { LiveChange, LiveSnapshot } from '../events/facts.ts';

export interface LiveSource {
  snapshot(): Promise<LiveSnapshot>;
  subscribe(listener: (changes: readonly LiveChange[]) => void): () => void;
}

export interface LiveHubOptions {
  /** bytes queued in a client's socket before it counts as slow */
  maxBufferedBytes: number;
  /** ping period, ms; no pong by the next ping = dead */
  pingMs: number;
  /** changes queued for a client still waiting for its snapshot */
  maxPendingMessages?: number;
  /** never logs message contents */
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

export type DropReason = 'slow' | 'dead' | 'snapshot_failed' | 'server_stop';

interface Client {
  ws: WebSocket;
  /** frames waiting for the snapshot; null once live */
  pending: Buffer[] | null;
  alive: boolean;
}

export class LiveHub {
  private readonly clients = new Set<Client>();
  private unsubscribe: (() => void) | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly dropped: Record<DropReason, number> = { slow: 0, dead: 0, snapshot_failed: 0, server_stop: 0 };
  private messages = 0;
  private readonly maxPending: number;

  constructor(
    private readonly source: LiveSource,
    private readonly opts: LiveHubOptions,
  ) {
    this.maxPending = opts.maxPendingMessages ?? 100_000;
  }

  start(): void {
    this.unsubscribe = this.source.subscribe((changes) => this.broadcast(changes));
    this.pingTimer = setInterval(() => this.pingAll(), this.opts.pingMs);
    this.pingTimer.unref();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    // a polite close, then a hard one for clients that do not answer within a second
    const closing = [...this.clients].map((c) => new Promise<void>((resolve) => {
      const hard = setTimeout(() => { c.ws.terminate(); resolve(); }, 1000);
      c.ws.once('close', () => { clearTimeout(hard); resolve(); });
      c.ws.close(1001, 'server stopping');
    }));
    this.dropped.server_stop += this.clients.size;
    await Promise.all(closing);
    this.clients.clear();
  }

  add(ws: WebSocket): void {
    const client: Client = { ws, pending: [], alive: true };
    this.clients.add(client);
    ws.on('pong', () => { client.alive = true; });
    ws.on('message', () => { client.alive = true; });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.clients.delete(client));
    this.source.snapshot().then((snap) => {
      if (!this.clients.has(client)) return;
      const first: ServerMessage = { type: 'snapshot', pumps: snap.pumps, alerts: snap.alerts };
      ws.send(JSON.stringify(first));
      const queued = client.pending ?? [];
      client.pending = null;
      for (const frame of queued) ws.send(frame);
      this.messages += queued.length + 1;
    }, () => this.drop(client, 'snapshot_failed'));
  }

  broadcast(changes: readonly LiveChange[]): void {
    if (changes.length === 0 || this.clients.size === 0) return;
    const frames = changes.map((c) => Buffer.from(JSON.stringify(c)));
    for (const client of this.clients) {
      if (client.pending) {
        for (const f of frames) client.pending.push(f);
        if (client.pending.length > this.maxPending) this.drop(client, 'slow');
        continue;
      }
      if (client.ws.readyState !== client.ws.OPEN) continue;
      if (client.ws.bufferedAmount > this.opts.maxBufferedBytes) {
        this.drop(client, 'slow');
        continue;
      }
      // one write per batch instead of one per frame (ws keeps the socket as _socket)
      const socket = (client.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      socket?.cork();
      for (const f of frames) client.ws.send(f, { binary: false });
      socket?.uncork();
      this.messages += frames.length;
    }
  }

  clientCount(): number {
    return this.clients.size;
  }

  stats(): { clients: number; messagesSent: number; dropped: Readonly<Record<DropReason, number>> } {
    return { clients: this.clients.size, messagesSent: this.messages, dropped: { ...this.dropped } };
  }

  private pingAll(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        this.drop(client, 'dead');
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }

  private drop(client: Client, reason: DropReason): void {
    this.dropped[reason]++;
    this.clients.delete(client);
    this.opts.log?.('websocket client dropped', { reason, bufferedBytes: client.ws.bufferedAmount });
    client.ws.terminate();
  }
}
