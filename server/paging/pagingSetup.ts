/** Paging assembled from the settings: store, channels, service, its API for HTTP, its metrics. */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Alert } from '../../protocol/api.ts';
import type { Clock } from '../clock.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { Registry } from '../metrics/registry.ts';
import type { PageChannel } from './channel.ts';
import { createEmailChannel } from './emailChannel.ts';
import type { Patient } from './messages.ts';
import { createPagingApi, type PagingApiImpl } from './pagingApi.ts';
import { registerPagingMetrics } from './pagingMetrics.ts';
import { PagingService } from './pagingService.ts';
import { PagingStore, type PageFence } from './pagingStore.ts';
import { createWebhookChannel } from './webhookChannel.ts';

export interface PagingSettings {
  publicUrl: string;
  smtpUrl: string | null;
  pageFrom: string | null;
  pageAcceptS: number;
  pageGroupS: number;
  pageRetryMs: number;
  pageWebhookUrl: string | null;
  pageWebhookSecret: string | null;
}

export interface PagingSetupOptions {
  pool: pg.Pool;
  settings: PagingSettings;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  metrics: Registry;
  whenUp: () => Promise<void>;
  openAlerts: () => Alert[];
  patientOf: (alert: Alert) => Promise<Patient>;
  owns?: (pump: string) => boolean;
  /** the core holds the pump's state now (rebuilt after a takeover) */
  holds?: (pump: string) => boolean;
  /** with leases: a stale owner cannot claim a step */
  fence?: PageFence;
  /** more channels (Web Push) */
  extraChannels?: readonly PageChannel[];
}

export interface Paging {
  service: PagingService;
  api: PagingApiImpl;
  start(): void;
  stop(): Promise<void>;
}

export function createPaging(o: PagingSetupOptions): Paging {
  const s = o.settings;
  const log = o.log.child({ component: 'paging' });
  const store = new PagingStore(o.pool, o.fence ?? null);
  const email = s.smtpUrl !== null
    ? createEmailChannel({ smtpUrl: s.smtpUrl, from: s.pageFrom ?? `pumpwatch@${new URL(s.publicUrl).hostname}` })
    : null;
  const channels: PageChannel[] = [
    ...(email ? [email] : []),
    ...(o.extraChannels ?? []),
    ...(s.pageWebhookUrl !== null && s.pageWebhookSecret !== null ? [createWebhookChannel({ url: s.pageWebhookUrl, secret: s.pageWebhookSecret })] : []),
  ];
  if (channels.length === 0) log.warn('paging has no channel (SMTP_URL, PAGE_WEBHOOK_URL): pages will fail');
  const service = new PagingService({
    store, bus: o.bus, clock: o.clock, log, channels, publicUrl: s.publicUrl,
    acceptS: s.pageAcceptS, groupS: s.pageGroupS, firstRetryMs: s.pageRetryMs,
    patientOf: o.patientOf, openAlerts: o.openAlerts, whenUp: o.whenUp, ...(o.owns ? { owns: o.owns } : {}),
    ...(o.holds ? { holds: o.holds } : {}),
  });
  const api = createPagingApi({ service, store, clock: o.clock, log, patientOf: o.patientOf });
  registerPagingMetrics(o.metrics, {
    sent: (c) => service.sender.stats.get(c)?.sent ?? 0,
    failed: (c) => service.sender.stats.get(c)?.failed ?? 0,
    retrying: () => service.sender.retrying(),
    failedChains: () => service.failedChains(),
  });
  return {
    service, api,
    start: () => service.start(),
    async stop() {
      await service.stop();
      email?.close();
    },
  };
}
