/**
 * One view for every nurse: this instance's alert and pump changes go out on pumpwatch/_server/...,
 * and other instances' changes come back in, are kept (the remote view) and handed to the local
 * WebSocket hub. Loops cannot form: only local changes are published, and a message carrying this
 * instance's id is ignored. Pump changes are coalesced per pump (latest state), alerts go at once.
 */
import type { Logger } from 'pino';
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { LiveChange } from '../events/facts.ts';
import { DropCounter } from '../ingest/dropCounter.ts';
import { CLUSTER_RELAY_DROP_REASONS, type ClusterRelayDropReason } from '../ingest/dropReasons.ts';
import {
  clusterTopics, decodeClusterMessage, encodeAck, encodeAlert, encodePump, encodeVisit, isOpenAlert,
} from './clusterMessages.ts';

export interface RelayOptions {
  instanceId: string;
  /** publishes on this instance's broker connection, QoS 1 */
  publish(topic: string, payload: string, retain: boolean): void;
  log: Pick<Logger, 'warn' | 'info'>;
  /** pump changes are published at most this often per pump, ms */
  pumpFlushMs?: number;
  /** another instance asks the owner of an alert to acknowledge it */
  onAckCommand(alertId: string, by: string): void;
  /** another instance asks the holder of a pump to start (untilMs) or end (null) a nurse visit */
  onVisitCommand?(serial: string, untilMs: number | null, by: string): void;
  /** another instance now publishes this pump: it moved there */
  onRemotePump?(serial: string, instance: string): void;
}

export class ClusterRelay {
  readonly drops: DropCounter<ClusterRelayDropReason>;
  published = 0;
  relayed = 0;
  ignoredOwn = 0;
  private readonly remoteAlerts = new Map<string, Alert>();
  private readonly remotePumps = new Map<string, { instance: string; pump: PumpView }>();
  private readonly pendingPumps = new Map<string, PumpView>();
  private readonly listeners = new Set<(changes: readonly LiveChange[]) => void>();
  private readonly alertWaiters = new Map<string, Set<(a: Alert) => void>>();
  private readonly pumpWaiters = new Map<string, Set<(p: PumpView) => void>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: RelayOptions) {
    this.drops = new DropCounter(o.log, CLUSTER_RELAY_DROP_REASONS);
  }

  start(): void {
    this.timer = setInterval(() => this.flushPumps(), this.o.pumpFlushMs ?? 250);
    this.timer.unref();
  }

  /** publishes what is still pending, clears the timer */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.flushPumps();
    for (const set of this.alertWaiters.values()) set.clear();
    this.alertWaiters.clear();
    for (const set of this.pumpWaiters.values()) set.clear();
    this.pumpWaiters.clear();
  }

  /** local engine changes, as the core hands them to its listeners */
  publishLocal(changes: readonly LiveChange[]): void {
    for (const c of changes) {
      if (c.type === 'pump') {
        this.pendingPumps.set(c.pump.pump, c.pump);
        continue;
      }
      const a = c.alert;
      this.remoteAlerts.delete(a.id); // this instance holds it now
      if (isOpenAlert(a)) this.o.publish(clusterTopics.alert(a.id), encodeAlert(this.o.instanceId, a), true);
      else {
        // the final state for live views, then the retained copy removed
        this.o.publish(clusterTopics.alert(a.id), encodeAlert(this.o.instanceId, a), false);
        this.o.publish(clusterTopics.alert(a.id), '', true);
      }
      this.published++;
    }
  }

  flushPumps(): void {
    if (this.pendingPumps.size === 0) return;
    for (const [serial, view] of this.pendingPumps) {
      this.remotePumps.delete(serial);
      this.o.publish(clusterTopics.pump(serial), encodePump(this.o.instanceId, view), true);
      this.published++;
    }
    this.pendingPumps.clear();
  }

  /** asks whichever instance holds the alert to acknowledge it */
  requestAck(alertId: string, by: string): void {
    this.o.publish(clusterTopics.ack(alertId), encodeAck(this.o.instanceId, by), false);
  }

  /** asks whichever instance holds the pump to start (untilMs) or end (null) a nurse visit */
  requestVisit(serial: string, untilMs: number | null, by: string): void {
    this.o.publish(clusterTopics.visit(serial), encodeVisit(this.o.instanceId, untilMs, by), false);
  }

  /** resolves with the alert's next remote state that satisfies `ok`, or null after timeoutMs */
  waitForAlert(alertId: string, ok: (a: Alert) => boolean, timeoutMs: number): Promise<Alert | null> {
    return waitOn(this.alertWaiters, alertId, ok, timeoutMs);
  }

  /** resolves with the pump's next remote view that satisfies `ok`, or null after timeoutMs */
  waitForPump(serial: string, ok: (p: PumpView) => boolean, timeoutMs: number): Promise<PumpView | null> {
    return waitOn(this.pumpWaiters, serial, ok, timeoutMs);
  }

  /** one message under pumpwatch/_server/; never throws */
  handle(topic: string, payload: Buffer): void {
    const m = decodeClusterMessage(topic, payload);
    if (!m) {
      this.drops.drop('BAD_CLUSTER_MESSAGE', { topic: topic.slice(0, 160) });
      return;
    }
    if ('instance' in m && m.instance === this.o.instanceId) {
      this.ignoredOwn++;
      return;
    }
    switch (m.kind) {
      case 'alert':
        if (isOpenAlert(m.alert)) this.remoteAlerts.set(m.key, m.alert);
        else this.remoteAlerts.delete(m.key);
        this.emit([{ type: 'alert', alert: m.alert }]);
        for (const w of [...(this.alertWaiters.get(m.key) ?? [])]) w(m.alert);
        return;
      case 'alertRemoved':
        this.remoteAlerts.delete(m.key);
        return;
      case 'pump': {
        const before = this.remotePumps.get(m.key);
        this.remotePumps.set(m.key, { instance: m.instance, pump: m.pump });
        if (!before || before.instance !== m.instance) this.o.onRemotePump?.(m.key, m.instance);
        this.emit([{ type: 'pump', pump: m.pump }]);
        for (const w of [...(this.pumpWaiters.get(m.key) ?? [])]) w(m.pump);
        return;
      }
      case 'pumpRemoved':
        this.remotePumps.delete(m.key);
        return;
      case 'ack':
        this.o.onAckCommand(m.key, m.by);
        return;
      case 'visit':
        this.o.onVisitCommand?.(m.key, m.untilMs, m.by);
        return;
    }
  }

  private emit(changes: LiveChange[]): void {
    this.relayed += changes.length;
    for (const l of this.listeners) {
      try {
        l(changes);
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message }, 'relay listener failed');
      }
    }
  }

  subscribe(listener: (changes: readonly LiveChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  remoteAlert(id: string): Alert | undefined {
    return this.remoteAlerts.get(id);
  }

  /** open alerts other instances hold */
  openRemoteAlerts(): Alert[] {
    return [...this.remoteAlerts.values()];
  }

  remotePump(serial: string): PumpView | undefined {
    return this.remotePumps.get(serial)?.pump;
  }

  remotePumpViews(): PumpView[] {
    return [...this.remotePumps.values()].map((r) => r.pump);
  }
}

/** one waiter on `key` until `ok` holds for a value handed to it, or null after timeoutMs */
function waitOn<T>(waiters: Map<string, Set<(v: T) => void>>, key: string, ok: (v: T) => boolean, timeoutMs: number): Promise<T | null> {
  return new Promise((resolve) => {
    const set = waiters.get(key) ?? new Set();
    waiters.set(key, set);
    const done = (v: T | null): void => {
      clearTimeout(t);
      set.delete(waiter);
      if (set.size === 0) waiters.delete(key);
      resolve(v);
    };
    const waiter = (v: T): void => {
      if (ok(v)) done(v);
    };
    const t = setTimeout(() => done(null), timeoutMs);
    set.add(waiter);
  });
}
