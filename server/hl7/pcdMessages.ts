/**
 * The IHE PCD messages, built with node-hl7-client's Message/Segment builder (it does the HL7
 * escaping of | ^ & ~ \ in every value): PCD-01 ORU^R01 (device observations), PCD-04 ORU^R40
 * (alarms) and PCD-10 ORU^R42 (infusion events), HL7 v2.6. Pure: time and control id come in.
 * Field positions and the examples are in docs/hl7.md.
 */
import { createHash } from 'node:crypto';
import { Message, type Segment } from 'node-hl7-client';
import { HL7_2_6 } from 'node-hl7-client/hl7';
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { PumpState } from '../../protocol/sentence.ts';
import { alertEventOf, MDC, PRIORITY, type MdcTerm } from './mdc.ts';

/** MSH-21: the IHE PCD message profile of each transaction */
export const PROFILES = {
  pcd01: { id: 'IHE_PCD_001', oid: '1.3.6.1.4.1.19376.1.6.1.1.1', type: ['ORU', 'R01', 'ORU_R01'] },
  pcd04: { id: 'IHE_PCD_ACM_001', oid: '1.3.6.1.4.1.19376.1.6.1.4.1', type: ['ORU', 'R40', 'ORU_R40'] },
  pcd10: { id: 'IHE_PCD_010', oid: '1.3.6.1.4.1.19376.1.6.4.10', type: ['ORU', 'R42', 'ORU_R42'] },
} as const;
export type Profile = keyof typeof PROFILES;

export const SENDING_APPLICATION = 'PUMPWATCH';

/** who the pump is giving to (§6), when it is assigned */
export interface PatientContext {
  mrn: string;
  name: string;
  /** the order's drug label */
  drug: string | null;
}

export interface MessageContext {
  /** MSH-10, unique per message */
  controlId: string;
  nowMs: number;
  /** null: the pump is unassigned, no PID/PV1 */
  patient: PatientContext | null;
}

/** HL7 DTM in UTC: YYYYMMDDHHMMSS+0000 */
export function hl7Time(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}+0000`;
}

/**
 * A stable EUI-64 for a pump serial (the serial protocol has no hardware address): a locally
 * administered identifier (first octet 0x02) over a hash of the serial.
 */
export function pumpEui64(serial: string): string {
  const h = createHash('sha256').update(serial).digest();
  return `02${h.subarray(0, 7).toString('hex')}`.toUpperCase();
}

function header(profile: Profile, ctx: MessageContext): Message {
  const p = PROFILES[profile];
  const m = new Message({
    specification: new HL7_2_6(),
    messageHeader: { msh_9_1: p.type[0], msh_9_2: p.type[1], msh_9_3: p.type[2], msh_10: ctx.controlId, msh_11_1: 'P' },
  });
  m.set('MSH.3.1', SENDING_APPLICATION);
  m.set('MSH.7', hl7Time(ctx.nowMs));
  m.set('MSH.15', 'AL');
  m.set('MSH.16', 'NE');
  m.set('MSH.18', 'UNICODE UTF-8');
  m.set('MSH.21.1', p.id);
  m.set('MSH.21.2', 'IHE PCD');
  m.set('MSH.21.3', p.oid);
  m.set('MSH.21.4', 'ISO');
  if (ctx.patient) {
    const pid = m.addSegment('PID');
    pid.set('3.1', ctx.patient.mrn);
    pid.set('3.4', SENDING_APPLICATION);
    pid.set('3.5', 'MR');
    pid.set('5.1', ctx.patient.name);
    pid.set('5.7', 'L');
    // home infusion: an outpatient
    m.addSegment('PV1').set('2', 'O');
  }
  return m;
}

function obr(m: Message, filler: string, service: MdcTerm, timeMs: number): void {
  const s = m.addSegment('OBR');
  s.set('1', '1');
  s.set('3.1', filler);
  s.set('3.2', SENDING_APPLICATION);
  code(s, '4', service);
  s.set('7', hl7Time(timeMs));
}

function code(s: Segment, field: string, term: MdcTerm, text?: string): void {
  s.set(`${field}.1`, term.code);
  s.set(`${field}.2`, term.ref);
  s.set(`${field}.3`, 'MDC');
  if (text !== undefined) s.set(`${field}.9`, text);
}

/** OBX rows in order; set ids are counted per message */
class Observations {
  private n = 0;
  constructor(private readonly m: Message, private readonly timeMs: number) {}

  add(type: '' | 'NM' | 'ST' | 'CWE', id: MdcTerm, path: string, fill: (s: Segment) => void, status: 'R' | 'F' | 'X'): Segment {
    const s = this.m.addSegment('OBX');
    s.set('1', String(++this.n));
    if (type !== '') s.set('2', type);
    code(s, '3', id);
    s.set('4', path);
    fill(s);
    s.set('11', status);
    s.set('14', hl7Time(this.timeMs));
    return s;
  }

  /** the pump's containment: MDS (with the device identifier in OBX-18), VMD, delivery channel */
  containment(serial: string): void {
    const mds = this.add('', MDC.pumpMds, '1.0.0.0', () => undefined, 'X');
    mds.set('18.1', serial);
    mds.set('18.2', SENDING_APPLICATION);
    mds.set('18.3', pumpEui64(serial));
    mds.set('18.4', 'EUI-64');
    this.add('', MDC.pumpVmd, '1.1.0.0', () => undefined, 'X');
    this.add('', MDC.deliveryChannel, '1.1.1.0', () => undefined, 'X');
  }

  numeric(id: MdcTerm, path: string, value: number | null | undefined, unit: MdcTerm): void {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    this.add('NM', id, path, (s) => {
      s.set('5', String(value));
      code(s, '6', unit);
    }, 'R');
  }

  text(id: MdcTerm, path: string, value: string | null | undefined): void {
    if (value === null || value === undefined || value === '') return;
    this.add('ST', id, path, (s) => s.set('5', value), 'R');
  }
}

/** MDC_PUMP_STAT values (pump-status-*) */
const PUMP_STATUS: Readonly<Record<PumpState, string>> = {
  RUN: 'pump-status-infusing', PAUSE: 'pump-status-paused', ALARM: 'pump-status-alarm', END: 'pump-status-complete', IDLE: 'pump-status-idle',
};

function timeOf(view: PumpView, fallbackMs: number): number {
  const t = Date.parse(view.pumpTime ?? view.lastSeen ?? '');
  return Number.isFinite(t) ? t : fallbackMs;
}

/** the channel's readings: status, rate, volume infused, volume still to infuse, programmed volume, drug */
function readings(o: Observations, view: PumpView, drug: string | null): void {
  if (view.state) o.add('CWE', MDC.pumpStatus, '1.1.1.1', (s) => s.set('5.2', PUMP_STATUS[view.state as PumpState]), 'R');
  o.numeric(MDC.rate, '1.1.1.2', view.rateMlH, MDC.mlPerHour);
  o.numeric(MDC.volumeInfused, '1.1.1.3', view.infusedMl, MDC.ml);
  o.numeric(MDC.volumeToBeInfused, '1.1.1.4', view.vtbiMl, MDC.ml);
  o.numeric(MDC.programVolume, '1.1.1.5', view.programVolumeMl, MDC.ml);
  o.text(MDC.drugLabel, '1.1.1.6', drug ?? view.drug);
}

/** PCD-01: one running pump's observations */
export function pcd01(view: PumpView, ctx: MessageContext): string {
  const timeMs = timeOf(view, ctx.nowMs);
  const m = header('pcd01', ctx);
  obr(m, ctx.controlId, MDC.pumpMds, timeMs);
  const o = new Observations(m, timeMs);
  o.containment(view.pump);
  readings(o, view, ctx.patient?.drug ?? null);
  return m.toString();
}

export type InfusionEvent = 'start' | 'stop' | 'complete';
const EVENT_TERM: Readonly<Record<InfusionEvent, MdcTerm>> = { start: MDC.delivStart, stop: MDC.delivStop, complete: MDC.delivComplete };

/** PCD-10: an infusion started, stopped or completed */
export function pcd10(event: InfusionEvent, view: PumpView, ctx: MessageContext): string {
  const timeMs = timeOf(view, ctx.nowMs);
  const m = header('pcd10', ctx);
  obr(m, ctx.controlId, MDC.pumpMds, timeMs);
  const o = new Observations(m, timeMs);
  o.containment(view.pump);
  o.add('CWE', MDC.eventCondition, '1.1.1.7', (s) => code(s, '5', EVENT_TERM[event]), 'F');
  readings(o, view, ctx.patient?.drug ?? null);
  return m.toString();
}

export type AlarmChange = 'raised' | 'cleared' | 'acknowledged';

/** PCD-04 facets of one alarm change: phase, state, inactivation state */
export function alarmFacets(change: AlarmChange, alert: Alert): { phase: string; state: string; inactivation: string } {
  const inactivation = alert.acknowledged ? 'alert-acknowledged' : 'enabled';
  if (change === 'raised') return { phase: 'start', state: 'active', inactivation };
  if (change === 'cleared') return { phase: 'end', state: 'inactive', inactivation };
  return { phase: 'update', state: alert.status === 'active' ? 'active' : 'inactive', inactivation: 'alert-acknowledged' };
}

/** programming and course checks advise; everything else is a technical alarm of the pump or its link */
const ADVISORY = new Set(['program_mismatch', 'program_unassigned', 'drug_limit', 'delivery_above_order', 'delivery_below_24h']);

/** PCD-04: an alert raised, cleared or acknowledged; OBR-3 is the alert's id on every change of it */
export function pcd04(change: AlarmChange, alert: Alert, ctx: MessageContext): string {
  const timeMs = Date.parse((change === 'cleared' ? alert.clearedAt : change === 'acknowledged' ? alert.ackedAt : alert.raisedAt) ?? '') || ctx.nowMs;
  const m = header('pcd04', ctx);
  obr(m, alert.id, MDC.alarm, timeMs);
  const o = new Observations(m, timeMs);
  const f = alarmFacets(change, alert);
  const ev = alertEventOf(alert.type);
  const serial = alert.pump || alert.gateway;
  const first = o.add('CWE', MDC.alarm, '1.0.0.0.1', (s) => {
    code(s, '5', ev.term, alert.message);
    s.set('8', ADVISORY.has(alert.type) ? 'SA' : 'ST');
  }, 'F');
  first.set('18.1', serial);
  first.set('18.2', SENDING_APPLICATION);
  first.set('18.3', pumpEui64(serial));
  first.set('18.4', 'EUI-64');
  o.add('CWE', MDC.alertSource, '1.0.0.0.2', (s) => code(s, '5', MDC.pumpMds), 'F');
  o.add('ST', MDC.eventPhase, '1.0.0.0.3', (s) => s.set('5', f.phase), 'F');
  o.add('ST', MDC.alarmState, '1.0.0.0.4', (s) => s.set('5', f.state), 'F');
  o.add('ST', MDC.inactivationState, '1.0.0.0.5', (s) => s.set('5', f.inactivation), 'F');
  o.add('ST', MDC.alarmPriority, '1.0.0.0.6', (s) => s.set('5', PRIORITY[alert.severity]), 'F');
  o.add('ST', MDC.alertType, '1.0.0.0.7', (s) => s.set('5', ADVISORY.has(alert.type) ? 'SA' : 'ST'), 'F');
  return m.toString();
}
