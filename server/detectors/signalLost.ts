/**
 * signal_lost (medium): no sentence for signalLostS of server-clock time from a pump with an
 * unfinished program. Cleared by the next sentence from the pump. Not raised while the pump's
 * gateway is known to be offline: gateway_offline already says why, for the same pumps. Nor while
 * the pump's last word was POWER_OFF: it said why it went silent, and pump_off (high) already says
 * it to the nurse; one alert, not two. Not raised during a nurse visit; a silence that outlasts it
 * is counted from the visit's end.
 */
import type { AlertStore, Stamp } from '../alerts/alertStore.ts';
import type { ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
import { hasUnfinishedProgram, type PumpRecord } from '../pumps/pumpRecord.ts';
import { silenceFromServerMs, visitActive } from '../pumps/visit.ts';
import { clockText, durationText, messageZone } from './messageText.ts';

export function serverStamp(serverMs: number, idMs: number): Stamp {
  return { ms: serverMs, clock: 'server', iso: new Date(serverMs).toISOString(), idMs, serverMs, historic: false };
}

/** Called from tick(); `serverZone` for the message when the patient's zone is unknown. */
export function detectSignalLost(rec: PumpRecord, serverMs: number, cfg: ResolvedDetectionConfig, store: AlertStore, serverZone = 'UTC'): void {
  if (rec.lastSeenServerMs === null) return;
  if (rec.restored) {
    // The server was down: give the backlog signalLostS to arrive before calling the pump silent.
    rec.restored = false;
    rec.watchFromServerMs = serverMs;
  }
  const silentMs = serverMs - rec.lastSeenServerMs;
  if (silentMs < cfg.signalLostS * 1000) return;
  // a nurse visit may take the pump away; a silence that outlasts it counts from the visit's end
  if (visitActive(rec, serverMs) || serverMs - silenceFromServerMs(rec, rec.lastSeenServerMs) < cfg.signalLostS * 1000) return;
  if (rec.watchFromServerMs !== null && serverMs - rec.watchFromServerMs < cfg.signalLostS * 1000) return;
  if (!hasUnfinishedProgram(rec, cfg.volumeEpsilonMl) || rec.poweredOff) return;
  if (store.isActive(rec.pump, 'signal_lost') || store.isActive(rec.pump, 'gateway_offline')) return;
  const lastSeenIso = new Date(rec.lastSeenServerMs).toISOString();
  store.raise(rec.pump, rec.gateway, 'signal_lost', serverStamp(serverMs, rec.lastPumpMs ?? rec.lastSeenServerMs),
    `Pump ${rec.pump}: no data for ${durationText(silentMs)} (last heard ${clockText(lastSeenIso, messageZone(rec, serverZone))}) during an infusion. Check the pump is on and near its home gateway ${rec.gateway}.`,
    {
      lastSeen: lastSeenIso, lastSeq: rec.lastSeq, lastPumpTime: rec.pumpTime, lastState: rec.state, silentS: Math.round(silentMs / 1000),
      thresholdS: cfg.signalLostS, gateway: rec.gateway,
    });
}

/** Called on every sentence from the pump, even a stale one: the pump is heard again. */
export function clearSignalLost(rec: PumpRecord, serverMs: number, seq: number, store: AlertStore): void {
  if (!store.isActive(rec.pump, 'signal_lost')) return;
  store.clear(rec.pump, 'signal_lost', serverStamp(serverMs, serverMs), { clearedSeq: seq, clearedServerTime: new Date(serverMs).toISOString() });
}
