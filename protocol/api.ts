/** HTTP and WebSocket shapes (interfaces.md §4–5), shared by server and dashboard. */
import type { PumpOrder, PumpPatient } from './clinical.ts';
import type { PumpState, StatusSentence } from './sentence.ts';

export const ALERT_TYPES = [
  'occlusion', 'infusion_stopped', 'delivery_below_24h', 'signal_lost', 'gateway_offline', 'low_reservoir',
  'low_battery', 'air_in_line', 'pump_fault', 'clock_error',
  // an alarm code this server does not know: never silent (§4)
  'pump_alarm',
  // POWER_OFF while a program has volume left (§4)
  'pump_off',
  // programming verification (§4, §6)
  'program_mismatch', 'program_unassigned', 'drug_limit', 'delivery_above_order',
  // a stopped line that looks like a running pump: vi frozen during RUN; pressure lost during RUN
  'no_flow', 'line_pressure_lost',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];
export type Severity = 'high' | 'medium' | 'low';
export type Role = 'nurse' | 'billing' | 'pharmacist' | 'admin';

export interface Alert {
  id: string;
  pump: string;
  gateway: string;
  type: AlertType;
  severity: Severity;
  status: 'active' | 'cleared';
  acknowledged: boolean;
  ackedBy: string | null;
  ackedAt: string | null;
  raisedAt: string;
  clearedAt: string | null;
  /** one line a nurse understands at 3 a.m. */
  message: string;
  detail: Record<string, unknown>;
  /** extension: re-pushed because nobody acknowledged it in time */
  escalated?: boolean;
  /** the pump's assignment when the alert was raised (§6); absent or null when unassigned */
  patientId?: string | null;
  orderId?: string | null;
  /** paging (§7), present when paging is on: who accepted a page for it, and the chain's state */
  acceptedBy?: string | null;
  acceptedAt?: string | null;
  paging?: AlertPaging | null;
  /** what the nurse wrote when acknowledging */
  ackNote?: string | null;
  ackOutcome?: AckOutcome | null;
}

/** `failed`: a whole round of the chain was tried and nobody could be paged; `idle`: nothing to page (nobody on call) */
export interface AlertPaging {
  status: 'paging' | 'accepted' | 'failed' | 'idle';
  round: number;
  step: number;
  /** the person paged now (null once accepted or idle) */
  current: string | null;
}

export const ACK_OUTCOMES = ['patient_called', 'line_unkinked', 'visit_scheduled', 'pump_restarted', 'no_action_needed', 'other'] as const;
export type AckOutcome = (typeof ACK_OUTCOMES)[number];

/** GET /api/alerts/:id/pages: one row per page per channel tried */
export interface PageRecord {
  id: string;
  to: string;
  channel: 'email' | 'push' | 'webhook' | 'none';
  sentAt: string | null;
  status: 'sent' | 'failed' | 'accepted' | 'declined' | 'expired';
  round: number;
  step: number;
  error?: string;
}

export interface OnCallShift {
  from: string;
  to: string;
  chain: string[];
}

/** GET /api/pages/:token (the phone page; the token is the credential) */
export interface PageTokenView {
  alert: { id: string; type: string; severity: string; message: string; pump: string; raisedAt: string; status: string };
  patient: { name: string; mrn: string; phone: string | null } | null;
  /** this page's state */
  status: 'sent' | 'failed' | 'accepted' | 'declined' | 'expired';
  acceptedBy: string | null;
  expired: boolean;
}

export interface PumpView {
  pump: string;
  gateway: string;
  state: PumpState | null;
  /** server time the last sentence arrived, ISO */
  lastSeen: string | null;
  rateMlH: number | null;
  infusedMl: number | null;
  vtbiMl: number | null;
  reservoirMl: number | null;
  pressureMmHg: number | null;
  batteryPct: number | null;
  alarms: string[];
  programId: string | null;
  projectedEnd: string | null;
  activeAlerts: number;
  /** extensions */
  drug?: string | null;
  programVolumeMl?: number | null;
  programHours?: number | null;
  pumpTime?: string | null;
  gatewayOnline?: boolean | null;
  /** the pump said POWER_OFF and has not been heard since: its readings are from before */
  poweredOff?: boolean;
  /** hours delivered this course (RUN at a rate above 0, pump clock; time switched off or paused excluded), floored to 4 decimals like billing's deliveryHours; null before any program */
  deliveredHours?: number | null;
  label?: string | null;
  /** §6: the open assignment's patient and order; null when the pump is unassigned (absent without clinical records) */
  patient?: PumpPatient | null;
  order?: PumpOrder | null;
  /** a nurse visit going on: stops and silences do not page until `until` (null: none) */
  visit?: PumpVisit | null;
}

/** A nurse visit set from the board (PUT /api/pumps/:pump/visit). */
export interface PumpVisit {
  /** server time it ends by itself, ISO */
  until: string;
  /** account name (or token label) of the nurse who set it */
  by: string;
}

/** A stored status point: the status sentence's readings with its seq and pump time. */
export type TelemetryPoint = Pick<StatusSentence, 'time' | 'seq' | 'state' | 'rateMlH' | 'infusedMl' | 'vtbiMl' | 'reservoirMl' | 'pressureMmHg' | 'batteryPct' | 'alarms'>;

export interface Interruption {
  from: string;
  to: string;
  minutes: number;
  reason: string;
}

export interface Episode {
  /** extension: stable id for /api/billing/episodes/:id/evidence */
  id?: string;
  pump: string;
  programId: string;
  drug: string;
  start: string;
  end: string | null;
  deliveryHours: number;
  interruptions: Interruption[];
  longestInterruptionMin: number;
  continuous24h: boolean;
  code: 'S9330' | 'S9331';
  serviceDays: string[];
  evidence: { firstSeq: number; lastSeq: number; sentences: number };
  /** extensions */
  unverifiedHours?: number;
  /** course fields (interfaces.md §4, "Added fields"; docs/billing.md) */
  patientId?: string | null;
  mrn?: string | null;
  patientName?: string | null;
  orderId?: string | null;
  payer?: string | null;
  mode?: 'continuous' | 'intermittent' | null;
  units?: number;
  provisional?: boolean;
  needsReview?: boolean;
  reviewReasons?: string[];
  /** a billing user's review (PostgreSQL); `reviewed`: it covers every current reason */
  reviewedBy?: string | null;
  reviewedAt?: string | null;
  reviewNote?: string | null;
  reviewed?: boolean;
}

export type ServerMessage =
  | { type: 'snapshot'; pumps: PumpView[]; alerts: Alert[] }
  | { type: 'alert'; alert: Alert }
  | { type: 'pump'; pump: PumpView };

/** Runtime check for what arrives on /ws (the dashboard's side). */
export function parseServerMessage(text: string): ServerMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null) return null;
  const o = m as Record<string, unknown>;
  if (o.type === 'snapshot' && Array.isArray(o.pumps) && Array.isArray(o.alerts)) return m as ServerMessage;
  if (o.type === 'alert' && typeof o.alert === 'object' && o.alert !== null && typeof (o.alert as Alert).id === 'string') return m as ServerMessage;
  if (o.type === 'pump' && typeof o.pump === 'object' && o.pump !== null && typeof (o.pump as PumpView).pump === 'string') return m as ServerMessage;
  return null;
}
