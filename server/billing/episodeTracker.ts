/**
 * Billing episodes maintained incrementally from pump messages (pure: no I/O, no wall clock).
 * An episode runs from a program's EVT START to its END/STOP (or is still open).
 */
import { parsePumpTime } from '../../protocol/decode.ts';
import type { PumpMessage } from '../../protocol/payloads.ts';
import { seqDistance } from '../../protocol/sentence.ts';
import { startContinuesCourse } from '../pumps/courseContinuity.ts';
import {
  addEvidence, addStop, closeEpisode, copyEpisode, finishEpisode, newEpisode, reopenEpisode, type EpisodeState,
} from './episodeState.ts';
import { episodeView, isoTime, type BillingEpisode } from './episodeView.ts';
import { ongoingStretch } from './ongoingStretch.ts';
import {
  countSpan, gapLimitS, MAX_STATUS_INTERVAL_S, modeAfter, newCursor, reasonOf, resolveGap, runSoFar, trackStall, type PumpCursor,
} from './pumpCursor.ts';
import { episodeFromRecord, episodeRecord, cursorFromRecord, cursorRecord, sortByStart } from './records.ts';
import type { BillingConfig, EpisodeQuery, EpisodeRecord, EpisodeTracker, EvidenceRange } from './types.ts';

const HALF_SEQ = 32768;

/** `CS7-004512_20261123T090000Z_9`: pump + START time + START seq, safe in a URL path. */
export function episodeId(pump: string, time: string, seq: number): string {
  return `${pump}_${time.replace(/[-:]/g, '')}_${seq}`;
}

export function createEpisodeTracker(config: BillingConfig): EpisodeTracker {
  const cursors = new Map<string, PumpCursor>();
  const byPump = new Map<string, EpisodeState[]>();
  const byId = new Map<string, EpisodeState>();
  const revs = new Map<string, number>();
  const views = new Map<string, { rev: number; view: BillingEpisode }>();
  const changedEpisodes = new Set<string>();
  const changedPumps = new Set<string>();
  const droppedCounts: Record<string, number> = {};
  const aheadLimitMs = config.maxPumpClockAheadS === null ? null : (config.maxPumpClockAheadS ?? 600) * 1000;

  const drop = (reason: string): void => {
    droppedCounts[reason] = (droppedCounts[reason] ?? 0) + 1;
  };
  const touch = (ep: EpisodeState): void => {
    revs.set(ep.id, (revs.get(ep.id) ?? 0) + 1);
    changedEpisodes.add(ep.id);
  };
  const cursorOf = (pump: string): PumpCursor => {
    let c = cursors.get(pump);
    if (!c) {
      c = newCursor(pump);
      cursors.set(pump, c);
    }
    return c;
  };
  const addEpisode = (ep: EpisodeState): void => {
    byId.set(ep.id, ep);
    const list = byPump.get(ep.pump) ?? [];
    list.push(ep);
    byPump.set(ep.pump, list);
  };
  const finish = (c: PumpCursor, ep: EpisodeState): void => {
    if (c.gap) resolveGap(ep, c.gap, null);
    c.gap = null;
    finishEpisode(ep);
    c.openId = null;
    c.closing = false;
  };
  const open = (c: PumpCursor, msg: PumpMessage, timeMs: number, programId: string, startObserved: boolean): void => {
    const drug = c.program?.programId === programId ? c.program.drug : '';
    const ep = newEpisode(episodeId(msg.pump, msg.time, msg.seq), msg.pump, programId, drug, msg.seq, timeMs, startObserved);
    const known = byId.get(ep.id);
    if (known) {
      // the same START again (a replay after restore): already known
      if (known.endMs === null) c.openId = known.id;
      return;
    }
    addEpisode(ep);
    c.openId = ep.id;
    touch(ep);
  };

  /**
   * The program STOPped with volume left is started again: the same course, so its episode is
   * reopened; the time it stood stopped is an interruption like a pause.
   */
  const reopen = (c: PumpCursor, ep: EpisodeState, msg: PumpMessage, timeMs: number): void => {
    reopenEpisode(ep, timeMs, reasonOf('idle'));
    addEvidence(ep, msg.seq, timeMs);
    c.openId = ep.id;
    c.closing = false;
    c.stopped = null;
    touch(ep);
  };
  const closeBy = (c: PumpCursor, ep: EpisodeState, timeMs: number, endedBy: string): void => {
    const stop = endedBy === 'STOP' || endedBy === 'IDLE';
    // what a stop left decides whether it was a completed infusion (COMPLETE_RESIDUAL_ML)
    closeEpisode(ep, timeMs, endedBy, stop ? c.vtbiMl ?? null : 0);
    c.stopped = stop ? { episodeId: ep.id, programId: ep.programId, leftMl: c.vtbiMl ?? 0 } : null;
  };

  /** Counts the time from the last sentence to this one on the open episode. */
  function countInterval(c: PumpCursor, ep: EpisodeState, msg: PumpMessage, timeMs: number, step: number, reset: boolean): void {
    const from = c.timeMs;
    if (from === null) return;
    if (reset || c.mode === 'off') {
      addStop(ep, 'power_cycle', from, Math.max(from, timeMs), Math.max(0, timeMs - from) / 1000);
      return;
    }
    if (msg.type === 'event' && msg.code === 'CLOCK') {
      // detail: the pump time before the set; time up to it is real, the jump itself is no time
      const oldMs = parsePumpTime(msg.detail);
      if (!Number.isNaN(oldMs)) countSpan(ep, c, from, oldMs, step, null);
      addStop(ep, 'clock_change', Number.isNaN(oldMs) ? from : oldMs, timeMs, 0);
      return;
    }
    c.gap = countSpan(ep, c, from, timeMs, step, msg.type === 'status' ? msg.infusedMl : undefined);
  }

  function lifecycle(c: PumpCursor, ep: EpisodeState | undefined, msg: PumpMessage, timeMs: number): void {
    if (msg.type === 'program') {
      c.program = { programId: msg.programId, drug: msg.drug, rateMlH: msg.rateMlH, volumeMl: msg.volumeMl, hours: msg.hours };
      if (ep && ep.programId === msg.programId) ep.drug = msg.drug;
      if (c.stopped && c.stopped.programId !== msg.programId) c.stopped = null; // another program loaded
    }
    if (msg.type === 'event' && msg.code === 'START') {
      const programId = msg.detail || c.program?.programId || 'unknown';
      if (startContinuesCourse(runSoFar(c, ep), programId)) {
        // same program started again (after a pause, an alarm, a power cycle, a STOP with volume left): one episode
        const same = ep ?? (c.stopped ? byId.get(c.stopped.episodeId) : undefined);
        if (same && same.endMs !== null) return reopen(c, same, msg, timeMs);
        if (same) {
          addEvidence(same, msg.seq, timeMs);
          touch(same);
          return;
        }
      }
      c.stopped = null;
      if (ep) {
        closeEpisode(ep, timeMs, 'superseded');
        finish(c, ep);
        touch(ep);
      }
      open(c, msg, timeMs, programId, true);
      return;
    }
    if (ep) {
      addEvidence(ep, msg.seq, timeMs);
      // what was left decides whether a STOP completed the infusion (COMPLETE_RESIDUAL_ML): the last status before it
      if (msg.type === 'event' && (msg.code === 'END' || msg.code === 'STOP')) {
        closeBy(c, ep, timeMs, msg.code);
        c.closing = true;
      } else if (msg.type === 'status' && (msg.state === 'IDLE' || msg.state === 'END')) {
        closeBy(c, ep, timeMs, msg.state === 'IDLE' ? 'IDLE' : 'END_STATE');
        finish(c, ep);
      }
      touch(ep);
    } else if (msg.type === 'status' && msg.state === 'RUN' && msg.rateMlH > 0) {
      c.stopped = null;
      open(c, msg, timeMs, c.program?.programId ?? 'unknown', false); // tracking began mid-infusion
    }
  }

  function ingest(msg: PumpMessage): void {
    const timeMs = parsePumpTime(msg.time);
    if (Number.isNaN(timeMs)) return drop('bad_time');
    const c = cursorOf(msg.pump);
    if (c.seq === msg.seq && c.timeMs === timeMs) return drop('duplicate');
    let ep = c.openId !== null ? byId.get(c.openId) : undefined;
    const evidenceOnly = (reason: string): void => {
      if (ep) {
        addEvidence(ep, msg.seq, timeMs);
        touch(ep);
      }
      drop(reason);
    };
    if (aheadLimitMs !== null && timeMs - Date.parse(msg.received) > aheadLimitMs) return evidenceOnly('clock_ahead');
    const step = c.seq === null ? 1 : seqDistance(c.seq, msg.seq);
    const powerOn = msg.type === 'event' && msg.code === 'POWER_ON';
    const behind = step === 0 || step > HALF_SEQ;
    // a restart of the counter: only forward in time (an old POWER_ON replayed is just late)
    const later = c.timeMs !== null && timeMs >= c.timeMs;
    const reset = c.seq !== null && later && (powerOn || (msg.seq === 0 && step !== 1) || (behind && timeMs > (c.timeMs ?? 0)));
    if (c.seq !== null && behind && !reset) return evidenceOnly('late'); // arrived after newer ones: evidence, not time

    let skipInterval = false;
    if (ep && c.closing) {
      if (msg.type === 'status' && step === 1 && timeMs === ep.endMs) {
        // the status right after END/STOP: evidence, and the counter that may prove a gap before it
        if (c.gap) resolveGap(ep, c.gap, msg.infusedMl);
        c.gap = null;
        addEvidence(ep, msg.seq, timeMs);
        finish(c, ep);
        touch(ep);
        ep = undefined;
        skipInterval = true;
      } else {
        finish(c, ep);
        touch(ep);
        ep = undefined;
      }
    } else if (ep && c.gap) {
      if (step === 1 && !reset && timeMs === c.gap.toMs) {
        if (msg.type === 'status') {
          resolveGap(ep, c.gap, msg.infusedMl);
          c.gap = null;
        } else {
          skipInterval = true; // another sentence of the same second; the gap waits for the status
        }
      } else {
        resolveGap(ep, c.gap, null);
        c.gap = null;
      }
    }
    if (ep && !skipInterval) countInterval(c, ep, msg, timeMs, step, reset);
    c.mode = modeAfter(msg, reset ? 'off' : c.mode);
    if (!skipInterval || ep) lifecycle(c, ep, msg, timeMs);
    else if (msg.type === 'program') lifecycle(c, undefined, msg, timeMs);

    if (msg.type === 'status') {
      const open = c.openId !== null ? byId.get(c.openId) : undefined;
      trackStall(open, c, msg.state, msg.rateMlH, msg.infusedMl, timeMs, step === 1 && !reset && c.gap === null && timeMs - (c.timeMs ?? timeMs) <= gapLimitS(c) * 1000);
      if (c.lastWasStatus && step === 1 && !reset && c.timeMs !== null) {
        const dtS = (timeMs - c.timeMs) / 1000;
        if (dtS > 0 && dtS <= MAX_STATUS_INTERVAL_S) c.intervalS = Math.max(c.intervalS ?? 0, dtS);
      }
      c.vi = msg.infusedMl;
      c.rateMlH = msg.rateMlH;
      c.vtbiMl = msg.vtbiMl;
    }
    c.lastWasStatus = msg.type === 'status';
    c.seq = msg.seq;
    c.timeMs = timeMs;
    const receivedMs = Date.parse(msg.received);
    c.receivedMs = Number.isNaN(receivedMs) ? null : receivedMs;
    changedPumps.add(msg.pump);
  }

  function view(ep: EpisodeState, nowMs: number | undefined): BillingEpisode {
    const rev = revs.get(ep.id) ?? 0;
    const live = ep.endMs === null && nowMs !== undefined;
    if (!live) {
      const cached = views.get(ep.id);
      if (cached && cached.rev === rev) return cached.view;
    }
    let result: BillingEpisode;
    if (ep.endMs !== null) {
      const trailing = ep.trailing ?? ep.pending; // pending: END seen, its status may still come
      result = episodeView(trailing === ep.trailing ? ep : { ...ep, trailing }, config, null);
    } else {
      const o = ongoingStretch(ep, cursors.get(ep.pump), nowMs);
      result = episodeView(ep, config, o.stretch, o.unverifiedSec);
    }
    if (!live) views.set(ep.id, { rev, view: result });
    return result;
  }

  function episodes(query: EpisodeQuery): BillingEpisode[] {
    const from = query.fromMs ?? -Infinity;
    const to = query.toMs ?? Infinity;
    const lists = query.pump !== undefined ? [byPump.get(query.pump) ?? []] : byPump.values();
    const out: BillingEpisode[] = [];
    for (const list of lists) {
      for (const ep of list) {
        if (ep.startMs > to) continue;
        if ((ep.endMs ?? Infinity) < from) continue;
        out.push(view(ep, query.nowMs));
      }
    }
    return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  function takeChanged(): EpisodeRecord[] {
    const out: EpisodeRecord[] = [];
    for (const id of changedEpisodes) {
      const ep = byId.get(id);
      if (ep) out.push(episodeRecord(copyEpisode(ep)));
    }
    for (const pump of changedPumps) {
      const c = cursors.get(pump);
      if (c) out.push(cursorRecord(c));
    }
    changedEpisodes.clear();
    changedPumps.clear();
    return out;
  }

  function restore(records: EpisodeRecord[]): void {
    const touchedPumps = new Set<string>();
    for (const r of records) {
      const c = cursorFromRecord(r);
      if (c) {
        cursors.set(c.pump, c);
        continue;
      }
      const ep = episodeFromRecord(r);
      if (!ep) {
        drop('bad_record');
        continue;
      }
      const old = byId.get(ep.id);
      if (old) {
        const list = byPump.get(old.pump) ?? [];
        list.splice(list.indexOf(old), 1);
      }
      addEpisode(ep);
      revs.set(ep.id, (revs.get(ep.id) ?? 0) + 1);
      touchedPumps.add(ep.pump);
    }
    for (const pump of touchedPumps) sortByStart(byPump.get(pump) ?? []);
  }

  function forgetPump(serial: string): void {
    for (const ep of byPump.get(serial) ?? []) {
      byId.delete(ep.id);
      revs.delete(ep.id);
      views.delete(ep.id);
      changedEpisodes.delete(ep.id);
    }
    byPump.delete(serial);
    cursors.delete(serial);
    changedPumps.delete(serial);
  }

  function evidenceRange(id: string): EvidenceRange | undefined {
    const ep = byId.get(id);
    if (!ep) return undefined;
    return { pump: ep.pump, from: isoTime(ep.minTimeMs), to: isoTime(ep.maxTimeMs), firstSeq: ep.firstSeq, lastSeq: ep.lastSeq };
  }

  return {
    ingest,
    episodes,
    episode: (id, nowMs) => {
      const ep = byId.get(id);
      return ep ? view(ep, nowMs) : undefined;
    },
    evidenceRange,
    takeChanged,
    restore,
    forgetPump,
    dropped: () => ({ ...droppedCounts }),
  };
}
