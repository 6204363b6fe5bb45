/**
 * No storm: at most one message per person per `windowMs`. The first page goes at once; pages
 * for the same person due within the window after it (a burst of alerts from one pump, an alert
 * that flaps, several chains reaching the same nurse) wait and leave together, as one message,
 * when the window is over. Pure: the caller passes the time and sends what comes out.
 */
export class PageGroups<T> {
  private readonly lastSentMs = new Map<string, number>();
  private readonly pending = new Map<string, T[]>();

  constructor(private readonly windowMs: number) {}

  /** `item` for `person`: returned at once to send now, or held (null) for the next group */
  offer(person: string, item: T, nowMs: number): T[] | null {
    const last = this.lastSentMs.get(person);
    const held = this.pending.get(person);
    if (!held && (last === undefined || nowMs - last >= this.windowMs)) {
      this.lastSentMs.set(person, nowMs);
      return [item];
    }
    if (held) held.push(item);
    else this.pending.set(person, [item]);
    return null;
  }

  /** the groups whose window is over, each to be sent as one message */
  due(nowMs: number): { person: string; items: T[] }[] {
    const out: { person: string; items: T[] }[] = [];
    for (const [person, items] of this.pending) {
      const last = this.lastSentMs.get(person) ?? -Infinity;
      if (nowMs - last < this.windowMs) continue;
      this.pending.delete(person);
      this.lastSentMs.set(person, nowMs);
      out.push({ person, items });
    }
    return out;
  }

  /** items waiting (metrics) */
  get held(): number {
    let n = 0;
    for (const items of this.pending.values()) n += items.length;
    return n;
  }
}
