/**
 * Scenarios through the real chain (simulated pump on a pty → gateway → Mosquitto → server → /ws)
 * for issue 13, points 1 and 6, each with its negative twin:
 * - point 1: an alarm code the server does not know is never silent (pump_alarm at once, medium
 *   while delivering, high while halted), also an event code firmware names as an alarm; a known
 *   code raises its own alert and no pump_alarm; an uneventful run raises nothing;
 * - point 6: an infusion_stopped acknowledged, cleared and back within the flap window alerts
 *   again as a new, unacknowledged alert; unacknowledged quick toggling stays one alert.
 *
 * Durations use the pump clock, so a pause "past the grace" is the pump clock moved on
 * (clockOffsetMs), well within the clock-ahead tolerance: no test waits out a grace period.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert } from '../../../protocol/api.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DetectionRig, pumpTime, type RigPump } from './detectionRig.ts';

const RUNNING_UNKNOWN = 'CS7-ALM01';
const HALTED_UNKNOWN = 'CS7-ALM02';
const KNOWN_CODE = 'CS7-ALM03';
const UNEVENTFUL = 'CS7-ALM04';
const ALARM_EVENT = 'CS7-ALM05';
const ACK_RETURNS = 'CS7-ACK01';
const FLAPPING = 'CS7-ACK02';
/** STOPPED_GRACE_S for this rig */
const GRACE_S = 20;
/** "at once": a live alarm reaches the board within this, ms */
const AT_ONCE_MS = 5000;

let rig: DetectionRig;

beforeAll(async () => {
  rig = await DetectionRig.start({
    pumps: [RUNNING_UNKNOWN, HALTED_UNKNOWN, KNOWN_CODE, UNEVENTFUL, ALARM_EVENT, ACK_RETURNS, FLAPPING],
    env: { STOPPED_GRACE_S: String(GRACE_S) },
  });
}, 180_000);

afterAll(async () => {
  await rig?.stop();
});

/** the pump state a scenario carries on from */
interface Delivery { infusedMl: number; vtbiMl: number }

/** POWER_ON, a 46-h program at 5 mL/h started, and its first RUN status */
async function startProgram(p: RigPump): Promise<Delivery> {
  await p.write({ type: 'event', code: 'POWER_ON', detail: '4.2.1' });
  await p.write({ type: 'program', programId: 'FOLFOX-C1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 });
  await p.write({ type: 'event', code: 'PROGRAM', detail: 'FOLFOX-C1' });
  await p.write({ type: 'event', code: 'START', detail: 'FOLFOX-C1' });
  await p.write(p.status({ state: 'RUN', rateMlH: 5, infusedMl: 0, vtbiMl: 230 }));
  await waitFor(() => rig.board.pump(p.serial)?.state === 'RUN', 15_000, `${p.serial} running on the board`);
  return { infusedMl: 0, vtbiMl: 230 };
}

/** moves the pump clock on by `seconds` (a minute of delivery adds 5/60 mL) */
function elapse(p: RigPump, d: Delivery, seconds: number, delivering: boolean): void {
  p.clockOffsetMs += seconds * 1000;
  if (!delivering) return;
  const ml = Math.round((5 * seconds) / 36) / 100;
  d.infusedMl = Math.round((d.infusedMl + ml) * 100) / 100;
  d.vtbiMl = Math.round((d.vtbiMl - ml) * 100) / 100;
}

/**
 * every alert the server holds for the pump; the range reaches past now, since these pumps' clocks
 * were moved on (raisedAt is pump time) and the default range ends now
 */
function serverAlerts(pump: string): Promise<Alert[]> {
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 3_600_000).toISOString();
  return rig.api<Alert[]>(`/api/alerts?status=all&pump=${encodeURIComponent(pump)}&from=${from}&to=${to}`);
}

const types = (alerts: readonly { alert: Alert }[] | readonly Alert[]): string[] =>
  [...new Set(alerts.map((a) => ('alert' in a ? a.alert.type : a.type)))].sort();

describe('point 1: an alarm code the server does not know is never silent', () => {
  test('a running pump reporting XYZ_9 has a medium pump_alarm on the board at once, with the code shown', async () => {
    const p = rig.pump(RUNNING_UNKNOWN);
    const d = await startProgram(p);
    elapse(p, d, 60, true);
    const sent = await p.write(p.status({ state: 'RUN', rateMlH: 5, ...d, alarms: ['XYZ_9'] }));
    const { at, alert } = await rig.board.waitForAlert(p.serial, (a) => a.type === 'pump_alarm', { sinceMs: sent, timeoutMs: 15_000 });
    expect(at - sent).toBeLessThan(AT_ONCE_MS);
    expect(alert).toMatchObject({ severity: 'medium', status: 'active', acknowledged: false, detail: { code: 'XYZ_9' } });
    expect(alert.message).toContain('XYZ_9');
    expect(alert.message).toContain(p.serial);
    expect(types(rig.board.alerts(p.serial))).toEqual(['pump_alarm']);
  });

  test('a pump halted on XYZ_9 has a high pump_alarm at once, and no infusion_stopped after the grace', async () => {
    const p = rig.pump(HALTED_UNKNOWN);
    const d = await startProgram(p);
    elapse(p, d, 60, true);
    await p.write({ type: 'event', code: 'ALARM_ON', detail: 'XYZ_9' });
    const sent = await p.write(p.status({ state: 'ALARM', rateMlH: 5, ...d, alarms: ['XYZ_9'] }));
    const { at } = await rig.board.waitForAlert(p.serial, (a) => a.type === 'pump_alarm', { timeoutMs: 15_000 });
    expect(at - sent).toBeLessThan(AT_ONCE_MS);
    const high = await rig.board.waitForAlert(p.serial, (a) => a.type === 'pump_alarm' && a.severity === 'high', { timeoutMs: 15_000 });
    expect(high.alert).toMatchObject({ status: 'active', detail: { code: 'XYZ_9', state: 'ALARM' } });
    expect(high.alert.message).toMatch(/stopped on alarm XYZ_9/);
    // halted past the grace: the pump_alarm already says why delivery stopped
    elapse(p, d, GRACE_S + 10, false);
    const atMs = Date.now();
    await p.write(p.status({ state: 'ALARM', rateMlH: 5, ...d, alarms: ['XYZ_9'] }), atMs);
    const last = pumpTime(atMs + p.clockOffsetMs);
    await waitFor(() => rig.board.pump(p.serial)?.pumpTime === last, 15_000, 'the status past the grace on the board');
    await new Promise((r) => setTimeout(r, 1500));
    expect(types(await serverAlerts(p.serial))).toEqual(['pump_alarm']);
  });

  test('an event code the server does not know that firmware names as an alarm raises pump_alarm at once, with the code shown', async () => {
    const p = rig.pump(ALARM_EVENT);
    const d = await startProgram(p);
    elapse(p, d, 60, true);
    await p.write(p.status({ state: 'RUN', rateMlH: 5, ...d }));
    const sent = await p.write({ type: 'event', code: 'ALARM_PRESS_SENS', detail: 'S2' });
    const { at, alert } = await rig.board.waitForAlert(p.serial, (a) => a.type === 'pump_alarm', { sinceMs: sent, timeoutMs: 15_000 });
    expect(at - sent).toBeLessThan(AT_ONCE_MS);
    expect(alert).toMatchObject({ status: 'active', detail: { code: 'ALARM_PRESS_SENS S2', eventCode: 'ALARM_PRESS_SENS S2' } });
    expect(alert.message).toContain('ALARM_PRESS_SENS');
  });

  test('twin: a known code (RES_LOW with the reservoir short) raises its own alert, not pump_alarm', async () => {
    const p = rig.pump(KNOWN_CODE);
    const d = await startProgram(p);
    elapse(p, d, 60, true);
    await p.write({ type: 'event', code: 'ALARM_ON', detail: 'RES_LOW' });
    await p.write(p.status({ state: 'RUN', rateMlH: 5, ...d, reservoirMl: 20, alarms: ['RES_LOW'] }));
    const { alert } = await rig.board.waitForAlert(p.serial, (a) => a.type === 'low_reservoir', { timeoutMs: 15_000 });
    expect(alert.status).toBe('active');
    // the same sentence would have raised pump_alarm in the same batch; give it a moment more anyway
    await new Promise((r) => setTimeout(r, 1500));
    expect(types(rig.board.alerts(p.serial))).toEqual(['low_reservoir']);
    expect(types(await serverAlerts(p.serial))).toEqual(['low_reservoir']);
  });

  test('twin: an uneventful run raises nothing', async () => {
    const p = rig.pump(UNEVENTFUL);
    const d = await startProgram(p);
    for (let i = 0; i < 5; i++) {
      elapse(p, d, 60, true);
      await p.write(p.status({ state: 'RUN', rateMlH: 5, ...d }));
    }
    await waitFor(() => rig.board.pump(p.serial)?.infusedMl === d.infusedMl, 15_000, 'the last status on the board');
    await new Promise((r) => setTimeout(r, 1500));
    expect(rig.board.alerts(p.serial)).toEqual([]);
    expect(await serverAlerts(p.serial)).toEqual([]);
  });
});

describe('point 6: a problem that comes back after it was acknowledged alerts again', () => {
  /** PAUSE, then a status past the grace: infusion_stopped */
  async function pausePastGrace(p: RigPump, d: Delivery): Promise<number> {
    await p.write({ type: 'event', code: 'PAUSE', detail: '' });
    await p.write(p.status({ state: 'PAUSE', rateMlH: 5, ...d }));
    elapse(p, d, GRACE_S + 5, false);
    return p.write(p.status({ state: 'PAUSE', rateMlH: 5, ...d }));
  }

  async function resume(p: RigPump, d: Delivery): Promise<void> {
    await p.write({ type: 'event', code: 'RESUME', detail: '' });
    await p.write(p.status({ state: 'RUN', rateMlH: 5, ...d }));
  }

  test('paused, acknowledged, resumed, paused again within the flap window: a new unacknowledged alert on the board', async () => {
    const p = rig.pump(ACK_RETURNS);
    const d = await startProgram(p);
    elapse(p, d, 60, true);
    await p.write(p.status({ state: 'RUN', rateMlH: 5, ...d }));

    const first = await pausePastGrace(p, d);
    const raised = await rig.board.waitForAlert(p.serial, (a) => a.type === 'infusion_stopped' && a.status === 'active', { sinceMs: first, timeoutMs: 15_000 });
    const acked = await rig.api<Alert>(`/api/alerts/${encodeURIComponent(raised.alert.id)}/ack`, { method: 'POST' });
    expect(acked).toMatchObject({ id: raised.alert.id, acknowledged: true });
    await rig.board.waitForAlert(p.serial, (a) => a.id === raised.alert.id && a.acknowledged, { timeoutMs: 15_000 });

    await resume(p, d);
    await rig.board.waitForAlert(p.serial, (a) => a.id === raised.alert.id && a.status === 'cleared', { timeoutMs: 15_000 });

    const again = await pausePastGrace(p, d);
    const back = await rig.board.waitForAlert(p.serial, (a) => a.type === 'infusion_stopped' && a.status === 'active', { sinceMs: again, timeoutMs: 15_000 });
    expect(back.alert.id).not.toBe(raised.alert.id);
    expect(back.alert).toMatchObject({ acknowledged: false, severity: 'high' });
    const open = (await rig.api<Alert[]>(`/api/alerts?status=active&pump=${p.serial}`)).filter((a) => a.type === 'infusion_stopped');
    expect(open.map((a) => [a.id, a.acknowledged])).toEqual([[back.alert.id, false]]);
  });

  test('twin: unacknowledged quick toggling is merged by flap suppression into one alert', async () => {
    const p = rig.pump(FLAPPING);
    const d = await startProgram(p);
    elapse(p, d, 60, true);
    await p.write(p.status({ state: 'RUN', rateMlH: 5, ...d }));

    const first = await pausePastGrace(p, d);
    const raised = await rig.board.waitForAlert(p.serial, (a) => a.type === 'infusion_stopped' && a.status === 'active', { sinceMs: first, timeoutMs: 15_000 });
    await resume(p, d);
    await rig.board.waitForAlert(p.serial, (a) => a.id === raised.alert.id && a.status === 'cleared', { timeoutMs: 15_000 });

    const again = await pausePastGrace(p, d);
    const back = await rig.board.waitForAlert(p.serial, (a) => a.type === 'infusion_stopped' && a.status === 'active', { sinceMs: again, timeoutMs: 15_000 });
    expect(back.alert.id).toBe(raised.alert.id);
    expect(back.alert.detail.flaps).toBe(1);
    expect(new Set(rig.board.alerts(p.serial).map((m) => m.alert.id))).toEqual(new Set([raised.alert.id]));
  });
});
