/** Scale-out metrics: the relay's (with CLUSTER_RELAY) and the handover's (with SHARD or MQTT_SHARED_GROUP). */
import { METRICS as M } from '../metrics/catalogue.ts';
import { exposeCounter, exposeCounterByLabel, exposeGauge, type Registry } from '../metrics/registry.ts';
import type { ClusterRelay } from './clusterRelay.ts';
import type { LeaseCluster } from './leaseCluster.ts';
import type { PumpHandover } from './pumpHandover.ts';

export function registerClusterMetrics(registry: Registry, relay: ClusterRelay | null, handover: PumpHandover | null, lease: LeaseCluster | null = null): void {
  if (relay) {
    exposeCounter(registry, M.clusterPublished, () => relay.published);
    exposeCounter(registry, M.clusterRelayed, () => relay.relayed);
    exposeGauge(registry, M.clusterRemotePumps, () => relay.remotePumpViews().length);
    exposeGauge(registry, M.clusterRemoteOpenAlerts, () => relay.openRemoteAlerts().length);
    exposeCounterByLabel(registry, M.clusterRelayDropped, relay.drops.reasons, (r) => relay.drops.count(r));
  }
  if (handover) {
    exposeCounter(registry, M.clusterRebuilds, () => handover.rebuilds);
    exposeCounter(registry, M.clusterRebuildFailures, () => handover.rebuildFailures);
    exposeGauge(registry, M.clusterLoadingPumps, () => handover.loadingPumps);
  }
  if (lease) {
    const l = lease.leases;
    exposeGauge(registry, M.clusterLeasesOwned, () => l.owned().length);
    exposeCounter(registry, M.clusterLeasesAcquired, () => l.acquired);
    exposeCounter(registry, M.clusterLeasesLost, () => l.lost);
    exposeCounter(registry, M.clusterLeasesReleased, () => l.released);
    exposeGauge(registry, M.clusterReplayKept, () => lease.buffer.size);
    exposeCounter(registry, M.clusterReplayDropped, () => lease.buffer.dropped);
  }
}
