/** The pump as /api/pumps and the dashboard show it (protocol/api.ts PumpView). */
import type { PumpView } from '../../protocol/api.ts';
import { pumpToServerMs } from './pumpClock.ts';
import type { PumpRecord } from './pumpRecord.ts';

/** When the program should finish: vtbi ÷ rate from the newest status, pump clock mapped onto the server clock. */
function projectedEndIso(rec: PumpRecord): string | null {
  const rate = rec.rateMlH ?? 0;
  if (!rec.running || rate <= 0 || rec.vtbiMl === null || rec.lastPumpMs === null || rec.clockUntrusted) return null;
  const endPumpMs = rec.lastPumpMs + (rec.vtbiMl / rate) * 3_600_000;
  const ms = pumpToServerMs(rec, endPumpMs);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

export function toPumpView(rec: PumpRecord, activeAlerts: number, gatewayOnline: boolean | null): PumpView {
  return {
    pump: rec.pump,
    gateway: rec.gateway,
    state: rec.state,
    lastSeen: rec.lastSeenServerMs === null ? null : new Date(rec.lastSeenServerMs).toISOString(),
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
  };
}
