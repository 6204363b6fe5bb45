/**
 * Pure texts and checks for the patient and order a pump is assigned to (no DOM), unit-tested:
 * the board line, the alert line, the tel: link and programmed-vs-ordered side by side.
 */
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { Patient, PumpOrder, PumpPatient } from '../../protocol/clinical.ts';

/**
 * Percent a programmed value may differ from the ordered one before it is highlighted: the server's
 * default PROGRAM_TOLERANCE_PCT. The server's program_mismatch alert is the authority; this only
 * draws the eye to the field.
 */
export const MISMATCH_TOLERANCE_PCT = 10;

export const NO_ORDER_TEXT = 'no order assigned';

export function patientLine(p: PumpPatient): string {
  return `${p.name} · MRN ${p.mrn}`;
}

export function orderLine(o: PumpOrder): string {
  return `${o.drug} · ${num(o.rateMlH)} mL/h`;
}

/** What the board shows under the pump's name; null when clinical records are off (fields absent). */
export function boardPatientText(p: Pick<PumpView, 'patient' | 'order'>): { patient: string; order: string } | null {
  if (p.patient === undefined && p.order === undefined) return null;
  if (!p.patient || !p.order) return { patient: NO_ORDER_TEXT, order: '' };
  return { patient: patientLine(p.patient), order: orderLine(p.order) };
}

/** A phone number as a tel: URI (digits and a leading +); null when nothing dialable is left. */
export function telHref(phone: string | null | undefined): string | null {
  if (!phone) return null;
  const trimmed = phone.trim();
  const digits = trimmed.replace(/[^\d]/g, '');
  if (digits.length < 3) return null;
  return `tel:${trimmed.startsWith('+') ? '+' : ''}${digits}`;
}

/** The patient an alert concerns, when its pump is assigned to that patient now. */
export function alertPatientText(a: Pick<Alert, 'patientId'>, pump: Pick<PumpView, 'patient'> | undefined): string | null {
  const p = pump?.patient;
  if (!p) return null;
  if (a.patientId && a.patientId !== p.id) return null;
  return patientLine(p);
}

export interface ProgramRow {
  field: 'rate' | 'volume' | 'hours';
  label: string;
  unit: string;
  programmed: number | null;
  ordered: number | null;
  mismatch: boolean;
}

/**
 * Programmed (what the pump reported: its rate, its program's volume and hours) against ordered.
 * Rate and hours are highlighted beyond the tolerance either way; volume only above the order (a
 * smaller bag is not a mismatch, interfaces.md §4). A field the server's open program_mismatch
 * alert names is highlighted too.
 */
export function programVsOrder(p: PumpView, order: PumpOrder, mismatchAlert?: Pick<Alert, 'detail'>, tolerancePct = MISMATCH_TOLERANCE_PCT): ProgramRow[] {
  const rate = p.rateMlH !== null && p.rateMlH > 0 ? p.rateMlH
    : p.programVolumeMl && p.programHours ? p.programVolumeMl / p.programHours : null;
  const named = mismatchFields(mismatchAlert);
  const off = (prog: number | null, ord: number, onlyAbove: boolean): boolean => {
    if (prog === null || !(ord > 0)) return false;
    const diffPct = ((prog - ord) / ord) * 100;
    return onlyAbove ? diffPct > tolerancePct : Math.abs(diffPct) > tolerancePct;
  };
  const volume = p.programVolumeMl ?? null;
  const hours = p.programHours ?? null;
  return [
    { field: 'rate', label: 'Rate', unit: 'mL/h', programmed: rate, ordered: order.rateMlH, mismatch: off(rate, order.rateMlH, false) || named.has('rate') },
    { field: 'volume', label: 'Volume', unit: 'mL', programmed: volume, ordered: order.volumeMl, mismatch: off(volume, order.volumeMl, true) || named.has('volume') },
    { field: 'hours', label: 'Hours', unit: 'h', programmed: hours, ordered: order.hours, mismatch: off(hours, order.hours, false) || named.has('hours') },
  ];
}

/** A patient matches a search when the MRN starts with it or the name contains it (any case). */
export function matchesPatient(p: Pick<Patient, 'mrn' | 'name'>, search: string): boolean {
  const q = search.trim().toLowerCase();
  return q === '' || p.mrn.toLowerCase().startsWith(q) || p.name.toLowerCase().includes(q);
}

/**
 * The fields a program_mismatch alert says differ, as rate / volume / hours: its detail's
 * `mismatched: ['rateMlH', 'volumeMl', 'hours']` (server/detectors/programMismatch.ts), else the
 * fields whose comparison says `mismatch: true`.
 */
function mismatchFields(a: Pick<Alert, 'detail'> | undefined): Set<string> {
  const detail = a?.detail ?? {};
  const keys = Array.isArray(detail.mismatched)
    ? detail.mismatched.filter((f): f is string => typeof f === 'string')
    : Object.entries(detail).filter(([, v]) => (v as { mismatch?: unknown } | null)?.mismatch === true).map(([k]) => k);
  return new Set(keys.map((k) => k.replace(/MlH$|Ml$/, '').toLowerCase()));
}

/** a number as a nurse reads it: up to two decimals, no trailing zeros */
export function num(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return String(Math.round(v * 100) / 100);
}
