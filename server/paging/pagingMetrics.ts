/** Paging on GET /metrics: pages sent and failed per channel, deliveries retrying, chains that reached nobody. */
import { METRICS } from '../metrics/catalogue.ts';
import { exposeCounterByLabel, exposeGauge, type Registry } from '../metrics/registry.ts';
import type { ChannelName } from './channel.ts';
import { CHANNEL_NAMES } from './pageSender.ts';

export interface PagingFigures {
  sent(channel: ChannelName): number;
  failed(channel: ChannelName): number;
  retrying(): number;
  failedChains(): number;
}

export function registerPagingMetrics(registry: Registry, f: PagingFigures): void {
  exposeCounterByLabel(registry, METRICS.pagesSent, CHANNEL_NAMES, (c) => f.sent(c));
  exposeCounterByLabel(registry, METRICS.pagesFailed, CHANNEL_NAMES, (c) => f.failed(c));
  exposeGauge(registry, METRICS.pageDeliveriesRetrying, () => f.retrying());
  exposeGauge(registry, METRICS.pagingChainsFailed, () => f.failedChains());
}
