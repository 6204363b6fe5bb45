/**
 * Clocks, through the whole chain (simulated pumps on real ptys, the real gateway, Mosquitto and
 * server, the board on /ws): a pump heard live with its clock behind raises clock_error; a pump
 * whose clock is minutes slow has its alarm on the board as fast as one with a correct clock; a
 * ?HIST replay is history even with a correct clock, and its lag is not taken for a clock behind.
 *
 * CLOCK_AHEAD_TOLERANCE_S is 10 s here (instead of 600) so that a replay lagging ~15 s would raise
 * clock_error if it were mistaken for live sentences from a clock behind: the test would see it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { waitFor } from '../../helpers/wait.ts';
import { DetectionRig, RIG_TOKEN, type RigPump } from './detectionRig.ts';

const BEHIND_5H = 'CS7-CLK5H';
const RIGHT = 'CS7-CLKOK';
const SLOW_4MIN = 'CS7-CLK4M';
const REPLAYED = 'CS7-CLKHIST';
const ALL = [BEHIND_5H, RIGHT, SLOW_4MIN, REPLAYED];
const MIN = 60_000;
let rig: DetectionRig;

beforeAll(async () => {
  rig = await DetectionRig.start({ pumps: ALL, env: { CLOCK_AHEAD_TOLERANCE_S: '10' } });
  rig.pump(BEHIND_5H).clockOffsetMs = -5 * 60 * MIN;
  rig.pump(SLOW_4MIN).clockOffsetMs = -4 * MIN;
  // every pump starts a program and reports twice, 6 s apart: heard live
  for (const serial of ALL) await start(rig.pump(serial));
  await delay(6000);
  for (const serial of ALL) await rig.pump(serial).write(running(rig.pump(serial), 0.01));
}, 180_000);

afterAll(async () => {
  await rig?.stop();
});

function running(p: RigPump, infusedMl: number, alarms: string[] = []): ReturnType<RigPump['status']> {
  return p.status({ state: alarms.length > 0 ? 'ALARM' : 'RUN', rateMlH: 5, infusedMl, vtbiMl: 230 - infusedMl, alarms });
}

async function start(p: RigPump): Promise<void> {
  await p.write({ type: 'event', code: 'POWER_ON', detail: '4.2.1' });
  await p.write({ type: 'program', programId: 'P1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 });
  await p.write({ type: 'event', code: 'START', detail: 'P1' });
  await p.write(running(p, 0));
}

/** the server's count of sentences judged replayed history (all pumps), from /metrics */
async function historicSentences(): Promise<number> {
  const res = await fetch(`${rig.url}/metrics`, { headers: { authorization: `Bearer ${RIG_TOKEN}` } });
  const m = /^pumpwatch_engine_historic_sentences_total (\d+)$/m.exec(await res.text());
  if (!m) throw new Error('no pumpwatch_engine_historic_sentences_total in /metrics');
  return Number(m[1]);
}

/** ms from writing an OCCL_DN alarm on the pump's pty to the occlusion alert on the board */
async function occlusionLatencyMs(serial: string, infusedMl: number): Promise<number> {
  const p = rig.pump(serial);
  const wroteAt = await p.write(running(p, infusedMl, ['OCCL_DN']));
  await p.write({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' });
  const seen = await rig.board.waitForAlert(serial, (a) => a.type === 'occlusion' && a.status === 'active', { sinceMs: wroteAt, timeoutMs: 15_000 });
  return seen.at - wroteAt;
}

test('a pump 5 h behind (local time instead of UTC), heard live, raises clock_error saying how far and what it shifts', async () => {
  const { alert } = await rig.board.waitForAlert(BEHIND_5H, (a) => a.type === 'clock_error', { timeoutMs: 15_000 });
  expect(alert.status).toBe('active');
  expect(alert.severity).toBe('low');
  expect(alert.detail.behindS).toBeGreaterThanOrEqual(5 * 3600);
  expect(alert.detail.behindS).toBeLessThanOrEqual(5 * 3600 + 2);
  expect(alert.message).toMatch(/CS7-CLK5H: its clock is 5 h behind real time, so alert and billing times from this pump are 5 h early/);
});

test('a pump 4 min slow has its occlusion on the board as fast as a pump with a correct clock', async () => {
  const right = await occlusionLatencyMs(RIGHT, 0.02);
  const slow = await occlusionLatencyMs(SLOW_4MIN, 0.02);
  console.log(`occlusion on the board: correct clock ${right.toFixed(0)} ms, 4 min slow ${slow.toFixed(0)} ms`);
  expect(right).toBeLessThan(1000);
  expect(slow).toBeLessThan(1000);
  // (the slow clock is also more than this rig's 10-s tolerance behind: flagged, like the 5-h one)
  const clock = await rig.board.waitForAlert(SLOW_4MIN, (a) => a.type === 'clock_error', { timeoutMs: 5000 });
  expect(clock.alert.message).toMatch(/4 min behind/);
});

test('a ?HIST replay after sentences lost on the link is history even with a correct clock, and not a clock behind', async () => {
  const p = rig.pump(REPLAYED);
  // 15 s in which the link loses everything: an occlusion raised and over
  await p.write(running(p, 0.02), Date.now(), { lost: true });
  await delay(5000);
  await p.write(running(p, 0.02, ['OCCL_DN']), Date.now(), { lost: true });
  await p.write({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' }, Date.now(), { lost: true });
  await delay(5000);
  await p.write({ type: 'event', code: 'ALARM_OFF', detail: 'OCCL_DN' }, Date.now(), { lost: true });
  await p.write(running(p, 0.03), Date.now(), { lost: true });
  await delay(5000);
  const histBefore = p.port.histRequests.length;
  const historicBefore = await historicSentences();
  // heard again: the gap makes the gateway ask ?HIST and the pump replays what was lost
  await p.write(running(p, 0.04));
  await waitFor(() => p.port.histRequests.length > histBefore, 10_000, 'the gateway asking ?HIST');
  const occl = await rig.board.waitForAlert(REPLAYED, (a) => a.type === 'occlusion', { timeoutMs: 15_000 });
  expect(occl.alert.status).toBe('cleared');
  expect(occl.alert.raisedAt).toMatch(/Z$/);
  await delay(3000); // the end of the backlog and a few ticks
  // the five lost sentences came back flagged as a ?HIST answer: history, though they lag only 0-15 s
  expect(await historicSentences() - historicBefore).toBe(5);
  const board = rig.board.alerts(REPLAYED);
  expect(board.filter((m) => m.alert.type === 'occlusion').map((m) => m.alert.status), 'published once the replay was over: never active').not.toContain('active');
  expect(board.map((m) => m.alert.type), 'a replay lagging ~15 s is not a clock 15 s behind').not.toContain('clock_error');
  // and live again afterwards: at once
  expect(await occlusionLatencyMs(REPLAYED, 0.05)).toBeLessThan(1000);
});

test('negative twin: a pump with a correct clock, heard live, never raises clock_error', async () => {
  await delay(1000);
  const alerts = await rig.alerts(RIGHT);
  expect(alerts.map((a) => a.type)).not.toContain('clock_error');
  expect(rig.board.alerts(RIGHT).map((m) => m.alert.type)).not.toContain('clock_error');
  expect((await rig.alerts(BEHIND_5H)).map((a) => a.type)).toContain('clock_error');
});
