import { nextSeq } from '../protocol/sentence.ts';

/** The pump's memory of its last sentences, as `?HIST` replays them (pure). */
export class PumpHistory {
  private readonly lines: string[] = [];
  private readonly seqs: number[] = [];

  constructor(readonly capacity = 1000) {}

  get size(): number {
    return this.lines.length;
  }

  push(line: string, seq: number): void {
    this.lines.push(line);
    this.seqs.push(seq);
    if (this.lines.length > this.capacity) {
      this.lines.shift();
      this.seqs.shift();
    }
  }

  /**
   * What `?HIST,<fromSeq>` replays: the kept sentences from the newest one numbered `fromSeq`
   * to the newest; nothing when `fromSeq` is the next number to be sent; everything kept when
   * `fromSeq` is no longer kept.
   */
  since(fromSeq: number): string[] {
    const n = this.seqs.length;
    if (n === 0) return [];
    if (fromSeq === nextSeq(this.seqs[n - 1] as number)) return [];
    for (let i = n - 1; i >= 0; i--) if (this.seqs[i] === fromSeq) return this.lines.slice(i);
    return this.lines.slice();
  }
}
