/** Billing view: episodes with filters, S9330/S9331, interruptions, CSV and evidence downloads. */
import type { Episode } from '../../protocol/api.ts';
import { episodeParams, fetchEpisodes, type EpisodeFilter } from './api.ts';
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
      el('thead', {}, el('tr', {}, ...['Pump', 'Program / drug', 'Start', 'End', 'Delivery', 'Interruptions', 'Code', 'Service days', 'Evidence']
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
      const episodes = await fetchEpisodes(f);
      this.tbody.replaceChildren(...episodes.map((e) => this.row(e)));
      const s9330 = episodes.filter((e) => e.code === 'S9330').length;
      setText(this.status, `${episodes.length} episodes · ${s9330} S9330 · ${episodes.length - s9330} S9331`);
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
    return el('tr', { class: e.code === 'S9330' ? 'code-s9330' : 'code-s9331' },
      el('td', {}, e.pump),
      el('td', {}, `${e.programId}${e.drug ? ` · ${e.drug}` : ''}`),
      el('td', {}, dateTime(e.start)),
      el('td', {}, e.end ? dateTime(e.end) : 'still running'),
      el('td', {}, `${e.deliveryHours.toFixed(1)} h${e.unverifiedHours ? ` (+${e.unverifiedHours.toFixed(1)} h unverified)` : ''}`),
      el('td', {}, interruptions),
      el('td', { class: 'code' }, codeText(e)),
      el('td', {}, e.serviceDays.join(', ')),
      el('td', {}, evidence));
  }
}
