/** The pump as /api/pumps and the dashboard show it (protocol/api.ts PumpView). */
import type { PumpView } from '../../protocol/api.ts';
import { isoFromMs } from './isoTime.ts';
import { pumpToServerMs } from './pumpClock.ts';
import type { PumpRecord } from './pumpRecord.ts';
import { visitView } from './visit.ts';

/** Last projected end per pump, to the minute: from one status to the next it rarely moves. */
const endCache = new WeakMap<PumpRecord, { minute: number; iso: string }>();

/**
 * When the program should finish: vtbi ÷ rate from the newest status, pump clock mapped onto the
 * server clock, to the minute (vi's 0.01 mL steps make the exact second jitter anyway).
 */
function projectedEndIso(rec: PumpRecord): string | null {
  const rate = rec.rateMlH ?? 0;
  if (!rec.running || rate <= 0 || rec.vtbiMl === null || rec.lastPumpMs === null || rec.clockUntrusted) return null;
  const endPumpMs = rec.lastPumpMs + (rec.vtbiMl / rate) * 3_600_000;
  const minute = Math.round(pumpToServerMs(rec, endPumpMs) / 60_000);
  if (!Number.isFinite(minute)) return null;
  const cached = endCache.get(rec);
  if (cached?.minute === minute) return cached.iso;
  const iso = new Date(minute * 60_000).toISOString();
  endCache.set(rec, { minute, iso });
  return iso;
}

export function toPumpView(rec: PumpRecord, activeAlerts: number, gatewayOnline: boolean | null): PumpView {
  return {
    pump: rec.pump,
    gateway: rec.gateway,
    state: rec.state,
    lastSeen: rec.lastSeenServerMs === null ? null : isoFromMs(rec.lastSeenServerMs),
    rateMlH: rec.rateMlH,
    infusedMl: rec.infusedMl,
    vtbiMl: rec.vtbiMl,
    reservoirMl: rec.reservoirMl,
    pressureMmHg: rec.pressureMmHg,
    batteryPct: rec.batteryPct,
    alarms: [...rec.alarms],
    programId: rec.programId,
    projectedEnd: projectedEndIso(rec),
    activeAlerts,
    drug: rec.drug,
    programVolumeMl: rec.programVolumeMl,
    programHours: rec.programHours,
    pumpTime: rec.pumpTime,
    gatewayOnline,
    poweredOff: rec.poweredOff,
    // whole seconds, floored like billing's deliveryHours, so the two read the same
    deliveredHours: rec.episodeStartEffMs === null ? null : Math.floor((rec.priorDeliveryH + Math.round(rec.runMs / 1000) / 3600) * 10_000) / 10_000,
    visit: visitView(rec),
  };
}
