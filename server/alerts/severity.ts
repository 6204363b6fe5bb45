/** Severity of each alert type (reasons in docs/detection.md). High ones escalate when nobody acknowledges them. */
import type { AlertType, Severity } from '../../protocol/api.ts';

export const ALERT_SEVERITY: Readonly<Record<AlertType, Severity>> = Object.freeze({
  // nothing (or too little) chemotherapy is reaching the patient now
  occlusion: 'high',
  infusion_stopped: 'high',
  air_in_line: 'high',
  pump_fault: 'high',
  // switched off with volume left: nothing is going in until somebody switches it back on
  pump_off: 'high',
  // the pump is programmed against its order, or beyond what the drug allows: the wrong dose is going in
  program_mismatch: 'high',
  drug_limit: 'high',
  // more has gone in under the order than it allows by now, whatever the program says
  delivery_above_order: 'high',
  // the pump says RUN but vi is frozen (no flow), or the line pressure fell to ~0 (disconnected or leaking: a spill)
  no_flow: 'high',
  line_pressure_lost: 'high',
  // needs a call within the hour: the pump may be fine but we cannot see it, or the course will fall short
  delivery_below_24h: 'medium',
  signal_lost: 'medium',
  gateway_offline: 'medium',
  low_reservoir: 'medium',
  low_battery: 'medium',
  // an alarm code we do not know while the pump still delivers; high while it is halted (pumpAlarm.ts)
  pump_alarm: 'medium',
  // bookkeeping: durations and billing from this pump need review
  clock_error: 'low',
  // a pump started with no order to check it against: someone should assign it
  program_unassigned: 'low',
});

/** Types timed on the server clock; every other type is timed on the pump clock. */
export const SERVER_CLOCK_TYPES: ReadonlySet<AlertType> = new Set<AlertType>(['signal_lost', 'gateway_offline']);

/** `CS7-004512.occlusion.20261124T060500Z`: the same pump, type and raise time always give the same id. */
export function alertId(pump: string, type: AlertType, atMs: number): string {
  const iso = Number.isFinite(atMs) ? new Date(atMs).toISOString() : '1970-01-01T00:00:00.000Z';
  const compact = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return `${pump}.${type}.${compact}`;
}
