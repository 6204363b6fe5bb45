/** Builders for dashboard unit tests. */
import type { Alert, PumpView, TelemetryPoint } from '../../../protocol/api.ts';

export function pump(serial: string, over: Partial<PumpView> = {}): PumpView {
  return {
    pump: serial, gateway: 'gw-1', state: 'RUN', lastSeen: '2026-11-27T10:00:00.000Z', rateMlH: 5, infusedMl: 10, vtbiMl: 220,
    reservoirMl: 220, pressureMmHg: 40, batteryPct: 90, alarms: [], programId: 'P1', projectedEnd: null, activeAlerts: 0, ...over,
  };
}

export function alert(id: string, over: Partial<Alert> = {}): Alert {
  return {
    id, pump: 'CS7-1', gateway: 'gw-1', type: 'occlusion', severity: 'high', status: 'active', acknowledged: false,
    ackedBy: null, ackedAt: null, raisedAt: '2026-11-27T10:00:00.000Z', clearedAt: null, message: 'Line blocked', detail: {}, ...over,
  };
}

export function point(time: string, over: Partial<TelemetryPoint> = {}): TelemetryPoint {
  return {
    time, seq: 1, state: 'RUN', rateMlH: 5, infusedMl: 1, vtbiMl: 229, reservoirMl: 229, pressureMmHg: 35, batteryPct: 98, alarms: [], ...over,
  };
}
