/** pump_alarm: an alarm code the server does not know is never silent. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { isAlarmEventCode } from '../../../../server/detectors/pumpAlarm.ts';
import { createDetectionEngine } from '../../../../server/engine/index.ts';
import { byType, captureMessages, ids, PumpFeed, replay } from '../engine/feed.ts';

const T0 = '2026-12-06T08:00:00Z';

describe('pump_alarm', () => {
  test('an unknown code while delivering is raised at once (medium), turns high when the pump halts on it, and clears when it is gone', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-600001', T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(10)]);
    const raised = byType(replay(e, [f.advance(20).sts({ alarms: ['PRESS_SENS'] })]), 'pump_alarm');
    assert.equal(raised.length, 1);
    assert.equal(raised[0]!.severity, 'medium');
    assert.equal(raised[0]!.status, 'active');
    assert.equal(raised[0]!.detail.code, 'PRESS_SENS');
    assert.match(raised[0]!.message, /PRESS_SENS/);
    assert.match(raised[0]!.message, /still delivering/);

    const halted = byType(replay(e, [f.advance(30).evt('ALARM_ON', 'PRESS_SENS'), f.sts({ state: 'ALARM', rateMlH: 0, alarms: ['PRESS_SENS'] })]), 'pump_alarm');
    assert.equal(halted.at(-1)!.id, raised[0]!.id, 'the same alert, now high');
    assert.equal(halted.at(-1)!.severity, 'high');
    assert.match(halted.at(-1)!.message, /stopped on alarm PRESS_SENS/);

    // halted for 15 min: that alert says why delivery stopped; no second page from infusion_stopped
    const during = replay(e, f.hold(15, () => ({ state: 'ALARM', rateMlH: 0, alarms: ['PRESS_SENS'] })));
    assert.deepEqual(byType(during, 'infusion_stopped'), []);

    const cleared = byType(replay(e, [f.advance(30).evt('ALARM_OFF', 'PRESS_SENS'), f.sts({ state: 'RUN', rateMlH: 5, alarms: [] }), ...f.run(2)]), 'pump_alarm');
    assert.equal(cleared.at(-1)!.status, 'cleared');
  });

  test('raised high on a halted pump even with no program running: no alarm is ever silent', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-600002', T0);
    const alerts = byType(replay(e, [f.sts({ state: 'ALARM', rateMlH: 0, alarms: ['E42', 'AIR'] })]), 'pump_alarm');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.severity, 'high');
    assert.equal(alerts[0]!.detail.code, 'E42', 'only the codes we do not know');
  });

  test('a high pump_alarm nobody acknowledges escalates like any high alert', () => {
    const e = createDetectionEngine({ stoppedGraceS: 300, signalLostS: 300, escalateAfterS: 600, clockAheadToleranceS: 600 });
    const f = new PumpFeed('CS7-600003', T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(5)]);
    replay(e, [f.advance(10).sts({ state: 'ALARM', rateMlH: 0, alarms: ['MOTOR_STALL'] })]);
    const later = byType(replay(e, f.hold(11, () => ({ state: 'ALARM', rateMlH: 0, alarms: ['MOTOR_STALL'] }))), 'pump_alarm');
    assert.equal(later.at(-1)?.escalated, true);
  });

  test('ALARM_ON with a code we do not know raises at once, before any status lists it', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-600004', T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(5)]);
    const raised = byType(replay(e, [f.advance(20).evt('ALARM_ON', 'PRESS_SENS')]), 'pump_alarm');
    assert.equal(raised.length, 1);
    assert.equal(raised[0]!.detail.code, 'PRESS_SENS');
    assert.equal(raised[0]!.severity, 'medium', 'the last status said RUN');
  });

  test('which unknown event codes firmware marks as alarms', () => {
    for (const code of ['ALARM_PRESS', 'PRESS_ALARM', 'HIGH_ALARM_2', 'ALARM']) assert.ok(isAlarmEventCode(code), code);
    for (const code of ['ALARM_ON', 'ALARM_OFF', 'START', 'BOLUS', 'ALARMS_LOG', 'PRESS_ALARM_OFF', 'ALARM_CLEAR', 'ALARM_CLEARED']) {
      assert.ok(!isAlarmEventCode(code), code);
    }
  });

  test('an unknown event code named as an alarm raises at once with the code shown, and holds while the pump stays halted', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-600005', T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(5)]);
    const raised = byType(replay(e, [f.advance(20).evt('ALARM_PRESS', 'SENSOR 2')]), 'pump_alarm');
    assert.equal(raised.length, 1);
    assert.equal(raised[0]!.detail.code, 'ALARM_PRESS SENSOR 2');
    assert.equal(raised[0]!.detail.eventCode, 'ALARM_PRESS SENSOR 2');
    assert.match(raised[0]!.message, /alarm ALARM_PRESS SENSOR 2 \(a code pumpwatch does not know\)/);
    assert.equal(raised[0]!.severity, 'medium');

    // the pump halts with no alarm code in its status: the event is the only cause we know of
    const halted = byType(replay(e, [f.sts({ state: 'ALARM', rateMlH: 0, alarms: [] }), ...f.hold(10, () => ({ state: 'ALARM', rateMlH: 0, alarms: [] }))]), 'pump_alarm');
    assert.equal(halted.at(-1)!.id, raised[0]!.id);
    assert.equal(halted.at(-1)!.status, 'active');
    assert.equal(halted.at(-1)!.severity, 'high');
    assert.equal(byType(e.openAlerts(), 'infusion_stopped').length, 0, 'the high pump_alarm says why delivery stopped');

    const over = byType(replay(e, [f.advance(30).evt('RESUME'), f.sts({ state: 'RUN', rateMlH: 5, alarms: [] })]), 'pump_alarm');
    assert.equal(over.at(-1)!.status, 'cleared');
  });

  test('an alarm event on a pump that carries on delivering clears at the next status and stays on the board until acknowledged', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-600006', T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(5)]);
    const alerts = byType(replay(e, [f.advance(5).evt('PRESS_ALARM'), ...f.run(2)]), 'pump_alarm');
    assert.equal(alerts[0]!.status, 'active');
    assert.equal(alerts.at(-1)!.status, 'cleared');
    assert.deepEqual(e.openAlerts().map((a) => a.type), ['pump_alarm']);
  });

  test('unknown event codes that are not named as alarms raise nothing', () => {
    const e = createDetectionEngine();
    const f = new PumpFeed('CS7-600007', T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(5)]);
    assert.deepEqual(replay(e, [f.advance(5).evt('BOLUS', '2'), f.evt('PRESS_ALARM_OFF'), ...f.run(3)]), []);
  });

  for (const capture of ['folfox-46h-normal', 'occlusion-at-20h', 'pause-20min', 'early-end-19h', 'noisy-link']) {
    test(`${capture}: only known alarm codes, so no pump_alarm`, () => {
      const alerts = replay(createDetectionEngine(), captureMessages(capture));
      assert.deepEqual(ids(byType(alerts, 'pump_alarm')), []);
    });
  }
});
