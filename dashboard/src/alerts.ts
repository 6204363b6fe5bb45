/** The alerts panel: open alerts first, one-click acknowledge, who/when for everyone. */
import type { Alert, PumpView } from '../../protocol/api.ts';
import { AlertPagingView, type AckWithNote } from './alertPaging.ts';
import { alertPatientText } from './clinicalText.ts';
import { el, setClass, setText } from './element.ts';
import { ackText, alertTypeText, clockTime, dateTime, pumpName, pumpZone, severityText } from './format.ts';
import { panelAlerts } from './sort.ts';
import type { LiveStore } from './store.ts';

interface Item {
  el: HTMLElement;
  severity: HTMLElement;
  escalated: HTMLElement;
  title: HTMLAnchorElement;
  /** the assigned patient (name · MRN), hidden when the pump has none */
  patient: HTMLElement;
  message: HTMLElement;
  times: HTMLElement;
  ack: HTMLElement;
  button: HTMLButtonElement;
  error: HTMLElement;
  /** paging state, acknowledgement note and outcome, page history */
  paging: AlertPagingView;
  /** what the item shows now: the store replaces an alert or pump view on every change, so an
   * item whose two objects are still the store's needs no redraw (hundreds of alerts may be open) */
  alert: Alert | null;
  pump: PumpView | undefined;
}

export class AlertsPanel {
  readonly root: HTMLElement;
  private readonly list: HTMLElement;
  private readonly count: HTMLElement;
  private readonly items = new Map<string, Item>();

  /** `acknowledgeWithNote`: the same acknowledgement, with an optional note and outcome */
  constructor(private readonly store: LiveStore, private readonly acknowledge: (id: string) => Promise<void>, private readonly acknowledgeWithNote: AckWithNote) {
    this.count = el('p', { class: 'alerts-count' });
    this.list = el('ol', { class: 'alerts-list', 'aria-label': 'Alerts, most urgent first' });
    this.root = el('section', { class: 'alerts', 'aria-label': 'Alerts' }, el('h2', {}, 'Alerts'), this.count, this.list);
  }

  /** Redraws the list: order, count, and the items whose alert or pump changed. */
  render(): void {
    const shown = panelAlerts(this.store.alerts.values());
    const keep = new Set(shown.map((a) => a.id));
    for (const [id, item] of this.items) if (!keep.has(id)) { item.el.remove(); this.items.delete(id); }
    let open = 0;
    shown.forEach((a, i) => {
      let item = this.items.get(a.id);
      if (!item) {
        item = this.createItem(a.id);
        this.items.set(a.id, item);
      }
      if (item.alert !== a || item.pump !== this.store.pumps.get(a.pump)) this.update(item, a);
      if (!a.acknowledged) open++;
      const at = this.list.children[i];
      if (at !== item.el) this.list.insertBefore(item.el, at ?? null);
    });
    setText(this.count, open === 0 ? 'No alert waiting for acknowledgement.' : `${open} alert${open === 1 ? '' : 's'} waiting for acknowledgement`);
  }

  /** Redraws the items of these pumps only (their label and patient can change, not the order). */
  refreshPumps(pumps: ReadonlySet<string>): void {
    for (const item of this.items.values()) {
      if (item.alert && pumps.has(item.alert.pump) && item.pump !== this.store.pumps.get(item.alert.pump)) this.update(item, item.alert);
    }
  }

  private update(item: Item, a: Alert): void {
    const p = this.store.pumps.get(a.pump);
    item.alert = a;
    item.pump = p;
    const name = p ? pumpName(p) : a.pump;
    setClass(item.el, `alert sev-${a.severity}${a.escalated ? ' escalated' : ''}${a.acknowledged ? ' acked' : ''} status-${a.status}`);
    setText(item.severity, severityText(a.severity));
    item.escalated.hidden = a.escalated !== true;
    setText(item.title, `${alertTypeText(a.type)} — ${name}`);
    item.title.href = `#/pump/${encodeURIComponent(a.pump)}`;
    const patient = alertPatientText(a, p);
    setText(item.patient, patient ? `Patient: ${patient}` : '');
    item.patient.hidden = patient === null;
    setText(item.message, a.message);
    const zone = pumpZone(p, this.store.serverZone);
    const status = a.status === 'active' ? 'still active' : `cleared ${clockTime(a.clearedAt, zone)}`;
    setText(item.times, `Raised ${dateTime(a.raisedAt, zone)} · ${status}`);
    setText(item.ack, ackText(a, zone));
    item.button.hidden = a.acknowledged;
    item.button.setAttribute('aria-label', `Acknowledge ${alertTypeText(a.type)} on pump ${name}`);
    item.paging.update(a, zone);
  }

  private createItem(id: string): Item {
    const severity = el('span', { class: 'sev-badge' });
    const escalated = el('span', { class: 'esc-badge' }, 'ESCALATED');
    const title = el('a', { class: 'alert-title' });
    const patient = el('p', { class: 'alert-patient' });
    const message = el('p', { class: 'alert-message' });
    const times = el('p', { class: 'alert-times' });
    const ack = el('p', { class: 'alert-ack' });
    const error = el('p', { class: 'alert-error', role: 'alert' });
    const button = el('button', { type: 'button', class: 'ack-button' }, 'Acknowledge');
    button.addEventListener('click', () => {
      button.disabled = true;
      error.textContent = '';
      this.acknowledge(id).catch((err: unknown) => {
        error.textContent = `Could not acknowledge: ${err instanceof Error ? err.message : 'error'}`;
      }).finally(() => { button.disabled = false; });
    });
    const paging = new AlertPagingView(id, this.acknowledgeWithNote);
    const root = el('li', { 'data-alert': id },
      el('div', { class: 'alert-head' }, severity, escalated, title), patient, message, times, paging.line,
      el('div', { class: 'alert-foot' }, ack, button), paging.detail, error, paging.controls, paging.extra);
    return { el: root, severity, escalated, title, patient, message, times, ack, button, error, paging, alert: null, pump: undefined };
  }
}
