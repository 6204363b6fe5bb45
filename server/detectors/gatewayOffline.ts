/**
 * gateway_offline (medium): a home gateway published `offline` (its MQTT last will). Raised for each
 * pump behind it with an unfinished program (one alert per pump, so each patient's list shows it),
 * cleared when the gateway is back online or a sentence arrives through it.
 */
import type { AlertStore } from '../alerts/alertStore.ts';
import type { ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
import { hasUnfinishedProgram, type PumpRecord } from '../pumps/pumpRecord.ts';
import { clockText, messageZone } from './messageText.ts';
import { serverStamp } from './signalLost.ts';

export function raiseGatewayOffline(rec: PumpRecord, serverMs: number, cfg: ResolvedDetectionConfig, store: AlertStore, serverZone = 'UTC'): void {
  if (!hasUnfinishedProgram(rec, cfg.volumeEpsilonMl) || store.isActive(rec.pump, 'gateway_offline')) return;
  const iso = new Date(serverMs).toISOString();
  store.raise(rec.pump, rec.gateway, 'gateway_offline', serverStamp(serverMs, serverMs),
    `Home gateway ${rec.gateway} went offline at ${clockText(iso, messageZone(rec, serverZone))}; pump ${rec.pump} (infusion in progress) is not being watched. Check the gateway has power and internet.`,
    { gateway: rec.gateway, offlineAt: iso, lastSeen: rec.lastSeenServerMs === null ? null : new Date(rec.lastSeenServerMs).toISOString(), lastSeq: rec.lastSeq, lastState: rec.state });
}

export function clearGatewayOffline(rec: PumpRecord, serverMs: number, store: AlertStore): void {
  if (!store.isActive(rec.pump, 'gateway_offline')) return;
  store.clear(rec.pump, 'gateway_offline', serverStamp(serverMs, serverMs), { onlineAt: new Date(serverMs).toISOString() });
}
