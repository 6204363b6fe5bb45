/** The board: one keyed row per pump, attention-first, updated in place. */
import type { PumpView } from '../../protocol/api.ts';
import { boardPatientText } from './clinicalText.ts';
import { el, setClass, setText } from './element.ts';
import {
  ageText, clockTime, linkText, ml, pctText, pressureText, projectedEndText, pumpName, pumpStateClass, pumpStateText, pumpZone, rateText, visitText,
} from './format.ts';
import { attentionRank, compareBoardKeys, linkStatus, summarizeAlerts, type BoardKey, type PumpAlertSummary } from './sort.ts';
import type { Changes, LiveStore } from './store.ts';

const COLUMNS = [
  'Pump', 'State', 'Rate', 'Infused / to go', 'Projected end', 'Reservoir', 'Battery', 'Pressure', 'Last seen', 'Link', 'Alerts',
] as const;
/** rows built per animation frame after a snapshot */
const ROWS_PER_FRAME = 100;

interface Row {
  el: HTMLElement;
  name: HTMLAnchorElement;
  /** under the name: the assigned patient (name · MRN) and the order's drug, from the pump view */
  patient: HTMLElement;
  order: HTMLElement;
  /** "In visit until HH:MM (by …)": every nurse sees that this pump may be stopped on purpose */
  visit: HTMLElement;
  cells: HTMLElement[];
  key: BoardKey;
}

export class Board {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly summary: HTMLElement;
  /** says which zone the times are in */
  private readonly zoneHint: HTMLElement;
  private readonly rows = new Map<string, Row>();
  private alertSummary = new Map<string, PumpAlertSummary>();
  /** pumps of the last snapshot whose rows are not built yet, most urgent first */
  private pending: string[] = [];

  constructor(private readonly store: LiveStore) {
    this.summary = el('p', { class: 'board-summary', 'aria-live': 'off' });
    this.zoneHint = el('p', { class: 'hint board-zones' });
    const head = el('div', { class: 'board-row board-head', role: 'row' },
      ...COLUMNS.map((c) => el('span', { role: 'columnheader' }, c)));
    this.body = el('div', { class: 'board-body', role: 'rowgroup' });
    this.root = el('section', { class: 'board', 'aria-label': 'Pumps' },
      el('h2', {}, 'Pumps'), this.summary, this.zoneHint,
      el('div', { class: 'board-table', role: 'table', 'aria-label': 'Pumps, most urgent first' },
        el('div', { role: 'rowgroup' }, head), this.body));
  }

  /**
   * Applies a batch of changes. A snapshot's new rows are built at most ROWS_PER_FRAME at a time,
   * most urgent first, so no frame becomes a long task; returns true while rows are still pending.
   */
  render(changes: Changes, nowMs: number): boolean {
    const zone = this.store.serverZone;
    setText(this.zoneHint, zone ? `Times are in each patient's time zone, or the server's (${zone}) where the patient's is not on record.` : '');
    if (changes.alerts || changes.all) this.alertSummary = summarizeAlerts(this.store.alerts.values());
    const moved = new Set<string>();
    if (changes.all) {
      for (const [id, row] of this.rows) if (!this.store.pumps.has(id)) { row.el.remove(); this.rows.delete(id); }
      const fresh: BoardKey[] = [];
      for (const p of this.store.pumps.values()) {
        if (this.rows.has(p.pump)) {
          if (this.update(p, nowMs)) moved.add(p.pump);
        } else {
          fresh.push({ rank: attentionRank(p, this.alertSummary.get(p.pump)), name: pumpName(p), pump: p.pump });
        }
      }
      this.pending = fresh.sort(compareBoardKeys).map((k) => k.pump);
    } else {
      const pending = new Set(this.pending);
      for (const id of changes.pumps) {
        const p = this.store.pumps.get(id);
        if (p && !pending.has(id) && this.update(p, nowMs)) moved.add(id);
      }
    }
    for (const id of this.pending.splice(0, ROWS_PER_FRAME)) {
      const p = this.store.pumps.get(id);
      if (p && this.update(p, nowMs)) moved.add(id);
    }
    if (moved.size > 0) this.reorder(moved, this.body.childElementCount === 0);
    if (changes.all || changes.alerts || moved.size > 0 || changes.pumps.size > 0) this.renderSummary();
    return this.pending.length > 0;
  }

  /** Updates one row; true when its place in the order may have changed. */
  private update(p: PumpView, nowMs: number): boolean {
    const s = this.alertSummary.get(p.pump);
    const key: BoardKey = { rank: attentionRank(p, s), name: pumpName(p), pump: p.pump };
    let row = this.rows.get(p.pump);
    const isNew = !row;
    if (!row) {
      row = this.createRow(p.pump, key);
      this.rows.set(p.pump, row);
    }
    const link = linkStatus(p, s);
    const c = row.cells;
    setText(row.name, key.name);
    row.name.title = p.label ? `${p.label} (serial ${p.pump})` : `serial ${p.pump}`;
    const clinical = boardPatientText(p);
    setText(row.patient, clinical?.patient ?? '');
    setText(row.order, clinical?.order ?? '');
    setClass(row.patient, clinical && !p.patient ? 'pump-patient unassigned' : 'pump-patient');
    const zone = pumpZone(p, this.store.serverZone);
    setText(row.visit, visitText(p.visit, zone));
    setText(c[1]!, pumpStateText(p));
    setClass(c[1]!, `state state-${pumpStateClass(p)}`);
    setText(c[2]!, rateText(p.rateMlH));
    setText(c[3]!, `${ml(p.infusedMl)} / ${ml(p.vtbiMl)}`);
    setText(c[4]!, projectedEndText(p.projectedEnd, nowMs, zone));
    setText(c[5]!, ml(p.reservoirMl));
    setText(c[6]!, pctText(p.batteryPct));
    setClass(c[6]!, p.batteryPct !== null && p.batteryPct <= 20 ? 'warn' : '');
    setText(c[7]!, pressureText(p.pressureMmHg));
    setText(c[8]!, p.lastSeen ? `${clockTime(p.lastSeen, zone)} (${ageText(p.lastSeen, nowMs)})` : 'never');
    setText(c[9]!, linkText(link) + (p.gateway ? ` · ${p.gateway}` : ''));
    setClass(c[9]!, link === 'ok' ? '' : 'warn');
    const n = s?.unacknowledged ?? 0;
    setText(c[10]!, !s?.worst ? 'none' : n > 0 ? `${n} to acknowledge (${s.worst})` : `${s.worst}, acknowledged`);
    setClass(row.el, `board-row rank-${key.rank}`);
    const moved = isNew || row.key.rank !== key.rank || row.key.name !== key.name;
    row.key = key;
    return moved;
  }

  private createRow(pump: string, key: BoardKey): Row {
    const name = el('a', { href: `#/pump/${encodeURIComponent(pump)}`, class: 'pump-name' });
    const patient = el('span', { class: 'pump-patient' });
    const order = el('span', { class: 'pump-order' });
    const visit = el('span', { class: 'pump-visit' });
    const cells: HTMLElement[] = COLUMNS.map((label, i) =>
      i === 0 ? el('span', { role: 'cell', 'data-label': label }, name, patient, order, visit) : el('span', { role: 'cell', 'data-label': label }));
    const row = el('div', { class: 'board-row', role: 'row', 'data-pump': pump }, ...cells);
    return { el: row, name, patient, order, visit, cells, key };
  }

  /**
   * Moves only the rows whose key changed: every other row is already in order, so each moved row
   * is placed right before its successor, working from the end.
   */
  private reorder(moved: Set<string>, full: boolean): void {
    const sorted = [...this.rows.values()].sort((a, b) => compareBoardKeys(a.key, b.key));
    if (full) {
      const frag = document.createDocumentFragment();
      for (const r of sorted) frag.append(r.el);
      this.body.append(frag);
      return;
    }
    for (let i = sorted.length - 1; i >= 0; i--) {
      const r = sorted[i]!;
      if (!moved.has(r.key.pump)) continue;
      const next = sorted[i + 1]?.el ?? null;
      if (r.el.nextSibling !== next || r.el.parentNode !== this.body) this.body.insertBefore(r.el, next);
    }
  }

  private renderSummary(): void {
    let attention = 0, alarm = 0;
    for (const r of this.rows.values()) {
      if (r.key.rank <= 1) attention++;
      if (r.key.rank === 0) alarm++;
    }
    const loading = this.pending.length ? ` · showing ${this.rows.size} so far…` : '';
    const total = this.rows.size + this.pending.length;
    setText(this.summary, `${total} pump${total === 1 ? '' : 's'} · ${alarm} urgent · ${attention} need attention${loading}`);
  }

  /** Row order as shown, for tests and the bench. */
  order(): string[] {
    return [...this.body.children].map((e) => (e as HTMLElement).dataset.pump ?? '');
  }
}
