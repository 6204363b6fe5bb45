/** Batches every change of one animation frame into a single render. */
export class RenderLoop {
  private frame: number | null = null;
  private stopped = false;

  constructor(private readonly render: () => void) {}

  request(): void {
    if (this.frame !== null || this.stopped) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.render();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
  }
}
