/**
 * Table rows ↔ domain objects. Ids are bigint identities, which pg returns as strings: the API's
 * string ids are those decimal strings, so an id never loses precision in JSON.
 */
import { ClinicalError } from './clinicalErrors.ts';
import type { Assignment, Order, OrderMode, Patient } from '../../protocol/clinical.ts';

export interface PatientRow {
  id: string;
  mrn: string;
  name: string;
  phone: string | null;
  timezone: string | null;
  notes: string | null;
}

export interface OrderRow {
  id: string;
  patient_id: string;
  drug: string;
  rate_ml_h: number;
  volume_ml: number;
  hours: number;
  mode: OrderMode;
  start_at: Date;
  stop_at: Date | null;
  payer: string | null;
  prescriber: string | null;
  discontinued_at: Date | null;
}

export interface AssignmentRow {
  id: string;
  pump: string;
  order_id: string;
  patient_id: string;
  from_at: Date;
  to_at: Date | null;
}

export const PATIENT_COLUMNS = 'id, mrn, name, phone, timezone, notes';
export const ORDER_COLUMNS = 'id, patient_id, drug, rate_ml_h, volume_ml, hours, mode, start_at, stop_at, payer, prescriber, discontinued_at';
export const ASSIGNMENT_COLUMNS = 'id, pump, order_id, patient_id, from_at, to_at';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function patientFromRow(r: PatientRow): Patient {
  return { id: r.id, mrn: r.mrn, name: r.name, phone: r.phone, timezone: r.timezone, notes: r.notes };
}

export function orderFromRow(r: OrderRow): Order {
  return {
    id: r.id, patientId: r.patient_id, drug: r.drug, rateMlH: r.rate_ml_h, volumeMl: r.volume_ml, hours: r.hours, mode: r.mode,
    start: r.start_at.toISOString(), stop: iso(r.stop_at), payer: r.payer, prescriber: r.prescriber, discontinuedAt: iso(r.discontinued_at),
  };
}

export function assignmentFromRow(r: AssignmentRow): Assignment {
  return { id: r.id, pump: r.pump, orderId: r.order_id, patientId: r.patient_id, from: r.from_at.toISOString(), to: iso(r.to_at) };
}

/** bigint's range: an id outside it, or not a plain decimal, names no record */
const ID_RE = /^[1-9]\d{0,18}$/;
const MAX_ID = 9223372036854775807n;

/** The id as the database takes it; NOT_FOUND for anything that cannot be an id (so 404, not 500). */
export function recordId(id: string, what: string): string {
  if (typeof id !== 'string' || !ID_RE.test(id) || BigInt(id) > MAX_ID) throw new ClinicalError('NOT_FOUND', `no such ${what}`);
  return id;
}

/** An ISO time as a Date; INVALID_INPUT when it is not one. */
export function isoTime(text: string, field: string): Date {
  const d = new Date(text);
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(d.getTime())) {
    throw new ClinicalError('INVALID_INPUT', `${field} must be an ISO 8601 time`);
  }
  return d;
}
