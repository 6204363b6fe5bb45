/**
 * Issue 13, point 8, through the real chain (simulated pumps on ptys → gateway → Mosquitto →
 * server with PostgreSQL → /ws): alert messages give times in the patient's time zone when the
 * records have one, else in the server's `TZ`, and name the zone; the board is told the server's
 * zone and each pump's patient zone. Twin: an uneventful run in a zone raises nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert, PumpView } from '../../../protocol/api.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DetectionRig, type RigPump } from './detectionRig.ts';
import { rigPost, rigSession } from './rigSession.ts';

const PARIS_PATIENT = 'CS7-TZ001';
const NO_ZONE_PATIENT = 'CS7-TZ002';
const UNEVENTFUL = 'CS7-TZ003';
const SERVER_ZONE = 'America/Chicago';
const GRACE_S = 20;
const PHARMACIST_PASSWORD = 'pharmacist-pass-1';

let rig: DetectionRig;

/** HH:MM and the zone's short name, as the messages write them */
function zoned(ms: number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }).formatToParts(ms);
  const part = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return `${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}

/** a pharmacist's session (API tokens change nothing) */
const pharmacist = () => rigSession(rig, 'pharm', 'pharmacist', PHARMACIST_PASSWORD);
const post = <T>(session: Record<string, string>, path: string, body: unknown): Promise<T> => rigPost<T>(rig, session, path, body);

async function assign(session: Record<string, string>, pump: string, timezone: string | null, mrn: string): Promise<void> {
  const patient = await post<{ id: string }>(session, '/api/patients', { mrn, name: `Patient ${mrn}`, timezone });
  const order = await post<{ id: string }>(session, '/api/orders', {
    patientId: patient.id, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46, mode: 'continuous', start: new Date(Date.now() - 3_600_000).toISOString(),
  });
  await post(session, '/api/assignments', { pump, orderId: order.id });
}

async function startProgram(p: RigPump): Promise<void> {
  await p.write({ type: 'event', code: 'POWER_ON', detail: '4.2.1' });
  await p.write({ type: 'program', programId: 'FOLFOX-C1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 });
  await p.write({ type: 'event', code: 'PROGRAM', detail: 'FOLFOX-C1' });
  await p.write({ type: 'event', code: 'START', detail: 'FOLFOX-C1' });
  await p.write(p.status({ state: 'RUN', rateMlH: 5, infusedMl: 0, vtbiMl: 230 }));
  await waitFor(() => rig.board.pump(p.serial)?.state === 'RUN', 15_000, `${p.serial} running on the board`);
}

/** PAUSE at pump time `pausedMs`, then a status past the grace: infusion_stopped "since <pause time>" */
async function pausePastGrace(p: RigPump): Promise<{ pausedMs: number; alert: Alert }> {
  const atMs = Date.now();
  const pausedMs = Math.floor((atMs + p.clockOffsetMs) / 1000) * 1000;
  await p.write({ type: 'event', code: 'PAUSE', detail: '' }, atMs);
  await p.write(p.status({ state: 'PAUSE', rateMlH: 5, infusedMl: 0.1, vtbiMl: 229.9 }), atMs);
  p.clockOffsetMs += (GRACE_S + 5) * 1000;
  await p.write(p.status({ state: 'PAUSE', rateMlH: 5, infusedMl: 0.1, vtbiMl: 229.9 }), atMs);
  const { alert } = await rig.board.waitForAlert(p.serial, (a) => a.type === 'infusion_stopped', { timeoutMs: 15_000 });
  return { pausedMs, alert };
}

beforeAll(async () => {
  rig = await DetectionRig.start({
    pumps: [PARIS_PATIENT, NO_ZONE_PATIENT, UNEVENTFUL], database: true,
    env: { TZ: SERVER_ZONE, STOPPED_GRACE_S: String(GRACE_S) },
  });
  const session = await pharmacist();
  await assign(session, PARIS_PATIENT, 'Europe/Paris', 'MRN-TZ-1');
  await assign(session, NO_ZONE_PATIENT, null, 'MRN-TZ-2');
  await assign(session, UNEVENTFUL, 'Asia/Tokyo', 'MRN-TZ-3');
}, 180_000);

afterAll(async () => {
  await rig?.stop();
});

describe("point 8: times in the nurse's zone", () => {
  test("the server tells the board its zone", async () => {
    expect((await rig.api<{ timeZone: string }>('/api/me')).timeZone).toBe(SERVER_ZONE);
  });

  test("a patient with a time zone: the pump view carries it, and the message gives the pause time in it, named", async () => {
    const p = rig.pump(PARIS_PATIENT);
    await startProgram(p);
    expect(rig.board.pump(p.serial)?.patient?.timezone).toBe('Europe/Paris');
    expect((await rig.api<PumpView>(`/api/pumps/${p.serial}`)).patient?.timezone).toBe('Europe/Paris');
    const { pausedMs, alert } = await pausePastGrace(p);
    expect(alert.message).toContain(`since ${zoned(pausedMs, 'Europe/Paris')} (`);
    expect(alert.message).not.toContain('UTC');
    expect(alert.patientId).toBeTruthy();
  });

  test("a patient without a time zone: the server's TZ, named", async () => {
    const p = rig.pump(NO_ZONE_PATIENT);
    await startProgram(p);
    const { pausedMs, alert } = await pausePastGrace(p);
    expect(alert.message).toContain(`since ${zoned(pausedMs, SERVER_ZONE)} (`);
  });

  test('twin: an uneventful run of an assigned pump in a zone raises nothing', async () => {
    const p = rig.pump(UNEVENTFUL);
    await startProgram(p);
    let infusedMl = 0;
    for (let i = 0; i < 3; i++) {
      p.clockOffsetMs += 60_000;
      infusedMl = Math.round((infusedMl + 0.08) * 100) / 100;
      await p.write(p.status({ state: 'RUN', rateMlH: 5, infusedMl, vtbiMl: Math.round((230 - infusedMl) * 100) / 100 }));
    }
    await waitFor(() => rig.board.pump(p.serial)?.infusedMl === infusedMl, 15_000, 'the last status on the board');
    await new Promise((r) => setTimeout(r, 1500));
    expect(rig.board.alerts(p.serial)).toEqual([]);
    // raisedAt is pump time, moved on here: the range reaches past now
    const range = `from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 3_600_000).toISOString()}`;
    expect(await rig.api<Alert[]>(`/api/alerts?status=all&pump=${p.serial}&${range}`)).toEqual([]);
  });
});
