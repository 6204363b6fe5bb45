/** Accepted messages per second over the last 10 s, in one-second buckets (server clock). */
export class IngestRate {
  private readonly buckets = new Float64Array(10);
  private bucketSec = 0;

  add(nowMs: number, n = 1): void {
    this.roll(nowMs);
    this.buckets[this.bucketSec % 10] = (this.buckets[this.bucketSec % 10] ?? 0) + n;
  }

  perSecond(nowMs: number): number {
    this.roll(nowMs);
    let sum = 0;
    // the current second is partial: average the nine complete ones before it
    for (let i = 1; i < 10; i++) sum += this.buckets[(this.bucketSec - i + 10) % 10] ?? 0;
    return sum / 9;
  }

  private roll(nowMs: number): void {
    const sec = Math.floor(nowMs / 1000);
    if (sec === this.bucketSec) return;
    if (sec - this.bucketSec >= 10 || sec < this.bucketSec) this.buckets.fill(0);
    else for (let s = this.bucketSec + 1; s <= sec; s++) this.buckets[s % 10] = 0;
    this.bucketSec = sec;
  }
}
