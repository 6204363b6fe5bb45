/**
 * IEEE 11073-10101 (MDC) terms the IHE PCD messages carry, and the event term each alert type is
 * reported with (docs/hl7.md, "Alert types"; a unit test checks that table against this one).
 * Numeric codes are context-free codes (partition × 65536 + term code); the event codes are those
 * of the Rosetta (RTMMS) pump alarm and event groups (docs/hl7.md names the sources). Where no
 * term fits or its code could not be confirmed, the alert goes out as the generic MDC_EVT_ALARM
 * and its text says what it is; `note` names the term a later revision should use.
 */
import { ALERT_TYPES, type AlertType, type Severity } from '../../protocol/api.ts';

export interface MdcTerm {
  code: string;
  ref: string;
}

const t = (code: number, ref: string): MdcTerm => ({ code: String(code), ref });

export const MDC = {
  // containment: the pump is one MDS with one VMD and one delivery channel
  pumpMds: t(69985, 'MDC_DEV_PUMP_INFUS_MDS'),
  pumpVmd: t(69986, 'MDC_DEV_PUMP_INFUS_VMD'),
  deliveryChannel: t(126978, 'MDC_DEV_PUMP_INFUS_CHAN_DELIVERY'),
  // metrics
  pumpStatus: t(184508, 'MDC_PUMP_STAT'),
  rate: t(157784, 'MDC_FLOW_FLUID_PUMP'),
  volumeInfused: t(157864, 'MDC_VOL_FLUID_DELIV'),
  volumeToBeInfused: t(157872, 'MDC_VOL_FLUID_TBI_REMAIN'),
  programVolume: t(157884, 'MDC_VOL_FLUID_TBI'),
  drugLabel: t(184330, 'MDC_DRUG_NAME_TYPE'),
  // units
  mlPerHour: t(265266, 'MDC_DIM_MILLI_L_PER_HR'),
  ml: t(263762, 'MDC_DIM_MILLI_L'),
  // alarms (PCD-04) and their facets
  alarm: t(196616, 'MDC_EVT_ALARM'),
  alertSource: t(68480, 'MDC_ATTR_ALERT_SOURCE'),
  eventPhase: t(68481, 'MDC_ATTR_EVENT_PHASE'),
  alarmState: t(68482, 'MDC_ATTR_ALARM_STATE'),
  inactivationState: t(68483, 'MDC_ATTR_ALARM_INACTIVATION_STATE'),
  alarmPriority: t(68484, 'MDC_ATTR_ALARM_PRIORITY'),
  alertType: t(68485, 'MDC_ATTR_ALERT_TYPE'),
  // infusion events (PCD-10)
  eventCondition: t(68487, 'MDC_ATTR_EVT_COND'),
  delivStart: t(197288, 'MDC_EVT_PUMP_DELIV_START'),
  delivStop: t(197290, 'MDC_EVT_PUMP_DELIV_STOP'),
  delivComplete: t(197292, 'MDC_EVT_PUMP_DELIV_COMP'),
  // alarm event terms
  occlusion: t(196940, 'MDC_EVT_FLUID_LINE_OCCL'),
  flowLow: t(196950, 'MDC_EVT_FLOW_LO'),
  batteryLow: t(196802, 'MDC_EVT_BATT_LO'),
  nearComplete: t(197334, 'MDC_EVT_VOL_INFUS_NEAR_COMP'),
  airInLine: t(197200, 'MDC_EVT_FLUID_LINE_AIR'),
  malfunction: t(196678, 'MDC_EVT_MALF'),
  powerLoss: t(197342, 'MDC_EVT_PWR_LOSS'),
  commStatusChange: t(197294, 'MDC_EVT_COMM_STATUS_CHANGE'),
  settingsCheck: t(203276, 'MDC_EVT_ADVIS_SETTINGS_CHK'),
  disconnected: t(196630, 'MDC_EVT_DISCONN'),
} as const satisfies Record<string, MdcTerm>;

export interface AlertEvent {
  /** the term sent in the alarm OBX-5 */
  term: MdcTerm;
  /** `exact`: the term names this condition; `nearest`: the closest term there is; `generic`: MDC_EVT_ALARM */
  match: 'exact' | 'nearest' | 'generic';
  /** why a nearest or generic term, for the docs table */
  note: string | null;
}

const exact = (term: MdcTerm): AlertEvent => ({ term, match: 'exact', note: null });
const nearest = (term: MdcTerm, note: string): AlertEvent => ({ term, match: 'nearest', note });
const generic = (note: string): AlertEvent => ({ term: MDC.alarm, match: 'generic', note });

/** every alert type → its PCD-04 event term */
export const ALERT_EVENTS: Readonly<Record<AlertType, AlertEvent>> = {
  occlusion: exact(MDC.occlusion),
  no_flow: exact(MDC.flowLow),
  line_pressure_lost: nearest(MDC.disconnected, 'the line has come off; no infusion-line disconnection term is registered'),
  air_in_line: exact(MDC.airInLine),
  infusion_stopped: exact(MDC.delivStop),
  pump_off: nearest(MDC.powerLoss, 'the pump switched off with volume left'),
  delivery_below_24h: nearest(MDC.nearComplete, 'the course ends (or will) before 24 h'),
  low_reservoir: exact(MDC.nearComplete),
  low_battery: exact(MDC.batteryLow),
  signal_lost: nearest(MDC.commStatusChange, 'the pump went silent'),
  gateway_offline: nearest(MDC.commStatusChange, "the pump's gateway went offline"),
  pump_fault: exact(MDC.malfunction),
  clock_error: generic('`MDC_EVT_DEVICE_TIME_CHANGED` (197308) says the clock was set, not that it is wrong, and is only proposed'),
  pump_alarm: generic('an alarm code of the pump the server does not know; its code is in the text'),
  program_mismatch: nearest(MDC.settingsCheck, "the pump's program differs from the order"),
  program_unassigned: nearest(MDC.settingsCheck, 'a program on a pump with no order'),
  drug_limit: nearest(MDC.settingsCheck, "a program outside the drug's limits"),
  delivery_above_order: nearest(MDC.settingsCheck, 'more delivered than ordered'),
};

/** alert types a later protocol version may add: never silent, sent as the generic alarm */
export function alertEventOf(type: string): AlertEvent {
  return (ALERT_EVENTS as Record<string, AlertEvent | undefined>)[type] ?? generic('an alert type this version does not know');
}

/** PCD-04 MDC_ATTR_ALARM_PRIORITY: PH / PM / PL */
export const PRIORITY: Readonly<Record<Severity, 'PH' | 'PM' | 'PL'>> = { high: 'PH', medium: 'PM', low: 'PL' };

export const KNOWN_ALERT_TYPES: readonly AlertType[] = ALERT_TYPES;

/** every numeric code → reference id this module sends (the listener validates against it) */
export const MDC_BY_CODE: ReadonlyMap<string, string> = new Map(Object.values(MDC).map((m) => [m.code, m.ref]));

/** every reference id → numeric code this module sends */
export const MDC_BY_REF: ReadonlyMap<string, string> = new Map(Object.values(MDC).map((m) => [m.ref, m.code]));

/** the "Alert types" table of docs/hl7.md, as markdown rows (a unit test keeps the docs equal to it) */
export function alertEventTable(): string {
  const rows = Object.entries(ALERT_EVENTS).map(([type, e]) =>
    `| \`${type}\` | \`${e.term.code}^${e.term.ref}^MDC\` | ${e.match}${e.note ? `: ${e.note}` : ''} |`);
  return ['| alert type | OBX-5 of the alarm OBX (PCD-04) | match |', '| --- | --- | --- |', ...rows].join('\n');
}

