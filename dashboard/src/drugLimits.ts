/**
 * The table of drugs with known limits (GET/PUT /api/drug-limits), edited by a pharmacist: a
 * program beyond a drug's maximum rate or volume raises drug_limit even on an unassigned pump. The
 * whole table is saved at once, checked first with the API's validator; reasons show at their cell.
 */
import type { DrugLimit } from '../../protocol/clinical.ts';
import { validateDrugLimits, type FieldError } from '../../protocol/clinicalValidation.ts';
import { ApiError, fetchDrugLimits, saveDrugLimits } from './api.ts';
import { el, setText } from './element.ts';
import { numberOrText } from './formFields.ts';

interface LimitRow {
  el: HTMLElement;
  drug: HTMLInputElement;
  maxRateMlH: HTMLInputElement;
  maxVolumeMl: HTMLInputElement;
  reason: HTMLElement;
}

export class DrugLimitsEditor {
  readonly root: HTMLFormElement;
  private rows: LimitRow[] = [];
  /** the pharmacist has changed the table since it was loaded or saved: a reload must not wipe that */
  private edited = false;
  private readonly body: HTMLElement;
  private readonly status: HTMLElement;
  private readonly fieldset: HTMLFieldSetElement;
  private readonly disabledNote: HTMLElement;

  constructor(private readonly databaseTrouble: () => void) {
    this.body = el('tbody');
    this.status = el('p', { class: 'form-general', role: 'alert' });
    this.disabledNote = el('p', { class: 'form-disabled', hidden: true });
    const add = el('button', { type: 'button' }, 'Add a drug');
    add.addEventListener('click', () => { this.edited = true; this.addRow({ drug: '', maxRateMlH: 0, maxVolumeMl: null }, true); });
    this.fieldset = el('fieldset', {}, el('legend', {}, 'Drug limits'), this.disabledNote,
      el('p', { class: 'hint' }, 'A program above a drug\'s maximum is flagged on any pump, assigned or not.'),
      el('table', { class: 'drug-limits' },
        el('thead', {}, el('tr', {}, ...['Drug', 'Max rate (mL/h)', 'Max volume (mL, optional)', ''].map((h) => el('th', { scope: 'col' }, h)))),
        this.body),
      add, this.status, el('button', { type: 'submit' }, 'Save limits'));
    this.root = el('form', { class: 'record-form', id: 'drug-limits', novalidate: true, 'aria-label': 'Drug limits' }, this.fieldset);
    this.root.addEventListener('submit', (ev) => { ev.preventDefault(); void this.save(); });
    this.root.addEventListener('input', () => { this.edited = true; });
  }

  /** Shows the server's table, unless the pharmacist is in the middle of editing it (the records view reloads when the database comes back). */
  async load(): Promise<void> {
    try {
      const limits = await this.guard(fetchDrugLimits());
      if (!this.edited) this.show(limits);
    } catch (err) {
      setText(this.status, `Could not load drug limits: ${err instanceof Error ? err.message : 'error'}`);
    }
  }

  setDisabled(reason: string | null): void {
    this.fieldset.disabled = reason !== null;
    this.disabledNote.hidden = reason === null;
    this.disabledNote.textContent = reason ?? '';
  }

  private show(limits: readonly DrugLimit[]): void {
    this.rows = [];
    this.body.replaceChildren();
    for (const l of limits) this.addRow(l, false);
  }

  private addRow(l: DrugLimit, focus: boolean): void {
    const i = this.rows.length;
    const input = (name: string, label: string, value: string): HTMLInputElement =>
      el('input', { name, value, 'aria-label': `${label}, row ${i + 1}`, inputmode: name === 'drug' ? undefined : 'decimal', autocomplete: 'off' });
    const row: LimitRow = {
      el: el('tr'),
      drug: input('drug', 'Drug', l.drug),
      maxRateMlH: input('maxRateMlH', 'Max rate (mL/h)', l.maxRateMlH ? String(l.maxRateMlH) : ''),
      maxVolumeMl: input('maxVolumeMl', 'Max volume (mL)', l.maxVolumeMl === null ? '' : String(l.maxVolumeMl)),
      reason: el('td', { class: 'field-reason' }),
    };
    const remove = el('button', { type: 'button', 'aria-label': `Remove row ${i + 1}` }, 'Remove');
    remove.addEventListener('click', () => { this.edited = true; row.el.remove(); this.rows = this.rows.filter((r) => r !== row); });
    row.el.append(el('td', {}, row.drug), el('td', {}, row.maxRateMlH), el('td', {}, row.maxVolumeMl), el('td', {}, remove), row.reason);
    this.rows.push(row);
    this.body.append(row.el);
    if (focus) row.drug.focus();
  }

  private async save(): Promise<void> {
    const limits = this.rows.map((r) => ({
      drug: r.drug.value.trim(),
      maxRateMlH: numberOrText(r.maxRateMlH.value.trim()),
      maxVolumeMl: numberOrText(r.maxVolumeMl.value.trim()) ?? null,
    }));
    const checked = validateDrugLimits({ limits });
    if (!checked.ok) return this.showErrors(checked.errors);
    this.showErrors([]);
    try {
      this.show(await this.guard(saveDrugLimits(checked.value.limits)));
      this.edited = false;
      setText(this.status, '');
      this.root.dispatchEvent(new CustomEvent('saved', { detail: `Drug limits saved (${this.rows.length} drugs).` }));
    } catch (err) {
      if (err instanceof ApiError && err.fields.length > 0) this.showErrors(err.fields);
      else setText(this.status, `Could not save: ${err instanceof Error ? err.message : 'error'}`);
    }
  }

  /** `limits[2].maxRateMlH must be …` goes to row 3; anything else above the button */
  private showErrors(errors: readonly FieldError[]): void {
    const general: string[] = [];
    this.rows.forEach((r) => { r.reason.textContent = ''; });
    for (const e of errors) {
      const m = /^limits\[(\d+)\]\.?(\w*)$/.exec(e.field);
      const row = m ? this.rows[Number(m[1])] : undefined;
      if (!row) { general.push(e.field ? `${e.field} ${e.reason}` : e.reason); continue; }
      const label = m![2] === 'maxRateMlH' ? 'max rate' : m![2] === 'maxVolumeMl' ? 'max volume' : m![2] || 'row';
      row.reason.textContent = [row.reason.textContent, `${label} ${e.reason}`].filter(Boolean).join('; ');
    }
    setText(this.status, general.join('; '));
  }

  private guard<T>(p: Promise<T>): Promise<T> {
    return p.catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 503) this.databaseTrouble();
      throw err;
    });
  }
}
