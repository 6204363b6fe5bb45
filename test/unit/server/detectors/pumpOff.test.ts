/** pump_off: a pump switched off mid-infusion is high at once, silent time is not "no data", and off time is never delivery. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createDetectionEngine, DEFAULT_DETECTION_CONFIG } from '../../../../server/engine/index.ts';
import type { Alert } from '../../../../protocol/api.ts';
import { byType, ids, PumpFeed, replay } from '../engine/feed.ts';

const T0 = '2026-12-07T08:00:00Z';
const seen = (a: Alert): string => `${a.type}:${a.status}${a.escalated === true ? ':escalated' : ''}`;

/** the pump's next sentence after power-on: seq back to 0, `minutes` later */
function powerOn(f: PumpFeed, minutes: number) {
  f.advance(minutes * 60);
  f.seq = 0;
  return f.evt('POWER_ON', '4.2.1');
}

describe('pump_off', () => {
  test('POWER_OFF with volume left: high at once, no signal_lost while off, cleared by POWER_ON; delivery resumes with the same totals', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700001', T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(60)]);
    const offMsg = f.advance(20).evt('POWER_OFF');
    e.ingest(offMsg, { gateway: 'gw-1', serverTimeMs: Date.parse(offMsg.time) + 200 });
    const off = e.takeChanges().alerts;
    assert.deepEqual(off.map((a) => `${a.type}:${a.status}:${a.severity}`), ['pump_off:active:high'], 'raised on the POWER_OFF itself');
    const raised = off[0]!;
    assert.match(raised.message, /^Pump CS7-700001 was switched off at 09:00 UTC with 225 mL still to give/);
    assert.match(raised.message, /switch it back on/);
    assert.equal(raised.detail.volumeLeftMl, 225);
    assert.equal(e.pump('CS7-700001')?.poweredOff, true);
    assert.equal(e.pump('CS7-700001')?.projectedEnd, null, 'not delivering');

    // two hours switched off: the server ticks through the silence; the pump said why, so no signal_lost
    const offServerMs = Date.parse(offMsg.time) + 200;
    const during: Alert[] = [];
    for (let t = offServerMs; t < offServerMs + 120 * 60_000; t += 10_000) {
      e.tick(t);
      during.push(...e.takeChanges().alerts);
    }
    assert.deepEqual(during.map(seen), ['pump_off:active:escalated'], 'no signal_lost: the pump said it went off');
    const on = powerOn(f, 120);
    const back = replay(e, [on, f.sts({ state: 'PAUSE' }), f.advance(30).evt('RESUME'), f.sts({ state: 'RUN' }), ...f.run(60)]);
    assert.deepEqual(back.map(seen), ['pump_off:cleared:escalated'], 'no infusion_stopped');
    assert.equal(back[0]!.id, raised.id);
    assert.equal(back[0]!.detail.clearedBecause, 'switched on');
    assert.equal(back[0]!.detail.clearedSeq, 0);
    const view = e.pump('CS7-700001')!;
    assert.equal(view.poweredOff, false);
    assert.equal(view.state, 'RUN');
    assert.equal(view.programId, 'P1', 'the same program carries on');
    assert.equal(view.deliveredHours, 2.0055, '1 h 20 s before (it ran until switched off) and 1 h after: the 2 h off and the 30 s paused are not');
    assert.equal(e.stats().staleSentences, 0, 'the sentences after seq 0 are new, not stale');
  });

  test('delivered hours exclude the time switched off: 9 h + 2 h off + 2 h is an 11-h course, and says so when it ends short', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700002', T0);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(9 * 60), f.evt('POWER_OFF'), powerOn(f, 120), f.sts({ state: 'PAUSE' })];
    msgs.push(f.evt('RESUME'), f.sts({ state: 'RUN' }), ...f.run(2 * 60), f.evt('END', 'P1'), f.sts({ state: 'END', vtbiMl: 0 }));
    const changes = replay(e, msgs);
    const short = byType(changes, 'delivery_below_24h');
    assert.equal(short.length, 1);
    assert.equal(short[0]!.detail.projected, false);
    assert.equal(short[0]!.detail.deliveredHours, 11);
    assert.match(short[0]!.message, /after 11 h of delivery/);
    assert.equal(e.pump('CS7-700002')?.deliveredHours, 11);
  });

  test('a projection after the power cycle counts only the hours delivered', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700003', T0);
    // 10 h at 5 mL/h, 3 h off, then 20 mL/h with 180 mL left: 10 + 9 = 19 h (with the off time counted, 22 h)
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(10 * 60), f.evt('POWER_OFF'), powerOn(f, 180), f.sts({ state: 'PAUSE' })];
    msgs.push(f.evt('RESUME'), f.sts({ state: 'RUN' }), f.evt('RATE', '20.00'), f.sts({ rateMlH: 20 }));
    const short = byType(replay(e, msgs), 'delivery_below_24h');
    assert.equal(short.length, 1);
    assert.equal(short[0]!.detail.projected, true);
    assert.equal(short[0]!.detail.deliveredHours, 10);
    assert.equal(short[0]!.detail.projectedHours, 19);
  });

  test('left paused after the power-on: infusion_stopped after the usual grace from the power-on, halt counted from the switch-off', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700004', T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(60), f.evt('POWER_OFF')]);
    const msgs = [powerOn(f, 30), f.sts({ state: 'PAUSE' }), ...f.hold(5)];
    const within = replay(e, msgs);
    assert.deepEqual(within.map((a) => `${a.type}:${a.status}`), ['pump_off:cleared'], 'the patient gets the grace to resume it');
    const later = replay(e, [f.advance(1).sts()]);
    assert.deepEqual(later.map((a) => `${a.type}:${a.status}`), ['infusion_stopped:active']);
    assert.equal(later[0]!.detail.stoppedSincePumpTime, '2026-12-07T09:00:00Z', 'halted since it was switched off');
    assert.equal(later[0]!.detail.stoppedMinutes, 35);
    assert.match(later[0]!.message, /^Pump CS7-700004: infusion paused on the pump since it was switched off at 09:00 UTC \(35 min\), 225 mL still to give/);
    assert.equal(later[0]!.detail.firstReason, 'switched off');
  });

  test('resumed within the grace after the power-on: nothing after pump_off', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700005', T0);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(60), f.evt('POWER_OFF'), powerOn(f, 45), f.sts({ state: 'PAUSE' }), ...f.hold(4)];
    msgs.push(f.evt('RESUME'), f.sts({ state: 'RUN' }), ...f.run(30));
    assert.deepEqual(replay(e, msgs).map(seen), ['pump_off:active', 'pump_off:active:escalated', 'pump_off:cleared:escalated']);
  });

  test('switched off while paused: pump_off, and infusion_stopped is not a second page for it', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700006', T0);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(60), f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), ...f.hold(2), f.evt('POWER_OFF')];
    msgs.push(powerOn(f, 60), f.evt('RESUME'), f.sts({ state: 'RUN' }), ...f.run(10));
    assert.deepEqual(replay(e, msgs).map(seen), ['pump_off:active', 'pump_off:active:escalated', 'pump_off:cleared:escalated']);
  });

  test('a lost POWER_ON: any later sentence from the pump clears it', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700007', T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(30), f.evt('POWER_OFF')]);
    f.advance(600);
    f.seq = 3; // POWER_ON and two more never arrived
    const back = replay(e, [f.sts({ state: 'PAUSE' }), f.evt('RESUME'), f.sts({ state: 'RUN' }), ...f.run(5)]);
    assert.deepEqual(back.map((a) => `${a.type}:${a.status}`), ['pump_off:cleared']);
    assert.equal(back[0]!.detail.clearedBecause, 'heard again');
    assert.equal(e.pump('CS7-700007')?.deliveredHours, 0.5833, '30 min + 5 min, floored to 4 decimals: the 10 min off are not delivery');
  });

  test('vi standing still while off is no stall: a status in RUN right after the power-on infers no occlusion', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700008', T0);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(60), f.evt('POWER_OFF'), powerOn(f, 20)];
    msgs.push(f.sts({ state: 'RUN', pressureMmHg: 160 }), f.advance(10).sts({ pressureMmHg: 160 }));
    assert.deepEqual(byType(replay(e, msgs), 'occlusion'), []);
  });

  test('switched off and on inside a replayed backlog: published once, already cleared', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700009', T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(10)]);
    const backlog = [...f.run(20), f.evt('POWER_OFF'), powerOn(f, 15), f.sts({ state: 'PAUSE' }), f.evt('RESUME'), f.sts({ state: 'RUN' }), ...f.run(3)];
    // all of it arrives an hour late, in a burst
    const arriveMs = Date.parse(backlog.at(-1)!.time) + 3_600_000;
    for (const m of backlog) e.ingest(m, { gateway: 'gw-1', serverTimeMs: arriveMs });
    e.tick(arriveMs + 3000);
    const out = byType(e.takeChanges().alerts, 'pump_off');
    assert.deepEqual(out.map((a) => a.status), ['cleared']);
  });
});

describe('pump_off across a server restart', () => {
  test('restored while the pump is off: still no signal_lost, and its POWER_ON clears the same alert', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700014', T0);
    const [raised] = byType(replay(e, [...f.start('P1', 5, 230, 46), ...f.run(30), f.evt('POWER_OFF')]), 'pump_off');
    const next = createDetectionEngine();
    next.restorePump(e.exportPump('CS7-700014')!);
    for (const a of e.openAlerts()) next.restoreAlert(a);
    const offMs = Date.parse(f.iso);
    for (let t = offMs + 60_000; t < offMs + 40 * 60_000; t += 10_000) next.tick(t);
    assert.deepEqual(byType(next.takeChanges().alerts, 'signal_lost'), []);
    const back = replay(next, [powerOn(f, 40), f.sts({ state: 'PAUSE' }), f.evt('RESUME'), f.sts({ state: 'RUN' })]);
    assert.deepEqual(back.map((a) => `${a.id}:${a.status}`), [`${raised!.id}:cleared`]);
  });
});

describe('pump_off: the uneventful cases stay silent', () => {
  test('POWER_OFF after END: no pump_off, and the silence after it pages nobody', () => {
    const e = createDetectionEngine({ ...DEFAULT_DETECTION_CONFIG, signalLostS: 60 });
    const f = new PumpFeed('CS7-700010', T0);
    const msgs = [...f.start('P1', 6, 3, 0.5), ...f.run(30), f.evt('END', 'P1'), f.sts({ state: 'END', vtbiMl: 0 }), f.evt('POWER_OFF')];
    msgs.push(powerOn(f, 240), f.sts({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0 }));
    assert.deepEqual(replay(e, msgs), []);
    assert.equal(e.pump('CS7-700010')?.poweredOff, false);
  });

  test('POWER_OFF with no more than the residual left: nothing', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700011', T0);
    const msgs = [...f.start('P1', 6, 3, 0.5), ...f.run(29), f.sts({ vtbiMl: DEFAULT_DETECTION_CONFIG.volumeEpsilonMl }), f.evt('POWER_OFF')];
    assert.deepEqual(replay(e, msgs), []);
  });

  test('POWER_OFF of an idle pump: nothing', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700012', T0);
    const msgs = [f.evt('POWER_ON', '4.2.1'), f.sts(), ...f.hold(5), f.evt('POWER_OFF'), powerOn(f, 60), f.sts()];
    assert.deepEqual(replay(e, msgs), []);
  });

  test('without POWER_OFF, silence is still signal_lost', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-700013', T0);
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(30), f.advance(600).sts()];
    assert.deepEqual(ids(replay(e, msgs)).map((id) => id.split('.')[1]), ['signal_lost']);
  });
});
