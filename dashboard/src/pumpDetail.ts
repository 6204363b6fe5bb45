/** Pump detail: program, current values, uPlot charts of the infusion with alerts marked, timeline. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Alert, PumpView } from '../../protocol/api.ts';
import { fetchPumpAlerts, fetchTelemetry, setPumpLabel } from './api.ts';
import { NO_ORDER_TEXT, num, programVsOrder, telHref } from './clinicalText.ts';
import { el, setText } from './element.ts';
import {
  ageText, clockTime, dateTime, ml, pctText, pressureText, projectedEndText, pumpName, pumpStateText, pumpZone, rateText, zoneNote,
} from './format.ts';
import { PumpAlertsSection } from './pumpAlerts.ts';
import { buildTimeline, currentInfusion, toSeries, type ChartSeries } from './timeline.ts';
import { VisitControl } from './visitControl.ts';

/** how far back the detail view looks for the current infusion, ms */
const LOOKBACK_MS = 7 * 86_400_000;
/** at most one telemetry reload this often while live updates arrive, ms */
const RELOAD_MS = 10_000;

interface ChartSpec {
  title: string;
  unit: string;
  pick(s: ChartSeries): (number | null)[];
  colour: string;
}

const CHARTS: ChartSpec[] = [
  { title: 'Delivery rate', unit: 'mL/h', pick: (s) => s.rate, colour: '#7fd4ff' },
  { title: 'Volume infused', unit: 'mL', pick: (s) => s.infused, colour: '#9be59b' },
  { title: 'Line pressure', unit: 'mmHg', pick: (s) => s.pressure, colour: '#ffb86b' },
  { title: 'Battery', unit: '%', pick: (s) => s.battery, colour: '#d7b8ff' },
];

export class PumpDetail {
  readonly root: HTMLElement;
  private readonly facts: HTMLElement;
  private readonly charts: HTMLElement;
  private readonly timeline: HTMLElement;
  private readonly status: HTMLElement;
  private plots: uPlot[] = [];
  private resize: ResizeObserver | null = null;
  private lastLoadMs = 0;
  private reloadTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly labelInput: HTMLInputElement;
  private readonly visit: VisitControl;
  /** the patient, the phone to call and programmed-vs-ordered; hidden without clinical records */
  private readonly clinical: HTMLElement;
  /** the server's zone: this pump's times are in its patient's zone when known, else in this one */
  serverZone: string | null = null;
  /** the zone the last pump view put the times in */
  private zone: string | null = null;
  /** the pump's open program_mismatch alert, if any (its detail names the fields that differ) */
  mismatchAlert: () => Alert | undefined = () => undefined;
  /** this pump's alerts in the live state (newer than what was loaded) */
  liveAlerts: () => Alert[] = () => [];
  /** this pump's alerts with their paging and page history */
  private readonly alertsSection = new PumpAlertsSection();
  /** What the clinical section was last built from. */
  private clinicalShown = '';

  /** `onPump`: a pump view the server returned (after a label change) */
  constructor(readonly pump: string, private readonly onPump: (p: PumpView) => void, private readonly now: () => number = Date.now) {
    this.labelInput = el('input', { id: 'pump-label', maxlength: '60', autocomplete: 'off', placeholder: 'e.g. Home visit round 3, bed 2' });
    const labelStatus = el('span', { role: 'status', class: 'label-status' });
    const labelForm = el('form', { class: 'label-form' },
      el('label', { for: 'pump-label' }, 'Label shown on the board (no patient names)'), this.labelInput,
      el('button', { type: 'submit' }, 'Save label'), labelStatus);
    labelForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const label = this.labelInput.value.trim() || null;
      labelStatus.textContent = 'Saving…';
      setPumpLabel(this.pump, label).then((p) => {
        labelStatus.textContent = 'Saved.';
        this.onPump(p);
      }, (err: unknown) => {
        labelStatus.textContent = `Could not save: ${err instanceof Error ? err.message : 'error'}`;
      });
    });
    this.visit = new VisitControl(pump, onPump);
    this.facts = el('dl', { class: 'facts' });
    this.clinical = el('section', { class: 'pump-clinical', 'aria-label': 'Patient and order', hidden: true });
    this.status = el('p', { class: 'detail-status', role: 'status' }, 'Loading telemetry…');
    this.charts = el('div', { class: 'charts' });
    this.timeline = el('ol', { class: 'timeline' });
    this.root = el('section', { class: 'detail', 'aria-labelledby': 'detail-title' },
      el('p', {}, el('a', { href: '#/board', class: 'back' }, '← Back to all pumps')),
      el('h2', { id: 'detail-title', tabindex: '-1' }, `Pump ${pump}`),
      this.clinical, this.visit.root, this.facts, this.alertsSection.root, labelForm, this.status,
      el('h3', {}, 'Over the infusion'),
      el('p', { class: 'hint' }, 'Red dashed lines mark alerts raised; grey lines mark state changes.'),
      this.charts,
      el('h3', {}, 'Timeline'), this.timeline);
  }

  /** Current values from the live view. */
  showPump(p: PumpView | undefined): void {
    if (this.stopped) return;
    const h2 = this.root.querySelector('h2');
    if (h2) setText(h2, p ? `Pump ${pumpName(p)}${p.label ? ` (serial ${p.pump})` : ''}` : `Pump ${this.pump}`);
    if (!p) return;
    if (document.activeElement !== this.labelInput) this.labelInput.value = p.label ?? '';
    this.visit.show(p, pumpZone(p, this.serverZone));
    const nowMs = this.now();
    const zone = pumpZone(p, this.serverZone);
    this.zone = zone;
    const facts: [string, string][] = [
      ['State', pumpStateText(p)],
      ['Drug', p.drug ?? '—'],
      ['Program', p.programId ?? '—'],
      ['Programmed volume', ml(p.programVolumeMl)],
      ['Planned duration', p.programHours === null || p.programHours === undefined ? '—' : `${p.programHours} h`],
      ['Rate', rateText(p.rateMlH)],
      ['Infused / to go', `${ml(p.infusedMl)} / ${ml(p.vtbiMl)}`],
      ['Delivery time', p.deliveredHours === null || p.deliveredHours === undefined ? '—' : `${p.deliveredHours.toFixed(1)} h (paused or switched off not counted)`],
      ['Projected end', projectedEndText(p.projectedEnd, nowMs, zone)],
      ['Reservoir', ml(p.reservoirMl)],
      ['Battery', pctText(p.batteryPct)],
      ['Pressure', pressureText(p.pressureMmHg)],
      ['Last seen', p.lastSeen ? `${clockTime(p.lastSeen, zone)} (${ageText(p.lastSeen, nowMs)})` : 'never'],
      ['Gateway', `${p.gateway}${p.gatewayOnline === false ? ' (offline)' : ''}`],
      ['Times shown in', zoneNote(p, this.serverZone)],
    ];
    this.facts.replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    this.showClinical(p);
    this.alertsSection.render(this.liveAlerts(), zone);
    this.scheduleReload();
  }

  /** Whom to call and what was ordered, beside what the pump is programmed with. */
  private showClinical(p: PumpView): void {
    // absent fields: the server keeps no clinical records (DATABASE_URL unset)
    this.clinical.hidden = p.patient === undefined && p.order === undefined;
    if (this.clinical.hidden) return;
    const rows = p.order ? programVsOrder(p, p.order, this.mismatchAlert()) : [];
    // rebuilt only when it changes: a status every few seconds must not swap the call button under a finger
    const shown = JSON.stringify([p.patient, p.order, rows]);
    if (shown === this.clinicalShown) return;
    this.clinicalShown = shown;
    if (!p.patient || !p.order) {
      this.clinical.replaceChildren(el('h3', {}, 'Patient'), el('p', { class: 'unassigned' }, `No patient: ${NO_ORDER_TEXT}.`));
      return;
    }
    const tel = telHref(p.patient.phone);
    const anyMismatch = rows.some((r) => r.mismatch);
    this.clinical.replaceChildren(
      el('h3', {}, 'Patient'),
      el('dl', { class: 'facts patient-facts' },
        el('dt', {}, 'Name'), el('dd', { class: 'patient-name' }, p.patient.name),
        el('dt', {}, 'MRN'), el('dd', { class: 'patient-mrn' }, p.patient.mrn),
        el('dt', {}, 'Phone'), el('dd', {}, tel
          ? el('a', { class: 'call button', href: tel, 'aria-label': `Call ${p.patient.name} at ${p.patient.phone ?? ''}` }, `Call ${p.patient.phone ?? ''}`)
          : 'no phone on record')),
      el('h3', {}, `Order: ${p.order.drug} (${p.order.mode})`),
      el('table', { class: `program-vs-order${anyMismatch ? ' has-mismatch' : ''}` },
        el('caption', {}, anyMismatch ? '⚠ The pump is programmed differently from the order' : 'Programmed on the pump vs ordered'),
        el('thead', {}, el('tr', {}, ...['', 'Programmed', 'Ordered'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, ...rows.map((r) => el('tr', { class: r.mismatch ? 'mismatch' : '', 'data-field': r.field },
          el('th', { scope: 'row' }, `${r.label} (${r.unit})`),
          el('td', { class: 'programmed' }, `${num(r.programmed)}${r.mismatch ? ' ⚠ differs' : ''}`),
          el('td', { class: 'ordered' }, num(r.ordered)))))));
  }

  async load(): Promise<void> {
    this.lastLoadMs = this.now();
    const nowMs = this.now();
    const from = new Date(nowMs - LOOKBACK_MS).toISOString();
    // accelerated simulations run the pump clock ahead of the server's
    const to = new Date(nowMs + LOOKBACK_MS).toISOString();
    try {
      const [points, alerts] = await Promise.all([fetchTelemetry(this.pump, from, to), fetchPumpAlerts(this.pump, from, to)]);
      if (this.stopped) return;
      this.alertsSection.setStored(alerts);
      this.alertsSection.render(this.liveAlerts(), this.zone ?? this.serverZone);
      const infusion = currentInfusion(points);
      this.drawCharts(toSeries(infusion), alerts, infusion.map((p, i) => (i > 0 && infusion[i - 1]!.state !== p.state ? Date.parse(p.time) / 1000 : NaN)).filter(Number.isFinite));
      const startMs = infusion[0] ? Date.parse(infusion[0].time) : 0;
      const entries = buildTimeline(infusion, alerts.filter((a) => Date.parse(a.raisedAt) >= startMs - 3_600_000));
      this.timeline.replaceChildren(...entries.map((e) => el('li', { class: `tl-${e.kind}${e.severity ? ` sev-${e.severity}` : ''}` },
        el('time', { datetime: new Date(e.timeMs).toISOString() }, dateTime(new Date(e.timeMs).toISOString(), this.zone ?? this.serverZone)), ' ', e.text)));
      if (entries.length === 0) this.timeline.append(el('li', {}, 'Nothing recorded yet.'));
      setText(this.status, infusion.length ? `${infusion.length} status points since ${dateTime(infusion[0]!.time, this.zone ?? this.serverZone)}` : 'No telemetry stored for this pump yet.');
    } catch (err) {
      setText(this.status, `Could not load telemetry: ${err instanceof Error ? err.message : 'error'}`);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.resize?.disconnect();
    for (const p of this.plots) p.destroy();
    this.plots = [];
  }

  private scheduleReload(): void {
    if (this.reloadTimer || this.lastLoadMs === 0) return;
    const wait = Math.max(0, this.lastLoadMs + RELOAD_MS - this.now());
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      void this.load();
    }, wait);
  }

  private drawCharts(s: ChartSeries, alerts: Alert[], stateChanges: number[]): void {
    for (const p of this.plots) p.destroy();
    this.plots = [];
    this.charts.replaceChildren();
    const width = Math.max(280, this.charts.clientWidth || 600);
    const alertTimes = alerts.map((a) => ({ x: Date.parse(a.raisedAt) / 1000, high: a.severity === 'high' }));
    const markers = (u: uPlot): void => {
      const ctx = u.ctx;
      const { top, height } = u.bbox;
      ctx.save();
      ctx.lineWidth = 2 * devicePixelRatio;
      for (const x of stateChanges) line(u, ctx, x, top, height, '#8a94a6', []);
      for (const a of alertTimes) line(u, ctx, a.x, top, height, a.high ? '#ff5c5c' : '#ffcc66', [6 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.restore();
    };
    const sync = uPlot.sync(`pump-${this.pump}`);
    for (const spec of CHARTS) {
      const box = el('figure', { class: 'chart' }, el('figcaption', {}, `${spec.title} (${spec.unit})`));
      this.charts.append(box);
      const opts: uPlot.Options = {
        width, height: 170,
        cursor: { sync: { key: sync.key } },
        legend: { show: true },
        scales: { x: { time: true } },
        axes: [
          { stroke: '#c8d0dc', grid: { stroke: '#2a3340' }, ticks: { stroke: '#2a3340' } },
          { stroke: '#c8d0dc', grid: { stroke: '#2a3340' }, ticks: { stroke: '#2a3340' }, size: 60 },
        ],
        series: [{}, { label: `${spec.title} (${spec.unit})`, stroke: spec.colour, width: 2, spanGaps: false }],
        hooks: { draw: [markers] },
      };
      const plot = new uPlot(opts, [s.x, spec.pick(s)] as uPlot.AlignedData, box);
      sync.sub(plot);
      this.plots.push(plot);
    }
    this.resize?.disconnect();
    this.resize = new ResizeObserver(() => {
      const w = Math.max(280, this.charts.clientWidth);
      for (const p of this.plots) if (p.width !== w) p.setSize({ width: w, height: 170 });
    });
    this.resize.observe(this.charts);
  }
}

function line(u: uPlot, ctx: CanvasRenderingContext2D, x: number, top: number, height: number, colour: string, dash: number[]): void {
  const px = u.valToPos(x, 'x', true);
  if (!Number.isFinite(px) || px < u.bbox.left || px > u.bbox.left + u.bbox.width) return;
  ctx.strokeStyle = colour;
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(px, top);
  ctx.lineTo(px, top + height);
  ctx.stroke();
}
