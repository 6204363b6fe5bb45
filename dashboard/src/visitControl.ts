/**
 * Nurse visit on the pump detail: "the pump may be stopped for … [Start visit]" and "End visit".
 * While a visit lasts, stops and silences of this pump do not page (docs/detection.md); every
 * board shows who set it and until when, and it ends by itself.
 */
import type { PumpView } from '../../protocol/api.ts';
import { endPumpVisit, startPumpVisit } from './api.ts';
import { el, setText } from './element.ts';
import { visitText } from './format.ts';

/** choices offered, minutes (the server takes 5–240) */
const VISIT_MINUTES = [5, 15, 30, 45, 60, 90, 120, 180, 240];
const DEFAULT_MINUTES = 30;

const minutesText = (m: number): string => (m < 60 ? `${m} min` : m % 60 === 0 ? `${m / 60} h` : `${Math.floor(m / 60)} h ${m % 60} min`);

export class VisitControl {
  readonly root: HTMLElement;
  private readonly current: HTMLElement;
  private readonly minutes: HTMLSelectElement;
  private readonly startButton: HTMLButtonElement;
  private readonly endButton: HTMLButtonElement;
  private readonly result: HTMLElement;

  /** `onPump`: the pump view the server returned */
  /** the zone the pump's times were last shown in */
  private zone: string | null = null;

  constructor(private readonly pump: string, private readonly onPump: (p: PumpView) => void) {
    this.current = el('p', { class: 'visit-current' });
    this.minutes = el('select', { id: 'visit-minutes' },
      ...VISIT_MINUTES.map((m) => el('option', { value: String(m), selected: m === DEFAULT_MINUTES }, minutesText(m))));
    this.startButton = el('button', { type: 'submit', class: 'visit-start' }, 'Start visit');
    this.endButton = el('button', { type: 'button', class: 'visit-end', hidden: true }, 'End visit');
    this.result = el('span', { role: 'status', class: 'visit-status' });
    const form = el('form', { class: 'visit-form' },
      el('label', { for: 'visit-minutes' }, 'Nurse visit: pump may be stopped for'), this.minutes, this.startButton, this.endButton);
    this.root = el('section', { class: 'visit', 'aria-labelledby': 'visit-title' },
      el('h3', { id: 'visit-title' }, 'Nurse visit'),
      this.current,
      form,
      el('p', { class: 'hint' }, 'During a visit, stopping or disconnecting this pump does not page the on-call nurse. Alarms (blocked line, air, wrong program) still alert. The visit ends by itself.'),
      this.result);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.send(startPumpVisit(this.pump, Number(this.minutes.value)), 'Visit started.');
    });
    this.endButton.addEventListener('click', () => this.send(endPumpVisit(this.pump), 'Visit ended.'));
  }

  /** `zone`: the zone the pump's times are shown in (its patient's, else the server's) */
  show(p: PumpView, zone: string | null = this.zone): void {
    this.zone = zone;
    const text = visitText(p.visit, zone);
    setText(this.current, text || 'No visit: a stopped or silent pump pages the on-call nurse.');
    this.current.classList.toggle('in-visit', text !== '');
    this.endButton.hidden = text === '';
    setText(this.startButton, text === '' ? 'Start visit' : 'Extend visit');
  }

  private send(call: Promise<PumpView>, done: string): void {
    this.startButton.disabled = true;
    this.endButton.disabled = true;
    setText(this.result, 'Saving…');
    call.then((p) => {
      setText(this.result, done);
      this.onPump(p);
      this.show(p);
    }, (err: unknown) => {
      setText(this.result, `Could not save: ${err instanceof Error ? err.message : 'error'}`);
    }).finally(() => {
      this.startButton.disabled = false;
      this.endButton.disabled = false;
    });
  }
}
