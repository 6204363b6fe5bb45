/**
 * Clock rules. Durations run on the pump clock; a pump time too far ahead of the server clock is
 * not trusted and the duration clock is then carried on by server time. Clock changes (EVT CLOCK,
 * a jump back with the sequence still advancing) re-anchor durations so they neither gain nor lose
 * time. Whether a sentence is live or history is judged from what the gateway knows (its `received`
 * stamp, the `replay` flag of a ?HIST answer) and from the steps of the pump clock against
 * `received`, never from whether the pump clock is right: see liveness() below.
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
  /** received (gateway clock) minus pump time, ms: how far the pump clock is behind, for a live sentence */
  offsetMs: number;
  /** live, and the pump clock has advanced in step with received time for HEARD_LIVE_MIN_MS */
  heardLive: boolean;
}

export function newTimeVerdict(): TimeVerdict {
  return { stale: false, trusted: true, historic: false, pumpMs: 0, serverMs: 0, effMs: 0, elapsedMs: 0, clockJumpMs: 0, offsetMs: 0, heardLive: false };
}

/** Sequence numbers this close ahead of the last one are the pump's next sentences. */
const SEQ_SUCCESSOR_WINDOW = 1000;
/** A live sentence's pump time may run ahead of its received time by the clock's 1-s resolution and read jitter... */
const STEP_SLACK_MS = 2000;
/** ...and by drift, a fraction of the time between the two sentences. */
const STEP_DRIFT = 0.01;
/** Lines read closer together than this are back to back: written at once, not as they happened (the gateway's replay gap). */
const BACK_TO_BACK_MS = 500;
/** Pump time advancing in step with received time this long is a pump heard live: a burst written at once spans milliseconds. */
export const HEARD_LIVE_MIN_MS = 5000;

function stepToleranceMs(receivedElapsedMs: number): number {
  return STEP_SLACK_MS + STEP_DRIFT * Math.abs(receivedElapsedMs);
}

export function classifyTime(rec: PumpRecord, msg: PumpMessage, serverMs: number, cfg: ResolvedDetectionConfig, out: TimeVerdict): TimeVerdict {
  const pumpMs = Date.parse(msg.time);
  out.pumpMs = pumpMs;
  out.serverMs = serverMs;
  out.clockJumpMs = 0;
  out.elapsedMs = 0;
  out.heardLive = false;
  const receivedParsed = Date.parse(msg.received);
  const receivedMs = Number.isFinite(receivedParsed) ? receivedParsed : serverMs;
  out.offsetMs = receivedMs - pumpMs;
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
  let jumped = false;
  const serverElapsed = rec.lastAcceptedServerMs === null ? 0 : Math.max(0, serverMs - rec.lastAcceptedServerMs);
  if (prevEff === null) {
    out.effMs = out.trusted ? pumpMs : serverMs;
  } else if (!out.trusted) {
    out.effMs = prevEff + serverElapsed;
  } else {
    jumped = isClockEvent || wentBack || rec.clockUntrusted;
    if (jumped) {
      // Where the old time base would be now: the CLOCK event says it, else the server clock estimates it.
      const oldNow = isClockEvent ? Date.parse(msg.type === 'event' ? msg.detail : '') : NaN;
      const expected = Number.isFinite(oldNow) && !rec.clockUntrusted ? oldNow : prevEff + serverElapsed;
      const delta = pumpMs - expected;
      if (delta !== 0) rebaseAnchors(rec, delta);
      out.clockJumpMs = isClockEvent && Number.isFinite(oldNow) ? pumpMs - oldNow : delta;
      rec.liveLagMs = null;
      // the clock was set: its offset is learned again
      rec.liveOffsetMs = null;
      rec.liveRunFromReceivedMs = null;
      rec.clockBehindS = 0;
    }
    out.effMs = Math.max(pumpMs, rec.effMs ?? pumpMs);
  }
  out.elapsedMs = Math.max(0, out.effMs - (rec.effMs ?? out.effMs));

  const lagMs = serverMs - pumpMs;
  out.historic = liveness(rec, msg, receivedMs, serverMs, out, jumped, cfg);
  if (!out.historic) rec.liveLagMs = lagMs;
  rec.lastLagMs = lagMs;
  rec.lastReceivedMs = receivedMs;

  rec.effMs = out.effMs;
  rec.lastPumpMs = pumpMs;
  rec.pumpTime = msg.time;
  rec.lastSeq = msg.seq;
  rec.lastAcceptedServerMs = serverMs;
  rec.clockUntrusted = !out.trusted;
  rec.clockAheadS = Math.max(0, Math.round(aheadMs / 1000));
  return out;
}

/**
 * Whether a sentence is history (true) or live, and whether the pump is heard live. The gateway's
 * knowledge first: a ?HIST answer (`replay`), or a sentence that reached the gateway more than
 * historyLag before us (it waited in the gateway's queue or the broker). Then the pump clock's
 * steps, which a wrong but steady clock does not disturb: pump time running ahead of received time
 * since the previous sentence read back to back is a burst of history written at once (unless it
 * lands at the pump's live edge), so is a sentence read back to back with one judged history, and pump
 * time behind the learned live edge by more than historyLag is a backlog.
 */
function liveness(rec: PumpRecord, msg: PumpMessage, receivedMs: number, serverMs: number, out: TimeVerdict, jumped: boolean, cfg: ResolvedDetectionConfig): boolean {
  const lateMs = cfg.historyLagS * 1000;
  const offsetMs = out.offsetMs;
  let historic = msg.replay === true || serverMs - receivedMs > lateMs;
  if (!historic && out.trusted && !jumped) {
    const edge = rec.liveOffsetMs;
    const behindEdge = edge !== null && offsetMs - edge > lateMs;
    const sinceReceivedMs = rec.lastReceivedMs === null ? 0 : receivedMs - rec.lastReceivedMs;
    // A burst is read back to back; sentences a second or more apart are said as they happen, even
    // from a clock that runs fast (a simulator playing hours in minutes).
    const backToBack = rec.lastReceivedMs !== null && sinceReceivedMs < BACK_TO_BACK_MS;
    const catchingUp = backToBack && rec.lastPumpMs !== null && out.pumpMs - rec.lastPumpMs > sinceReceivedMs + stepToleranceMs(sinceReceivedMs);
    // Catching up onto the learned edge is the burst's newest sentence: live. Ahead of the edge, it is
    // unknown whether the edge was learned from a burst's head, so history until a sentence in step
    // (or the engine's quiet timer) tells. A clock that agrees with the gateway's marks the edge too:
    // it may only make a burst's end live sooner (gateways without the replay flag), never later.
    const atEdge = Math.abs(offsetMs) <= lateMs || (edge !== null && Math.abs(offsetMs - edge) <= STEP_SLACK_MS);
    // read back to back with a sentence judged history: the same burst, whatever its steps
    const inBurst = backToBack && rec.lastHistoric;
    historic = behindEdge || ((catchingUp || inBurst) && !atEdge);
  }
  rec.lastHistoric = historic;
  if (historic || !out.trusted) {
    rec.liveRunFromReceivedMs = null;
    return historic;
  }
  rec.liveOffsetMs = offsetMs;
  const from = rec.liveRunFromReceivedMs;
  if (from === null || rec.liveRunFromOffsetMs === null || Math.abs(offsetMs - rec.liveRunFromOffsetMs) > stepToleranceMs(receivedMs - from)) {
    rec.liveRunFromReceivedMs = receivedMs;
    rec.liveRunFromOffsetMs = offsetMs;
  } else if (receivedMs - from >= HEARD_LIVE_MIN_MS) {
    out.heardLive = true;
    rec.clockBehindS = Math.max(0, Math.round(offsetMs / 1000));
  }
  return false;
}

/** Pump time mapped onto the server clock with the pump's usual lag (for projectedEnd). */
export function pumpToServerMs(rec: PumpRecord, pumpMs: number): number {
  const lag = rec.liveLagMs ?? rec.lastLagMs ?? 0;
  return pumpMs + lag;
}
