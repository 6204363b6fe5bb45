/**
 * line_pressure_lost (high): during RUN at a rate above 0 the downstream pressure falls to about 0
 * and stays there: a disconnected or leaking line. The pump keeps pumping and vi keeps counting, so
 * nothing else sees it, yet the patient gets no dose and the chemotherapy spills. Only a line that
 * had pressure counts (running baseline ≥ linePressureMinBaselineMmHg: a central line can run at a
 * few mmHg). A reading is lost at ≤ linePressureLostMmHg; it takes linePressureLostSamples
 * consecutive RUN statuses over at least linePressureLostS of RUN time, so a movement dip or one
 * bad reading never alerts. A pump without a pressure sensor (empty field) never raises it.
 * Cleared when a RUN reading is back to half the baseline it had, or the program ends.
 */
import type { PumpRecord } from '../pumps/pumpRecord.ts';
import { pumpToServerMs } from '../pumps/pumpClock.ts';
import { visitActive } from '../pumps/visit.ts';
import { clockText, durationText, messageZone } from './messageText.ts';
import { sentenceEvidence, type SentenceInput } from './types.ts';

function notLost(rec: PumpRecord): void {
  rec.pressureLostSinceRunMs = null;
  rec.pressureLostSamples = 0;
  rec.pressureLostSinceSeq = null;
  rec.pressureLostSincePumpTime = null;
}

export function detectLinePressureLost(d: SentenceInput): void {
  const { rec, msg, store, at, cfg } = d;
  const active = store.isActive(rec.pump, 'line_pressure_lost');
  if (!rec.programActive) {
    notLost(rec);
    rec.pressureRefMmHg = null;
    if (active) store.clear(rec.pump, 'line_pressure_lost', at, { clearedSeq: msg.seq, clearedPumpTime: msg.time, clearedBecause: 'program ended or was stopped' });
    return;
  }
  if (msg.type !== 'status') return;
  const p = msg.pressureMmHg;
  // not delivering, or no reading: nothing to judge; an active alert stays (nothing says the line is back)
  if (!rec.running || p === null) {
    notLost(rec);
    return;
  }
  const ref = rec.pressureRefMmHg;
  if (p > cfg.linePressureLostMmHg) {
    notLost(rec);
    if (!active) {
      if (rec.baselineMmHg !== null) rec.pressureRefMmHg = rec.baselineMmHg;
    } else if (ref === null || p >= ref / 2) {
      store.clear(rec.pump, 'line_pressure_lost', at, { clearedSeq: msg.seq, clearedPumpTime: msg.time, clearedPressureMmHg: p });
    }
    return;
  }
  if (active) return;
  if (rec.pressureLostSinceRunMs === null) {
    rec.pressureLostSinceRunMs = rec.runMs;
    rec.pressureLostSinceSeq = msg.seq;
    rec.pressureLostSincePumpTime = msg.time;
  }
  rec.pressureLostSamples++;
  if (ref === null || ref < cfg.linePressureMinBaselineMmHg) return;
  const lostMs = rec.runMs - rec.pressureLostSinceRunMs;
  if (rec.pressureLostSamples < cfg.linePressureLostSamples || lostMs < cfg.linePressureLostS * 1000) return;
  // a nurse visit: the line may be disconnected on purpose (a flush, a bag change); still lost after it, it pages
  if (visitActive(rec, d.t.historic ? pumpToServerMs(rec, d.t.pumpMs) : d.t.serverMs)) return;
  store.raise(rec.pump, rec.gateway, 'line_pressure_lost', at,
    `Pump ${rec.pump}: line pressure fell to ${p} mmHg (usual ${Math.round(ref)}) while running, for ${durationText(lostMs)} since ${clockText(rec.pressureLostSincePumpTime, messageZone(rec, d.clinical.serverTimeZone))}; the line may be disconnected or leaking, so the medicine is not reaching the patient and may be spilling. Call the patient to stop the pump and check the connection; handle any spill as cytotoxic.`,
    {
      ...sentenceEvidence(d), pressureMmHg: p, baselineMmHg: Math.round(ref), lostSinceSeq: rec.pressureLostSinceSeq,
      lostSincePumpTime: rec.pressureLostSincePumpTime, lostMinutes: Math.round(lostMs / 60_000), lostReadings: rec.pressureLostSamples,
      rateMlH: rec.rateMlH, infusedMl: rec.infusedMl, thresholdMmHg: cfg.linePressureLostMmHg,
    });
}
