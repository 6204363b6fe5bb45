/** Scale-out metrics: the relay's (with CLUSTER_RELAY) and the handover's (with SHARD or MQTT_SHARED_GROUP). */
import { METRICS as M } from '../metrics/catalogue.ts';
import { exposeCounter, exposeCounterByLabel, exposeGauge, type Registry } from '../metrics/registry.ts';
import type { ClusterRelay } from './clusterRelay.ts';
import type { PumpHandover } from './pumpHandover.ts';

export function registerClusterMetrics(registry: Registry, relay: ClusterRelay | null, handover: PumpHandover | null): void {
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
}
