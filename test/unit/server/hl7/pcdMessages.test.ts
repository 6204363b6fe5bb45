import { readFileSync } from 'node:fs';
import type { Message } from 'node-hl7-client';
import { describe, expect, test } from 'vitest';
import { ALERT_TYPES, type Alert, type PumpView } from '../../../../protocol/api.ts';
import { ALERT_EVENTS, alertEventTable } from '../../../../server/hl7/mdc.ts';
import { pcd01, pcd04, pcd10, pumpEui64, type MessageContext } from '../../../../server/hl7/pcdMessages.ts';
import { obxByRef, validatePcd } from '../../../../server/hl7/pcdValidation.ts';

const NOW = Date.parse('2026-12-03T19:00:05Z');
const NASTY = 'FOLFOX | 5-FU ^ 2400 mg & leucovorin ~ note \\ end';

function view(patch: Partial<PumpView> = {}): PumpView {
  return {
    pump: 'PW-0042', gateway: 'gw', state: 'RUN', lastSeen: '2026-12-03T19:00:00Z', rateMlH: 2.5, infusedMl: 12.4, vtbiMl: 87.6,
    reservoirMl: 90, pressureMmHg: 120, batteryPct: 80, alarms: [], programId: 'prg', projectedEnd: null, activeAlerts: 0,
    pumpTime: '2026-12-03T19:00:00Z', programVolumeMl: 100, drug: 'FU', ...patch,
  };
}

function alert(patch: Partial<Alert> = {}): Alert {
  return {
    id: 'PW-0042-occlusion-1', pump: 'PW-0042', gateway: 'gw', type: 'occlusion', severity: 'high', status: 'active',
    acknowledged: false, ackedBy: null, ackedAt: null, raisedAt: '2026-12-03T19:00:00Z', clearedAt: null,
    message: 'Line blocked | check the line', detail: {}, ...patch,
  };
}

const assigned: MessageContext = { controlId: 'PW1A', nowMs: NOW, patient: { mrn: 'MRN-77', name: 'Doe, Jane', drug: NASTY } };
const unassigned: MessageContext = { controlId: 'PW1B', nowMs: NOW, patient: null };

function parse(text: string): Message {
  const v = validatePcd(text);
  expect(v.errors).toEqual([]);
  return v.message as Message;
}

describe('PCD-01 (ORU^R01)', () => {
  test('MSH with the PCD-01 profile, PID-3 the MRN, rate, volume infused and to be infused with MDC codes and containment', () => {
    const m = parse(pcd01(view(), assigned));
    expect(m.get('MSH.9').toString()).toBe('ORU');
    expect([m.get('MSH.9.2').toString(), m.get('MSH.10').toString(), m.get('MSH.12').toString()]).toEqual(['R01', 'PW1A', '2.6']);
    expect(m.get('MSH.21.1').toString()).toBe('IHE_PCD_001');
    expect(m.get('MSH.21.3').toString()).toBe('1.3.6.1.4.1.19376.1.6.1.1.1');
    expect(m.get('MSH.7').toString()).toBe('20261203190005+0000');
    expect(m.get('PID.3.1').toString()).toBe('MRN-77');
    expect(m.get('PID.3.5').toString()).toBe('MR');
    const mds = obxByRef(m, 'MDC_DEV_PUMP_INFUS_MDS');
    expect(mds?.get('3.1').toString()).toBe('69985');
    expect(mds?.get('4').toString()).toBe('1.0.0.0');
    expect(mds?.get('18.1').toString()).toBe('PW-0042');
    expect(mds?.get('18.3').toString()).toBe(pumpEui64('PW-0042'));
    expect(mds?.get('18.4').toString()).toBe('EUI-64');
    const rate = obxByRef(m, 'MDC_FLOW_FLUID_PUMP');
    expect([rate?.get('3.1').toString(), rate?.get('4').toString(), rate?.get('5').toString()]).toEqual(['157784', '1.1.1.2', '2.5']);
    expect(rate?.get('6.1').toString()).toBe('265266');
    expect(rate?.get('6.2').toString()).toBe('MDC_DIM_MILLI_L_PER_HR');
    expect(obxByRef(m, 'MDC_VOL_FLUID_DELIV')?.get('5').toString()).toBe('12.4');
    expect(obxByRef(m, 'MDC_VOL_FLUID_TBI_REMAIN')?.get('5').toString()).toBe('87.6');
    expect(obxByRef(m, 'MDC_VOL_FLUID_DELIV')?.get('6.2').toString()).toBe('MDC_DIM_MILLI_L');
  });

  test('an unassigned pump: no PID (nor PV1); the serial is still in the device identifier', () => {
    const text = pcd01(view(), unassigned);
    const m = parse(text);
    expect(text.split('\r').map((s) => s.slice(0, 3))).not.toContain('PID');
    expect(text.split('\r').map((s) => s.slice(0, 3))).not.toContain('PV1');
    expect(obxByRef(m, 'MDC_DEV_PUMP_INFUS_MDS')?.get('18.1').toString()).toBe('PW-0042');
  });

  test('| ^ & ~ \\ in a drug label and a patient name are escaped by the builder and parse back intact', () => {
    const ctx: MessageContext = { ...assigned, patient: { mrn: 'M|1^2', name: 'O\'Brien ~ & Sons \\', drug: NASTY } };
    const text = pcd01(view(), ctx);
    expect(text).toContain('\\F\\');
    expect(text).toContain('\\E\\');
    const m = parse(text);
    expect(obxByRef(m, 'MDC_DRUG_NAME_TYPE')?.get('5').toString()).toBe(NASTY);
    expect(m.get('PID.3.1').toString()).toBe('M|1^2');
    expect(m.get('PID.5.1').toString()).toBe('O\'Brien ~ & Sons \\');
    // still one PID, one OBR: nothing split into extra fields or segments
    expect(text.split('\r').filter((s) => s.startsWith('PID')).length).toBe(1);
  });
});

describe('PCD-04 (ORU^R40)', () => {
  test('occlusion raised: MDC_EVT_FLUID_LINE_OCCL, phase start, state active, priority PH; OBR-3 the alert id', () => {
    const m = parse(pcd04('raised', alert(), unassigned));
    expect(m.get('MSH.9.2').toString()).toBe('R40');
    expect(m.get('MSH.21.1').toString()).toBe('IHE_PCD_ACM_001');
    expect(m.get('OBR.3.1').toString()).toBe('PW-0042-occlusion-1');
    expect(m.get('OBR.4.2').toString()).toBe('MDC_EVT_ALARM');
    const ev = obxByRef(m, 'MDC_EVT_ALARM');
    expect(ev?.get('5.1').toString()).toBe('196940');
    expect(ev?.get('5.2').toString()).toBe('MDC_EVT_FLUID_LINE_OCCL');
    expect(ev?.get('5.9').toString()).toBe('Line blocked | check the line');
    expect(obxByRef(m, 'MDC_ATTR_EVENT_PHASE')?.get('5').toString()).toBe('start');
    expect(obxByRef(m, 'MDC_ATTR_ALARM_STATE')?.get('5').toString()).toBe('active');
    expect(obxByRef(m, 'MDC_ATTR_ALARM_INACTIVATION_STATE')?.get('5').toString()).toBe('enabled');
    expect(obxByRef(m, 'MDC_ATTR_ALARM_PRIORITY')?.get('5').toString()).toBe('PH');
    expect(obxByRef(m, 'MDC_ATTR_ALERT_SOURCE')?.get('5.2').toString()).toBe('MDC_DEV_PUMP_INFUS_MDS');
  });

  test('cleared: phase end, state inactive; acknowledged: update, alert-acknowledged; priorities follow severity', () => {
    const cleared = parse(pcd04('cleared', alert({ status: 'cleared', clearedAt: '2026-12-03T19:05:00Z' }), unassigned));
    expect(obxByRef(cleared, 'MDC_ATTR_EVENT_PHASE')?.get('5').toString()).toBe('end');
    expect(obxByRef(cleared, 'MDC_ATTR_ALARM_STATE')?.get('5').toString()).toBe('inactive');
    const acked = parse(pcd04('acknowledged', alert({ acknowledged: true, ackedBy: 'ann', ackedAt: '2026-12-03T19:01:00Z' }), unassigned));
    expect(obxByRef(acked, 'MDC_ATTR_EVENT_PHASE')?.get('5').toString()).toBe('update');
    expect(obxByRef(acked, 'MDC_ATTR_ALARM_INACTIVATION_STATE')?.get('5').toString()).toBe('alert-acknowledged');
    const low = parse(pcd04('raised', alert({ type: 'low_battery', severity: 'low' }), unassigned));
    expect(obxByRef(low, 'MDC_ATTR_ALARM_PRIORITY')?.get('5').toString()).toBe('PL');
    expect(obxByRef(low, 'MDC_EVT_ALARM')?.get('5.2').toString()).toBe('MDC_EVT_BATT_LO');
  });

  test.each([
    ['air_in_line', '197200', 'MDC_EVT_FLUID_LINE_AIR'],
    ['pump_fault', '196678', 'MDC_EVT_MALF'],
    ['pump_off', '197342', 'MDC_EVT_PWR_LOSS'],
    ['signal_lost', '197294', 'MDC_EVT_COMM_STATUS_CHANGE'],
    ['gateway_offline', '197294', 'MDC_EVT_COMM_STATUS_CHANGE'],
    ['program_mismatch', '203276', 'MDC_EVT_ADVIS_SETTINGS_CHK'],
    ['drug_limit', '203276', 'MDC_EVT_ADVIS_SETTINGS_CHK'],
    ['line_pressure_lost', '196630', 'MDC_EVT_DISCONN'],
    ['infusion_stopped', '197290', 'MDC_EVT_PUMP_DELIV_STOP'],
    ['clock_error', '196616', 'MDC_EVT_ALARM'],
    ['a_type_added_later', '196616', 'MDC_EVT_ALARM'],
  ])('%s goes out as %s^%s', (type, code, ref) => {
    const m = parse(pcd04('raised', alert({ type: type as Alert['type'] }), unassigned));
    const ev = obxByRef(m, 'MDC_EVT_ALARM');
    expect([ev?.get('5.1').toString(), ev?.get('5.2').toString()]).toEqual([code, ref]);
  });

  test('every event term is a partition-3 code (196608 + term code) with an MDC_EVT reference id', () => {
    for (const e of Object.values(ALERT_EVENTS)) {
      expect(e.term.ref).toMatch(/^MDC_EVT_/);
      const termCode = Number(e.term.code) - 3 * 65536;
      expect(termCode).toBeGreaterThan(0);
      expect(termCode).toBeLessThan(65536);
      expect(e.match === 'exact' || e.note).toBeTruthy();
    }
  });

  test('every alert type encodes to a valid PCD-04', () => {
    for (const type of ALERT_TYPES) expect(validatePcd(pcd04('raised', alert({ type }), assigned)).errors).toEqual([]);
  });

  test('the alert-type table in docs/hl7.md is the one the code sends', () => {
    const doc = readFileSync(new URL('../../../../docs/hl7.md', import.meta.url), 'utf8');
    expect(doc).toContain(alertEventTable());
    expect(Object.keys(ALERT_EVENTS).sort()).toEqual([...ALERT_TYPES].sort());
  });
});

describe('PCD-10 (ORU^R42)', () => {
  test.each([
    ['start', '197288', 'MDC_EVT_PUMP_DELIV_START'],
    ['stop', '197290', 'MDC_EVT_PUMP_DELIV_STOP'],
    ['complete', '197292', 'MDC_EVT_PUMP_DELIV_COMP'],
  ] as const)('%s: MDC_ATTR_EVT_COND carries %s', (event, code, ref) => {
    const m = parse(pcd10(event, view(), assigned));
    expect(m.get('MSH.9.2').toString()).toBe('R42');
    expect(m.get('MSH.21.1').toString()).toBe('IHE_PCD_010');
    const cond = obxByRef(m, 'MDC_ATTR_EVT_COND');
    expect([cond?.get('5.1').toString(), cond?.get('5.2').toString()]).toEqual([code, ref]);
    expect(m.get('PID.3.1').toString()).toBe('MRN-77');
  });
});

describe('validatePcd', () => {
  test('finds a wrong profile, a wrong MDC code and a missing segment', () => {
    const text = pcd01(view(), assigned);
    expect(validatePcd(text.replace('IHE_PCD_001', 'IHE_PCD_999')).errors.join()).toMatch(/MSH-21/);
    expect(validatePcd(text.replace('157784^MDC_FLOW_FLUID_PUMP', '157785^MDC_FLOW_FLUID_PUMP')).errors.join()).toMatch(/MDC_FLOW_FLUID_PUMP is code 157784/);
    expect(validatePcd(text.replace(/\rOBR[^\r]*/, '')).errors.join()).toMatch(/segment order/);
    expect(validatePcd('hello').errors.join()).toMatch(/not parsable/);
  });
});
