/** The dashboard's live state: pumps and alerts by id, fed by /ws messages (pure, no DOM). */
import type { Alert, PumpView, ServerMessage } from '../../protocol/api.ts';
import { panelAlerts, shouldAnnounce } from './sort.ts';

/** What changed since the last render, so the views touch only that. */
export interface Changes {
  /** pumps whose row must be redrawn (pump serials) */
  pumps: Set<string>;
  /** the whole board must be rebuilt (snapshot) */
  all: boolean;
  alerts: boolean;
}

export class LiveStore {
  readonly pumps = new Map<string, PumpView>();
  readonly alerts = new Map<string, Alert>();
  private changes: Changes = { pumps: new Set(), all: true, alerts: true };
  /** snapshots received; the first one never announces old alerts again */
  snapshots = 0;
  /** the server's zone (GET /api/me): times of pumps whose patient has none are shown in it */
  serverZone: string | null = null;

  /** Applies one message; returns the alerts that deserve sound and a notification. */
  apply(msg: ServerMessage): Alert[] {
    const announce: Alert[] = [];
    switch (msg.type) {
      case 'snapshot': {
        const before = new Map(this.alerts);
        this.pumps.clear();
        this.alerts.clear();
        for (const p of msg.pumps) this.pumps.set(p.pump, p);
        for (const a of msg.alerts) {
          this.alerts.set(a.id, a);
          if (this.snapshots > 0 && shouldAnnounce(before.get(a.id), a)) announce.push(a);
        }
        // resolved alerts still shown keep their ack line; the snapshot only has open ones
        for (const a of panelAlerts(before.values())) if (!this.alerts.has(a.id) && a.acknowledged && a.status === 'cleared') this.alerts.set(a.id, a);
        this.snapshots++;
        this.changes.all = true;
        this.changes.alerts = true;
        break;
      }
      case 'pump':
        this.pumps.set(msg.pump.pump, msg.pump);
        this.changes.pumps.add(msg.pump.pump);
        break;
      case 'alert': {
        const prev = this.alerts.get(msg.alert.id);
        if (prev && isOlder(msg.alert, prev)) break;
        const next = keepPagingFacts(prev, msg.alert);
        this.alerts.set(next.id, next);
        if (shouldAnnounce(prev, next)) announce.push(next);
        this.changes.alerts = true;
        this.changes.pumps.add(msg.alert.pump);
        if (prev && prev.pump !== msg.alert.pump) this.changes.pumps.add(prev.pump);
        this.pruneResolved();
        break;
      }
    }
    return announce;
  }

  /** Records an acknowledgement answered by POST /api/alerts/:id/ack (the /ws echo may come later). */
  acknowledged(alert: Alert): void {
    this.apply({ type: 'alert', alert });
  }

  /** Hands the accumulated changes to the renderer and starts a new batch. */
  takeChanges(): Changes {
    const c = this.changes;
    this.changes = { pumps: new Set(), all: false, alerts: false };
    return c;
  }

  /**
   * Marks one slice of the rows for redraw (the clock moved on, "x min ago" changed): slice `part`
   * of `parts`, so refreshing 1,000 rows is spread over several frames instead of one long task.
   */
  touchSlice(part: number, parts: number): void {
    let i = 0;
    for (const id of this.pumps.keys()) if (i++ % parts === part) this.changes.pumps.add(id);
  }

  get hasChanges(): boolean {
    return this.changes.all || this.changes.alerts || this.changes.pumps.size > 0;
  }

  /** Keeps memory bounded: only the resolved alerts the panel shows are kept. */
  private pruneResolved(): void {
    const shown = new Set(panelAlerts(this.alerts.values()).map((a) => a.id));
    if (shown.size === this.alerts.size) return;
    for (const id of this.alerts.keys()) if (!shown.has(id)) this.alerts.delete(id);
  }
}

/**
 * Who accepted, and the note and outcome of an acknowledgement, are never lost to a message sent
 * before they were known (the core's echo of an acknowledgement can overtake the saved note): an
 * accept holds until the alert comes back unacknowledged (a new chain), a note and outcome for the
 * same acknowledgement (same `ackedAt`).
 */
export function keepPagingFacts(prev: Alert | undefined, next: Alert): Alert {
  if (!prev) return next;
  const sameAck = prev.acknowledged && next.acknowledged && prev.ackedAt === next.ackedAt;
  const lostAccept = !(prev.acknowledged && !next.acknowledged) && !next.acceptedBy && !!prev.acceptedBy;
  const lostNote = sameAck && !next.ackNote && !!prev.ackNote;
  const lostOutcome = sameAck && !next.ackOutcome && !!prev.ackOutcome;
  if (!lostAccept && !lostNote && !lostOutcome) return next;
  return {
    ...next,
    ...(lostAccept ? { acceptedBy: prev.acceptedBy, acceptedAt: prev.acceptedAt ?? null } : {}),
    ...(lostNote ? { ackNote: prev.ackNote } : {}),
    ...(lostOutcome ? { ackOutcome: prev.ackOutcome } : {}),
  };
}

/** An acknowledged alert never goes back to unacknowledged because of a late message. */
function isOlder(next: Alert, prev: Alert): boolean {
  return prev.acknowledged && !next.acknowledged;
}
