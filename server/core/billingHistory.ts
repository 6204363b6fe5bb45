/**
 * Billing over any period the stored record covers (docs/billing.md, "History"): episodes are
 * rebuilt from the episode records in storage (written at every checkpoint), not from one
 * instance's memory, so every instance gives the same answer for the same query at the same time.
 * A rebuilt tracker is kept and brought up to date with the records written since (one small
 * query), so a period asked again is answered from memory; the oldest is dropped beyond `maxTrackers`.
 */
import type { Episode } from '../../protocol/api.ts';
import type { BillingAssignment, EpisodeTracker, EvidenceRange } from '../billing/types.ts';
import type { PointStore } from '../storage/influxStore.ts';
import { storedEpisodes } from '../storage/queries.ts';

export interface BillingHistoryOptions {
  store: PointStore;
  createTracker(): EpisodeTracker;
  /** every assignment, as last pushed into the core */
  assignments(): readonly BillingAssignment[];
  /** server clock, epoch ms */
  now(): number;
  /** rebuilt trackers kept (default 4) */
  maxTrackers?: number;
}

const DAY_MS = 86_400_000;
/**
 * An episode's last record is written at or after its last sentence (pump clock ≈ server clock;
 * clocks found wrong are re-anchored); a checkpoint may be late, and a course starts before the
 * period asked: its records are read from this much before the period.
 */
export const HISTORY_MARGIN_MS = 2 * DAY_MS;

interface Rebuilt {
  /** server-clock time the records were read from */
  sinceMs: number;
  pump: string | undefined;
  tracker: EpisodeTracker;
  /** server time of the newest record read (next refresh reads from here) */
  readToMs: number;
  usedAt: number;
}

export class BillingHistory {
  private readonly rebuilt: Rebuilt[] = [];
  private assignmentsGiven: readonly BillingAssignment[] | null = null;

  constructor(private readonly o: BillingHistoryOptions) {}

  /** episodes overlapping [fromMs, toMs] (pump clock), from storage */
  async episodes(q: { fromMs: number; toMs: number; pump?: string }): Promise<Episode[]> {
    const t = await this.tracker(q.fromMs - HISTORY_MARGIN_MS, q.pump);
    return t.episodes({ fromMs: q.fromMs, toMs: q.toMs, nowMs: this.o.now(), ...(q.pump !== undefined ? { pump: q.pump } : {}) });
  }

  /** one episode by id; its start is read from the id (program) or its order's assignments (course) */
  async episode(id: string): Promise<Episode | undefined> {
    return (await this.tracker(this.sinceFor(id))).episode(id, this.o.now());
  }

  async evidenceRanges(id: string): Promise<EvidenceRange[] | undefined> {
    const t = await this.tracker(this.sinceFor(id));
    return t.evidenceRanges?.(id) ?? [t.evidenceRange(id)].filter((r) => r !== undefined);
  }

  private sinceFor(id: string): number {
    const m = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z_\d+$/.exec(id);
    if (m) return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - HISTORY_MARGIN_MS;
    const orderId = /^order-(.+)$/.exec(id)?.[1];
    const froms = this.o.assignments().filter((a) => a.order.id === orderId).map((a) => a.fromMs);
    return (froms.length > 0 ? Math.min(...froms) : this.o.now() - 366 * DAY_MS) - HISTORY_MARGIN_MS;
  }

  /** a tracker holding every record written since `sinceMs` (of `pump`, or all), up to date */
  private async tracker(sinceMs: number, pump?: string): Promise<EpisodeTracker> {
    const assignments = this.o.assignments();
    if (assignments !== this.assignmentsGiven) {
      for (const r of this.rebuilt) r.tracker.setAssignments?.(assignments);
      this.assignmentsGiven = assignments;
    }
    const now = this.o.now();
    let r = this.rebuilt.find((x) => x.sinceMs <= sinceMs && (x.pump === undefined || x.pump === pump));
    if (!r) {
      const tracker = this.o.createTracker();
      tracker.setAssignments?.(assignments);
      r = { sinceMs, pump, tracker, readToMs: sinceMs, usedAt: now };
      this.rebuilt.push(r);
      // a wider one makes narrower ones of the same pump filter redundant
      for (let i = this.rebuilt.length - 2; i >= 0; i--) {
        const x = this.rebuilt[i] as Rebuilt;
        if (x.sinceMs >= sinceMs && (pump === undefined || x.pump === pump)) this.rebuilt.splice(i, 1);
      }
      while (this.rebuilt.length > (this.o.maxTrackers ?? 4)) {
        const oldest = this.rebuilt.reduce((a, b) => (a.usedAt <= b.usedAt ? a : b));
        this.rebuilt.splice(this.rebuilt.indexOf(oldest), 1);
      }
    }
    r.usedAt = now;
    // records written since the last read (the newest may be rewritten in the same millisecond: read it again)
    const stored = await storedEpisodes(this.o.store, r.readToMs, r.pump, now);
    if (stored.length > 0) r.tracker.restore(stored.map((s) => s.record), { owned: true });
    r.readToMs = Math.max(r.readToMs, now - 60_000);
    return r.tracker;
  }
}
