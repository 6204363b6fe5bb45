/**
 * Turns pump view changes into infusion facts (server/events/facts.ts): infusionStarted when a
 * pump's state becomes RUN, infusionStopped or infusionCompleted when it leaves RUN. Built only
 * while one of the three facts has a listener (pump views change with nearly every message); the
 * last state per pump is remembered meanwhile. Pumps restored at start-up are seeded with their
 * restored state, so a restart does not announce a start again.
 */
import type { PumpView } from '../../protocol/api.ts';
import type { PumpState } from '../../protocol/sentence.ts';
import type { EventBus } from '../events/eventBus.ts';

/** a STOP (IDLE) with no more than this left is a completed infusion, as billing and detection judge it */
export const DEFAULT_COMPLETE_RESIDUAL_ML = 5;

export class InfusionFacts {
  private readonly last = new Map<string, PumpState | null>();

  constructor(private readonly bus: EventBus, private readonly completeResidualMl = DEFAULT_COMPLETE_RESIDUAL_ML) {}

  private listened(): boolean {
    return this.bus.has('infusionStarted') || this.bus.has('infusionStopped') || this.bus.has('infusionCompleted');
  }

  /** the states pumps had before any change is published (restored ones) */
  seed(views: readonly PumpView[]): void {
    for (const v of views) this.last.set(v.pump, v.state);
  }

  publish(views: readonly PumpView[]): void {
    if (!this.listened()) return;
    for (const view of views) {
      const known = this.last.has(view.pump);
      const from = this.last.get(view.pump) ?? null;
      const to = view.state;
      this.last.set(view.pump, to);
      if (known && from === to) continue;
      if (to === 'RUN') {
        this.bus.emit('infusionStarted', { pump: view.pump, view, from });
      } else if (from === 'RUN') {
        const fact = { pump: view.pump, view, from };
        if (this.completed(view)) this.bus.emit('infusionCompleted', fact);
        else this.bus.emit('infusionStopped', fact);
      }
    }
  }

  private completed(view: PumpView): boolean {
    if (view.state === 'END') return true;
    // unknown volume left: not known to be complete
    return view.state === 'IDLE' && view.vtbiMl !== null && view.vtbiMl <= this.completeResidualMl;
  }

  forgetPump(serial: string): void {
    this.last.delete(serial);
  }
}
