/**
 * Issue 13, point 5: a planned disconnect does not page. Through simulated pumps on real ptys, the
 * real gateway, Mosquitto, influxd and the real server:
 * - a STOP with 2.6 mL left is a completed infusion (no infusion_stopped, billing says completed);
 *   its twin with 20 mL left raises infusion_stopped after the grace;
 * - a nurse visit set through the API (a nurse's session, CSRF): a pause and a silence longer
 *   than their grace raise nothing during it; the visit ends by itself and, the pump still paused
 *   (or silent), infusion_stopped (signal_lost) comes after the grace counted from its end; the
 *   twin paused without a visit raises infusion_stopped after the grace.
 * Every pump runs at once, so the scenario lasts about one shortest visit (5 min).
 */
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Alert, PumpView } from '../../../protocol/api.ts';
import { hashPassword } from '../../../server/auth/passwords.ts';
import { writeUsersFile } from '../../../server/auth/usersFile.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DetectionRig, type RigPump } from './detectionRig.ts';

const STOP_SMALL = 'CS7-RES01';
const STOP_LARGE = 'CS7-RES02';
const VISIT_PAUSE = 'CS7-VIS01';
const NO_VISIT_PAUSE = 'CS7-VIS02';
const VISIT_SILENT = 'CS7-VIS03';
const GRACE_S = 20;
const SIGNAL_LOST_S = 15;
const VISIT_MIN = 5;
const STATUS_EVERY_MS = 3000;
const NURSE = { name: 'nurse-rig', password: 'nurse-rig-password' };

let rig: DetectionRig;
/** pumps still sending their status every few seconds, with what it says */
const talking = new Map<string, () => ReturnType<RigPump['status']>>();
let statusLoop: Promise<void> | null = null;
let running = true;

beforeAll(async () => {
  rig = await DetectionRig.start({
    pumps: [STOP_SMALL, STOP_LARGE, VISIT_PAUSE, NO_VISIT_PAUSE, VISIT_SILENT],
    env: { STOPPED_GRACE_S: String(GRACE_S), SIGNAL_LOST_S: String(SIGNAL_LOST_S) },
  });
  // what `npm run users -- add` writes; the server reads the file again within 2 s
  writeUsersFile(join(rig.dir.path, 'users.json'), {
    version: 1, users: { [NURSE.name]: { role: 'nurse', password: await hashPassword(NURSE.password), updatedAt: new Date().toISOString() } },
  });
  statusLoop = (async () => {
    while (running) {
      for (const [serial, status] of talking) await rig.pump(serial).write(status());
      await delay(STATUS_EVERY_MS);
    }
  })();
}, 120_000);

afterAll(async () => {
  running = false;
  await statusLoop;
  await rig?.stop();
});

/** a nurse's browser session: cookie, CSRF token and our own origin */
async function nurseSession(): Promise<{ cookie: string; csrf: string }> {
  return waitFor(async () => {
    const res = await fetch(`${rig.url}/api/session`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: rig.url }, body: JSON.stringify({ username: NURSE.name, password: NURSE.password }),
    });
    if (res.status !== 200) return null;
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
  }, 20_000, 'the nurse account to be read', 500);
}

/** POWER_ON, a 46-h program of 230 mL at 5 mL/h, START, and a first RUN status */
async function startProgram(p: RigPump, programId: string): Promise<void> {
  await p.write({ type: 'event', code: 'POWER_ON', detail: '4.2.1' });
  await p.write({ type: 'program', programId, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 });
  await p.write({ type: 'event', code: 'START', detail: programId });
  await p.write(p.status({ state: 'RUN', rateMlH: 5, infusedMl: 0, vtbiMl: 230 }));
}

/** a program that has run down to `leftMl`, stopped by the nurse, the pump idle after it */
async function stopWith(p: RigPump, leftMl: number): Promise<void> {
  await startProgram(p, `P-${p.serial}`);
  await p.write(p.status({ state: 'RUN', rateMlH: 5, infusedMl: 230 - leftMl, vtbiMl: leftMl }));
  await p.write({ type: 'event', code: 'STOP', detail: '' });
  const idle = p.status({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0 });
  await p.write(idle);
  talking.set(p.serial, () => idle);
}

async function pause(p: RigPump): Promise<void> {
  await p.write({ type: 'event', code: 'PAUSE', detail: '' });
  const paused = p.status({ state: 'PAUSE', rateMlH: 5, infusedMl: 1.2, vtbiMl: 228.8 });
  await p.write(paused);
  talking.set(p.serial, () => paused);
}

const ofType = (alerts: { at: number; alert: Alert }[], type: string): { at: number; alert: Alert }[] => alerts.filter((m) => m.alert.type === type);

test('a stop with the residual left is complete; a visit holds back stops and silences, which page once it has ended', async () => {
  const session = await nurseSession();
  for (const serial of [VISIT_PAUSE, NO_VISIT_PAUSE, VISIT_SILENT]) {
    const p = rig.pump(serial);
    await startProgram(p, `P-${serial}`);
    const run = p.status({ state: 'RUN', rateMlH: 5, infusedMl: 1.2, vtbiMl: 228.8 });
    talking.set(serial, () => run);
  }
  await waitFor(() => [VISIT_PAUSE, NO_VISIT_PAUSE, VISIT_SILENT].every((s) => rig.board.pump(s)?.state === 'RUN'), 15_000, 'the programs on the board');

  // the nurse at the visit: 5 min for VIS01 and VIS03, none for VIS02
  const visit = async (serial: string): Promise<PumpView> => {
    const res = await fetch(`${rig.url}/api/pumps/${serial}/visit`, {
      method: 'PUT', headers: { 'content-type': 'application/json', cookie: session.cookie, 'x-csrf-token': session.csrf, origin: rig.url },
      body: JSON.stringify({ minutes: VISIT_MIN }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as PumpView;
  };
  const noCsrf = await fetch(`${rig.url}/api/pumps/${VISIT_PAUSE}/visit`, {
    method: 'PUT', headers: { 'content-type': 'application/json', cookie: session.cookie, origin: rig.url }, body: JSON.stringify({ minutes: VISIT_MIN }),
  });
  expect(noCsrf.status).toBe(403);
  const set = await visit(VISIT_PAUSE);
  await visit(VISIT_SILENT);
  expect(set.visit?.by).toBe(NURSE.name);
  const visitEndMs = Date.parse(set.visit!.until);
  // every other board (here: a token's /ws client) sees who and until when
  await waitFor(() => rig.board.pump(VISIT_PAUSE)?.visit?.by === NURSE.name && rig.board.pump(VISIT_SILENT)?.visit?.by === NURSE.name, 10_000, 'the visit on the board');

  const since = performance.now();
  await Promise.all([pause(rig.pump(VISIT_PAUSE)), pause(rig.pump(NO_VISIT_PAUSE)), stopWith(rig.pump(STOP_SMALL), 2.6), stopWith(rig.pump(STOP_LARGE), 20)]);
  talking.delete(VISIT_SILENT); // taken away from its gateway during the visit

  // the twins page after the grace
  await rig.board.waitForAlert(NO_VISIT_PAUSE, (a) => a.type === 'infusion_stopped', { sinceMs: since, timeoutMs: (GRACE_S + 30) * 1000 });
  const large = await rig.board.waitForAlert(STOP_LARGE, (a) => a.type === 'infusion_stopped', { sinceMs: since, timeoutMs: (GRACE_S + 30) * 1000 });
  expect(large.alert.detail.volumeLeftMl).toBe(20);

  // until the visit ends: nothing from the paused or the silent pump, nor from the one stopped with 2.6 mL left
  while (Date.now() < visitEndMs - 2000) {
    await delay(2000);
    expect(ofType(rig.board.alerts(VISIT_PAUSE), 'infusion_stopped')).toEqual([]);
    expect(ofType(rig.board.alerts(VISIT_SILENT), 'signal_lost')).toEqual([]);
  }
  expect(ofType(rig.board.alerts(STOP_SMALL), 'infusion_stopped')).toEqual([]);

  // it ends by itself; still paused (still silent), each pages after its grace counted from the visit's end
  await waitFor(() => rig.board.pump(VISIT_PAUSE)?.visit === null, 15_000, 'the visit to end by itself');
  const stopped = await rig.board.waitForAlert(VISIT_PAUSE, (a) => a.type === 'infusion_stopped', { timeoutMs: (GRACE_S + 30) * 1000 });
  expect(Date.parse(stopped.alert.raisedAt)).toBeGreaterThan(visitEndMs + GRACE_S * 1000 - 2000);
  expect(stopped.alert.detail.visitBy).toBe(NURSE.name);
  const lost = await rig.board.waitForAlert(VISIT_SILENT, (a) => a.type === 'signal_lost', { timeoutMs: (SIGNAL_LOST_S + 30) * 1000 });
  expect(Date.parse(lost.alert.raisedAt)).toBeGreaterThanOrEqual(visitEndMs + SIGNAL_LOST_S * 1000 - 1000);

  // the 2.6-mL stop stays complete: no infusion_stopped in the server's record either, and billing agrees
  expect((await rig.alerts(STOP_SMALL)).filter((a) => a.type === 'infusion_stopped')).toEqual([]);
  const episodes = async (serial: string): Promise<{ completed: boolean | null; leftMl: number | null }[]> =>
    rig.api(`/api/billing/episodes?pump=${serial}&from=${new Date(Date.now() - 3_600_000).toISOString()}`);
  expect(await episodes(STOP_SMALL)).toMatchObject([{ completed: true, leftMl: 2.6 }]);
  expect(await episodes(STOP_LARGE)).toMatchObject([{ completed: false, leftMl: 20 }]);

  // the audit log says who put which pump in visit
  const audit = await waitFor(async () => {
    const list = await rig.api<{ action: string; actor: string; target?: string }[]>('/api/audit?action=pump_visit');
    return list.length >= 2 ? list : null;
  }, 10_000, 'the visits in the audit log', 500);
  expect(audit.map((e) => `${e.actor} ${e.target ?? ''}`).sort()).toEqual([`${NURSE.name} ${VISIT_PAUSE}`, `${NURSE.name} ${VISIT_SILENT}`]);
}, 12 * 60_000);
