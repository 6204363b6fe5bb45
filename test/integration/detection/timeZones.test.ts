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

const PARIS_PATIENT = 'CS7-TZ001';
const NO_ZONE_PATIENT = 'CS7-TZ002';
const UNEVENTFUL = 'CS7-TZ003';
const SERVER_ZONE = 'America/Chicago';
const GRACE_S = 20;

let rig: DetectionRig;

/** HH:MM and the zone's short name, as the messages write them */
function zoned(ms: number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }).formatToParts(ms);
  const part = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return `${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}

async function assign(pump: string, timezone: string | null, mrn: string): Promise<void> {
  const json = { 'content-type': 'application/json' };
  const patient = await rig.api<{ id: string }>('/api/patients', { method: 'POST', headers: json, body: JSON.stringify({ mrn, name: `Patient ${mrn}`, timezone }) }, 201);
  const order = await rig.api<{ id: string }>('/api/orders', {
    method: 'POST', headers: json,
    body: JSON.stringify({ patientId: patient.id, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46, mode: 'continuous', start: new Date(Date.now() - 3_600_000).toISOString() }),
  }, 201);
  await rig.api('/api/assignments', { method: 'POST', headers: json, body: JSON.stringify({ pump, orderId: order.id }) }, 201);
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
  await assign(PARIS_PATIENT, 'Europe/Paris', 'MRN-TZ-1');
  await assign(NO_ZONE_PATIENT, null, 'MRN-TZ-2');
  await assign(UNEVENTFUL, 'Asia/Tokyo', 'MRN-TZ-3');
}, 180_000);

afterAll(async () => {
  await rig?.stop();
});

describe("point 8: times in the nurse's zone", () => {
  test("the server tells its zone, and each pump view its patient's", async () => {
    expect((await rig.api<{ timeZone: string }>('/api/me')).timeZone).toBe(SERVER_ZONE);
    const paris = await waitFor(async () => {
      const v = await rig.api<PumpView>(`/api/pumps/${PARIS_PATIENT}`, {}, 200).catch(() => null);
      return v?.patient ? v : null;
    }, 15_000, 'the assigned pump view');
    expect(paris.patient?.timezone).toBe('Europe/Paris');
  });

  test("a patient with a time zone: the message gives the pause time in the patient's zone, named", async () => {
    const p = rig.pump(PARIS_PATIENT);
    await startProgram(p);
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
    expect(await rig.alerts(p.serial)).toEqual([]);
  });
});
