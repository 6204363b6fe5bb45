/**
 * Which lines are a pump's answer to `?HIST` (pure; the caller passes the time). The pump answers
 * at once with its kept sentences written back to back, then carries on as usual (pump protocol,
 * "history replay"). So a line read on the port soon after the request, or soon after the previous
 * line of the answer, is replayed history; the first line after a pause ends the answer. The
 * server uses the flag to tell a backlog from live sentences without trusting the pump's clock.
 */
export interface ReplayWindowOptions {
  /** ms the first line of the answer may take after the request (link and pump latency) */
  firstLineMs?: number;
  /** ms between lines of one answer; a longer pause ends it */
  burstGapMs?: number;
}

interface Answer {
  /** the answer's first line is still awaited */
  awaitingFirst: boolean;
  /** time of the request or of the answer's latest line */
  lastMs: number;
}

export class ReplayWindows {
  private readonly answers = new Map<string, Answer>();
  private readonly firstLineMs: number;
  private readonly burstGapMs: number;

  constructor(opts: ReplayWindowOptions = {}) {
    this.firstLineMs = opts.firstLineMs ?? 2000;
    this.burstGapMs = opts.burstGapMs ?? 500;
  }

  /** a `?HIST` was written on this port */
  requested(port: string, nowMs: number): void {
    const a = this.answers.get(port);
    // a second request while an answer streams in keeps the answer going
    if (a && !a.awaitingFirst) a.lastMs = nowMs;
    else this.answers.set(port, { awaitingFirst: true, lastMs: nowMs });
  }

  /** whether a line read on this port now belongs to the answer to a `?HIST` */
  isReplay(port: string, nowMs: number): boolean {
    const a = this.answers.get(port);
    if (!a) return false;
    if (nowMs - a.lastMs > (a.awaitingFirst ? this.firstLineMs : this.burstGapMs)) {
      this.answers.delete(port);
      return false;
    }
    a.awaitingFirst = false;
    a.lastMs = nowMs;
    return true;
  }

}
