/** The current stretch without delivery of an open episode, as reported at a given "now". */
import type { EpisodeState, InterruptionReason, Stretch } from './episodeState.ts';
import { gapLimitS, reasonOf, type PumpCursor } from './pumpCursor.ts';

export function ongoingStretch(ep: EpisodeState, c: PumpCursor | undefined, nowMs: number | undefined): { stretch: Stretch | null; unverifiedSec: number } {
  let stretch: Stretch | null = ep.pending ? { ...ep.pending, reasons: [...ep.pending.reasons] } : null;
  if (!c || c.openId !== ep.id || c.timeMs === null) return { stretch, unverifiedSec: 0 };
  let unverifiedSec = 0;
  const extend = (fromMs: number, toMs: number, seconds: number, reason: InterruptionReason): void => {
    stretch ??= { fromMs, toMs, seconds: 0, reasons: [] };
    stretch.toMs = toMs;
    stretch.seconds += Math.round(seconds);
    if (!stretch.reasons.includes(reason)) stretch.reasons.push(reason);
  };
  if (c.gap) {
    // waiting for the status that may prove it: unverified until then
    extend(c.gap.fromMs, c.gap.toMs, c.gap.seconds, 'telemetry_gap');
    unverifiedSec += c.gap.seconds;
  }
  // silence is measured on the gateway/server clocks (a drifting pump clock would fake one),
  // then laid on the pump clock after the last sentence
  const silenceS = nowMs === undefined ? 0 : (nowMs - (c.receivedMs ?? c.timeMs)) / 1000;
  if (silenceS > 0) {
    const toMs = c.timeMs + silenceS * 1000;
    if (c.mode === 'run' && silenceS > gapLimitS(c)) {
      extend(c.timeMs, toMs, silenceS, 'telemetry_gap');
      unverifiedSec += silenceS;
    } else if (c.mode !== 'run') {
      extend(c.timeMs, toMs, silenceS, reasonOf(c.mode));
    }
  }
  return { stretch, unverifiedSec: Math.round(unverifiedSec) };
}
