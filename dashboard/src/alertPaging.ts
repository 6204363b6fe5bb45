/**
 * Paging on an alert, in the alerts panel and the pump detail: the paging state (who is paged now,
 * who accepted, "nobody could be paged" in red), the acknowledgement's outcome and note, the page
 * history on demand (GET /api/alerts/:id/pages), and acknowledging with a note and an outcome.
 * Texts come from pagingText.ts; the controls are built only when opened (hundreds of alerts).
 */
import type { Alert } from '../../protocol/api.ts';
import { ApiError, fetchAlertPages } from './api.ts';
import { el, setClass, setText } from './element.ts';
import { serverReasons } from './formErrors.ts';
import {
  ACK_NOTE_MAX, ACK_OUTCOME_OPTIONS, ackBody, ackDetailText, pageRow, pagesInOrder, pagesSummary, pagingChanged, pagingLine, type AckOutcome,
} from './pagingText.ts';

export type AckWithNote = (id: string, extra: { note?: string; outcome?: AckOutcome }) => Promise<void>;

/** unique element ids for the forms' labels (alert ids may hold any character) */
let formSeq = 0;

export class AlertPagingView {
  /** the paging state; hidden when the server says nothing of paging */
  readonly line: HTMLElement;
  /** the acknowledgement's outcome and note */
  readonly detail: HTMLElement;
  /** "Note & outcome…" (before acknowledgement) and "Pages sent" */
  readonly controls: HTMLElement;
  /** the opened form and history go here */
  readonly extra: HTMLElement;
  private readonly noteToggle: HTMLButtonElement | null;
  private readonly historyToggle: HTMLButtonElement;
  private history: HTMLElement | null = null;
  private form: HTMLFormElement | null = null;
  private alert: Alert | null = null;
  private zone: string | null = null;

  /** `ackWithNote` null: no acknowledging here (the pump detail; the panel beside it does that) */
  constructor(private readonly id: string, private readonly ackWithNote: AckWithNote | null) {
    this.line = el('p', { class: 'alert-paging', hidden: true });
    this.detail = el('p', { class: 'alert-ack-detail', hidden: true });
    this.historyToggle = el('button', { type: 'button', class: 'small-button pages-toggle', 'aria-expanded': 'false' }, 'Pages sent');
    this.historyToggle.addEventListener('click', () => this.toggleHistory());
    this.noteToggle = ackWithNote ? el('button', { type: 'button', class: 'small-button note-toggle', 'aria-expanded': 'false' }, 'Add note & outcome') : null;
    this.noteToggle?.addEventListener('click', () => this.toggleForm());
    this.controls = el('div', { class: 'alert-more' }, this.noteToggle, this.historyToggle);
    this.extra = el('div', { class: 'alert-extra' });
  }

  update(a: Alert, zone: string | null): void {
    const before = this.alert;
    this.alert = a;
    this.zone = zone;
    const line = pagingLine(a, zone);
    this.line.hidden = line === null;
    setText(this.line, line?.text ?? '');
    setClass(this.line, `alert-paging${line ? ` paging-${line.tone}` : ''}`);
    if (line?.tone === 'failed') this.line.setAttribute('role', 'alert');
    else this.line.removeAttribute('role');
    const detail = ackDetailText(a);
    this.detail.hidden = detail === '';
    setText(this.detail, detail);
    if (this.noteToggle) this.noteToggle.hidden = a.acknowledged;
    // acknowledged (here or elsewhere): the form has nothing left to do
    if (a.acknowledged && this.form) {
      this.form.remove();
      this.form = null;
      this.noteToggle?.setAttribute('aria-expanded', 'false');
    }
    if (this.history && pagingChanged(before, a)) void this.loadHistory();
  }

  private toggleHistory(): void {
    if (this.history) {
      this.history.remove();
      this.history = null;
      this.historyToggle.setAttribute('aria-expanded', 'false');
      return;
    }
    this.history = el('div', { class: 'page-history', 'aria-live': 'polite' }, el('p', { class: 'hint' }, 'Loading pages…'));
    this.extra.append(this.history);
    this.historyToggle.setAttribute('aria-expanded', 'true');
    void this.loadHistory();
  }

  private async loadHistory(): Promise<void> {
    const box = this.history;
    if (!box) return;
    try {
      const pages = pagesInOrder(await fetchAlertPages(this.id));
      if (this.history !== box) return;
      const rows = pages.map((p) => {
        const r = pageRow(p, this.zone);
        return el('li', { class: `page page-${p.status}` },
          el('span', { class: 'page-time' }, r.sentAt), ' ',
          el('strong', { class: 'page-to' }, r.to), ' ',
          el('span', { class: 'page-channel' }, r.channel), ' ',
          el('span', { class: 'page-status' }, r.status),
          r.step ? el('span', { class: 'page-step' }, ` · ${r.step}`) : null,
          r.error ? el('span', { class: 'page-error' }, r.error) : null);
      });
      box.replaceChildren(el('p', { class: 'page-summary' }, pagesSummary(pages)), ...(rows.length ? [el('ol', { class: 'page-list' }, ...rows)] : []));
    } catch (err) {
      if (this.history === box) box.replaceChildren(el('p', { class: 'alert-error' }, `Could not load the pages: ${err instanceof Error ? err.message : 'error'}`));
    }
  }

  private toggleForm(): void {
    if (this.form) {
      this.form.remove();
      this.form = null;
      this.noteToggle?.setAttribute('aria-expanded', 'false');
      return;
    }
    this.form = this.buildForm();
    this.extra.prepend(this.form);
    this.noteToggle?.setAttribute('aria-expanded', 'true');
    this.form.querySelector('select')?.focus();
  }

  private buildForm(): HTMLFormElement {
    const n = ++formSeq;
    const outcome = el('select', { id: `ack-outcome-${n}`, name: 'outcome', 'aria-describedby': `ack-outcome-${n}-reason` },
      el('option', { value: '' }, '— none —'), ...ACK_OUTCOME_OPTIONS.map(([code, label]) => el('option', { value: code }, label)));
    const note = el('textarea', { id: `ack-note-${n}`, name: 'note', rows: '2', maxlength: String(ACK_NOTE_MAX), 'aria-describedby': `ack-note-${n}-reason` });
    const outcomeReason = el('span', { class: 'field-reason', id: `ack-outcome-${n}-reason` });
    const noteReason = el('span', { class: 'field-reason', id: `ack-note-${n}-reason` });
    const general = el('p', { class: 'alert-error', role: 'alert' });
    const submit = el('button', { type: 'submit', class: 'ack-note-button' }, 'Acknowledge with note');
    const form = el('form', { class: 'ack-form', novalidate: true, 'aria-label': 'Acknowledge with a note and an outcome' },
      el('div', { class: 'form-field' }, el('label', { for: outcome.id }, 'Outcome', el('span', { class: 'optional' }, ' (optional)')), outcome, outcomeReason),
      el('div', { class: 'form-field' }, el('label', { for: note.id }, 'Note', el('span', { class: 'optional' }, ` (optional, up to ${ACK_NOTE_MAX} characters)`)), note, noteReason),
      general, submit);
    const show = (field: 'note' | 'outcome' | null, reason: string): void => {
      setText(noteReason, field === 'note' ? reason : '');
      setText(outcomeReason, field === 'outcome' ? reason : '');
      setText(general, field === null ? reason : '');
      for (const [input, f] of [[note, 'note'], [outcome, 'outcome']] as const) {
        if (field === f) input.setAttribute('aria-invalid', 'true');
        else input.removeAttribute('aria-invalid');
      }
      if (field === 'note') note.focus();
      if (field === 'outcome') outcome.focus();
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const checked = ackBody(note.value, outcome.value);
      if (!checked.ok) return show(checked.field, checked.reason);
      show(null, '');
      submit.disabled = true;
      this.ackWithNote!(this.id, checked.body).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 400) {
          const r = serverReasons(err, ['note', 'outcome']);
          const [field, reasons] = [...r.byField][0] ?? [null, r.general];
          show(field as 'note' | 'outcome' | null, (reasons ?? []).join('; '));
        } else {
          show(null, `Could not acknowledge: ${err instanceof Error ? err.message : 'error'}`);
        }
      }).finally(() => { submit.disabled = false; });
    });
    return form;
  }
}
