import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * V8 lets a busy heap (and the Buffers it owns) grow far past what is live before it collects:
 * at thousands of sentences a second that is +100 MB of resident memory for nothing. The flags
 * that bound it cannot be passed through `npm run`/tsx, so this asks for a full collection
 * whenever JS heap + external memory passes a soft limit. Cost: a few ms per collection.
 */
export class MemoryGovernor {
  private timer: NodeJS.Timeout | null = null;
  private readonly gc: (() => void) | null;
  collections = 0;

  constructor(private readonly softLimitMb = 40, private readonly checkMs = 250) {
    let gc: (() => void) | null = null;
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null; // the runtime refused: V8's own heuristics only
    }
    this.gc = gc;
  }

  start(): void {
    if (!this.gc || this.timer) return;
    const limit = this.softLimitMb * 1024 * 1024;
    this.timer = setInterval(() => {
      const m = process.memoryUsage();
      if (m.heapUsed + m.external > limit) {
        this.gc?.();
        this.collections++;
      }
    }, this.checkMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
