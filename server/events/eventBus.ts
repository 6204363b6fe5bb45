/**
 * A small typed in-process bus of facts. emit() calls each listener synchronously in the order
 * they subscribed; a listener that throws is logged (once per listener and fact until it succeeds
 * again) and the others still run, so a broken output never breaks the alarm path. Listener lists
 * are replaced, not mutated, so subscribing or leaving during an emit is safe.
 */
import type { Logger } from 'pino';
import type { FactName, Facts } from './facts.ts';

export type FactListener<K extends FactName> = (fact: Facts[K]) => void;

/** listeners are kept untyped inside; on() is the only way in, and it pairs each with its fact */
type StoredListener = (fact: unknown) => void;

export class EventBus {
  private readonly listeners = new Map<FactName, readonly StoredListener[]>();
  /** listeners whose last call threw: logged once until they succeed again */
  private readonly failing = new Set<StoredListener>();
  /** listener failures since start, by fact */
  readonly failures: Partial<Record<FactName, number>> = {};

  constructor(private readonly log: Pick<Logger, 'error'>) {}

  /** subscribes; returns the function that unsubscribes (call it on stop) */
  on<K extends FactName>(name: K, listener: FactListener<K>): () => void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener as StoredListener]);
    return () => this.off(name, listener);
  }

  off<K extends FactName>(name: K, listener: FactListener<K>): void {
    const list = this.listeners.get(name);
    if (!list) return;
    const rest = list.filter((l) => l !== listener);
    if (rest.length > 0) this.listeners.set(name, rest);
    else this.listeners.delete(name);
    this.failing.delete(listener as StoredListener);
  }

  /** true while someone listens: lets the emitter skip building a fact nobody wants */
  has(name: FactName): boolean {
    return this.listeners.has(name);
  }

  emit<K extends FactName>(name: K, fact: Facts[K]): void {
    const list = this.listeners.get(name);
    if (!list) return;
    for (const l of list) {
      try {
        l(fact);
        if (this.failing.size > 0) this.failing.delete(l);
      } catch (err) {
        this.failures[name] = (this.failures[name] ?? 0) + 1;
        if (!this.failing.has(l)) {
          this.failing.add(l);
          this.log.error({ fact: name, err: (err as Error).message, code: 'FACT_LISTENER_FAILED' }, 'fact listener failed; the others carry on');
        }
      }
    }
  }

  /** removes every listener (server stop) */
  clear(): void {
    this.listeners.clear();
    this.failing.clear();
  }
}
