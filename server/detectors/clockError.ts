/**
 * clock_error (low): the pump's clock is more than clockAheadToleranceS ahead of the server clock
 * (its sentences are kept but not used for durations), or, once the pump is heard live, more than
 * that behind the gateway clock (its times are used as they are: alert and billing times from it
 * are shifted, and the alert says by how much), or the clock was changed by more than that
 * during a program (EVT CLOCK or a jump back): durations are re-anchored across the change, and the
 * alert is raised already cleared so somebody reviews the timings once.
 */
import type { Stamp } from '../alerts/alertStore.ts';
import { durationText } from './messageText.ts';
import { sentenceEvidence, type SentenceInput } from './types.ts';

export function detectClockError(d: SentenceInput): void {
  const { rec, t, store, cfg } = d;
  const active = store.isActive(rec.pump, 'clock_error');
  // Timestamps of an untrusted sentence are the server's (its pump time is wrong by definition).
  const at: Stamp = t.trusted ? d.at : { ...d.at, iso: new Date(t.serverMs).toISOString() };
  if (!t.trusted) {
    if (active) return;
    store.raise(rec.pump, rec.gateway, 'clock_error', at,
      `Pump ${rec.pump}: its clock is ${durationText(rec.clockAheadS * 1000)} ahead of real time, so its timings are not used. Set the pump's date and time at the next visit.`,
      { ...sentenceEvidence(d), aheadS: rec.clockAheadS, toleranceS: cfg.clockAheadToleranceS });
    return;
  }
  // behind: judged only on sentences heard live (a backlog lags by how late it is, not by the clock);
  // until the pump is heard live again, what was last measured stands
  const toleranceMs = cfg.clockAheadToleranceS * 1000;
  const behindS = t.heardLive ? Math.round(t.offsetMs / 1000) : rec.clockBehindS;
  if (behindS * 1000 > toleranceMs) {
    if (active) return;
    const behind = durationText(behindS * 1000);
    // raised at server time, like a clock ahead: the pump's time is the wrong one
    store.raise(rec.pump, rec.gateway, 'clock_error', { ...d.at, iso: new Date(t.serverMs).toISOString() },
      `Pump ${rec.pump}: its clock is ${behind} behind real time, so alert and billing times from this pump are ${behind} early. Set the pump's date and time at the next visit.`,
      { ...sentenceEvidence(d), behindS, toleranceS: cfg.clockAheadToleranceS });
    return;
  }
  if (active) store.clear(rec.pump, 'clock_error', at, { clearedSeq: d.msg.seq, clearedPumpTime: d.msg.time });
  if (t.clockJumpMs !== 0 && Math.abs(t.clockJumpMs) > cfg.clockAheadToleranceS * 1000 && rec.programActive) {
    const dir = t.clockJumpMs > 0 ? 'forward' : 'back';
    const detail = { ...sentenceEvidence(d), clockChangeS: Math.round(t.clockJumpMs / 1000), event: d.msg.type === 'event' ? d.msg.code : null };
    store.raise(rec.pump, rec.gateway, 'clock_error', at,
      `Pump ${rec.pump}: its clock was set ${dir} by ${durationText(Math.abs(t.clockJumpMs))} during the infusion. Check the infusion times for this course.`,
      detail);
    store.clear(rec.pump, 'clock_error', at);
  }
}
