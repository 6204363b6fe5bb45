/** Plausible pumps, alerts, telemetry and episodes for the fake server and the bench. */
import type { Alert, Episode, PumpView, TelemetryPoint } from '../../protocol/api.ts';
import type { PumpState } from '../../protocol/sentence.ts';

const DRUGS = ['FLUOROURACIL', 'CYTARABINE', 'IFOSFAMIDE', 'GEMCITABINE'];

export function fakePump(i: number, nowMs: number, over: Partial<PumpView> = {}): PumpView {
  const infused = (i * 7.3) % 200;
  const states: PumpState[] = ['RUN', 'RUN', 'RUN', 'RUN', 'PAUSE', 'END', 'RUN', 'IDLE'];
  return {
    pump: `CS7-${String(4500 + i).padStart(6, '0')}`, gateway: `home-${String(i % 250).padStart(3, '0')}`,
    state: states[i % states.length]!, lastSeen: new Date(nowMs - (i % 50) * 1000).toISOString(),
    rateMlH: 5, infusedMl: Math.round(infused * 100) / 100, vtbiMl: Math.round((230 - infused) * 100) / 100,
    reservoirMl: Math.round((230 - infused) * 100) / 100, pressureMmHg: 30 + (i % 20), batteryPct: 100 - (i % 90),
    alarms: [], programId: `FOLFOX-C${(i % 6) + 1}`, projectedEnd: new Date(nowMs + ((230 - infused) / 5) * 3_600_000).toISOString(),
    activeAlerts: 0, drug: DRUGS[i % DRUGS.length]!, programVolumeMl: 230, programHours: 46, gatewayOnline: true,
    label: i % 3 === 0 ? `Home ${i}` : null, ...over,
  };
}

export function fakeAlert(id: string, pump: string, nowMs: number, over: Partial<Alert> = {}): Alert {
  return {
    id, pump, gateway: 'home-001', type: 'occlusion', severity: 'high', status: 'active', acknowledged: false, ackedBy: null,
    ackedAt: null, raisedAt: new Date(nowMs).toISOString(), clearedAt: null,
    message: 'Line blocked downstream (pump reports OCCL_DN): check the line and the pump now.', detail: { inferred: false }, ...over,
  };
}

/** A 46 h infusion at 5 mL/h, one point per 10 min, with an occlusion episode. */
export function fakeTelemetry(startMs: number, hours: number): TelemetryPoint[] {
  const out: TelemetryPoint[] = [];
  let infused = 0;
  for (let m = 0, seq = 10; m <= hours * 60; m += 10, seq++) {
    const occluded = m >= 600 && m < 660;
    const paused = m >= 900 && m < 960;
    const state: PumpState = occluded ? 'ALARM' : paused ? 'PAUSE' : 'RUN';
    if (state === 'RUN') infused += 5 / 6;
    out.push({
      time: new Date(startMs + m * 60_000).toISOString(), seq, state, rateMlH: 5, infusedMl: Math.round(infused * 100) / 100,
      vtbiMl: Math.round((230 - infused) * 100) / 100, reservoirMl: Math.round((230 - infused) * 100) / 100,
      pressureMmHg: occluded ? 790 : m >= 560 && m < 600 ? 300 + (m - 560) * 12 : 35 + (m % 30) / 10,
      batteryPct: Math.max(5, 100 - Math.floor(m / 40)), alarms: occluded ? ['OCCL_DN'] : [],
    });
  }
  return out;
}

export function fakeEpisodes(nowMs: number): Episode[] {
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  const start1 = nowMs - 60 * 3_600_000;
  const start2 = nowMs - 30 * 3_600_000;
  return [
    {
      id: 'ep-1', pump: 'CS7-004500', programId: 'FOLFOX-C1', drug: 'FLUOROURACIL', start: new Date(start1).toISOString(),
      end: new Date(start1 + 46 * 3_600_000).toISOString(), deliveryHours: 45.6, interruptions: [
        { from: new Date(start1 + 10 * 3_600_000).toISOString(), to: new Date(start1 + 10.4 * 3_600_000).toISOString(), minutes: 24, reason: 'PAUSE' },
      ], longestInterruptionMin: 24, continuous24h: true, code: 'S9330', serviceDays: [day(start1), day(start1 + 86_400_000)],
      evidence: { firstSeq: 41, lastSeq: 2800, sentences: 2760 },
    },
    {
      id: 'ep-2', pump: 'CS7-004501', programId: 'FOLFOX-C2', drug: 'FLUOROURACIL', start: new Date(start2).toISOString(),
      end: new Date(start2 + 20 * 3_600_000).toISOString(), deliveryHours: 19.2, interruptions: [
        { from: new Date(start2 + 5 * 3_600_000).toISOString(), to: new Date(start2 + 5.8 * 3_600_000).toISOString(), minutes: 48, reason: 'ALARM OCCL_DN' },
      ], longestInterruptionMin: 48, continuous24h: false, code: 'S9331', serviceDays: [day(start2)],
      evidence: { firstSeq: 3, lastSeq: 1210, sentences: 1208 },
    },
  ];
}
