/**
 * Clock rules. Durations run on the pump clock; a pump time too far ahead of the server clock is
 * not trusted and the duration clock is then carried on by server time. Clock changes (EVT CLOCK,
 * a jump back with the sequence still advancing) re-anchor durations so they neither gain nor lose
 * time. A sentence lagging the server clock well beyond the pump's usual lag is replayed history.
 */
import type { PumpMessage } from '../../protocol/payloads.ts';
import { seqDistance } from '../../protocol/sentence.ts';
import type { ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
import { rebaseAnchors, type PumpRecord } from './pumpRecord.ts';

/** How one sentence stands against the pump's and server's clocks. Filled in place (no allocation per message). */
export interface TimeVerdict {
  /** older than the newest accepted sentence: kept as evidence, never moves state */
  stale: boolean;
  /** pump time within tolerance of the server clock */
  trusted: boolean;
  /** replayed history (backlog after an outage, ?HIST) */
  historic: boolean;
  pumpMs: number;
  serverMs: number;
  /** duration clock after this sentence */
  effMs: number;
  /** ms the duration clock advanced since the previous accepted sentence */
  elapsedMs: number;
  /** the pump clock was set or jumped; ms it moved (new minus old), 0 otherwise */
  clockJumpMs: number;
}

export function newTimeVerdict(): TimeVerdict {
  return { stale: false, trusted: true, historic: false, pumpMs: 0, serverMs: 0, effMs: 0, elapsedMs: 0, clockJumpMs: 0 };
}

/** Sequence numbers this close ahead of the last one are the pump's next sentences. */
const SEQ_SUCCESSOR_WINDOW = 1000;

export function classifyTime(rec: PumpRecord, msg: PumpMessage, serverMs: number, cfg: ResolvedDetectionConfig, out: TimeVerdict): TimeVerdict {
  const pumpMs = Date.parse(msg.time);
  out.pumpMs = pumpMs;
  out.serverMs = serverMs;
  out.clockJumpMs = 0;
  out.elapsedMs = 0;
  const isClockEvent = msg.type === 'event' && msg.code === 'CLOCK';
  const isPowerOn = msg.type === 'event' && msg.code === 'POWER_ON';
  const successor = rec.lastSeq !== null && seqDistance(rec.lastSeq, msg.seq) > 0 && seqDistance(rec.lastSeq, msg.seq) <= SEQ_SUCCESSOR_WINDOW;
  const wentBack = rec.lastPumpMs !== null && pumpMs < rec.lastPumpMs;
  // same second (the pump clock has 1-s resolution) but a sequence number just behind the newest
  const seqBehind = rec.lastSeq !== null && pumpMs === rec.lastPumpMs && seqDistance(msg.seq, rec.lastSeq) > 0
    && seqDistance(msg.seq, rec.lastSeq) <= SEQ_SUCCESSOR_WINDOW;
  // An unreadable time (validated upstream, so never expected) must not poison the clocks.
  out.stale = !Number.isFinite(pumpMs) || ((wentBack || seqBehind) && !isClockEvent && !isPowerOn && !successor);
  const aheadMs = pumpMs - serverMs;
  out.trusted = aheadMs <= cfg.clockAheadToleranceS * 1000;
  if (out.stale) {
    out.historic = true;
    out.effMs = rec.effMs ?? serverMs;
    return out;
  }

  const prevEff = rec.effMs;
  const serverElapsed = rec.lastAcceptedServerMs === null ? 0 : Math.max(0, serverMs - rec.lastAcceptedServerMs);
  if (prevEff === null) {
    out.effMs = out.trusted ? pumpMs : serverMs;
  } else if (!out.trusted) {
    out.effMs = prevEff + serverElapsed;
  } else {
    const jumped = isClockEvent || wentBack || rec.clockUntrusted;
    if (jumped) {
      // Where the old time base would be now: the CLOCK event says it, else the server clock estimates it.
      const oldNow = isClockEvent ? Date.parse(msg.type === 'event' ? msg.detail : '') : NaN;
      const expected = Number.isFinite(oldNow) && !rec.clockUntrusted ? oldNow : prevEff + serverElapsed;
      const delta = pumpMs - expected;
      if (delta !== 0) rebaseAnchors(rec, delta);
      out.clockJumpMs = isClockEvent && Number.isFinite(oldNow) ? pumpMs - oldNow : delta;
      rec.liveLagMs = null;
    }
    out.effMs = Math.max(pumpMs, rec.effMs ?? pumpMs);
  }
  out.elapsedMs = Math.max(0, out.effMs - (rec.effMs ?? out.effMs));

  const lagMs = serverMs - pumpMs;
  const usualLag = rec.liveLagMs ?? 0;
  out.historic = out.trusted && lagMs - usualLag > cfg.historyLagS * 1000;
  if (!out.historic) rec.liveLagMs = lagMs;
  rec.lastLagMs = lagMs;

  rec.effMs = out.effMs;
  rec.lastPumpMs = pumpMs;
  rec.pumpTime = msg.time;
  rec.lastSeq = msg.seq;
  rec.lastAcceptedServerMs = serverMs;
  rec.clockUntrusted = !out.trusted;
  rec.clockAheadS = Math.max(0, Math.round(aheadMs / 1000));
  return out;
}

/** Pump time mapped onto the server clock with the pump's usual lag (for projectedEnd). */
export function pumpToServerMs(rec: PumpRecord, pumpMs: number): number {
  const lag = rec.liveLagMs ?? rec.lastLagMs ?? 0;
  return pumpMs + lag;
}
