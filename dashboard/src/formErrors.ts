/**
 * Which form field each reason belongs to (pure, unit-tested): the validators' {field, reason}
 * list, or the server's answer (its `fields` list, else its one-line message "rateMlH must be …;
 * start is required", and 409 codes that are about one field), so the reason shows next to it.
 */
import type { FieldError } from '../../protocol/clinicalValidation.ts';

export interface FormReasons {
  /** field → reasons, in the order given */
  byField: Map<string, string[]>;
  /** reasons about no field of the form */
  general: string[];
}

/** 409 codes and the field they are about */
const CONFLICT_FIELDS: Readonly<Record<string, string>> = {
  duplicate_mrn: 'mrn',
  pump_already_assigned: 'pump',
};

export function reasonsFor(errors: readonly FieldError[], fields: readonly string[]): FormReasons {
  const byField = new Map<string, string[]>();
  const general: string[] = [];
  for (const e of errors) {
    const field = fields.includes(e.field) ? e.field : null;
    if (field === null) general.push(e.field ? `${e.field} ${e.reason}` : e.reason);
    else byField.set(field, [...(byField.get(field) ?? []), e.reason]);
  }
  return { byField, general };
}

/** A refused request's reasons: `fields` from the body when it lists them, else read from its message. */
export function serverReasons(
  err: { status: number; message: string; code?: string; fields?: readonly FieldError[] },
  fields: readonly string[],
): FormReasons {
  if (err.fields && err.fields.length > 0) return reasonsFor(err.fields, fields);
  const conflictField = CONFLICT_FIELDS[(err.code ?? '').toLowerCase()];
  if (err.status === 409 && conflictField && fields.includes(conflictField)) return reasonsFor([{ field: conflictField, reason: err.message }], fields);
  if (err.status === 400) {
    const parts = err.message.split('; ').map((part) => {
      const field = fields.find((f) => part.startsWith(`${f} `));
      return field ? { field, reason: part.slice(field.length + 1) } : { field: '', reason: part };
    });
    return reasonsFor(parts, fields);
  }
  return { byField: new Map(), general: [statusText(err.status, err.message)] };
}

function statusText(status: number, message: string): string {
  if (status === 503) return `Patient records are unavailable now (${message}). Alarms keep working; try again later.`;
  if (status === 403) return `Your role may not do this (${message}).`;
  if (status === 404) return `Not found: ${message}.`;
  return message;
}
