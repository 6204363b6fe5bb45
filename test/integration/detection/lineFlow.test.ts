/**
 * A stopped line that looks like a running pump (docs/detection.md, "Stopped line"), through the
 * simulated pumps' ptys, the real gateway, Mosquitto and the real server process:
 * a counter frozen during RUN with no pressure rise gives no_flow; a line pressure falling to 0
 * gives line_pressure_lost; a 0.5 mL/h run (vi moving every 72 s) and a run with movement spikes
 * stay silent.
 *
 * Durations are on the pump clock, so each pump writes ~9 minutes of pump time in ~15 seconds:
 * its clock starts 60 s behind (lagging less than HISTORY_LAG_S: heard live) and ends about
 * 8 minutes ahead (within CLOCK_AHEAD_TOLERANCE_S): every sentence is live and trusted.
 * NO_FLOW_MIN_S is 60 s so the frozen counter fits that window; at 0.5 mL/h the wait derived
 * from the counter's 0.01-mL steps is still 12 min, which is what keeps the slow twin silent
 * (with the 60 s alone, vi standing still for 60 s between its 72-s steps would alert).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Alert } from '../../../protocol/api.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DetectionRig, pumpTime, type RigPump, type SentenceBody } from './detectionRig.ts';

const FROZEN = 'CS7-FLOW01';
const DISCONNECTED = 'CS7-FLOW02';
const SLOW = 'CS7-FLOW03';
const MOVING = 'CS7-FLOW04';
const STATUS_S = 30;
let rig: DetectionRig;

beforeAll(async () => {
  rig = await DetectionRig.start({ pumps: [FROZEN, DISCONNECTED, SLOW, MOVING], env: { NO_FLOW_MIN_S: '60' } });
}, 120_000);

afterAll(async () => {
  await rig?.stop();
});

interface Step {
  /** RUN statuses, STATUS_S apart on the pump clock */
  statuses: number;
  /** vi stands still */
  frozen?: boolean;
  pressure: (i: number) => number | null;
}

/** A pump's sentences: power on, program, start, then RUN statuses as the steps say (vi from an exact counter, 0.01-mL steps). */
function infusion(p: RigPump, rateMlH: number, steps: Step[]): { body: SentenceBody; atMs: number }[] {
  const volumeMl = Math.round(rateMlH * 46 * 100) / 100; // a 46-h program
  const t0 = Date.now() - 60_000;
  const out: { body: SentenceBody; atMs: number }[] = [
    { body: { type: 'event', code: 'POWER_ON', detail: '4.2.1' }, atMs: t0 },
    { body: { type: 'program', programId: 'FOLFOX-C1', drug: 'FLUOROURACIL', rateMlH, volumeMl, hours: 46 }, atMs: t0 },
    { body: { type: 'event', code: 'PROGRAM', detail: 'FOLFOX-C1' }, atMs: t0 },
    { body: { type: 'event', code: 'START', detail: 'FOLFOX-C1' }, atMs: t0 },
    { body: p.status({ state: 'RUN', rateMlH, infusedMl: 0, vtbiMl: volumeMl, pressureMmHg: 40 }), atMs: t0 },
  ];
  let exactMl = 0;
  let atMs = t0;
  for (const step of steps) {
    for (let i = 0; i < step.statuses; i++) {
      atMs += STATUS_S * 1000;
      if (!step.frozen) exactMl += (rateMlH * STATUS_S) / 3600;
      const infusedMl = Math.round(exactMl * 100) / 100;
      const vtbiMl = Math.round((volumeMl - infusedMl) * 100) / 100;
      out.push({ body: p.status({ state: 'RUN', rateMlH, infusedMl, vtbiMl, pressureMmHg: step.pressure(i) }), atMs });
    }
  }
  return out;
}

/**
 * Writes every pump's sentences interleaved, each pump's 700 ms of real time apart: sentences read
 * back to back (under 500 ms) whose pump time runs ahead are a burst of history (docs/detection.md,
 * "Clocks"), and a pump said live speaks at most every second or so.
 */
async function play(scripts: Map<RigPump, { body: SentenceBody; atMs: number }[]>): Promise<void> {
  const longest = Math.max(...[...scripts.values()].map((s) => s.length));
  for (let i = 0; i < longest; i++) {
    for (const [pump, script] of scripts) {
      const s = script[i];
      if (s) await pump.write(s.body, s.atMs);
    }
    await new Promise((r) => setTimeout(r, 700));
  }
}

const flat = (): number => 40;
const ofType = (pump: string, type: string): Alert[] => rig.board.alerts(pump).map((m) => m.alert).filter((a) => a.type === type);

test('frozen counter → no_flow, pressure to 0 → line_pressure_lost; a 0.5 mL/h run and a run with movement spikes stay silent', async () => {
  const frozen = infusion(rig.pump(FROZEN), 5, [
    { statuses: 4, pressure: flat },
    { statuses: 8, frozen: true, pressure: flat }, // 4 min frozen, the pressure flat: no occlusion sign
    { statuses: 3, pressure: flat },
  ]);
  const lastAdvanceIso = pumpTime(frozen[4 + 4]!.atMs);
  const disconnected = infusion(rig.pump(DISCONNECTED), 5, [
    { statuses: 4, pressure: flat },
    { statuses: 12, pressure: () => 0 }, // 6 min open to the air, vi still counting
    { statuses: 2, pressure: flat },
  ]);
  const firstLostIso = pumpTime(disconnected[5 + 4]!.atMs);
  const slow = infusion(rig.pump(SLOW), 0.5, [{ statuses: 18, pressure: flat }]);
  const spikes = [40, 260, 38, 41, 0, 3, 44, 39, 310, 42, 40, 2, 37, 180, 40, 43, 39, 41];
  const moving = infusion(rig.pump(MOVING), 2, [{ statuses: spikes.length, pressure: (i) => spikes[i]! }]);
  // the slow pump's counter does stand still between statuses (72-s steps, 30-s statuses)
  const slowVi = slow.flatMap((s) => (s.body.type === 'status' ? [s.body.infusedMl] : []));
  expect(slowVi.some((v, i) => i > 1 && v === slowVi[i - 1] && v === slowVi[i - 2] && v > 0)).toBe(true);

  await play(new Map([[rig.pump(FROZEN), frozen], [rig.pump(DISCONNECTED), disconnected], [rig.pump(SLOW), slow], [rig.pump(MOVING), moving]]));

  const noFlow = (await rig.board.waitForAlert(FROZEN, (a) => a.type === 'no_flow', { timeoutMs: 15_000 })).alert;
  expect(noFlow).toMatchObject({ status: 'active', severity: 'high', gateway: 'home-rig' });
  expect(noFlow.detail.frozenSincePumpTime).toBe(lastAdvanceIso);
  expect(noFlow.raisedAt).toBe(pumpTime(Date.parse(lastAdvanceIso) + 90_000)); // the first status after 72 s (0.1 mL due)
  expect(noFlow.message).toMatch(/^Pump CS7-FLOW01: shows RUN at 5 mL\/h but has counted no medicine/);
  await rig.board.waitForAlert(FROZEN, (a) => a.type === 'no_flow' && a.status === 'cleared', { timeoutMs: 15_000 });

  const lost = (await rig.board.waitForAlert(DISCONNECTED, (a) => a.type === 'line_pressure_lost', { timeoutMs: 15_000 })).alert;
  expect(lost).toMatchObject({ status: 'active', severity: 'high' });
  expect(lost.detail.lostSincePumpTime).toBe(firstLostIso);
  expect(lost.raisedAt).toBe(pumpTime(Date.parse(firstLostIso) + 300_000));
  expect(lost.detail.baselineMmHg).toBe(40);
  expect(lost.message).toMatch(/^Pump CS7-FLOW02: line pressure fell to 0 mmHg \(usual 40\)/);
  await rig.board.waitForAlert(DISCONNECTED, (a) => a.type === 'line_pressure_lost' && a.status === 'cleared', { timeoutMs: 15_000 });
  // nothing else was raised for either: vi frozen with a flat pressure is not an occlusion, a counting vi is not no_flow
  expect(new Set(rig.board.alerts(FROZEN).map((m) => m.alert.type))).toEqual(new Set(['no_flow']));
  expect(new Set(rig.board.alerts(DISCONNECTED).map((m) => m.alert.type))).toEqual(new Set(['line_pressure_lost']));

  // the negative twins: every sentence reached the server (the board shows their last status) and nothing was raised
  const lastVi = (script: { body: SentenceBody }[]): number => {
    const b = script.at(-1)!.body;
    return b.type === 'status' ? b.infusedMl : NaN;
  };
  await waitFor(() => rig.board.pump(SLOW)?.infusedMl === lastVi(slow) && rig.board.pump(MOVING)?.infusedMl === lastVi(moving), 15_000, 'the twins on the board');
  await new Promise((r) => setTimeout(r, 3_000)); // past HISTORY_QUIET_S: nothing held back either
  for (const pump of [SLOW, MOVING]) {
    expect(rig.board.pump(pump)).toMatchObject({ state: 'RUN', activeAlerts: 0 });
    expect(rig.board.alerts(pump)).toEqual([]);
    expect(await rig.alerts(pump)).toEqual([]);
  }
  expect(ofType(FROZEN, 'line_pressure_lost')).toEqual([]);
}, 120_000);
