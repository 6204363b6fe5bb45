/**
 * Clinical records as the API shows them (interfaces.md §6), shared by server and dashboard: ids are decimal strings, times ISO
 * 8601, numbers JSON numbers, absent optional fields null.
 */

export type OrderMode = 'continuous' | 'intermittent';
export const ORDER_MODES: readonly OrderMode[] = ['continuous', 'intermittent'];

export interface Patient {
  id: string;
  mrn: string;
  name: string;
  phone: string | null;
  /** IANA zone for billing's service days; null: the server's zone */
  timezone: string | null;
  notes: string | null;
}

export interface NewPatient {
  mrn: string;
  name: string;
  phone?: string | null;
  timezone?: string | null;
  notes?: string | null;
}

/** PATCH: the fields present are set (null clears an optional one) */
export type PatientChanges = Partial<NewPatient>;

export interface Order {
  id: string;
  patientId: string;
  drug: string;
  rateMlH: number;
  volumeMl: number;
  hours: number;
  mode: OrderMode;
  /** ISO */
  start: string;
  /** ISO, or null: until discontinued */
  stop: string | null;
  payer: string | null;
  prescriber: string | null;
  /** ISO, set by discontinue */
  discontinuedAt: string | null;
}

export interface NewOrder {
  patientId: string;
  drug: string;
  rateMlH: number;
  volumeMl: number;
  hours: number;
  mode: OrderMode;
  /** ISO */
  start: string;
  stop?: string | null;
  payer?: string | null;
  prescriber?: string | null;
}

export interface Assignment {
  id: string;
  /** pump serial */
  pump: string;
  orderId: string;
  patientId: string;
  /** ISO */
  from: string;
  /** ISO, null while the pump is on the patient */
  to: string | null;
}

export interface NewAssignment {
  pump: string;
  orderId: string;
  /** ISO; default: now */
  from?: string;
}

/** What the hot path needs about a pump's open assignment, held in memory (activeAssignments.ts). */
export interface ActiveAssignment {
  assignment: Assignment;
  order: Order;
  patient: Pick<Patient, 'id' | 'mrn' | 'name' | 'phone' | 'timezone'>;
}

/** A drug with known limits (editable by a pharmacist): a program beyond them is impossible whatever the order says. */
export interface DrugLimit {
  /** matched case-insensitively against the pump's drug label (PRG) and the order's drug */
  drug: string;
  /** mL/h */
  maxRateMlH: number;
  /** mL of one program; null: no volume limit */
  maxVolumeMl: number | null;
}

/** What GET /api/pumps adds to a pump with an open assignment (§6); null when unassigned. */
export interface PumpPatient {
  id: string;
  mrn: string;
  name: string;
  /** extension: whom the nurse calls */
  phone?: string | null;
  /** extension: the patient's IANA zone; the board shows this pump's times in it (null: the server's) */
  timezone?: string | null;
}

export interface PumpOrder {
  id: string;
  drug: string;
  rateMlH: number;
  volumeMl: number;
  hours: number;
  mode: OrderMode;
}
