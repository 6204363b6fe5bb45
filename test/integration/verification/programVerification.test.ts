/**
 * Programming verification end to end (docs/detection.md, "Programming verification"): the real
 * server (buildServer as main.ts wires it) on real PostgreSQL, Mosquitto and influxd; patients,
 * orders, assignments and drug limits made through the §6 API by a pharmacist who logged in; a
 * nurse's /ws client sees what a board sees. The ISMP case comes through a real `npm run gateway`
 * reading a socat pty; the others as a gateway publishes them. Latencies are measured and printed.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Alert } from '../../../protocol/api.ts';
import type { DrugLimit } from '../../../protocol/clinical.ts';
import { decodeSentence } from '../../../protocol/decode.ts';
import { encodeSentence } from '../../../protocol/encode.ts';
import { loadCapture } from '../../../simulators/capture.ts';
import { startGateway, startPump, stopGateway } from '../gateway/gatewayHarness.ts';
import { prescribe, pumpTime, VerificationStack, type PumpFeed, type SentenceBody, type Session, type WsClient } from './verificationStack.ts';

const MIN = 60_000;
const CAPTURE = join(import.meta.dirname, '../../fixtures/captures/folfox-46h-normal.log');
/** the ISMP order: fluorouracil over 4 days */
const ISMP_ORDER = { drug: 'FLUOROURACIL', rateMlH: 1.2, volumeMl: 115.2, hours: 96 };
/** the ISMP program: a daily volume keyed as hourly */
const ISMP_PROGRAM = { type: 'program', programId: 'FU-4D-C1', drug: 'FLUOROURACIL', rateMlH: 28.8, volumeMl: 130, hours: 4.5 } as const;
const FOLFOX_ORDER = { drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 };

const stack = new VerificationStack();
let pharma: Session;
let nurse: Session;
let board: WsClient;
const timings: string[] = [];

beforeAll(async () => {
  const t = performance.now();
  await stack.start();
  pharma = await stack.login('pharma');
  nurse = await stack.login('nurse');
  board = await stack.openWs(nurse);
  await vi.waitFor(() => expect(board.received[0]?.msg.type).toBe('snapshot'), { timeout: 10_000 });
  timings.push(`stack up in ${ms(performance.now() - t)}`);
}, 120_000);

afterAll(async () => {
  await board?.close();
  await stack.dispose();
  process.stdout.write(`# programming verification timings:\n${timings.map((l) => `#   ${l}\n`).join('')}`);
});

function ms(n: number): string {
  return `${Math.round(n)} ms`;
}

/** the first alert message of `pump` on the board, arrived after `since`, that satisfies `match` */
async function onBoard(ws: WsClient, pump: string, since: number, match: (a: Alert) => boolean, timeout = 10_000): Promise<{ at: number; alert: Alert }> {
  return vi.waitFor(() => {
    const hit = ws.alerts(pump).find((m) => m.at >= since && match(m.alert));
    if (!hit) throw new Error(`no matching alert of ${pump} on the board yet (has ${ws.alerts(pump).map((m) => m.alert.type).join(', ') || 'none'})`);
    return hit;
  }, { timeout, interval: 10 });
}

const typesOf = (alerts: readonly Alert[]): string[] => [...new Set(alerts.map((a) => `${a.pump}:${a.type}`))].sort();
const idsOf = (alerts: readonly { alert: Alert }[], type: string): Set<string> => new Set(alerts.filter((m) => m.alert.type === type).map((m) => m.alert.id));

/** A status the way the pump writes it (an idle pump does not know its reservoir). */
function status(state: 'IDLE' | 'RUN' | 'ALARM' | 'END', rateMlH: number, infusedMl: number, volumeMl: number, alarms: string[] = [], pressureMmHg = 35): SentenceBody {
  const left = Math.max(0, Math.round((volumeMl - infusedMl) * 100) / 100);
  return {
    type: 'status', state, rateMlH, infusedMl: Math.round(infusedMl * 100) / 100, vtbiMl: left, reservoirMl: state === 'IDLE' ? null : left,
    pressureMmHg, batteryPct: 90, alarms,
  };
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * Power-on, the program, START at `startMs`, then a status every `stepMin` of pump time and one at
 * `untilMs`, vi following `infusedAt(hours)`. Sent at once: what lies more than 2 min before now
 * reaches the server as a backlog does after a gateway outage (the engine holds back what it
 * raises from history until the pump is live); a status at `untilMs` ≈ now is live.
 */
async function runProgram(
  feed: PumpFeed, program: { programId: string; drug: string; rateMlH: number; volumeMl: number; hours: number },
  startMs: number, untilMs: number, infusedAt: (hours: number) => number, stepMin = 5,
): Promise<number> {
  await feed.send({ type: 'event', code: 'POWER_ON', detail: '4.2.1' }, startMs - 2 * MIN);
  await feed.send({ type: 'program', ...program }, startMs - MIN);
  await feed.send({ type: 'event', code: 'START', detail: program.programId }, startMs);
  const times: number[] = [];
  for (let t = startMs + stepMin * MIN; t < untilMs; t += stepMin * MIN) times.push(t);
  times.push(untilMs);
  let given = 0;
  for (const t of times) {
    given = infusedAt((t - startMs) / 3_600_000);
    await feed.send(status('RUN', program.rateMlH, given, program.volumeMl), t);
  }
  return round2(given);
}

describe('programming verification against the order', () => {
  test('the ISMP case through a real gateway and pty: program_mismatch on the board within 2 s of START', { timeout: 60_000 }, async () => {
    const serial = 'CS7-ISMP01';
    const { patient, order } = await prescribe(pharma, serial, 'MRN-VER-ISMP', ISMP_ORDER);
    const { pty, pump } = await startPump(stack.dir.path, 'ismp');
    const gw = startGateway({ id: 'home-ismp', serial: [pty.gatewayPath], mqtt: stack.broker.url, queueDir: join(stack.dir.path, 'gw-ismp') });
    try {
      await gw.waitForLine(/"event":"broker_up"/, 30_000);
      await gw.waitForLine(/"event":"link_up"/, 30_000);
      const lines = stack.pump(serial, 'home-ismp');
      const write = async (body: SentenceBody, atMs = Date.now()): Promise<number> => {
        const line = lines.line(body, atMs);
        const t = performance.now();
        await pump.send(line);
        await pump.drain();
        return t;
      };
      await write({ type: 'event', code: 'POWER_ON', detail: '4.2.1' });
      await write(status('IDLE', 0, 0, 0));
      const prgAt = await write(ISMP_PROGRAM);
      const atPrg = await onBoard(board, serial, prgAt, (a) => a.type === 'program_mismatch');
      const startAt = await write({ type: 'event', code: 'START', detail: 'FU-4D-C1' });
      const atStart = await onBoard(board, serial, startAt, (a) => a.type === 'program_mismatch' && a.detail.check === 'START');
      const latencyMs = atStart.at - startAt;
      timings.push(`ISMP via gateway+pty: PRG written → program_mismatch on /ws ${ms(atPrg.at - prgAt)}; START written → updated alert on /ws ${ms(latencyMs)}`);
      expect(latencyMs).toBeLessThan(2000);

      expect(atPrg.alert.detail.check).toBe('PRG');
      expect(atPrg.alert.message).toMatch(/do not start it/);
      const a = atStart.alert;
      expect(a.id).toBe(atPrg.alert.id); // one alert, updated: not a second page
      expect(a).toMatchObject({ type: 'program_mismatch', severity: 'high', status: 'active', gateway: 'home-ismp', patientId: patient.id, orderId: order.id });
      expect(a.message).toMatch(/rate 28\.8 mL\/h, ordered 1\.2 mL\/h/);
      expect(a.message).toMatch(/wrong dose is going in/);
      expect(a.detail).toMatchObject({
        check: 'START', programId: 'FU-4D-C1', drug: 'FLUOROURACIL', orderId: order.id, tolerancePct: 10,
        mismatched: ['rateMlH', 'volumeMl', 'hours'],
        rateMlH: { programmed: 28.8, ordered: 1.2, mismatch: true },
        volumeMl: { programmed: 130, ordered: 115.2, orderVolumeMl: 115.2, givenBeforeMl: 0, mismatch: true },
        hours: { programmed: 4.5, ordered: 96, mismatch: true },
      });
      // the status that follows START changes nothing: one alert in all
      const runAt = await write(status('RUN', 28.8, 0.1, 130));
      await vi.waitFor(() => expect(board.pump(serial)?.infusedMl).toBe(0.1), { timeout: 10_000, interval: 20 });
      expect(typesOf(await stack.alertsOf(serial))).toEqual([`${serial}:program_mismatch`]);
      expect(board.alerts(serial).filter((m) => m.at >= runAt)).toEqual([]);
      // the board shows whom to call and what was ordered
      expect(board.pump(serial)).toMatchObject({ patient: { id: patient.id, mrn: 'MRN-VER-ISMP' }, order: { id: order.id, rateMlH: 1.2 } });
    } finally {
      await stopGateway(gw);
      await pump.close();
      await pty.stop();
    }
  });

  test('a matching 46-h program raises nothing over its whole run; the same capture under a wrong order raises one alert', { timeout: 60_000 }, async () => {
    const good = 'CS7-046OK';
    const wrong = 'CS7-046BAD';
    await prescribe(pharma, good, 'MRN-VER-46OK', FOLFOX_ORDER);
    // the same bag under an order at half the rate: the capture's 5 mL/h is 2× it
    const bad = await prescribe(pharma, wrong, 'MRN-VER-46BAD', { drug: 'FLUOROURACIL', rateMlH: 2.5, volumeMl: 230, hours: 92 });
    const capture = loadCapture(CAPTURE).map((l) => decodeSentence(l)).flatMap((d) => (d.ok ? [d.sentence] : []));
    expect(capture.length).toBeGreaterThan(2700);
    // the 46 h as if they ended now: all but the last minutes reach the server as a backlog, the end live
    const shiftMs = Math.floor(Date.now() / 1000) * 1000 - Date.parse(capture.at(-1)!.time);
    const lastTime = pumpTime(Date.parse(capture.at(-1)!.time) + shiftMs);
    const feedOf = (serial: string): string[] => capture.map((s) => encodeSentence({ ...s, pump: serial, time: pumpTime(Date.parse(s.time) + shiftMs) }));
    const since = performance.now();
    await Promise.all([
      stack.pump(good, 'home-46ok').publishLines(feedOf(good)),
      stack.pump(wrong, 'home-46bad').publishLines(feedOf(wrong)),
    ]);
    await vi.waitFor(() => {
      for (const serial of [good, wrong]) expect(board.pump(serial)).toMatchObject({ state: 'END', pumpTime: lastTime, infusedMl: 230 });
    }, { timeout: 30_000, interval: 50 });
    timings.push(`46-h capture ×2 (${capture.length} sentences each) at full speed through MQTT → both END on /ws in ${ms(performance.now() - since)}`);

    // the whole alert list, from the server and as the board saw it (an alert raised and cleared
    // inside the backlog is pushed too, cleared, so a passing false alert would show here)
    expect(await stack.alertsOf(good)).toEqual([]);
    expect(board.alerts(good)).toEqual([]);
    const badAlerts = await stack.alertsOf(wrong);
    expect(typesOf(badAlerts)).toEqual([`${wrong}:program_mismatch`]);
    expect(badAlerts).toHaveLength(1);
    expect(badAlerts[0]).toMatchObject({ severity: 'high', patientId: bad.patient.id, orderId: bad.order.id });
    expect(badAlerts[0]?.detail).toMatchObject({ rateMlH: { programmed: 5, ordered: 2.5, mismatch: true } });
    // the dose went in: the alert stays after the program ended, and delivery_above_order did not pile on
    expect(badAlerts[0]?.status).toBe('active');
    const pushed = board.alerts(wrong);
    expect(pushed.length).toBeGreaterThan(0);
    expect(pushed.every((m) => m.alert.type === 'program_mismatch')).toBe(true);
  });

  test('a rate change to 3× mid-infusion is caught at the RATE event, one alert while it runs on', async () => {
    const serial = 'CS7-RATE3X';
    const { patient, order } = await prescribe(pharma, serial, 'MRN-VER-RATE', FOLFOX_ORDER);
    const feed = stack.pump(serial, 'home-rate');
    const now = Date.now();
    const program = { programId: 'FOLFOX-R1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 };
    // an hour at the ordered rate, up to now
    const infused = await runProgram(feed, program, now - 60 * MIN, now, (h) => 5 * h);
    await pumpOnBoard(serial, (p) => p.infusedMl === infused);
    expect(board.alerts(serial)).toEqual([]); // right so far

    const rateAt = performance.now();
    await feed.send({ type: 'event', code: 'RATE', detail: '15.00' });
    const hit = await onBoard(board, serial, rateAt, (a) => a.type === 'program_mismatch');
    timings.push(`RATE to 3× published → program_mismatch on /ws ${ms(hit.at - rateAt)}`);
    expect(hit.at - rateAt).toBeLessThan(2000);
    expect(hit.alert).toMatchObject({ severity: 'high', status: 'active', patientId: patient.id, orderId: order.id });
    expect(hit.alert.detail).toMatchObject({ check: 'RATE', mismatched: ['rateMlH'], rateMlH: { programmed: 15, ordered: 5, mismatch: true } });
    expect(hit.alert.message).toMatch(/rate 15 mL\/h, ordered 5 mL\/h/);

    // the statuses that follow carry the new rate: the same alert, no second one, no delivery alert on top
    await feed.send(status('RUN', 15, infused + 0.02, 230));
    await feed.send(status('RUN', 15, infused + 0.04, 230));
    await pumpOnBoard(serial, (p) => p.infusedMl === round2(infused + 0.04));
    // nothing besides it: the short projection (at 15 mL/h the bag runs out in about 15 h) is the mismatch's consequence
    const all = await stack.alertsOf(serial);
    expect(typesOf(all)).toEqual([`${serial}:program_mismatch`]);
    expect(idsOf(board.alerts(serial), 'program_mismatch').size).toBe(1);
  });

  test('delivery faster than ordered with the program unchanged is caught while it runs', async () => {
    const serial = 'CS7-FAST01';
    const { patient, order } = await prescribe(pharma, serial, 'MRN-VER-FAST', FOLFOX_ORDER);
    const feed = stack.pump(serial, 'home-fast');
    const program = { programId: 'FOLFOX-F1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 };
    // the program and every status say 5 mL/h, as ordered; vi climbs at 15 mL/h (a wrong concentration, a faulty pump)
    const startMs = Date.now() - 13 * MIN;
    const viAt = (min: number): number => round2((15 * min) / 60);
    // 12 min: 3 mL given, the order allows 5 mL/h × 0.2 h + 10 % + 2 mL slack = 3.1 mL: nothing yet
    await runProgram(feed, program, startMs, startMs + 12 * MIN, (h) => 15 * h, 1);
    await pumpOnBoard(serial, (p) => p.infusedMl === viAt(12));
    expect(board.alerts(serial)).toEqual([]);
    // 13 min (now, live): 3.25 mL given, 3.19 mL allowed
    const at = performance.now();
    await feed.send(status('RUN', 5, viAt(13), 230), startMs + 13 * MIN);
    const hit = await onBoard(board, serial, at, (a) => a.type === 'delivery_above_order');
    timings.push(`status past the order's allowance published → delivery_above_order on /ws ${ms(hit.at - at)}`);
    expect(hit.at - at).toBeLessThan(2000);
    expect(hit.alert).toMatchObject({ severity: 'high', status: 'active', patientId: patient.id, orderId: order.id });
    expect(hit.alert.detail).toMatchObject({ check: 'status', orderRateMlH: 5, rateMlH: 5, deliveredMl: 3.25, allowedMl: 3.19, programId: 'FOLFOX-F1' });
    expect(hit.alert.message).toMatch(/delivering faster than ordered although its program looks right/);
    // it goes on: the same alert, and the program was never the problem
    await feed.send(status('RUN', 5, viAt(14), 230), startMs + 14 * MIN);
    await pumpOnBoard(serial, (p) => p.infusedMl === viAt(14));
    expect(typesOf(await stack.alertsOf(serial))).toEqual([`${serial}:delivery_above_order`]);
    expect(idsOf(board.alerts(serial), 'delivery_above_order').size).toBe(1);
  });

  test('an unassigned pump that starts a program is flagged program_unassigned (low)', async () => {
    const serial = 'CS7-NOORD1';
    const feed = stack.pump(serial, 'home-noorder');
    const now = Date.now();
    const since = performance.now();
    const infused = await runProgram(feed, { programId: 'GEM-1', drug: 'GEMCITABINE', rateMlH: 5, volumeMl: 230, hours: 46 }, now - 20 * MIN, now, (h) => 5 * h);
    const hit = await onBoard(board, serial, since, (a) => a.type === 'program_unassigned');
    expect(hit.alert).toMatchObject({ severity: 'low', status: 'active' });
    expect(hit.alert.patientId ?? null).toBeNull();
    expect(hit.alert.orderId ?? null).toBeNull();
    expect(hit.alert.message).toMatch(/no order is assigned/);
    expect(hit.alert.detail).toMatchObject({ programId: 'GEM-1', drug: 'GEMCITABINE', rateMlH: 5 });
    await pumpOnBoard(serial, (p) => p.infusedMl === infused);
    expect(typesOf(await stack.alertsOf(serial))).toEqual([`${serial}:program_unassigned`]);
    expect(board.pump(serial)).toMatchObject({ patient: null, order: null });
  });

  test('a drug limit set by the pharmacist flags an impossible program on an unassigned pump', async () => {
    const limits: DrugLimit[] = [{ drug: 'CYTARABINE', maxRateMlH: 20, maxVolumeMl: 250 }];
    const stored = await pharma.ok<DrugLimit[] | { limits: DrugLimit[] }>('PUT', '/api/drug-limits', { limits }, 200);
    expect(Array.isArray(stored) ? stored : stored.limits).toEqual(limits);
    // a nurse reads programs, she does not set limits
    expect((await nurse.call('PUT', '/api/drug-limits', { limits: [] })).status).toBe(403);

    const serial = 'CS7-LIMIT1';
    const feed = stack.pump(serial, 'home-limit');
    await feed.send({ type: 'event', code: 'POWER_ON', detail: '4.2.1' }, Date.now() - MIN);
    const prgAt = performance.now();
    await feed.send({ type: 'program', programId: 'ARAC-1', drug: 'cytarabine', rateMlH: 60, volumeMl: 240, hours: 4 });
    const hit = await onBoard(board, serial, prgAt, (a) => a.type === 'drug_limit');
    timings.push(`PRG above the drug limit published → drug_limit on /ws ${ms(hit.at - prgAt)}`);
    expect(hit.at - prgAt).toBeLessThan(2000);
    expect(hit.alert).toMatchObject({ severity: 'high', status: 'active' });
    expect(hit.alert.detail).toMatchObject({ check: 'PRG', programId: 'ARAC-1', rateMlH: { programmed: 60, max: 20, over: true } });
    expect(hit.alert.message).toMatch(/above the 20 mL\/h limit/);
    await pumpOnBoard(serial, (p) => p.programId === 'ARAC-1');
    // not started yet: nothing to say about an assignment, only the limit
    expect(typesOf(await stack.alertsOf(serial))).toEqual([`${serial}:drug_limit`]);
  });
});

/** waits until the board's view of `serial` satisfies `ok` (every alert its sentences raised was pushed before it) */
async function pumpOnBoard(serial: string, ok: (p: NonNullable<ReturnType<WsClient['pump']>>) => boolean, ws: WsClient = board): Promise<void> {
  await vi.waitFor(() => {
    const p = ws.pump(serial);
    if (!p || !ok(p)) throw new Error(`pump ${serial} not there yet: ${JSON.stringify(p)}`);
  }, { timeout: 10_000, interval: 20 });
}

describe('PostgreSQL stopped and restarted', () => {
  test('mid-run: alarms reach the board within 2 s while it is down, a program is checked against the held assignments', { timeout: 60_000 }, async () => {
    const wrongPump = 'CS7-OUT01';
    const alarmPump = 'CS7-OUT02';
    const wrongRx = await prescribe(pharma, wrongPump, 'MRN-VER-OUT1', ISMP_ORDER);
    const alarmRx = await prescribe(pharma, alarmPump, 'MRN-VER-OUT2', FOLFOX_ORDER);
    const wrong = stack.pump(wrongPump, 'home-out1');
    const alarm = stack.pump(alarmPump, 'home-out2');
    const now = Date.now();
    await wrong.send({ type: 'event', code: 'POWER_ON', detail: '4.2.1' }, now - MIN);
    await wrong.send(status('IDLE', 0, 0, 0), now - MIN);
    const infused = await runProgram(alarm, { programId: 'FOLFOX-O2', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 }, now - 30 * MIN, now, (h) => 5 * h);
    await pumpOnBoard(alarmPump, (p) => p.infusedMl === infused);
    await pumpOnBoard(wrongPump, (p) => p.state === 'IDLE');

    let stoppedAt = 0;
    await stack.pg.restart(async () => {
      stoppedAt = performance.now();
      await vi.waitFor(async () => expect(await stack.health()).toMatchObject({ database: 'down', status: 'degraded' }), { timeout: 10_000, interval: 50 });
      timings.push(`PostgreSQL stopped → health database "down" in ${ms(performance.now() - stoppedAt)}`);
      // what needs the database says so at once; the nurse's session (held) still works
      const refused = await pharma.call('POST', '/api/patients', { mrn: 'MRN-VER-DOWN', name: 'Not Stored' });
      expect(refused.status).toBe(503);

      const alarmAt = performance.now();
      await alarm.send(status('ALARM', 5, infused, 230, ['OCCL_DN'], 790));
      await alarm.send({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' });
      const occl = await onBoard(board, alarmPump, alarmAt, (a) => a.type === 'occlusion');
      timings.push(`database down: OCCL_DN published → occlusion on /ws ${ms(occl.at - alarmAt)}`);
      expect(occl.at - alarmAt).toBeLessThan(2000);
      // ids of the held assignment, no query
      expect(occl.alert).toMatchObject({ severity: 'high', patientId: alarmRx.patient.id, orderId: alarmRx.order.id });

      const prgAt = performance.now();
      await wrong.send(ISMP_PROGRAM);
      await wrong.send({ type: 'event', code: 'START', detail: 'FU-4D-C1' });
      const mismatch = await onBoard(board, wrongPump, prgAt, (a) => a.type === 'program_mismatch');
      timings.push(`database down: wrong PRG published → program_mismatch on /ws ${ms(mismatch.at - prgAt)} (held assignments)`);
      expect(mismatch.at - prgAt).toBeLessThan(2000);
      expect(mismatch.alert).toMatchObject({ patientId: wrongRx.patient.id, orderId: wrongRx.order.id });
      expect((await stack.health()).database).toBe('down');
    });
    const backAt = performance.now();
    await vi.waitFor(async () => expect(await stack.health()).toMatchObject({ database: 'up' }), { timeout: 15_000, interval: 50 });
    timings.push(`PostgreSQL back → health database "up" in ${ms(performance.now() - backAt)}`);
    // nothing lost: the records are writable again with the same session, and the outage cleared no alert
    await vi.waitFor(async () => expect((await pharma.call('GET', `/api/orders/${wrongRx.order.id}`)).status).toBe(200), { timeout: 10_000, interval: 100 });
    const after = await stack.alertsOf(wrongPump);
    expect(typesOf(after)).toEqual([`${wrongPump}:program_mismatch`]);
    expect(after[0]?.status).toBe('active');
    expect(typesOf(await stack.alertsOf(alarmPump))).toEqual([`${alarmPump}:occlusion`]);
  });

  test('a server started while it is down checks the program that arrived meanwhile when it returns', { timeout: 60_000 }, async () => {
    const serial = 'CS7-OUT03';
    const alarmPump = 'CS7-OUT04';
    const rx = await prescribe(pharma, serial, 'MRN-VER-OUT3', ISMP_ORDER);
    let ws: WsClient | null = null;
    try {
      await stack.pg.restart(async () => {
        // the server restarts during the outage: it cannot load the assignments, so verification is off
        await board.close();
        await stack.stopServer();
        const restartAt = performance.now();
        await stack.startServer();
        timings.push(`server restarted with PostgreSQL down in ${ms(performance.now() - restartAt)}`);
        // a new instance cannot check a session while the database is away: this board uses a token
        const live = await stack.openWsWithToken();
        ws = live;
        expect(await stack.health()).toMatchObject({ database: 'down', status: 'degraded' });

        // an unassigned pump running a program, then its pump alarm: on the board within 2 s
        const alarm = stack.pump(alarmPump, 'home-out4');
        const now = Date.now();
        const given = await runProgram(alarm, { programId: 'GEM-4', drug: 'GEMCITABINE', rateMlH: 5, volumeMl: 230, hours: 46 }, now - 20 * MIN, now, (h) => 5 * h);
        await pumpOnBoard(alarmPump, (p) => p.infusedMl === given, live);
        const alarmAt = performance.now();
        await alarm.send(status('ALARM', 5, given, 230, ['AIR']));
        await alarm.send({ type: 'event', code: 'ALARM_ON', detail: 'AIR' });
        const air = await onBoard(live, alarmPump, alarmAt, (a) => a.type === 'air_in_line');
        timings.push(`server started without PostgreSQL: AIR published → air_in_line on /ws ${ms(air.at - alarmAt)}`);
        expect(air.at - alarmAt).toBeLessThan(2000);

        // the ISMP program on the assigned pump: on the board, but nothing can know its order yet
        const feed = stack.pump(serial, 'home-out3');
        await feed.send({ type: 'event', code: 'POWER_ON', detail: '4.2.1' }, Date.now() - MIN);
        await feed.send(ISMP_PROGRAM);
        await feed.send({ type: 'event', code: 'START', detail: 'FU-4D-C1' });
        await feed.send(status('RUN', 28.8, 0.1, 130));
        await pumpOnBoard(serial, (p) => p.state === 'RUN' && p.programId === 'FU-4D-C1' && p.infusedMl === 0.1, live);
        expect(live.alerts(serial)).toEqual([]);
        expect(await stack.alertsOf(serial)).toEqual([]);
        expect(live.alerts(alarmPump).map((m) => m.alert.type)).toEqual(['air_in_line']);
      });
      const back = performance.now();
      const board2 = ws as WsClient | null;
      if (!board2) throw new Error('no board');
      const hit = await onBoard(board2, serial, back, (a) => a.type === 'program_mismatch', 15_000);
      timings.push(`PostgreSQL back → program_mismatch (check "${String(hit.alert.detail.check)}") on /ws ${ms(hit.at - back)}`);
      expect(hit.alert).toMatchObject({ severity: 'high', status: 'active', patientId: rx.patient.id, orderId: rx.order.id });
      expect(hit.alert.detail).toMatchObject({ check: 'assignments loaded', mismatched: ['rateMlH', 'volumeMl', 'hours'] });
      // every pump is checked then: the unassigned one running a program says so too
      const unassigned = await onBoard(board2, alarmPump, back, (a) => a.type === 'program_unassigned');
      expect(unassigned.alert).toMatchObject({ severity: 'low', detail: { check: 'assignments loaded', programId: 'GEM-4' } });
      expect(typesOf(await stack.alertsOf(serial))).toEqual([`${serial}:program_mismatch`]);
      expect(typesOf(await stack.alertsOf(alarmPump))).toEqual([`${alarmPump}:air_in_line`, `${alarmPump}:program_unassigned`]);
    } finally {
      await (ws as WsClient | null)?.close();
    }
  });
});
