/**
 * Whether the server's clinical records database is there (GET /api/health `database`): asked every
 * `everyMs` and whenever a clinical request fails for want of it. Alarms never depend on it.
 */
import { fetchHealth } from './api.ts';

/** 'unknown': not answered yet, or a server that does not report it */
export type DatabaseState = 'up' | 'down' | 'off' | 'unknown';

export const DATABASE_DOWN_TEXT = 'Patient records and order checks are unavailable (the records database cannot be reached). Alarms from pumps keep working.';
export const DATABASE_OFF_TEXT = 'This server keeps no patient records (no database configured).';

export class DatabaseWatch {
  state: DatabaseState = 'unknown';
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly onChange: (state: DatabaseState) => void, private readonly everyMs = 10_000) {}

  start(): void {
    if (this.timer) return;
    void this.checkNow();
    this.timer = setInterval(() => { void this.checkNow(); }, this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async checkNow(): Promise<void> {
    let next: DatabaseState;
    try {
      const h = await fetchHealth();
      next = h.database ?? 'unknown';
    } catch {
      // the server itself is away: the stale banner says so; keep what we knew
      return;
    }
    if (next !== this.state && this.timer !== null) {
      this.state = next;
      this.onChange(next);
    }
  }
}
