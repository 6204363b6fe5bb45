/**
 * The HL7 feed through the real processes, as a pharmacy would see it: simulated pumps on real
 * socat ptys → `npm run gateway` → Mosquitto → `npm run server` (PostgreSQL; patient, order and
 * assignment made through the HTTP API) → MLLP → `npm run hl7-listen -- --jsonl <file>` as the
 * receiver, a child process killed and restarted like a receiver that goes down. Every message is
 * read back from the listener's file and parsed by node-hl7-client's parser. One stack.
 *
 * Nothing here passes when the server sends nothing (HL7_MLLP_TARGETS unset): every test waits for
 * messages first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Message } from 'node-hl7-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { obxByRef } from '../../../server/hl7/pcdValidation.ts';
import { startNpmScript, type RunningProcess } from '../../helpers/childProcess.ts';
import { freePort } from '../../helpers/ports.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DetectionRig, type RigPump } from '../detection/detectionRig.ts';
import { rigPost, rigSession } from '../detection/rigSession.ts';

const ASSIGNED = 'CS7-H7A01';
const UNASSIGNED = 'CS7-H7U01';
const MRN = 'MRN-H7-PROC-1';
const OBSERVATION_S = 2;
const OUTAGE_MS = 10_000;
const PHARMACIST_PASSWORD = 'pharmacist-pass-h7';

/** one line of the listener's --jsonl file, its text parsed back */
interface Got {
  receivedAt: number;
  controlId: string;
  answered: string;
  errors: string[];
  text: string;
  message: Message;
  line: number;
}

let rig: DetectionRig;
let listener: RunningProcess;
let hl7Port = 0;
let jsonl = '';

function startListener(): RunningProcess {
  return startNpmScript('hl7-listen', ['--port', String(hl7Port), '--jsonl', jsonl]);
}

/** everything the listener has written so far, in arrival order (duplicates included) */
function received(): Got[] {
  if (!existsSync(jsonl)) return [];
  return readFileSync(jsonl, 'utf8').split('\n').filter((l) => l !== '').map((l, line) => {
    const r = JSON.parse(l) as { receivedAt: string; controlId: string; answered: string; errors: string[]; text: string };
    return { ...r, receivedAt: Date.parse(r.receivedAt), message: new Message({ text: r.text }), line };
  });
}

const typeOf = (g: Got): string => g.message.get('MSH.9.2').toString();
const serialOf = (g: Got): string => (obxByRef(g.message, 'MDC_DEV_PUMP_INFUS_MDS') ?? obxByRef(g.message, 'MDC_EVT_ALARM'))?.get('18.1').toString() ?? '';
const field = (g: Got, ref: string, path = '5'): string => obxByRef(g.message, ref)?.get(path).toString() ?? '';
const segments = (g: Got): string[] => g.text.split(/\r\n|\r|\n/).filter((s) => s !== '').map((s) => s.slice(0, 3));
const of = (pump: string, type: string, list = received()): Got[] => list.filter((g) => typeOf(g) === type && serialOf(g) === pump);
const occlusions = (pump: string, list = received()): Got[] => of(pump, 'R40', list).filter((g) => field(g, 'MDC_EVT_ALARM', '5.2') === 'MDC_EVT_FLUID_LINE_OCCL');
const events = (pump: string, list = received()): string[] => of(pump, 'R42', list).map((g) => field(g, 'MDC_ATTR_EVT_COND', '5.2'));
/** when the server made the message: MSH-7, YYYYMMDDHHMMSS+0000 */
const made = (g: Got): number => Date.parse(g.message.get('MSH.7.1').toString().replace(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d).*$/, '$1-$2-$3T$4:$5:$6Z'));
/** waitFor at a slower step: each probe reads and parses the listener's whole file */
const until = <T>(probe: () => T | Promise<T>, timeoutMs: number, what: string) => waitFor(probe, timeoutMs, what, 250);
/** the counter of a control id PW<8 hex of the server's start><base 36> */
const counterOf = (id: string): number => parseInt(id.slice(10), 36);

/** a pharmacist's session (API tokens change nothing) */
const pharmacist = () => rigSession(rig, 'pharm', 'pharmacist', PHARMACIST_PASSWORD);
const post = <T>(session: Record<string, string>, path: string, body: unknown): Promise<T> => rigPost<T>(rig, session, path, body);

async function startProgram(p: RigPump): Promise<void> {
  await p.write({ type: 'event', code: 'POWER_ON', detail: '4.2.1' });
  await p.write({ type: 'program', programId: 'FOLFOX-C1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 });
  await p.write({ type: 'event', code: 'PROGRAM', detail: 'FOLFOX-C1' });
  await p.write({ type: 'event', code: 'START', detail: 'FOLFOX-C1' });
  await p.write(p.status({ state: 'RUN', rateMlH: 5, infusedMl: 0, vtbiMl: 230 }));
}

const run = (infusedMl: number, alarms: string[] = []) =>
  ({ state: alarms.length > 0 ? 'ALARM' : 'RUN', rateMlH: 5, infusedMl, vtbiMl: Math.round((230 - infusedMl) * 100) / 100, alarms } as const);

beforeAll(async () => {
  hl7Port = await freePort();
  rig = await DetectionRig.start({
    pumps: [ASSIGNED, UNASSIGNED], database: true,
    env: { HL7_MLLP_TARGETS: `127.0.0.1:${hl7Port}`, HL7_OBSERVATION_S: String(OBSERVATION_S), HL7_RETRY_MAX_S: '1', STOPPED_GRACE_S: '600' },
  });
  jsonl = join(rig.dir.path, 'hl7-received.jsonl');
  listener = startListener();
  await listener.waitForLine(/listening for MLLP/, 30_000);
  const session = await pharmacist();
  const patient = await post<{ id: string }>(session, '/api/patients', { mrn: MRN, name: 'Jane Doe' });
  const order = await post<{ id: string }>(session, '/api/orders', {
    patientId: patient.id, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46, mode: 'continuous', start: new Date(Date.now() - 3_600_000).toISOString(),
  });
  await post(session, '/api/assignments', { pump: ASSIGNED, orderId: order.id });
}, 180_000);

afterAll(async () => {
  await listener?.stop();
  await rig?.stop();
});

describe('HL7 through the real processes', () => {
  test('assigned pump: ORU^R42 at start and end, ORU^R01 every period, ORU^R40 at raise and clear of an occlusion; PID-3 the MRN', async () => {
    const p = rig.pump(ASSIGNED);
    await startProgram(p);
    await until(() => events(ASSIGNED).includes('MDC_EVT_PUMP_DELIV_START'), 20_000, 'ORU^R42 delivery start');

    // running: PCD-01 within the configured period
    await until(() => of(ASSIGNED, 'R01').length >= 3, 20_000, 'three ORU^R01');
    // made (MSH-7, whole seconds) every period; received soon after
    const r01 = of(ASSIGNED, 'R01');
    for (let i = 1; i < r01.length; i++) expect(made(r01[i] as Got) - made(r01[i - 1] as Got)).toBeLessThanOrEqual(OBSERVATION_S * 1000 + 1000);
    for (const g of r01) expect(g.receivedAt - made(g)).toBeLessThan(3000);
    const obs = r01[0] as Got;
    expect(field(obs, 'MDC_FLOW_FLUID_PUMP')).toBe('5');
    expect(field(obs, 'MDC_FLOW_FLUID_PUMP', '6.1')).toBe('265266');
    expect(field(obs, 'MDC_VOL_FLUID_TBI_REMAIN')).toBe('230');

    // an occlusion on the serial line: one ORU^R40 at raise, one at clear
    await p.write(p.status(run(0.1, ['OCCL_DN'])));
    await until(() => occlusions(ASSIGNED).length >= 1, 20_000, 'ORU^R40 occlusion raised');
    await p.write(p.status(run(0.2)));
    await until(() => occlusions(ASSIGNED).length >= 2, 20_000, 'ORU^R40 occlusion cleared');
    const [raised, cleared] = occlusions(ASSIGNED) as [Got, Got];
    expect([field(raised, 'MDC_EVT_ALARM', '5.1'), field(raised, 'MDC_ATTR_EVENT_PHASE'), field(raised, 'MDC_ATTR_ALARM_STATE'), field(raised, 'MDC_ATTR_ALARM_PRIORITY')])
      .toEqual(['196940', 'start', 'active', 'PH']);
    expect([field(cleared, 'MDC_EVT_ALARM', '5.1'), field(cleared, 'MDC_ATTR_EVENT_PHASE'), field(cleared, 'MDC_ATTR_ALARM_STATE'), field(cleared, 'MDC_ATTR_ALARM_PRIORITY')])
      .toEqual(['196940', 'end', 'inactive', 'PH']);
    expect(cleared.message.get('OBR.3.1').toString()).toBe(raised.message.get('OBR.3.1').toString());

    // the program ends
    await p.write({ type: 'event', code: 'END', detail: 'FOLFOX-C1' });
    await p.write(p.status({ state: 'END', rateMlH: 5, infusedMl: 0.3, vtbiMl: 0 }));
    await until(() => events(ASSIGNED).includes('MDC_EVT_PUMP_DELIV_COMP'), 20_000, 'ORU^R42 delivery complete');
    expect(events(ASSIGNED)).toEqual(['MDC_EVT_PUMP_DELIV_START', 'MDC_EVT_PUMP_DELIV_STOP', 'MDC_EVT_PUMP_DELIV_START', 'MDC_EVT_PUMP_DELIV_COMP']);
    expect(occlusions(ASSIGNED)).toHaveLength(2);

    // every message of the assigned pump: valid, answered AA, PID-3 the MRN
    const mine = received().filter((g) => serialOf(g) === ASSIGNED);
    expect(new Set(mine.map(typeOf))).toEqual(new Set(['R01', 'R40', 'R42']));
    for (const g of mine) {
      expect(g.errors).toEqual([]);
      expect(g.answered).toBe('AA');
      expect(g.message.get('PID.3.1').toString()).toBe(MRN);
      expect(segments(g).slice(0, 4)).toEqual(['MSH', 'PID', 'PV1', 'OBR']);
    }
  }, 90_000);

  test("an unassigned pump's messages carry no PID (the serial in OBX-18)", async () => {
    await startProgram(rig.pump(UNASSIGNED));
    await until(() => events(UNASSIGNED).includes('MDC_EVT_PUMP_DELIV_START') && of(UNASSIGNED, 'R01').length >= 1, 20_000, 'ORU^R42 and ORU^R01 of the unassigned pump');
    const mine = received().filter((g) => serialOf(g) === UNASSIGNED);
    for (const g of mine) {
      expect(g.errors).toEqual([]);
      expect(segments(g)).not.toContain('PID');
      expect(segments(g)).not.toContain('PV1');
      expect(segments(g).slice(0, 2)).toEqual(['MSH', 'OBR']);
    }
  }, 60_000);

  test('the receiver killed for ~10 s and restarted gets everything it missed, in order, exactly once by MSH-10', async () => {
    const p = rig.pump(UNASSIGNED);
    await until(() => of(UNASSIGNED, 'R01').length >= 2, 20_000, 'the unassigned pump reported running');
    await listener.kill9();
    const downAt = Date.now();
    const beforeKill = received();

    // while the receiver is down: an occlusion raised and cleared, and the pump running on
    await new Promise((r) => setTimeout(r, 2000));
    await p.write(p.status(run(0.1, ['OCCL_DN'])));
    await new Promise((r) => setTimeout(r, 2000));
    await p.write(p.status(run(0.2)));
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));
    const health = await rig.api<{ hl7?: { receiver: string; backlog: number; connected: boolean }[] }>('/api/health');
    expect(health.hl7?.[0]?.connected).toBe(false);
    expect(health.hl7?.[0]?.backlog).toBeGreaterThanOrEqual(6);

    const upAt = Date.now();
    listener = startListener();
    await listener.waitForLine(/listening for MLLP/, 30_000);
    await until(() => occlusions(UNASSIGNED).length >= 2 && of(UNASSIGNED, 'R01').some((g) => g.receivedAt > upAt + OBSERVATION_S * 1000), 30_000, 'the backlog delivered');
    await until(async () => (await rig.api<{ hl7?: { backlog: number }[] }>('/api/health')).hl7?.[0]?.backlog === 0, 15_000, 'backlog 0');

    const all = received();
    expect(all.every((g) => g.errors.length === 0 && g.answered === 'AA')).toBe(true);
    // exactly once by MSH-10: at most the message in flight at the kill arrives twice
    const firstById = new Map<string, Got>();
    for (const g of all) if (!firstById.has(g.controlId)) firstById.set(g.controlId, g);
    const duplicates = all.filter((g) => firstById.get(g.controlId) !== g);
    expect(duplicates.length).toBeLessThanOrEqual(1);
    for (const d of duplicates) expect(beforeKill.some((g) => g.controlId === d.controlId)).toBe(true);
    // nothing missing and in order: the server's control id counter, first arrivals, is 1, 2, 3, ...
    const counters = [...firstById.keys()].map(counterOf);
    expect(counters).toEqual(counters.map((_, i) => i + 1));
    expect(new Set([...firstById.keys()].map((id) => id.slice(0, 10))).size).toBe(1);

    // what was made while the receiver was down came after the restart, the occlusion included
    const missed = [...firstById.values()].filter((g) => made(g) >= Math.floor(downAt / 1000) * 1000 + 1000 && made(g) < upAt - 1000);
    expect(missed.length).toBeGreaterThanOrEqual(6);
    for (const g of missed) expect(g.receivedAt).toBeGreaterThanOrEqual(upAt);
    const [raised, cleared] = occlusions(UNASSIGNED, [...firstById.values()]) as [Got, Got];
    expect([field(raised, 'MDC_ATTR_EVENT_PHASE'), field(cleared, 'MDC_ATTR_EVENT_PHASE')]).toEqual(['start', 'end']);
    expect(raised.receivedAt).toBeGreaterThanOrEqual(upAt);
    expect(events(UNASSIGNED, [...firstById.values()])).toEqual(['MDC_EVT_PUMP_DELIV_START', 'MDC_EVT_PUMP_DELIV_STOP', 'MDC_EVT_PUMP_DELIV_START']);
  }, 90_000);
});
