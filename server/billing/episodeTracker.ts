/**
 * Billing episodes maintained incrementally from pump messages (pure: no I/O, no wall clock).
 * An episode runs from a program's EVT START to its END/STOP (or is still open).
 */
import { parsePumpTime } from '../../protocol/decode.ts';
import type { PumpMessage } from '../../protocol/payloads.ts';
import { seqDistance } from '../../protocol/sentence.ts';
import { startContinuesCourse } from '../pumps/courseContinuity.ts';
import {
  addEvidence, addStop, closeEpisode, copyEpisode, finishEpisode, newEpisode, reopenEpisode, shiftEpisode, type ClockAnchor, type EpisodeState,
} from './episodeState.ts';
import { episodeView, isoTime, type BillingEpisode } from './episodeView.ts';
import { ongoingStretch } from './ongoingStretch.ts';
import {
  countSpan, gapLimitS, MAX_STATUS_INTERVAL_S, modeAfter, newCursor, reasonOf, resolveGap, runSoFar, trackStall, type PumpCursor,
} from './pumpCursor.ts';
import { episodeFromRecord, episodeRecord, cursorFromRecord, cursorRecord, sortByStart } from './records.ts';
import { courseId, courseView, type CourseEpisode } from './courses.ts';
import type { BillingAssignment, BillingConfig, EpisodeQuery, EpisodeRecord, EpisodeTracker, EvidenceRange } from './types.ts';

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
    const rawMs = parsePumpTime(msg.time);
    ep.minRawMs = rawMs;
    ep.maxRawMs = rawMs;
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
    addEvidence(ep, msg.seq, timeMs, parsePumpTime(msg.time));
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
  function countInterval(c: PumpCursor, ep: EpisodeState, msg: PumpMessage, timeMs: number, step: number, reset: boolean, offsetBeforeMs: number): void {
    const from = c.timeMs;
    if (from === null) return;
    if (reset || c.mode === 'off') {
      addStop(ep, 'power_cycle', from, Math.max(from, timeMs), Math.max(0, timeMs - from) / 1000);
      return;
    }
    if (msg.type === 'event' && msg.code === 'CLOCK') {
      // detail: the pump time before the set; time up to it is real, the jump itself is no time
      // (the time before the set is on the clock as it was: re-anchored by the offset then in force)
      const oldMs = parsePumpTime(msg.detail) - offsetBeforeMs;
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
          addEvidence(same, msg.seq, timeMs, parsePumpTime(msg.time));
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
      addEvidence(ep, msg.seq, timeMs, parsePumpTime(msg.time));
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

  /**
   * Re-anchors a pump clock found ahead of the server's (the `received` stamp) by more than the
   * tolerance: from then on pump time − offset is used, so the pump's own steps (its hours) are kept;
   * a sentence back in step (the pump's CLOCK set, or a clock otherwise corrected) ends it.
   */
  function anchorClock(c: PumpCursor, msg: PumpMessage, rawMs: number): ClockAnchor | null {
    if (aheadLimitMs === null) return null;
    const receivedMs = Date.parse(msg.received);
    const lastRawMs = c.lastRawMs ?? null;
    c.lastRawMs = rawMs;
    if (Number.isNaN(receivedMs)) return null;
    const prev = c.clockOffsetMs ?? 0;
    const aheadMs = rawMs - receivedMs;
    // once anchored, a pump clock that carries on in its own steps keeps the offset (a backlog
    // arrives faster than it was written); only a jump further ahead anchors anew
    const stepMs = lastRawMs === null ? null : rawMs - lastRawMs;
    const inStep = stepMs !== null && stepMs >= 0 && stepMs <= gapLimitS(c) * 1000;
    let next = prev;
    if (prev === 0 ? aheadMs > aheadLimitMs : aheadMs - prev > aheadLimitMs && !inStep) next = Math.round(aheadMs / 1000) * 1000;
    else if (prev !== 0 && aheadMs <= aheadLimitMs) next = 0;
    if (next === prev) return null;
    c.clockOffsetMs = next;
    const isClock = msg.type === 'event' && msg.code === 'CLOCK';
    const setS = isClock ? (rawMs - parsePumpTime(msg.detail)) / 1000 : NaN;
    const anchor: ClockAnchor = {
      seq: msg.seq, pumpTime: msg.time, received: msg.received, offsetS: next / 1000, by: isClock ? 'CLOCK' : 'received',
      ...(Number.isFinite(setS) ? { clockSetS: setS } : {}),
    };
    if (isClock && prev !== 0 && next === 0 && Number.isFinite(setS)) {
      relayAnchored(c, prev, -setS * 1000);
      c.clockOffsetMs = -setS * 1000; // what the CLOCK's old time is read with
    }
    c.anchor = next === 0 ? null : anchor;
    c.anchorFromMs = next === 0 ? null : rawMs - next;
    return anchor;
  }

  /**
   * The pump's CLOCK set says by how much its clock was off (old − new): what was re-anchored on
   * arrival times (which a backlog bunches up) is moved to where the pump's own clock puts it.
   */
  function relayAnchored(c: PumpCursor, usedOffsetMs: number, trueOffsetMs: number): void {
    // (the caller then reads the CLOCK's old time with trueOffsetMs)
    const deltaMs = usedOffsetMs - trueOffsetMs;
    const fromMs = c.anchorFromMs;
    if (deltaMs === 0 || fromMs === null || fromMs === undefined) return;
    for (const ep of byPump.get(c.pump) ?? []) {
      if (ep.maxTimeMs < fromMs) continue;
      shiftEpisode(ep, fromMs, deltaMs);
      touch(ep);
    }
    const at = (t: number): number => (t >= fromMs ? t + deltaMs : t);
    if (c.timeMs !== null) c.timeMs = at(c.timeMs);
    if (c.stillSinceMs !== null) c.stillSinceMs = at(c.stillSinceMs);
    if (c.gap) {
      c.gap.fromMs = at(c.gap.fromMs);
      c.gap.toMs = at(c.gap.toMs);
    }
  }

  function ingest(msg: PumpMessage): void {
    const rawMs = parsePumpTime(msg.time);
    if (Number.isNaN(rawMs)) return drop('bad_time');
    const c = cursorOf(msg.pump);
    const prevOffsetMs = c.clockOffsetMs ?? 0;
    if (c.seq === msg.seq && c.timeMs === rawMs - prevOffsetMs) return drop('duplicate');
    const anchor = anchorClock(c, msg, rawMs);
    // a CLOCK set read the old time with the offset the pump itself stated (relayAnchored)
    const clockReadMs = c.clockOffsetMs ?? 0;
    if (anchor?.by === 'CLOCK' && anchor.offsetS === 0) c.clockOffsetMs = 0;
    const timeMs = rawMs - (c.clockOffsetMs ?? 0);
    let ep = c.openId !== null ? byId.get(c.openId) : undefined;
    const evidenceOnly = (reason: string): void => {
      if (ep) {
        addEvidence(ep, msg.seq, timeMs, rawMs);
        touch(ep);
      }
      drop(reason);
    };
    const step = c.seq === null ? 1 : seqDistance(c.seq, msg.seq);
    const powerOn = msg.type === 'event' && msg.code === 'POWER_ON';
    const behind = step === 0 || step > HALF_SEQ;
    // a restart of the counter: only forward in time (an old POWER_ON replayed is just late)
    const later = c.timeMs !== null && timeMs >= c.timeMs;
    // (a seq 0 in the same second as the newest is a redelivery, not a restart: only POWER_ON says so)
    const reset = c.seq !== null && later && (powerOn || (msg.seq === 0 && step !== 1 && timeMs > (c.timeMs ?? 0)) || (behind && timeMs > (c.timeMs ?? 0)));
    if (c.seq !== null && behind && !reset) return evidenceOnly('late'); // arrived after newer ones: evidence, not time

    let skipInterval = false;
    if (ep && c.closing) {
      if (msg.type === 'status' && step === 1 && timeMs === ep.endMs) {
        // the status right after END/STOP: evidence, and the counter that may prove a gap before it
        if (c.gap) resolveGap(ep, c.gap, msg.infusedMl);
        c.gap = null;
        addEvidence(ep, msg.seq, timeMs, parsePumpTime(msg.time));
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
    if (ep && !skipInterval) countInterval(c, ep, msg, timeMs, step, reset, anchor?.by === 'CLOCK' ? clockReadMs : prevOffsetMs);
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
    recordAnchor(c, anchor);
    c.lastWasStatus = msg.type === 'status';
    c.seq = msg.seq;
    c.timeMs = timeMs;
    const receivedMs = Date.parse(msg.received);
    c.receivedMs = Number.isNaN(receivedMs) ? null : receivedMs;
    changedPumps.add(msg.pump);
  }

  /** the re-anchoring is part of the evidence of the episode open when it happened (or opened under it) */
  function recordAnchor(c: PumpCursor, anchor: ClockAnchor | null): void {
    const open = c.openId !== null ? byId.get(c.openId) : undefined;
    if (!open) return;
    const inForce = anchor ?? ((c.clockOffsetMs ?? 0) !== 0 && open.clockAnchors === undefined ? c.anchor : null);
    if (!inForce) return;
    (open.clockAnchors ??= []).push({ ...inForce });
    touch(open);
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
      // a program's days are judged on its course (courses.ts): not computed here
      result = episodeView(trailing === ep.trailing ? ep : { ...ep, trailing }, config, null, 0, false);
    } else {
      const o = ongoingStretch(ep, cursors.get(ep.pump), nowMs);
      result = episodeView(ep, config, o.stretch, o.unverifiedSec, false);
    }
    if (!live) views.set(ep.id, { rev, view: result });
    return result;
  }

  // ---- courses: programs grouped under the orders their pumps were assigned to

  let assignmentsByPump = new Map<string, BillingAssignment[]>();
  let assignmentsByOrder = new Map<string, BillingAssignment[]>();

  function setAssignments(list: readonly BillingAssignment[]): void {
    const byP = new Map<string, BillingAssignment[]>();
    const byO = new Map<string, BillingAssignment[]>();
    for (const a of [...list].sort((x, y) => x.fromMs - y.fromMs)) {
      const p = byP.get(a.pump) ?? [];
      p.push(a);
      byP.set(a.pump, p);
      const o = byO.get(a.order.id) ?? [];
      o.push(a);
      byO.set(a.order.id, o);
    }
    assignmentsByPump = byP;
    assignmentsByOrder = byO;
    assignmentsRev++;
  }

  /** the assignment the program was delivered under: the one its START falls in, else the first it overlaps */
  function assignmentOf(ep: EpisodeState): BillingAssignment | null {
    const list = assignmentsByPump.get(ep.pump);
    if (!list) return null;
    // sorted by fromMs, and a pump's assignments never overlap: the last one starting at or before the START
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid] as BillingAssignment).fromMs <= ep.startMs) lo = mid + 1;
      else hi = mid;
    }
    const at = list[lo - 1];
    if (at && ep.startMs < (at.toMs ?? Infinity)) return at;
    const next = list[lo];
    return next && next.fromMs <= (ep.endMs ?? Infinity) ? next : null;
  }

  /** every program under the order, in START order (the pumps it was assigned to) */
  function orderRuns(orderId: string): EpisodeState[] {
    const out: EpisodeState[] = [];
    const pumps = new Set((assignmentsByOrder.get(orderId) ?? []).map((a) => a.pump));
    for (const pump of pumps) out.push(...(pumpOrders(pump).get(orderId) ?? []));
    if (pumps.size > 1) out.sort((a, b) => a.startMs - b.startMs || (a.id < b.id ? -1 : 1));
    return out;
  }
  /** a pump's programs by the order each was given under, in START order (once per listing) */
  function pumpOrders(pump: string): Map<string, EpisodeState[]> {
    let m = orderRunsMemo.get(pump);
    if (m) return m;
    m = new Map();
    for (const ep of byPump.get(pump) ?? []) {
      const a = assignmentOf(ep);
      if (!a) continue;
      const list = m.get(a.order.id);
      if (list) list.push(ep);
      else m.set(a.order.id, [ep]);
    }
    orderRunsMemo.set(pump, m);
    return m;
  }
  /** orderRuns of one listing (programs do not change while one is computed) */
  const orderRunsMemo = new Map<string, Map<string, EpisodeState[]>>();
  /** closed courses' views, while none of their programs nor the assignments changed */
  const courseViews = new Map<string, { key: string; view: CourseEpisode }>();
  let assignmentsRev = 0;

  function course(ep: EpisodeState, nowMs: number | undefined): CourseEpisode {
    const a = assignmentOf(ep);
    const runs = a ? orderRuns(a.order.id) : [ep];
    const stillPrescribed = a !== null && (a.order.stoppedMs === null || (nowMs !== undefined && a.order.stoppedMs > nowMs));
    const orderOpen = stillPrescribed && (assignmentsByOrder.get(a.order.id) ?? []).some((x) => x.toMs === null);
    const id = a ? courseId(a.order.id) : ep.id;
    const live = runs.some((r) => r.endMs === null);
    let key = `${assignmentsRev}|${orderOpen}`;
    for (const r of runs) key += `|${r.id}:${revs.get(r.id) ?? 0}`;
    if (!live) {
      const hit = courseViews.get(id);
      if (hit && hit.key === key) return hit.view;
    }
    const result = courseView(runs.map((r) => ({ state: r, view: view(r, nowMs) })), { assignment: a, orderOpen, ...(nowMs !== undefined ? { nowMs } : {}) }, config);
    if (!live) courseViews.set(id, { key, view: result });
    return result;
  }

  /** a course id (`order-<id>`) or a program's episode id → a program of that course */
  function runOf(id: string): EpisodeState | undefined {
    orderRunsMemo.clear();
    const ep = byId.get(id);
    if (ep) return ep;
    for (const orderId of assignmentsByOrder.keys()) if (courseId(orderId) === id) return orderRuns(orderId)[0];
    return undefined;
  }

  function episodes(query: EpisodeQuery): CourseEpisode[] {
    orderRunsMemo.clear();
    const from = query.fromMs ?? -Infinity;
    const to = query.toMs ?? Infinity;
    const lists = query.pump !== undefined ? [byPump.get(query.pump) ?? []] : byPump.values();
    const out: CourseEpisode[] = [];
    const seen = new Set<string>();
    for (const list of lists) {
      for (const ep of list) {
        if (ep.startMs > to) continue;
        if ((ep.endMs ?? Infinity) < from) continue;
        const a = assignmentOf(ep);
        const key = a ? courseId(a.order.id) : ep.id;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(course(ep, query.nowMs));
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

  function restore(records: EpisodeRecord[], opts: { owned?: boolean } = {}): void {
    const touchedPumps = new Set<string>();
    for (const r of records) {
      const c = cursorFromRecord(r);
      if (c) {
        cursors.set(c.pump, c);
        continue;
      }
      const ep = episodeFromRecord(r, opts.owned === true);
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
    courseViews.clear();
    changedPumps.delete(serial);
  }

  function rangeOf(ep: EpisodeState): EvidenceRange {
    // stored sentences are keyed by the pump's own (raw) time, whatever re-anchoring did
    return { pump: ep.pump, from: isoTime(ep.minRawMs ?? ep.minTimeMs), to: isoTime(ep.maxRawMs ?? ep.maxTimeMs), firstSeq: ep.firstSeq, lastSeq: ep.lastSeq };
  }

  function evidenceRanges(id: string): EvidenceRange[] | undefined {
    const ep = runOf(id);
    if (!ep) return undefined;
    const a = assignmentOf(ep);
    return (a ? orderRuns(a.order.id) : [ep]).map(rangeOf);
  }

  return {
    ingest,
    episodes,
    episode: (id, nowMs) => {
      const ep = runOf(id);
      return ep ? course(ep, nowMs) : undefined;
    },
    evidenceRange: (id) => evidenceRanges(id)?.[0],
    evidenceRanges,
    setAssignments,
    takeChanged,
    restore,
    forgetPump,
    dropped: () => ({ ...droppedCounts }),
  };
}
