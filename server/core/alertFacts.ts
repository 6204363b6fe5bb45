/**
 * Turns the engine's alert changes (each alert in its latest state) into facts: every change is
 * alertChanged, and the transitions a consumer acts on (raised, cleared, acknowledged, escalated)
 * get their own fact. What was last published is remembered per open alert; an alert that is
 * cleared and acknowledged is closed and forgotten.
 */
import type { Alert } from '../../protocol/api.ts';
import type { EventBus } from '../events/eventBus.ts';

const ACTIVE = 1;
const ACKNOWLEDGED = 2;
const ESCALATED = 4;

function flagsOf(a: Alert): number {
  return (a.status === 'active' ? ACTIVE : 0) | (a.acknowledged ? ACKNOWLEDGED : 0) | (a.escalated === true ? ESCALATED : 0);
}

export class AlertFacts {
  /** alert id → flags last published, and its pump (to forget a pump's alerts) */
  private readonly published = new Map<string, { flags: number; pump: string }>();

  constructor(private readonly bus: EventBus) {}

  /** an alert restored from storage was published before the restart: its next change is compared with it */
  restored(a: Alert): void {
    this.published.set(a.id, { flags: flagsOf(a), pump: a.pump });
  }

  publish(a: Alert): void {
    const bus = this.bus;
    const before = this.published.get(a.id);
    const was = before?.flags ?? 0;
    const now = flagsOf(a);
    bus.emit('alertChanged', a);
    if (now & ACTIVE && !(was & ACTIVE)) bus.emit('alertRaised', a);
    // never published as active (raised and cleared within one batch of history): cleared still says it ended
    if (!(now & ACTIVE) && (was & ACTIVE || before === undefined)) bus.emit('alertCleared', a);
    if (now & ACKNOWLEDGED && !(was & ACKNOWLEDGED)) bus.emit('alertAcknowledged', a);
    if (now & ESCALATED && !(was & ESCALATED)) bus.emit('alertEscalated', a);
    if (!(now & ACTIVE) && now & ACKNOWLEDGED) this.published.delete(a.id);
    else if (before) before.flags = now;
    else this.published.set(a.id, { flags: now, pump: a.pump });
  }

  /** a pump this instance no longer holds */
  forgetPump(serial: string): void {
    for (const [id, p] of this.published) if (p.pump === serial) this.published.delete(id);
  }

  /** open alerts remembered (tests, metrics) */
  get size(): number {
    return this.published.size;
  }
}
