/**
 * A pump switched off mid-infusion, through a real pty, gateway, broker and server (docs/detection.md,
 * "A pump switched off mid-infusion"): pump_off (high) on the board within 2 s, no signal_lost while
 * it is off, cleared at POWER_ON (seq back to 0), and the time off counted as delivery neither on the
 * board nor in billing. Its twin: switched off after END stays silent.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { PumpView } from '../../../protocol/api.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DetectionRig, type RigPump } from './detectionRig.ts';

const OFF = 'CS7-OFF01';
const ENDED = 'CS7-OFF02';
/** the server's silence threshold, its minimum: an unwanted signal_lost would come within the wait below */
const SIGNAL_LOST_S = 10;
const RATE = 5;
const VOLUME = 230;
let rig: DetectionRig;

beforeAll(async () => {
  rig = await DetectionRig.start({ pumps: [OFF, ENDED], env: { SIGNAL_LOST_S: String(SIGNAL_LOST_S) } });
}, 120_000);

afterAll(async () => {
  await rig?.stop();
});

/** whole seconds of the pump clock (its time field) */
const sec = (ms: number): number => Math.floor(ms / 1000);
/** hours as the server reports them: floored to 4 decimals */
const hours4 = (s: number): number => Math.floor((s / 3600) * 10_000) / 10_000;

/** writes a RUN status with `viMl` infused (vi and vtbi to 2 decimals, as the pump sends them) */
async function running(p: RigPump, atMs: number, viMl: number): Promise<void> {
  const vi = Math.round(viMl * 100) / 100;
  await p.write(p.status({ state: 'RUN', rateMlH: RATE, infusedMl: vi, vtbiMl: Math.round((VOLUME - vi) * 100) / 100 }), atMs);
}

async function startProgram(p: RigPump, programId: string, volumeMl: number, hours: number): Promise<number> {
  const at = Date.now();
  await p.write({ type: 'event', code: 'POWER_ON', detail: '4.2.1' }, at);
  await p.write({ type: 'program', programId, drug: 'FLUOROURACIL', rateMlH: RATE, volumeMl, hours }, at);
  await p.write({ type: 'event', code: 'PROGRAM', detail: programId }, at);
  await p.write({ type: 'event', code: 'START', detail: programId }, at);
  await p.write(p.status({ state: 'RUN', rateMlH: RATE, infusedMl: 0, vtbiMl: volumeMl }), at);
  return at;
}

test('switched off with volume left: pump_off high on the board within 2 s, no signal_lost while off, cleared at POWER_ON; the time off is not delivery', async () => {
  const p = rig.pump(OFF);
  const startMs = await startProgram(p, 'P1', VOLUME, 46);
  await delay(2500);
  await running(p, Date.now(), (RATE * (Date.now() - startMs)) / 3_600_000);
  await delay(2500);
  const offMs = Date.now();
  const viOff = (RATE * (offMs - startMs)) / 3_600_000;
  await running(p, offMs, viOff);
  const wrote = await p.write({ type: 'event', code: 'POWER_OFF', detail: '' }, offMs);

  const raised = await rig.board.waitForAlert(OFF, (a) => a.type === 'pump_off' && a.status === 'active', { sinceMs: wrote, timeoutMs: 5000 });
  expect(raised.at - wrote).toBeLessThan(2000);
  expect(raised.alert.severity).toBe('high');
  expect(raised.alert.message).toMatch(/^Pump CS7-OFF01 was switched off at \d\d:\d\d UTC with 230 mL still to give; .*switch it back on/);
  await waitFor(() => rig.board.pump(OFF)?.poweredOff === true, 5000, 'the board showing the pump switched off');

  // silent for longer than SIGNAL_LOST_S: the pump said it went off, so no second (medium) alert
  await delay((SIGNAL_LOST_S + 5) * 1000);
  expect(rig.board.alerts(OFF).map((m) => m.alert.type)).not.toContain('signal_lost');

  // switched back on: seq restarts at 0, the program held until resumed, then it runs on
  const onMs = Date.now();
  await p.write({ type: 'event', code: 'POWER_ON', detail: '4.2.1' }, onMs);
  await p.write(p.status({ state: 'PAUSE', rateMlH: RATE, infusedMl: Math.round(viOff * 100) / 100, vtbiMl: Math.round((VOLUME - viOff) * 100) / 100 }), onMs);
  await delay(1200);
  const resumeMs = Date.now();
  await p.write({ type: 'event', code: 'RESUME', detail: '' }, resumeMs);
  await running(p, resumeMs, viOff);
  const cleared = await rig.board.waitForAlert(OFF, (a) => a.type === 'pump_off' && a.status === 'cleared', { timeoutMs: 5000 });
  expect(cleared.alert.id).toBe(raised.alert.id);
  await delay(2500);
  const lastMs = Date.now();
  await running(p, lastMs, viOff + (RATE * (lastMs - resumeMs)) / 3_600_000);

  // delivered: START → POWER_OFF and RESUME → the last status, on the pump clock; the time off is not in it
  const deliveredS = sec(offMs) - sec(startMs) + sec(lastMs) - sec(resumeMs);
  const offS = sec(resumeMs) - sec(offMs);
  expect(offS).toBeGreaterThanOrEqual(SIGNAL_LOST_S + 5);
  const view = await waitFor(() => {
    const v = rig.board.pump(OFF);
    return v?.poweredOff === false && v.state === 'RUN' && v.pumpTime === new Date(sec(lastMs) * 1000).toISOString().replace('.000Z', 'Z') ? v : undefined;
  }, 5000, 'the board showing the pump running again');
  expect(view.deliveredHours).toBe(hours4(deliveredS));
  expect(view.programId).toBe('P1');
  // one alert for the whole event: no signal_lost while off, no infusion_stopped after
  const held = await rig.alerts(OFF);
  expect(held.map((a) => `${a.type}:${a.status}`)).toEqual(['pump_off:cleared']);

  // billing: the same program in one episode, up to the last status (seq 4 since the POWER_ON)
  const episodes = await waitFor(async () => {
    const list = await rig.api<{ programId: string; deliveryHours: number; interruptions: { reason: string; minutes: number }[]; evidence: { lastSeq: number } }[]>(`/api/billing/episodes?pump=${OFF}`);
    return list.at(-1)?.evidence.lastSeq === 4 ? list : undefined;
  }, 10_000, 'the billing episode up to date');
  expect(episodes.map((e) => e.programId)).toEqual(['P1']);
  expect(episodes[0]!.deliveryHours).toBe(hours4(deliveredS));
  expect(episodes[0]!.interruptions.map((i) => [i.reason, i.minutes])).toEqual([['power_cycle+pause', Math.round((offS / 60) * 100) / 100]]);

}, 90_000);

test('switched off after END: nothing left, so no pump_off and no alert at all, however long it stays off', async () => {
  const p = rig.pump(ENDED);
  const startMs = await startProgram(p, 'P2', 0.01, 0.1);
  await delay(1500);
  const endMs = Date.now();
  await p.write(p.status({ state: 'RUN', rateMlH: RATE, infusedMl: 0.01, vtbiMl: 0 }), endMs);
  await p.write({ type: 'event', code: 'END', detail: 'P2' }, endMs);
  await p.write(p.status({ state: 'END', rateMlH: RATE, infusedMl: 0.01, vtbiMl: 0 }), endMs);
  await p.write({ type: 'event', code: 'POWER_OFF', detail: '' }, endMs);
  await waitFor(() => rig.board.pump(ENDED)?.poweredOff === true, 5000, 'the board showing the pump switched off');
  const view: PumpView | undefined = rig.board.pump(ENDED);
  expect(view?.state).toBe('END');
  expect(view?.deliveredHours).toBe(hours4(sec(endMs) - sec(startMs)));

  await delay((SIGNAL_LOST_S + 5) * 1000);
  expect(rig.board.alerts(ENDED).map((m) => m.alert.type)).toEqual([]);
  expect(await rig.alerts(ENDED)).toEqual([]);
}, 60_000);
