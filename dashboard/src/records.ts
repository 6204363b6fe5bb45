/**
 * Patients and orders (#/records), for pharmacists and admins: find a patient by MRN or name,
 * create a patient, an order for them, assign a pump to an order, and end an assignment when the
 * pump comes off. Forms check with the API's validators first (protocol/clinicalValidation.ts).
 */
import { ORDER_MODES, type Assignment, type NewAssignment, type NewOrder, type NewPatient, type Order, type Patient } from '../../protocol/clinical.ts';
import { validateNewAssignment, validateNewOrder, validateNewPatient } from '../../protocol/clinicalValidation.ts';
import {
  ApiError, createAssignment, createOrder, createPatient, endAssignment, fetchActiveAssignments, fetchOrders, fetchPatients,
} from './api.ts';
import { matchesPatient } from './clinicalText.ts';
import { DATABASE_DOWN_TEXT, type DatabaseState } from './databaseStatus.ts';
import { DrugLimitsEditor } from './drugLimits.ts';
import { el, setText } from './element.ts';
import { dateTime } from './format.ts';
import { FieldForm, localToIso, numberOrText } from './formFields.ts';

/** the values typed, without the empty optional ones */
function present(values: Map<string, string>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) { const v = values.get(n) ?? ''; if (v !== '') out[n] = v; }
  return out;
}

export class RecordsView {
  readonly root: HTMLElement;
  private patients: Patient[] = [];
  private orders: Order[] = [];
  private assignments: Assignment[] = [];
  private selected: Patient | null = null;
  private readonly search: HTMLInputElement;
  private readonly patientList: HTMLElement;
  private readonly status: HTMLElement;
  private readonly selectedTitle: HTMLElement;
  private readonly orderList: HTMLElement;
  private readonly assignmentList: HTMLElement;
  private readonly patientForm: FieldForm<NewPatient>;
  private readonly orderForm: FieldForm<NewOrder>;
  private readonly assignForm: FieldForm<NewAssignment>;
  private readonly limits: DrugLimitsEditor;
  private readonly endButtons = new Set<HTMLButtonElement>();
  private disabledReason: string | null = null;

  /** `databaseTrouble`: a request failed with 503 (ask health again now) */
  constructor(private readonly databaseTrouble: () => void) {
    this.search = el('input', { id: 'patient-search', type: 'search', autocomplete: 'off', placeholder: 'MRN or name' });
    this.search.addEventListener('input', () => this.renderPatients());
    this.patientList = el('ul', { class: 'patient-list', 'aria-label': 'Patients' });
    this.status = el('p', { class: 'records-status', role: 'status' });
    this.selectedTitle = el('h3', { id: 'selected-patient' }, 'No patient selected');
    this.orderList = el('ul', { class: 'order-list', 'aria-label': 'Orders of the selected patient' });
    this.assignmentList = el('ul', { class: 'assignment-list', 'aria-label': 'Pumps on patients now' });

    this.patientForm = new FieldForm<NewPatient>('new-patient', 'New patient', [
      { name: 'mrn', label: 'MRN', required: true },
      { name: 'name', label: 'Name', required: true },
      { name: 'phone', label: 'Phone', type: 'tel', hint: 'whom the nurse calls at night' },
      { name: 'timezone', label: 'Time zone', hint: 'IANA, e.g. America/Chicago' },
      { name: 'notes', label: 'Notes', type: 'textarea' },
    ], 'Create patient', (v) => present(v, ['mrn', 'name', 'phone', 'timezone', 'notes']), validateNewPatient, async (body) => {
      const p = await this.guard(createPatient(body));
      this.patients.push(p);
      this.select(p);
      return `Patient ${p.name} (MRN ${p.mrn}) created.`;
    });

    this.orderForm = new FieldForm<NewOrder>('new-order', 'New order for the selected patient', [
      { name: 'drug', label: 'Drug', required: true },
      { name: 'rateMlH', label: 'Rate (mL/h)', type: 'number', step: 'any', required: true },
      { name: 'volumeMl', label: 'Volume (mL)', type: 'number', step: 'any', required: true },
      { name: 'hours', label: 'Hours', type: 'number', step: 'any', required: true },
      { name: 'mode', label: 'Mode', type: 'select', options: ORDER_MODES, required: true },
      { name: 'start', label: 'Start', type: 'datetime-local', required: true },
      { name: 'stop', label: 'Stop', type: 'datetime-local' },
      { name: 'payer', label: 'Payer' },
      { name: 'prescriber', label: 'Prescriber' },
    ], 'Create order', (v) => {
      const body: Record<string, unknown> = present(v, ['drug', 'mode', 'payer', 'prescriber']);
      body.patientId = this.selected?.id;
      for (const n of ['rateMlH', 'volumeMl', 'hours']) body[n] = numberOrText(v.get(n) ?? '');
      body.start = localToIso(v.get('start') ?? '') || undefined;
      const stop = localToIso(v.get('stop') ?? '');
      if (stop) body.stop = stop;
      return body;
    }, validateNewOrder, async (body) => {
      const o = await this.guard(createOrder(body));
      this.orders.push(o);
      this.renderOrders();
      this.assignForm.set('orderId', o.id);
      return `Order ${o.id} created.`;
    });

    this.assignForm = new FieldForm<NewAssignment>('assign-pump', 'Assign a pump to an order', [
      { name: 'orderId', label: 'Order', type: 'select', required: true },
      { name: 'pump', label: 'Pump serial', required: true, hint: 'as printed on the pump, e.g. CS7-004512' },
      { name: 'from', label: 'On the patient from', type: 'datetime-local', hint: 'default: now' },
    ], 'Assign pump', (v) => {
      const body: Record<string, unknown> = present(v, ['orderId']);
      const pump = v.get('pump') ?? '';
      if (pump) body.pump = pump.toUpperCase();
      const from = localToIso(v.get('from') ?? '');
      if (from) body.from = from;
      return body;
    }, validateNewAssignment, async (body) => {
      const a = await this.guard(createAssignment(body));
      this.assignments.push(a);
      this.renderAssignments();
      return `Pump ${a.pump} assigned.`;
    });

    this.limits = new DrugLimitsEditor(databaseTrouble);
    for (const f of [this.patientForm, this.orderForm, this.assignForm, this.limits]) {
      f.root.addEventListener('saved', (ev) => setText(this.status, String((ev as CustomEvent).detail)));
    }
    this.root = el('section', { class: 'records', 'aria-labelledby': 'records-title' },
      el('h2', { id: 'records-title' }, 'Patients and orders'), this.status,
      el('div', { class: 'records-grid' },
        el('div', {},
          el('label', { for: 'patient-search' }, 'Find a patient'), this.search, this.patientList, this.patientForm.root),
        el('div', {},
          this.selectedTitle, this.orderList, this.orderForm.root, this.assignForm.root,
          el('h3', {}, 'Pumps on patients now'), this.assignmentList, this.limits.root)));
    this.select(null);
  }

  async load(): Promise<void> {
    setText(this.status, 'Loading patients…');
    try {
      [this.patients, this.assignments] = await this.guard(Promise.all([fetchPatients(), fetchActiveAssignments()]));
      setText(this.status, `${this.patients.length} patients · ${this.assignments.length} pumps on patients now`);
    } catch (err) {
      setText(this.status, `Could not load patients: ${err instanceof Error ? err.message : 'error'}`);
    }
    this.renderPatients();
    this.renderAssignments();
    await this.limits.load();
  }

  /** The database is down: every form and button off, saying why; back on when it returns. */
  setDatabase(state: DatabaseState): void {
    this.disabledReason = state === 'down' ? DATABASE_DOWN_TEXT : null;
    for (const f of [this.patientForm, this.orderForm, this.assignForm, this.limits]) f.setDisabled(this.disabledReason);
    if (this.disabledReason === null && !this.selected) this.orderForm.setDisabled('Select or create a patient first.');
    for (const b of this.endButtons) b.disabled = this.disabledReason !== null;
    if (state === 'up' && this.patients.length === 0) void this.load();
  }

  private guard<T>(p: Promise<T>): Promise<T> {
    return p.catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 503) this.databaseTrouble();
      throw err;
    });
  }

  private select(p: Patient | null): void {
    this.selected = p;
    setText(this.selectedTitle, p ? `${p.name} · MRN ${p.mrn}${p.phone ? ` · ${p.phone}` : ''}` : 'No patient selected');
    this.orders = [];
    this.renderOrders();
    this.renderPatients();
    this.orderForm.setDisabled(this.disabledReason ?? (p ? null : 'Select or create a patient first.'));
    if (!p) return;
    this.guard(fetchOrders(p.id)).then((orders) => {
      if (this.selected !== p) return;
      this.orders = orders;
      this.renderOrders();
    }, (err: unknown) => setText(this.status, `Could not load orders: ${err instanceof Error ? err.message : 'error'}`));
  }

  private renderPatients(): void {
    const shown = this.patients.filter((p) => matchesPatient(p, this.search.value)).slice(0, 50);
    this.patientList.replaceChildren(...shown.map((p) => {
      const b = el('button', { type: 'button', class: 'link-button', 'aria-pressed': String(this.selected?.id === p.id) }, `${p.name} · MRN ${p.mrn}`);
      b.addEventListener('click', () => this.select(p));
      return el('li', { 'data-patient': p.id }, b);
    }));
    if (shown.length === 0) this.patientList.append(el('li', {}, this.patients.length ? 'No patient matches.' : 'No patients yet.'));
  }

  private renderOrders(): void {
    this.orderList.replaceChildren(...this.orders.map((o) => el('li', { 'data-order': o.id },
      `${o.drug} · ${o.rateMlH} mL/h · ${o.volumeMl} mL over ${o.hours} h · ${o.mode} · from ${dateTime(o.start)}${o.discontinuedAt ? ' · discontinued' : ''}`)));
    const select = this.assignForm.inputs.get('orderId') as HTMLSelectElement;
    const keep = select.value;
    select.replaceChildren(...this.orders.filter((o) => !o.discontinuedAt).map((o) => el('option', { value: o.id }, `${o.drug} ${o.rateMlH} mL/h (order ${o.id})`)));
    if (this.orders.some((o) => o.id === keep)) select.value = keep;
  }

  private renderAssignments(): void {
    this.endButtons.clear();
    const names = new Map(this.patients.map((p) => [p.id, `${p.name} · MRN ${p.mrn}`]));
    this.assignmentList.replaceChildren(...this.assignments.filter((a) => a.to === null).map((a) => {
      const b = el('button', { type: 'button', class: 'end-button', disabled: this.disabledReason !== null }, 'Pump taken off');
      b.setAttribute('aria-label', `Pump ${a.pump} taken off — end its assignment`);
      const reason = el('span', { class: 'field-reason', role: 'alert' });
      b.addEventListener('click', () => {
        b.disabled = true;
        this.guard(endAssignment(a.id)).then((ended) => {
          this.assignments = this.assignments.map((x) => (x.id === ended.id ? ended : x));
          this.renderAssignments();
          setText(this.status, `Pump ${a.pump} taken off.`);
        }, (err: unknown) => {
          b.disabled = false;
          reason.textContent = err instanceof Error ? err.message : 'error';
        });
      });
      this.endButtons.add(b);
      return el('li', { 'data-assignment': a.id, 'data-pump': a.pump },
        el('strong', {}, a.pump), ` on ${names.get(a.patientId) ?? `patient ${a.patientId}`} since ${dateTime(a.from)} `, b, reason);
    }));
    if (this.assignmentList.childElementCount === 0) this.assignmentList.append(el('li', {}, 'No pump is assigned.'));
  }
}
