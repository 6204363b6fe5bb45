/**
 * Issue 13, point 7, through the real chain (pty, gateway, Mosquitto, server): a program started
 * again mid-way keeps its delivered hours, in detection (no delivery_below_24h, no low_reservoir)
 * and in billing (one episode), and both report the same hours. Negative twins: a pause ended by
 * RESUME stays silent too; a START of another program is a new course.
 *
 * The server takes pump times hours in the past as replayed history, so the 46-h program is
 * scaled down and played live: 12 mL at 360 mL/h is 120 s of delivery, planned 46 h, with
 * DELIVERY_MIN_HOURS at 0.03 h (108 s). Counted from the restart only, delivery would be 60 s.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Alert, PumpView } from '../../../protocol/api.ts';
import type { BillingEpisode } from '../../../server/billing/index.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DetectionRig, type RigPump, type SentenceBody } from './detectionRig.ts';

const RESTART = 'CS7-RST01'; // PAUSE, then START of the same program
const STOPPED = 'CS7-RST02'; // STOP, the same program loaded with what was left, START
const RESUMED = 'CS7-RST03'; // twin: PAUSE, then RESUME
const OTHER = 'CS7-RST04'; // twin: PAUSE, then START of another program
const RATE_ML_H = 360;
const ML_PER_S = RATE_ML_H / 3600;
const STEP_S = 10;

let rig: DetectionRig;

beforeAll(async () => {
  rig = await DetectionRig.start({ pumps: [RESTART, STOPPED, RESUMED, OTHER], env: { DELIVERY_MIN_HOURS: '0.03' } });
}, 120_000);

afterAll(async () => {
  await rig?.stop();
});

const prg = (programId: string, volumeMl: number): SentenceBody => ({ type: 'program', programId, drug: 'FLUOROURACIL', rateMlH: RATE_ML_H, volumeMl, hours: 46 });
const evt = (code: string, detail = ''): SentenceBody => ({ type: 'event', code, detail });
const ml = (v: number): number => Math.round(v * 100) / 100;

/** What each pump sends at second `t` of the scenario (pump clock = base + t). */
function script(p: RigPump, kind: 'restart' | 'stopped' | 'resumed' | 'other', t: number): SentenceBody[] {
  const run = (vi: number, vtbi: number): SentenceBody => p.status({ state: 'RUN', rateMlH: RATE_ML_H, infusedMl: ml(vi), vtbiMl: ml(vtbi) });
  const end = (t0: number, programId: string): SentenceBody[] => [evt('END', programId), p.status({ state: 'END', rateMlH: RATE_ML_H, infusedMl: ml(ML_PER_S * t0), vtbiMl: 0 })];
  if (t === 0) return [prg('P1', 12), evt('PROGRAM', 'P1'), evt('START', 'P1'), run(0, 12)];
  if (t < 60) return [run(ML_PER_S * t, 12 - ML_PER_S * t)];
  if (t === 60 && kind === 'stopped') return [run(6, 6), evt('STOP'), p.status({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0, reservoirMl: null })];
  if (t === 60) return [run(6, 6), evt('PAUSE'), p.status({ state: 'PAUSE', rateMlH: RATE_ML_H, infusedMl: 6, vtbiMl: 6 })];
  if (t === 70) {
    switch (kind) {
      case 'restart': return [evt('START', 'P1'), run(6, 6)]; // vi kept: the program was never cleared
      case 'resumed': return [evt('RESUME'), run(6, 6)];
      case 'stopped': return [prg('P1', 6), evt('PROGRAM', 'P1'), evt('START', 'P1'), run(0, 6)]; // a STOP clears the program: vi from 0
      case 'other': return [prg('P2', 12), evt('PROGRAM', 'P2'), evt('START', 'P2'), run(0, 12)];
    }
  }
  const s = t - 70; // seconds since the second start
  if (kind === 'other') {
    if (s < 120) return [run(ML_PER_S * s, 12 - ML_PER_S * s)];
    return s === 120 ? end(120, 'P2') : [];
  }
  const base = kind === 'stopped' ? 0 : 6;
  if (s < 60) return [run(base + ML_PER_S * s, 6 - ML_PER_S * s)];
  return s === 60 ? end(kind === 'stopped' ? 60 : 120, 'P1') : [];
}

test('a program started again mid-way keeps its delivered hours in detection and billing; a new program starts anew', async () => {
  const kinds = { [RESTART]: 'restart', [STOPPED]: 'stopped', [RESUMED]: 'resumed', [OTHER]: 'other' } as const;
  const baseMs = Math.ceil(Date.now() / 1000) * 1000 + 1000;
  for (let t = 0; t <= 190; t += STEP_S) {
    const at = baseMs + t * 1000;
    await delay(Math.max(0, at - Date.now()));
    for (const [serial, kind] of Object.entries(kinds)) {
      const p = rig.pump(serial);
      for (const body of script(p, kind, t)) await p.write(body, at);
    }
  }
  await waitFor(() => [RESTART, STOPPED, RESUMED].every((s) => rig.board.pump(s)?.state === 'END') && rig.board.pump(OTHER)?.state === 'END', 15_000, 'every pump at END');

  // detection: restarted, nothing raised; stopped, its "stopped after 1 min" withdrawn by the restart
  const typesOf = (alerts: Alert[]): string[] => alerts.map((a) => `${a.type}:${a.status}`);
  expect(typesOf(await rig.alerts(RESTART))).toEqual([]);
  expect(typesOf(await rig.alerts(RESUMED))).toEqual([]);
  expect(typesOf(await rig.alerts(OTHER))).toEqual([]);
  const stopped = await rig.alerts(STOPPED);
  expect(typesOf(stopped)).toEqual(['delivery_below_24h:cleared']);
  expect(stopped[0]!.detail.how).toBe('stop');

  // detection and billing: the same hours; one episode per course
  const pumps = await rig.api<PumpView[]>('/api/pumps');
  const hoursOn = (serial: string): number | null | undefined => pumps.find((p) => p.pump === serial)?.deliveredHours;
  const episodes = async (serial: string): Promise<BillingEpisode[]> => rig.api<BillingEpisode[]>(`/api/billing/episodes?pump=${serial}`);
  for (const serial of [RESTART, STOPPED, RESUMED]) {
    const list = await episodes(serial);
    expect(list.map((e) => [e.programId, e.deliveryHours, e.endedBy]), serial).toEqual([['P1', 0.0333, 'END']]);
    expect(hoursOn(serial), serial).toBe(0.0333);
  }
  const other = await episodes(OTHER);
  expect(other.map((e) => [e.programId, e.deliveryHours])).toEqual([['P1', 0.0166], ['P2', 0.0333]]);
  expect(other[0]!.endedBy).toBe('superseded');
  expect(hoursOn(OTHER)).toBe(0.0333);
}, 300_000);
