/**
 * Billing view: courses with filters, what needs review first (with its reasons and a Mark reviewed
 * control), S9330/S9331, interruptions, CSV and evidence downloads.
 */
import type { Episode } from '../../protocol/api.ts';
import { episodeParams, fetchEpisodes, reviewEpisode, type EpisodeFilter } from './api.ts';
import { el, setText } from './element.ts';
import { dateTime, durationText } from './format.ts';
import { routeUrl } from './routes.ts';

/** A date input's value (local day) as an ISO time; `endOfDay` for the "to" bound. */
export function dayToIso(day: string, endOfDay: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const d = new Date(`${day}T00:00:00`);
  if (Number.isNaN(d.getTime())) return undefined;
  if (endOfDay) d.setDate(d.getDate() + 1);
  return d.toISOString();
}

export function codeText(e: Pick<Episode, 'code' | 'continuous24h'>): string {
  return e.code === 'S9330' ? 'S9330 — continuous ≥ 24 h' : 'S9331 — intermittent (< 24 h or interrupted)';
}

/** what a billing user reads for each review reason */
const REASON_TEXT: Record<string, string> = {
  no_order: 'no order: code inferred from the pump record',
  short_course: 'continuous order delivered under 24 h',
  interrupted: 'interrupted longer than the continuity tolerance',
  unverified_gap: 'telemetry gap the record cannot prove',
  clock: 'pump clock was wrong (re-anchored)',
  open: 'still open: figures so far',
};

export function reasonText(reason: string): string {
  return REASON_TEXT[reason] ?? reason;
}

/** flagged and not yet reviewed (a review covers the reasons it saw) */
export function awaitingReview(e: Pick<Episode, 'needsReview' | 'reviewed'>): boolean {
  return e.needsReview === true && e.reviewed !== true;
}

/** what needs review first, then by start */
export function reviewOrder(episodes: readonly Episode[]): Episode[] {
  return [...episodes].sort((a, b) => Number(awaitingReview(b)) - Number(awaitingReview(a)) || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

export class BillingView {
  readonly root: HTMLElement;
  private readonly from: HTMLInputElement;
  private readonly to: HTMLInputElement;
  private readonly pump: HTMLInputElement;
  private readonly csv: HTMLAnchorElement;
  private readonly status: HTMLElement;
  private readonly tbody: HTMLElement;

  constructor() {
    this.from = el('input', { type: 'date', id: 'bill-from', name: 'from' });
    this.to = el('input', { type: 'date', id: 'bill-to', name: 'to' });
    this.pump = el('input', { type: 'text', id: 'bill-pump', name: 'pump', autocomplete: 'off', placeholder: 'all pumps' });
    this.csv = el('a', { class: 'button', href: routeUrl('episodesCsv'), download: 'episodes.csv' }, 'Download CSV');
    this.status = el('p', { role: 'status', class: 'billing-status' });
    this.tbody = el('tbody');
    const form = el('form', { class: 'filters', 'aria-label': 'Episode filters' },
      el('label', { for: 'bill-from' }, 'From', this.from),
      el('label', { for: 'bill-to' }, 'To', this.to),
      el('label', { for: 'bill-pump' }, 'Pump serial', this.pump),
      el('button', { type: 'submit' }, 'Show episodes'), this.csv);
    form.addEventListener('submit', (ev) => { ev.preventDefault(); void this.load(); });
    const table = el('table', { class: 'episodes' },
      el('caption', {}, 'Infusion episodes'),
      el('thead', {}, el('tr', {}, ...['Review', 'Patient / order', 'Pump', 'Program / drug', 'Start', 'End', 'Delivery', 'Interruptions', 'Code', 'Service days', 'Evidence']
        .map((h) => el('th', { scope: 'col' }, h)))),
      this.tbody);
    this.root = el('section', { class: 'billing', 'aria-labelledby': 'billing-title' },
      el('h2', { id: 'billing-title' }, 'Billing — infusion episodes'), form, this.status, el('div', { class: 'table-scroll' }, table));
  }

  filter(): EpisodeFilter {
    const f: EpisodeFilter = {};
    const from = dayToIso(this.from.value, false);
    const to = dayToIso(this.to.value, true);
    if (from) f.from = from;
    if (to) f.to = to;
    const pump = this.pump.value.trim();
    if (pump) f.pump = pump;
    return f;
  }

  async load(): Promise<void> {
    const f = this.filter();
    this.csv.href = routeUrl('episodesCsv', {}, episodeParams(f));
    setText(this.status, 'Loading episodes…');
    try {
      const episodes = reviewOrder(await fetchEpisodes(f));
      this.tbody.replaceChildren(...episodes.map((e) => this.row(e)));
      const s9330 = episodes.filter((e) => e.code === 'S9330').length;
      const waiting = episodes.filter(awaitingReview).length;
      setText(this.status, `${episodes.length} episodes · ${waiting} need review · ${s9330} S9330 · ${episodes.length - s9330} S9331`);
    } catch (err) {
      setText(this.status, `Could not load episodes: ${err instanceof Error ? err.message : 'error'}`);
    }
  }

  private row(e: Episode): HTMLElement {
    const interruptions = e.interruptions.length === 0 ? el('span', {}, 'none')
      : el('details', {}, el('summary', {}, `${e.interruptions.length}, longest ${durationText(e.longestInterruptionMin)}`),
        el('ul', {}, ...e.interruptions.map((i) => el('li', {}, `${dateTime(i.from)} – ${dateTime(i.to)}: ${durationText(i.minutes)} (${i.reason})`))));
    const evidence = e.id
      ? el('a', { href: routeUrl('evidence', { id: e.id }), download: `evidence-${e.id}.ndjson` }, `${e.evidence.sentences} sentences`)
      : el('span', {}, `${e.evidence.sentences} sentences (seq ${e.evidence.firstSeq}–${e.evidence.lastSeq})`);
    const patient = e.orderId
      ? `${e.patientName ?? ''}${e.mrn ? ` (${e.mrn})` : ''} · order ${e.orderId}${e.payer ? ` · ${e.payer}` : ''}`
      : 'no order';
    return el('tr', { class: `${e.code === 'S9330' ? 'code-s9330' : 'code-s9331'}${awaitingReview(e) ? ' needs-review' : ''}` },
      el('td', {}, this.reviewCell(e)),
      el('td', {}, patient),
      el('td', {}, e.pump),
      el('td', {}, `${e.programId}${e.drug ? ` · ${e.drug}` : ''}`),
      el('td', {}, dateTime(e.start)),
      el('td', {}, e.end ? dateTime(e.end) : 'still running'),
      el('td', {}, `${e.deliveryHours.toFixed(1)} h${e.unverifiedHours ? ` (+${e.unverifiedHours.toFixed(1)} h unverified)` : ''}`),
      el('td', {}, interruptions),
      el('td', { class: 'code' }, codeText(e)),
      el('td', {}, `${e.units ?? e.serviceDays.length} units: ${e.serviceDays.join(', ')}${e.provisional ? ' (provisional)' : ''}`),
      el('td', {}, evidence));
  }

  /** the reasons, who reviewed it, and a Mark reviewed control while it awaits review */
  private reviewCell(e: Episode): HTMLElement {
    const reasons = e.reviewReasons ?? [];
    const cell = el('div', { class: 'review' });
    if (reasons.length > 0) cell.append(el('ul', { class: 'review-reasons' }, ...reasons.map((r) => el('li', {}, reasonText(r)))));
    else cell.append(el('span', {}, 'no review needed'));
    if (e.reviewedBy) cell.append(el('p', { class: 'reviewed' }, `Reviewed by ${e.reviewedBy} ${e.reviewedAt ? dateTime(e.reviewedAt) : ''}: ${e.reviewNote ?? ''}`));
    if (awaitingReview(e) && e.id) {
      const id = e.id;
      const note = el('input', { type: 'text', name: 'note', required: 'required', maxlength: '4000', 'aria-label': `Review note for ${id}`, placeholder: 'note' });
      const form = el('form', { class: 'mark-reviewed' }, note, el('button', { type: 'submit' }, 'Mark reviewed'));
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const text = note.value.trim();
        if (!text) return;
        reviewEpisode(id, text).then(() => this.load(), (err: unknown) => {
          setText(this.status, `Could not mark reviewed: ${err instanceof Error ? err.message : 'error'}`);
        });
      });
      cell.append(form);
    }
    return cell;
  }
}
