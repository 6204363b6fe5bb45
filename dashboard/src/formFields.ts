/**
 * A form of labelled fields, each with its reason shown next to it (aria-describedby, aria-invalid),
 * checked with the API's own validators before sending and showing the server's 400/409 reasons
 * the same way. Used by the clinical records forms (records.ts).
 */
import type { FieldError, Validated } from '../../protocol/clinicalValidation.ts';
import { ApiError } from './api.ts';
import { el } from './element.ts';
import { reasonsFor, serverReasons, type FormReasons } from './formErrors.ts';

export interface FieldSpec {
  name: string;
  label: string;
  type?: 'text' | 'number' | 'datetime-local' | 'tel' | 'select' | 'textarea';
  required?: boolean;
  options?: readonly string[];
  hint?: string;
  /** number inputs: the step */
  step?: string;
}

type Input = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

export class FieldForm<T> {
  readonly root: HTMLFormElement;
  readonly inputs = new Map<string, Input>();
  private readonly reasons = new Map<string, HTMLElement>();
  private readonly general: HTMLElement;
  private readonly submit: HTMLButtonElement;
  private readonly fieldset: HTMLFieldSetElement;
  private readonly disabledNote: HTMLElement;

  /**
   * `body`: the request body from the inputs' values; `validate`: the API's validator;
   * `send`: the request, whose answer `done` shows.
   */
  constructor(
    readonly id: string,
    title: string,
    private readonly fields: readonly FieldSpec[],
    submitText: string,
    private readonly body: (values: Map<string, string>) => Record<string, unknown>,
    private readonly validate: (body: unknown) => Validated<T>,
    private readonly send: (value: T) => Promise<string>,
  ) {
    this.general = el('p', { class: 'form-general', role: 'alert' });
    this.submit = el('button', { type: 'submit' }, submitText);
    this.disabledNote = el('p', { class: 'form-disabled', hidden: true });
    this.fieldset = el('fieldset', {}, el('legend', {}, title), this.disabledNote, ...fields.map((f) => this.field(f)), this.general, this.submit);
    this.root = el('form', { class: 'record-form', id, novalidate: true, 'aria-label': title }, this.fieldset);
    this.root.addEventListener('submit', (ev) => { ev.preventDefault(); void this.onSubmit(); });
  }

  value(name: string): string {
    return this.inputs.get(name)?.value ?? '';
  }

  set(name: string, value: string): void {
    const input = this.inputs.get(name);
    if (input) input.value = value;
  }

  /** Off with the reason shown (the database is down), or on again (reason null). */
  setDisabled(reason: string | null): void {
    this.fieldset.disabled = reason !== null;
    this.disabledNote.hidden = reason === null;
    this.disabledNote.textContent = reason ?? '';
  }

  /** Shows reasons next to their fields (and the rest above the button); none clears them. */
  show(r: FormReasons): void {
    for (const [name, node] of this.reasons) {
      const list = r.byField.get(name) ?? [];
      node.textContent = list.join('; ');
      const input = this.inputs.get(name)!;
      if (list.length) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    this.general.textContent = r.general.join('; ');
  }

  private field(f: FieldSpec): HTMLElement {
    const inputId = `${this.id}-${f.name}`;
    const reasonId = `${inputId}-reason`;
    const attrs = { id: inputId, name: f.name, 'aria-describedby': reasonId, required: f.required === true, autocomplete: 'off' };
    let input: Input;
    if (f.type === 'select') input = el('select', attrs, ...(f.options ?? []).map((o) => el('option', { value: o }, o)));
    else if (f.type === 'textarea') input = el('textarea', { ...attrs, rows: '2' });
    else input = el('input', { ...attrs, type: f.type ?? 'text', step: f.step, inputmode: f.type === 'number' ? 'decimal' : undefined });
    const reason = el('span', { class: 'field-reason', id: reasonId });
    this.inputs.set(f.name, input);
    this.reasons.set(f.name, reason);
    return el('div', { class: 'form-field' },
      el('label', { for: inputId }, f.label, f.required ? '' : el('span', { class: 'optional' }, ' (optional)')),
      input, f.hint ? el('span', { class: 'hint' }, f.hint) : null, reason);
  }

  private async onSubmit(): Promise<void> {
    const values = new Map([...this.inputs].map(([k, i]) => [k, i.value.trim()]));
    const checked = this.validate(this.body(values));
    const names = this.fields.map((f) => f.name);
    if (!checked.ok) {
      this.show(reasonsFor(checked.errors, names));
      this.focusFirstInvalid(checked.errors);
      return;
    }
    this.show({ byField: new Map(), general: [] });
    this.submit.disabled = true;
    try {
      const done = await this.send(checked.value);
      this.general.textContent = '';
      this.root.dispatchEvent(new CustomEvent('saved', { detail: done }));
    } catch (err) {
      if (err instanceof ApiError) {
        const r = serverReasons(err, names);
        this.show(r);
        this.focusFirstInvalid([...r.byField.keys()].map((field) => ({ field, reason: '' })));
      } else {
        this.show({ byField: new Map(), general: [`Could not send: ${err instanceof Error ? err.message : 'error'}`] });
      }
    } finally {
      this.submit.disabled = false;
    }
  }

  private focusFirstInvalid(errors: readonly FieldError[]): void {
    const first = this.fields.find((f) => errors.some((e) => e.field === f.name));
    if (first) this.inputs.get(first.name)?.focus();
  }
}

/** A datetime-local value as ISO (the browser's zone); '' stays '' and a bad one stays as typed, for the validator to name. */
export function localToIso(v: string): string {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toISOString();
}

/** An input's number, or the text as typed so the validator says "must be a number" */
export function numberOrText(v: string): number | string | undefined {
  if (v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}
