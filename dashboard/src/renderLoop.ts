/**
 * Batches every change into one render per animation frame, at most once per `minIntervalMs`:
 * with 100 updates/s a board redrawn a few times a second is live to a person and leaves the
 * browser idle most of the time (each frame has a fixed style/layout/paint cost for 1,000 rows).
 */
export class RenderLoop {
  private frame: number | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastMs = -Infinity;
  private stopped = false;
  /** renders done, and the time they took in script (ms), for the bench */
  readonly stats = { renders: 0, maxMs: 0, totalMs: 0 };

  constructor(private readonly render: () => void, private readonly minIntervalMs = 250, private readonly now: () => number = () => performance.now()) {}

  request(): void {
    if (this.frame !== null || this.timer !== null || this.stopped) return;
    const wait = this.lastMs + this.minIntervalMs - this.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, wait);
    } else {
      this.schedule();
    }
  }

  /** Renders at the next frame regardless of the interval (a user action wants an answer now). */
  requestNow(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.frame === null && !this.stopped) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    if (this.timer !== null) clearTimeout(this.timer);
    this.frame = null;
    this.timer = null;
  }

  private schedule(): void {
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      const t0 = this.now();
      this.lastMs = t0;
      this.render();
      const took = this.now() - t0;
      this.stats.renders++;
      this.stats.totalMs += took;
      if (took > this.stats.maxMs) this.stats.maxMs = took;
    });
  }
}
