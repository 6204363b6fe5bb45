/**
 * The pump detail's "Alerts and paging": this pump's recent alerts, each with its paging state,
 * who accepted, the acknowledgement's outcome and note, and its page history on demand. Stored
 * alerts (GET /api/alerts) merged with the live ones (the /ws state is newer), newest first.
 */
import type { Alert } from '../../protocol/api.ts';
import { AlertPagingView } from './alertPaging.ts';
import { el, setClass, setText } from './element.ts';
import { ackText, alertTypeText, clockTime, dateTime, severityText } from './format.ts';

/** the newest alerts shown; older ones are in the timeline */
const SHOWN = 20;

interface Item {
  el: HTMLElement;
  title: HTMLElement;
  times: HTMLElement;
  ack: HTMLElement;
  paging: AlertPagingView;
  alert: Alert | null;
  zone: string | null;
}

/** Stored and live alerts by id (live wins: it is the latest state), newest raised first. */
export function mergeAlerts(stored: Iterable<Alert>, live: Iterable<Alert>, max = SHOWN): Alert[] {
  const byId = new Map<string, Alert>();
  for (const a of stored) byId.set(a.id, a);
  for (const a of live) byId.set(a.id, a);
  return [...byId.values()].sort((x, y) => Date.parse(y.raisedAt) - Date.parse(x.raisedAt) || (x.id < y.id ? -1 : 1)).slice(0, max);
}

export class PumpAlertsSection {
  readonly root: HTMLElement;
  private readonly list: HTMLElement;
  private readonly empty: HTMLElement;
  private stored: Alert[] = [];
  private readonly items = new Map<string, Item>();

  constructor() {
    this.list = el('ol', { class: 'pump-alerts', 'aria-label': 'Alerts on this pump, newest first' });
    this.empty = el('p', { class: 'hint' }, 'No alert on this pump in the last 7 days.');
    this.root = el('section', { class: 'pump-alerts-section', 'aria-labelledby': 'pump-alerts-title' },
      el('h3', { id: 'pump-alerts-title' }, 'Alerts and paging'), this.empty, this.list);
  }

  /** what GET /api/alerts answered for this pump */
  setStored(alerts: readonly Alert[]): void {
    this.stored = [...alerts];
  }

  render(live: readonly Alert[], zone: string | null): void {
    const shown = mergeAlerts(this.stored, live);
    const keep = new Set(shown.map((a) => a.id));
    for (const [id, item] of this.items) if (!keep.has(id)) { item.el.remove(); this.items.delete(id); }
    shown.forEach((a, i) => {
      let item = this.items.get(a.id);
      if (!item) {
        item = this.createItem(a.id);
        this.items.set(a.id, item);
      }
      if (item.alert !== a || item.zone !== zone) this.update(item, a, zone);
      const at = this.list.children[i];
      if (at !== item.el) this.list.insertBefore(item.el, at ?? null);
    });
    this.empty.hidden = shown.length > 0;
  }

  private update(item: Item, a: Alert, zone: string | null): void {
    item.alert = a;
    item.zone = zone;
    setClass(item.el, `pump-alert sev-${a.severity}${a.acknowledged ? ' acked' : ''} status-${a.status}`);
    setText(item.title, `${severityText(a.severity)} · ${alertTypeText(a.type)} — ${a.message}`);
    setText(item.times, `Raised ${dateTime(a.raisedAt, zone)} · ${a.status === 'active' ? 'still active' : `cleared ${clockTime(a.clearedAt, zone)}`}`);
    setText(item.ack, ackText(a, zone));
    item.paging.update(a, zone);
  }

  private createItem(id: string): Item {
    const title = el('p', { class: 'pump-alert-title' });
    const times = el('p', { class: 'alert-times' });
    const ack = el('p', { class: 'alert-ack' });
    const paging = new AlertPagingView(id, null);
    const root = el('li', { 'data-alert': id }, title, times, paging.line, ack, paging.detail, paging.controls, paging.extra);
    return { el: root, title, times, ack, paging, alert: null, zone: null };
  }
}
