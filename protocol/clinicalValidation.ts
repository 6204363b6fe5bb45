/**
 * Validation of the clinical request bodies (interfaces.md §6), shared by the server's routes (a
 * 400 naming every malformed field) and the dashboard's forms (the same rules before sending).
 * Pure: a value in, either the typed body or every {field, reason} wrong with it out. The limits
 * are the database's (server/db/migrations), so what passes here is never refused there.
 */
import { ORDER_MODES, type DrugLimit, type NewAssignment, type NewOrder, type NewPatient, type OrderMode, type PatientChanges } from './clinical.ts';

export interface FieldError {
  /** the body's field, e.g. `rateMlH`, `limits[2].drug`; '' for the body itself */
  field: string;
  /** one line a person understands */
  reason: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false, errors: FieldError[] };

/** pump serial as the pumps send it (pump-serial-protocol.md) */
export const PUMP_SERIAL_RE = /^[A-Z0-9-]{3,20}$/;
/** record ids are bigint identities rendered as decimal strings */
export const RECORD_ID_RE = /^[1-9]\d{0,18}$/;
const MAX_RECORD_ID = 9223372036854775807n;
const ISO_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** largest rate, volume and duration accepted: far beyond any ambulatory pump, short of nonsense */
export const MAX_RATE_ML_H = 10_000;
export const MAX_VOLUME_ML = 100_000;
export const MAX_HOURS = 24 * 366;

export const TEXT_LIMITS = { mrn: 64, name: 200, phone: 64, timezone: 64, notes: 4000, drug: 200, payer: 200, prescriber: 200 } as const;

type Body = Record<string, unknown>;

/** collects the errors of one body */
class Check {
  readonly errors: FieldError[] = [];

  constructor(readonly body: Body, readonly prefix = '') {}

  fail(field: string, reason: string): void {
    this.errors.push({ field: this.prefix + field, reason });
  }

  /** the fields not in `known` are errors (a misspelt field must not be silently ignored) */
  onlyKnown(known: readonly string[]): void {
    for (const k of Object.keys(this.body)) if (!known.includes(k)) this.fail(k, 'is not a field of this body');
  }

  text(field: string, max: number, required: boolean): string | null | undefined {
    const v = this.body[field];
    if (v === undefined || v === null) {
      if (required) this.fail(field, v === null ? 'must not be null' : 'is required');
      return v;
    }
    if (typeof v !== 'string') return this.fail(field, 'must be a string'), undefined;
    if (v.trim() === '') return this.fail(field, required ? 'must not be empty' : 'must not be empty (use null to clear it)'), undefined;
    if (v.length > max) return this.fail(field, `must be at most ${max} characters`), undefined;
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v)) return this.fail(field, 'must not contain control characters'), undefined;
    return v;
  }

  positive(field: string, max: number, unit: string): number | undefined {
    const v = this.body[field];
    if (v === undefined || v === null) return this.fail(field, 'is required'), undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail(field, 'must be a number'), undefined;
    if (v <= 0) return this.fail(field, 'must be greater than 0'), undefined;
    if (v > max) return this.fail(field, `must be at most ${max} ${unit}`), undefined;
    return v;
  }

  id(field: string, required: boolean): string | undefined {
    const v = this.body[field];
    if (v === undefined) {
      if (required) this.fail(field, 'is required');
      return undefined;
    }
    if (!isRecordId(v)) return this.fail(field, 'must be a record id (a decimal string)'), undefined;
    return v;
  }

  time(field: string, required: boolean): string | null | undefined {
    const v = this.body[field];
    if (v === undefined || v === null) {
      if (required) this.fail(field, v === null ? 'must not be null' : 'is required');
      return v;
    }
    if (!isIsoTime(v)) return this.fail(field, 'must be an ISO 8601 time with a zone, e.g. 2024-05-01T08:00:00Z'), undefined;
    return v;
  }

  timezone(field: string): string | null | undefined {
    const v = this.text(field, TEXT_LIMITS.timezone, false);
    if (typeof v === 'string' && !isTimeZone(v)) {
      this.fail(field, 'must be an IANA time zone, e.g. America/Chicago');
      return undefined;
    }
    return v;
  }

  result<T>(value: T): Validated<T> {
    return this.errors.length === 0 ? { ok: true, value } : { ok: false, errors: this.errors };
  }
}

export function isRecordId(v: unknown): v is string {
  return typeof v === 'string' && RECORD_ID_RE.test(v) && BigInt(v) <= MAX_RECORD_ID;
}

export function isIsoTime(v: unknown): v is string {
  return typeof v === 'string' && ISO_TIME_RE.test(v) && !Number.isNaN(Date.parse(v));
}

export function isTimeZone(v: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v });
    return true;
  } catch {
    return false;
  }
}

function asBody(v: unknown): Body | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Body) : null;
}

const notAnObject = <T>(): Validated<T> => ({ ok: false, errors: [{ field: '', reason: 'the body must be a JSON object' }] });

/** drops the undefined entries, so the value holds only what the body gave */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const PATIENT_KEYS = ['mrn', 'name', 'phone', 'timezone', 'notes'] as const;

export function validateNewPatient(input: unknown): Validated<NewPatient> {
  const body = asBody(input);
  if (!body) return notAnObject();
  const c = new Check(body);
  c.onlyKnown(PATIENT_KEYS);
  const value = defined({
    mrn: c.text('mrn', TEXT_LIMITS.mrn, true) as string,
    name: c.text('name', TEXT_LIMITS.name, true) as string,
    phone: c.text('phone', TEXT_LIMITS.phone, false),
    timezone: c.timezone('timezone'),
    notes: c.text('notes', TEXT_LIMITS.notes, false),
  });
  return c.result(value);
}

/** PATCH: any subset of the patient's fields, at least one; `mrn` and `name` cannot be cleared */
export function validatePatientChanges(input: unknown): Validated<PatientChanges> {
  const body = asBody(input);
  if (!body) return notAnObject();
  const c = new Check(body);
  c.onlyKnown(PATIENT_KEYS);
  if (!PATIENT_KEYS.some((k) => body[k] !== undefined)) c.fail('', `names no field to change (${PATIENT_KEYS.join(', ')})`);
  const value: PatientChanges = defined({
    mrn: body.mrn === undefined ? undefined : (c.text('mrn', TEXT_LIMITS.mrn, true) as string),
    name: body.name === undefined ? undefined : (c.text('name', TEXT_LIMITS.name, true) as string),
    phone: c.text('phone', TEXT_LIMITS.phone, false),
    timezone: c.timezone('timezone'),
    notes: c.text('notes', TEXT_LIMITS.notes, false),
  });
  return c.result(value);
}

const ORDER_KEYS = ['patientId', 'drug', 'rateMlH', 'volumeMl', 'hours', 'mode', 'start', 'stop', 'payer', 'prescriber'] as const;

export function validateNewOrder(input: unknown): Validated<NewOrder> {
  const body = asBody(input);
  if (!body) return notAnObject();
  const c = new Check(body);
  c.onlyKnown(ORDER_KEYS);
  const mode = body.mode;
  if (mode === undefined || mode === null) c.fail('mode', 'is required');
  else if (!ORDER_MODES.includes(mode as OrderMode)) c.fail('mode', `must be one of ${ORDER_MODES.join(', ')}`);
  const start = c.time('start', true);
  const stop = c.time('stop', false);
  if (typeof start === 'string' && typeof stop === 'string' && Date.parse(stop) <= Date.parse(start)) c.fail('stop', 'must be after start');
  const value = defined({
    patientId: c.id('patientId', true) as string,
    drug: c.text('drug', TEXT_LIMITS.drug, true) as string,
    rateMlH: c.positive('rateMlH', MAX_RATE_ML_H, 'mL/h') as number,
    volumeMl: c.positive('volumeMl', MAX_VOLUME_ML, 'mL') as number,
    hours: c.positive('hours', MAX_HOURS, 'hours') as number,
    mode: mode as OrderMode,
    start: start as string,
    stop,
    payer: c.text('payer', TEXT_LIMITS.payer, false),
    prescriber: c.text('prescriber', TEXT_LIMITS.prescriber, false),
  });
  return c.result(value);
}

export function validateNewAssignment(input: unknown): Validated<NewAssignment> {
  const body = asBody(input);
  if (!body) return notAnObject();
  const c = new Check(body);
  c.onlyKnown(['pump', 'orderId', 'from']);
  const pump = body.pump;
  if (pump === undefined || pump === null) c.fail('pump', 'is required');
  else if (typeof pump !== 'string' || !PUMP_SERIAL_RE.test(pump)) c.fail('pump', 'must be a pump serial (3 to 20 of A-Z, 0-9 and -)');
  const value = defined({
    pump: pump as string,
    orderId: c.id('orderId', true) as string,
    from: c.time('from', false) ?? undefined,
  });
  return c.result(value);
}

function drugLimitIn(c: Check): DrugLimit {
  c.onlyKnown(['drug', 'maxRateMlH', 'maxVolumeMl']);
  const maxVolume = c.body.maxVolumeMl;
  return {
    drug: c.text('drug', TEXT_LIMITS.drug, true) as string,
    maxRateMlH: c.positive('maxRateMlH', MAX_RATE_ML_H, 'mL/h') as number,
    maxVolumeMl: maxVolume === undefined || maxVolume === null ? null : (c.positive('maxVolumeMl', MAX_VOLUME_ML, 'mL') as number),
  };
}

export function validateDrugLimit(input: unknown): Validated<DrugLimit> {
  const body = asBody(input);
  if (!body) return notAnObject();
  const c = new Check(body);
  return c.result(drugLimitIn(c));
}

/** PUT /api/drug-limits: `{limits: DrugLimit[]}`, the whole table; a drug named twice (any case) is an error */
export function validateDrugLimits(input: unknown): Validated<{ limits: DrugLimit[] }> {
  const body = asBody(input);
  if (!body) return notAnObject();
  const top = new Check(body);
  top.onlyKnown(['limits']);
  const list = body.limits;
  if (!Array.isArray(list)) {
    top.fail('limits', list === undefined ? 'is required' : 'must be an array');
    return top.result({ limits: [] });
  }
  if (list.length > 1000) top.fail('limits', 'must hold at most 1000 drugs');
  const limits: DrugLimit[] = [];
  const seen = new Map<string, number>();
  list.forEach((item, i) => {
    const entry = asBody(item);
    if (!entry) return top.fail(`limits[${i}]`, 'must be an object {drug, maxRateMlH, maxVolumeMl}');
    const c = new Check(entry, `limits[${i}].`);
    const limit = drugLimitIn(c);
    top.errors.push(...c.errors);
    if (typeof limit.drug === 'string') {
      const key = limit.drug.trim().toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) top.fail(`limits[${i}].drug`, `names the same drug as limits[${first}]`);
      else seen.set(key, i);
    }
    limits.push(limit);
  });
  return top.result({ limits });
}

/** "rateMlH must be greater than 0; start is required": the errors as one line (an API error message) */
export function describeErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.field ? `${e.field} ${e.reason}` : e.reason)).join('; ');
}
