/**
 * CLUSTER_MODE=lease: the recent messages of pumps another instance judges, kept so that if it
 * dies this instance can judge what it had not finished with (docs/scaling.md, "Takeover").
 * Every instance receives every pump message on its own persistent session; the owner journals
 * and judges its own, the others keep them here for `windowMs` (long enough to cover the owner's
 * last stored checkpoint plus the time to notice it is gone). Kept per partition, in arrival order.
 */

export interface BufferedMessage {
  /** arrival order across partitions */
  seq: number;
  atMs: number;
  topic: string;
  payload: Buffer;
}

export interface ReplayBufferOptions {
  windowMs: number;
  /** messages kept at most over all partitions; beyond it the oldest of the partition is dropped and counted */
  maxMessages: number;
}

export class ReplayBuffer {
  private readonly parts = new Map<number, BufferedMessage[]>();
  private seq = 0;
  private total = 0;
  /** pushed out by maxMessages before their window ended */
  dropped = 0;

  constructor(private readonly o: ReplayBufferOptions) {}

  get size(): number {
    return this.total;
  }

  add(partition: number, topic: string, payload: Buffer, atMs: number): void {
    let list = this.parts.get(partition);
    if (!list) {
      list = [];
      this.parts.set(partition, list);
    }
    this.pruneList(list, atMs);
    if (this.total >= this.o.maxMessages && list.length > 0) {
      list.shift();
      this.total--;
      this.dropped++;
    }
    list.push({ seq: this.seq++, atMs, topic, payload });
    this.total++;
  }

  /** removes and returns the messages of these partitions still in the window, in arrival order */
  take(partitions: Iterable<number>, nowMs: number): BufferedMessage[] {
    const out: BufferedMessage[] = [];
    for (const p of partitions) {
      const list = this.parts.get(p);
      if (!list) continue;
      this.pruneList(list, nowMs);
      out.push(...list);
      this.total -= list.length;
      this.parts.delete(p);
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** drops what is older than the window everywhere (a timer calls it: quiet partitions too) */
  prune(nowMs: number): void {
    for (const [p, list] of this.parts) {
      this.pruneList(list, nowMs);
      if (list.length === 0) this.parts.delete(p);
    }
  }

  private pruneList(list: BufferedMessage[], nowMs: number): void {
    const oldest = nowMs - this.o.windowMs;
    let n = 0;
    while (n < list.length && (list[n] as BufferedMessage).atMs < oldest) n++;
    if (n > 0) {
      list.splice(0, n);
      this.total -= n;
    }
  }
}
