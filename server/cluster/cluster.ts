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
import type { LiveChange } from '../events/facts.ts';
import type { ApiBackend } from '../http/backend.ts';
import { ownsPump } from '../ingest/shard.ts';
import type { PointStore } from '../storage/influxStore.ts';
import { clusterBackend } from './clusterBackend.ts';
import { CLUSTER_FILTER, CLUSTER_ROOT } from './clusterMessages.ts';
import { ClusterRelay } from './clusterRelay.ts';
import { FleetBilling } from './fleetBilling.ts';
import { LeaseCluster, storedPumpSerials } from './leaseCluster.ts';
import type { LeaseStore } from './leases.ts';
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
  /** CLUSTER_MODE=lease: the lease table, a checkpoint on demand, and where stored pumps are listed */
  lease?: { store: LeaseStore; points: PointStore; checkpointNow(): Promise<void> };
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
  /** CLUSTER_MODE=lease: leases, replay buffer, takeover */
  readonly lease: LeaseCluster | null;
  private unsubscribe: (() => void) | null = null;
  /** lease mode: acknowledgements of alerts no instance held when they came, by alert id */
  private readonly pendingAcks = new Map<string, { by: string; atMs: number }>();

  constructor(private readonly o: ClusterOptions) {
    const c = o.config;
    const log = o.log.child({ component: 'cluster' });
    const leased = c.clusterMode === 'lease' && o.lease !== undefined;
    const clustered = c.shard !== null || c.sharedGroup !== null || leased;
    this.handover = clustered
      ? new PumpHandover({
        clock: o.clock, log,
        staleAfterMs: c.sharedGroup !== null ? staleAfterMs(c.checkpointMs) : null,
        owns: leased ? (serial) => this.lease?.owns(serial) === true : (serial) => ownsPump(c.shard, serial),
        rebuild: async (serial) => {
          await o.rebuild(serial);
          if (leased) this.announce(serial);
        },
        accept: (topic, payload) => o.pipeline.accept(topic, payload),
        forget: (serial) => o.pipeline.forgetPump(serial),
        dropped: (serial) => o.pipeline.drops.drop('HANDOVER_QUEUE_FULL', { pump: serial }),
        ...(leased ? {
          fresh: (serial: string) => this.lease?.fresh(serial) === true,
          lastJudged: (serial: string) => o.pipeline.lastIdentity(serial),
          covered: (serial: string) => o.pipeline.drops.drop('ALREADY_JUDGED', { pump: serial }),
        } : {}),
      })
      : null;
    const handover = this.handover;
    this.lease = leased && handover && o.lease
      ? new LeaseCluster({
        store: o.lease.store, clock: o.clock, instanceId: c.instanceId, leaseMs: c.leaseS * 1000, checkpointMs: c.checkpointMs, log, handover,
        localPumps: () => o.core.engine.pumps().map((p) => p.pump),
        notMine: () => {
          o.pipeline.notMine++;
        },
        storedPumps: () => storedPumpSerials(o.lease!.points),
        checkpointNow: () => o.lease!.checkpointNow(),
      })
      : null;
    this.relay = c.clusterRelay
      ? new ClusterRelay({
        instanceId: c.instanceId, publish: (topic, payload, retain) => o.publish(topic, payload, retain), log,
        onAckCommand: (id, by) => {
          const a = o.core.engine.alert(id);
          if (a && !a.acknowledged) o.pipeline.acknowledge(id, by);
          // lease mode: nobody may hold it right now (its pump is being taken over): kept for the next holder
          else if (!a && this.lease) this.keepAck(id, by);
        },
        onRemotePump: (serial, instance) => this.handover?.releasedTo(serial, instance),
        onVisitCommand: (serial, untilMs, by) => {
          if (o.core.engine.pump(serial)) o.pipeline.setVisit(serial, untilMs, by);
        },
      })
      : null;
  }

  /**
   * Lease mode: a pump just rebuilt here is announced with its open alerts, which the restore
   * does not report as changes. The instance that held it before has forgotten it, and shows it
   * again only from what this one publishes.
   */
  private announce(serial: string): void {
    for (const a of this.o.core.engine.openAlerts()) {
      const ack = a.pump === serial ? this.pendingAcks.get(a.id) : undefined;
      if (!ack) continue;
      this.pendingAcks.delete(a.id);
      if (!a.acknowledged) this.o.pipeline.acknowledge(a.id, ack.by);
    }
    const alerts = this.o.core.engine.openAlerts().filter((a) => a.pump === serial);
    if (alerts.length > 0 && this.o.bus.has('changes')) this.o.bus.emit('changes', alerts.map((alert): LiveChange => ({ type: 'alert', alert })));
    this.o.core.republishPumps([serial]);
  }

  private keepAck(id: string, by: string): void {
    const now = this.o.clock.now();
    // as long as a takeover can take; every instance keeps them, the one that rebuilds the pump applies them
    const keepMs = 3 * this.o.config.leaseS * 1000;
    for (const [k, v] of this.pendingAcks) if (now - v.atMs > keepMs) this.pendingAcks.delete(k);
    if (this.pendingAcks.size < 10_000) this.pendingAcks.set(id, { by, atMs: now });
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
    if (this.lease?.keepIfNotMine(topic, payload)) return;
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
      const keep = this.lease ? this.lease.owns(s) : c.sharedGroup !== null ? epoch === undefined || epoch === this.o.journalEpoch : ownsPump(c.shard, s);
      if (keep) kept.push(s);
      else {
        this.o.pipeline.forgetPump(s);
        forgotten++;
      }
    }
    // lease mode: nothing is held at start, every pump of a partition taken later is read from storage first
    this.handover?.startedWith(kept, complete && this.lease === null);
    return { kept: kept.length, forgotten };
  }

  /** the backend the HTTP layer serves: the whole fleet when the relay is on */
  wrapBackend(base: ApiBackend): ApiBackend {
    const relay = this.relay;
    const lease = this.lease;
    if (lease) {
      // §4: with CLUSTER_MODE, health says which instance answered and how much it judges
      const inner = base;
      base = {
        ...inner,
        health: async () => ({ ...(await inner.health()), cluster: { instance: this.o.config.instanceId, owned: lease.leases.owned().length, partitions: lease.leases.partitions } }),
      };
    }
    if (!relay) return base;
    const b = this.o.billing;
    const now = (): number => this.o.clock.now();
    return clusterBackend(base, relay, {
      now,
      isLocalAlert: (id) => this.o.core.engine.alert(id) !== undefined,
      ...(lease ? { askedAck: (id: string, by: string) => this.keepAck(id, by) } : {}),
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
    const lease = this.lease;
    this.unsubscribe = this.o.bus.on('changes', (changes) => relay.publishLocal(lease ? lease.ownChanges(changes) : changes));
  }

  /** lease mode: the rounds begin (call when PostgreSQL is reachable; again after an outage is harmless) */
  startLeases(): void {
    this.lease?.start();
  }

  /** lease mode: partitions whose time ran out are dropped before the core's timers judge anything */
  checkLeases(): void {
    this.lease?.leases.checkExpiry();
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
    // lease mode: what was judged is stored, then the leases are given up so others take over at once
    const lease = this.o.lease;
    if (this.lease && lease) await this.lease.stop(() => lease.checkpointNow());
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.relay?.stop();
  }
}
