/**
 * Scale-out wiring of one instance (docs/scaling.md): which pump topics it subscribes to (all,
 * SHARD-filtered, or an MQTT 5 shared subscription), the on-demand handover in front of the core,
 * and the relay that gives every instance the whole fleet's view.
 */
import type { Logger } from 'pino';
import { topics } from '../../protocol/topics.ts';
import type { EpisodeTracker } from '../billing/types.ts';
import type { Clock } from '../clock.ts';
import type { ServerConfig } from '../config.ts';
import type { IngestPipeline } from '../core/ingestPipeline.ts';
import type { PumpwatchCore } from '../core/pumpwatchCore.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { ApiBackend } from '../http/backend.ts';
import { ownsPump } from '../ingest/shard.ts';
import type { PointStore } from '../storage/influxStore.ts';
import { clusterBackend } from './clusterBackend.ts';
import { CLUSTER_FILTER, CLUSTER_ROOT } from './clusterMessages.ts';
import { ClusterRelay } from './clusterRelay.ts';
import { FleetBilling } from './fleetBilling.ts';
import type { BillingHistory } from '../core/billingHistory.ts';
import { PumpHandover } from './pumpHandover.ts';

export interface ClusterOptions {
  config: Readonly<ServerConfig>;
  core: PumpwatchCore;
  /** pump traffic goes through it; acknowledgements asked for by other instances are journalled by it */
  pipeline: IngestPipeline;
  /** this instance's changes are the `changes` fact */
  bus: EventBus;
  journalEpoch: string;
  clock: Clock;
  log: Logger;
  /** publishes on the ingest's broker connection (one broker account per instance) */
  publish(topic: string, payload: string, retain: boolean): void;
  /** forgets a pump and reloads it from storage */
  rebuild(serial: string): Promise<unknown>;
  /** billing of the pumps other instances hold, read from storage */
  billing?: { store: PointStore; createTracker(): EpisodeTracker; history?: BillingHistory };
}

/** a pump silent this long under a shared subscription may have been judged elsewhere since */
export function staleAfterMs(checkpointMs: number): number {
  return Math.max(60_000, 4 * checkpointMs);
}

/** what the ingest of an instance so configured subscribes to */
export function clusterSubscriptions(c: Pick<ServerConfig, 'sharedGroup' | 'clusterRelay'>): string[] {
  const g = c.sharedGroup;
  const list = [g !== null ? `$share/${g}/${topics.allPumps}` : topics.allPumps, topics.allAvailability];
  if (c.clusterRelay) list.push(CLUSTER_FILTER);
  return list;
}

export class Cluster {
  readonly relay: ClusterRelay | null;
  readonly handover: PumpHandover | null;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly o: ClusterOptions) {
    const c = o.config;
    const log = o.log.child({ component: 'cluster' });
    const clustered = c.shard !== null || c.sharedGroup !== null;
    this.handover = clustered
      ? new PumpHandover({
        clock: o.clock, log,
        staleAfterMs: c.sharedGroup !== null ? staleAfterMs(c.checkpointMs) : null,
        owns: (serial) => ownsPump(c.shard, serial),
        rebuild: async (serial) => {
          await o.rebuild(serial);
        },
        accept: (topic, payload) => o.pipeline.accept(topic, payload),
        forget: (serial) => o.pipeline.forgetPump(serial),
        dropped: (serial) => o.pipeline.drops.drop('HANDOVER_QUEUE_FULL', { pump: serial }),
      })
      : null;
    this.relay = c.clusterRelay
      ? new ClusterRelay({
        instanceId: c.instanceId, publish: (topic, payload, retain) => o.publish(topic, payload, retain), log,
        onAckCommand: (id, by) => {
          const a = o.core.engine.alert(id);
          if (a && !a.acknowledged) o.pipeline.acknowledge(id, by);
        },
        onRemotePump: (serial, instance) => this.handover?.releasedTo(serial, instance),
        onVisitCommand: (serial, untilMs, by) => {
          if (o.core.engine.pump(serial)) o.pipeline.setVisit(serial, untilMs, by);
        },
      })
      : null;
  }

  /** what the ingest subscribes to */
  subscriptions(): string[] {
    return clusterSubscriptions(this.o.config);
  }

  /** every MQTT message: instance-to-instance traffic to the relay, pump traffic through the handover */
  accept(topic: string, payload: Buffer): void {
    if (topic.startsWith(`${CLUSTER_ROOT}/`)) {
      if (this.relay) this.relay.handle(topic, payload);
      return;
    }
    if (this.handover) this.handover.accept(topic, payload);
    else this.o.pipeline.accept(topic, payload);
  }

  /**
   * After the start-up restore: keep the pumps this instance holds (its SHARD; under a shared
   * subscription, those last checkpointed from its own journal) and forget the others, so it never
   * raises signal_lost for a pump another instance is watching.
   */
  afterRestore(complete: boolean): { kept: number; forgotten: number } {
    const { core, config: c } = this.o;
    const serials = new Set<string>([...core.engine.pumps().map((p) => p.pump), ...core.restoredPumps()]);
    const kept: string[] = [];
    let forgotten = 0;
    for (const s of serials) {
      if (s.startsWith('@')) continue;
      // shared: checkpointed from this instance's journal, or known only from its journal
      const epoch = core.restoredEpoch(s);
      const keep = c.sharedGroup !== null ? epoch === undefined || epoch === this.o.journalEpoch : ownsPump(c.shard, s);
      if (keep) kept.push(s);
      else {
        this.o.pipeline.forgetPump(s);
        forgotten++;
      }
    }
    this.handover?.startedWith(kept, complete);
    return { kept: kept.length, forgotten };
  }

  /** the backend the HTTP layer serves: the whole fleet when the relay is on */
  wrapBackend(base: ApiBackend): ApiBackend {
    const relay = this.relay;
    if (!relay) return base;
    const b = this.o.billing;
    const now = (): number => this.o.clock.now();
    return clusterBackend(base, relay, {
      now,
      isLocalAlert: (id) => this.o.core.engine.alert(id) !== undefined,
      ...(b ? {
        billing: {
          store: b.store,
          fleet: new FleetBilling({ store: b.store, createTracker: () => b.createTracker(), isLocalPump: (s) => this.o.core.engine.pump(s) !== undefined, now }),
          ...(b.history ? { history: b.history } : {}),
        },
      } : {}),
    });
  }

  start(): void {
    const relay = this.relay;
    if (!relay) return;
    relay.start();
    this.unsubscribe = this.o.bus.on('changes', (changes) => relay.publishLocal(changes));
  }

  /** before the ingest stops: what this instance changed goes out while its connection is up */
  publishPending(): void {
    if (!this.relay) return;
    this.o.core.flushChanges();
    this.relay.flushPumps();
  }

  /** after the ingest stopped: finishes rebuilds under way and lets go of the core */
  async stop(): Promise<void> {
    await this.handover?.stop();
    this.o.core.flushChanges();
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.relay?.stop();
  }
}
