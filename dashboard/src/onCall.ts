/**
 * "On call" (#/oncall), for everyone logged in: who is on call now and in the coming shifts
 * (GET /api/oncall). An admin edits the rota (shifts in the agency's zone, named, each with an
 * ordered chain: first, second, third on call) and saves it whole (PUT /api/oncall), with every
 * reason shown beside its field, and sets a person's e-mail for pages (PUT /api/users/:u/contact).
 */
import { ApiError, fetchContact, fetchOnCall, fetchOnCallShifts, saveContact, saveOnCall } from './api.ts';
import { el, setText } from './element.ts';
import { dateTime } from './format.ts';
import { ordinal } from './pagingText.ts';
import {
  checkRota, chainText, comingShifts, draftsFromShifts, placeReason, serverRotaReasons, zoneLabel, type RotaReason, type Shift, type ShiftDraft,
} from './rota.ts';

interface ShiftRow {
  el: HTMLFieldSetElement;
  from: HTMLInputElement;
  to: HTMLInputElement;
  chainList: HTMLElement;
  chain: HTMLInputElement[];
  reasons: Map<string, HTMLElement>;
}

/** one shift's time span, named in the zone: "3 Dec 19:00 CST – 4 Dec 07:00 CST" */
function spanText(s: Shift, zone: string | null): string {
  return `${dateTime(s.from, zone)} – ${dateTime(s.to, zone)}`;
}

let rowSeq = 0;

export class OnCallView {
  readonly root: HTMLElement;
  private readonly now: HTMLElement;
  private readonly coming: HTMLElement;
  private readonly status: HTMLElement;
  private readonly rows: ShiftRow[] = [];
  private readonly rowsBox: HTMLElement;
  private readonly rotaGeneral: HTMLElement;
  private readonly editor: HTMLFormElement | null;
  /** the admin changed the rota since it was loaded or saved: a reload must not wipe that */
  private edited = false;

  /** `zone`: the agency's (server's) IANA zone; shift times are typed and shown in it */
  /** `me`: the account shown; it may set its own e-mail for pages, an admin anyone's */
  constructor(private readonly zone: string | null, private readonly me: string, readonly isAdmin: boolean, private readonly clock: () => number = Date.now) {
    this.now = el('div', { class: 'oncall-now', role: 'status' }, el('p', { class: 'hint' }, 'Loading…'));
    this.coming = el('div', { class: 'oncall-coming' });
    this.status = el('p', { class: 'oncall-status', role: 'status' });
    this.rowsBox = el('div', { class: 'rota-rows' });
    this.rotaGeneral = el('p', { class: 'form-general', role: 'alert' });
    this.editor = isAdmin ? this.buildEditor() : null;
    this.root = el('section', { class: 'oncall', 'aria-labelledby': 'oncall-title' },
      el('h2', { id: 'oncall-title', tabindex: '-1' }, 'On call'),
      el('p', { class: 'hint oncall-zone' }, `Times are in the agency's zone: ${zoneLabel(this.zone, this.clock())}.`),
      this.now, el('h3', {}, 'Coming shifts'), this.coming, this.status,
      this.editor, this.buildContactForm());
  }

  async load(): Promise<void> {
    try {
      // an admin reads the whole rota; everyone else walks it shift by shift
      const nowMs = this.clock();
      const stored = this.isAdmin ? await fetchOnCallShifts() : null;
      const { now, coming, gapFrom } = await comingShifts(async (at) => ({ ...(await fetchOnCall(at)), ...(stored ? { shifts: stored } : {}) }), nowMs);
      this.showNow(now.shift, now.chain);
      this.coming.replaceChildren(
        coming.length
          ? el('ol', { class: 'shift-list' }, ...coming.map((s) => el('li', { class: 'shift' },
            el('span', { class: 'shift-span' }, spanText(s, this.zone)), ' ', el('span', { class: 'shift-chain' }, chainText(s.chain)))))
          : el('p', { class: 'hint' }, 'No coming shift on the rota.'),
        ...(gapFrom && (now.shift || coming.length) ? [el('p', { class: 'oncall-gap' }, `Nobody is on call from ${dateTime(gapFrom, this.zone)}: high alerts would page no one.`)] : []));
      // the editor holds every shift not over yet (saving replaces the rota: those over are not kept)
      const open = stored ? stored.filter((s) => Date.parse(s.to) > nowMs) : [...(now.shift ? [now.shift] : []), ...coming];
      if (this.editor && !this.edited) this.showDrafts(draftsFromShifts(open, this.zone));
    } catch (err) {
      setText(this.status, `Could not load the rota: ${err instanceof Error ? err.message : 'error'}`);
    }
  }

  private showNow(shift: Shift | null, chain: readonly string[]): void {
    if (!shift && chain.length === 0) {
      this.now.replaceChildren(el('p', { class: 'oncall-nobody' }, 'Nobody is on call now: high alerts page no one.'));
      return;
    }
    this.now.replaceChildren(
      el('p', { class: 'oncall-span' }, shift ? `On call now (${spanText(shift, this.zone)}):` : 'On call now:'),
      el('ol', { class: 'chain-now', 'aria-label': 'On call now, in the order they are paged' },
        ...chain.map((u, i) => el('li', {}, el('span', { class: 'chain-place' }, `${ordinal(i + 1)} on call`), ' ', el('strong', { class: 'chain-name' }, u)))));
  }

  private buildEditor(): HTMLFormElement {
    const add = el('button', { type: 'button' }, 'Add shift');
    add.addEventListener('click', () => {
      this.edited = true;
      const last = this.rows.at(-1);
      // the next shift starts where the last ends, so the rota has no hole by default
      this.addRow({ from: last?.to.value ?? '', to: '', chain: [''] }, true);
    });
    const form = el('form', { class: 'record-form rota-form', id: 'rota', novalidate: true, 'aria-label': 'Rota' },
      el('fieldset', {}, el('legend', {}, 'Rota (admin)'),
        el('p', { class: 'hint' }, 'Saving replaces the whole rota with the shifts below. In each shift the first person is paged first, then the second, and so on; the chain repeats until someone accepts.'),
        this.rowsBox, add, this.rotaGeneral, el('button', { type: 'submit', class: 'save-rota' }, 'Save rota')));
    form.addEventListener('submit', (ev) => { ev.preventDefault(); void this.save(); });
    form.addEventListener('input', () => { this.edited = true; });
    return form;
  }

  private showDrafts(drafts: readonly ShiftDraft[]): void {
    this.rows.length = 0;
    this.rowsBox.replaceChildren();
    for (const d of drafts) this.addRow(d, false);
  }

  private addRow(d: ShiftDraft, focus: boolean): void {
    const n = ++rowSeq;
    const reasons = new Map<string, HTMLElement>();
    const reasonEl = (key: string): HTMLElement => {
      const r = el('span', { class: 'field-reason', id: `rota-${n}-${key.replace('.', '-')}-reason` });
      reasons.set(key, r);
      return r;
    };
    const zoneName = zoneLabel(this.zone, this.clock());
    const timeInput = (key: 'from' | 'to', value: string): HTMLInputElement =>
      el('input', { type: 'datetime-local', id: `rota-${n}-${key}`, name: key, value, 'aria-describedby': `rota-${n}-${key}-reason` });
    const from = timeInput('from', d.from);
    const to = timeInput('to', d.to);
    const chainList = el('ol', { class: 'rota-chain' });
    const legend = el('legend', {});
    const row: ShiftRow = { el: el('fieldset', { class: 'rota-shift' }), from, to, chainList, chain: [], reasons };
    const addPerson = el('button', { type: 'button', class: 'small-button' }, 'Add person');
    addPerson.addEventListener('click', () => { this.edited = true; this.addPerson(row, '', true); });
    const remove = el('button', { type: 'button', class: 'small-button remove-shift' }, 'Remove shift');
    remove.addEventListener('click', () => {
      this.edited = true;
      row.el.remove();
      this.rows.splice(this.rows.indexOf(row), 1);
      this.renumber();
    });
    row.el.append(legend,
      el('div', { class: 'form-field' }, el('label', { for: from.id }, `From (${zoneName})`), from, reasonEl('from')),
      el('div', { class: 'form-field' }, el('label', { for: to.id }, `To (${zoneName})`), to, reasonEl('to')),
      el('p', { class: 'rota-chain-title' }, 'Chain, in the order paged'), chainList, reasonEl('chain'),
      el('div', { class: 'rota-row-buttons' }, addPerson, remove));
    this.rows.push(row);
    this.rowsBox.append(row.el);
    for (const u of d.chain.length ? d.chain : ['']) this.addPerson(row, u, false);
    this.renumber();
    if (focus) from.focus();
  }

  private addPerson(row: ShiftRow, name: string, focus: boolean): void {
    const j = row.chain.length;
    const id = `${row.from.id.replace(/-from$/, '')}-chain-${j}`;
    const input = el('input', { id, name: `chain-${j}`, value: name, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', 'aria-describedby': `${id}-reason` });
    const reason = el('span', { class: 'field-reason', id: `${id}-reason` });
    row.reasons.set(`chain.${j}`, reason);
    row.chain.push(input);
    row.chainList.append(el('li', { class: 'form-field' }, el('label', { for: id }, `${ordinal(j + 1)} on call`), input, reason));
    if (focus) input.focus();
  }

  private renumber(): void {
    this.rows.forEach((r, i) => {
      const legend = r.el.querySelector('legend');
      if (legend) legend.textContent = `Shift ${i + 1}`;
      r.el.setAttribute('aria-label', `Shift ${i + 1}`);
    });
  }

  private drafts(): ShiftDraft[] {
    return this.rows.map((r) => ({ from: r.from.value, to: r.to.value, chain: r.chain.map((c) => c.value) }));
  }

  private async save(): Promise<void> {
    const checked = checkRota(this.drafts(), this.zone);
    if (!checked.ok) return this.showReasons(checked.errors.map((e) => placeReason(e.field, e.reason)));
    this.showReasons([]);
    setText(this.status, 'Saving the rota…');
    try {
      await saveOnCall(checked.shifts);
      this.edited = false;
      setText(this.status, `Rota saved (${checked.shifts.length} shift${checked.shifts.length === 1 ? '' : 's'}).`);
      await this.load();
    } catch (err) {
      setText(this.status, '');
      if (err instanceof ApiError && err.status === 400) this.showReasons(serverRotaReasons(err, this.drafts()));
      else setText(this.rotaGeneral, `Could not save the rota: ${err instanceof Error ? err.message : 'error'}`);
    }
  }

  /** each reason beside its field (a row's whole-row reason beside its times), the rest above Save */
  private showReasons(reasons: readonly RotaReason[]): void {
    const general: string[] = [];
    const byNode = new Map<HTMLElement, string[]>();
    for (const r of this.rows) for (const node of r.reasons.values()) byNode.set(node, []);
    for (const r of reasons) {
      const row = r.row === null ? undefined : this.rows[r.row];
      const node = row ? (row.reasons.get(r.field ?? 'from') ?? row.reasons.get(r.field?.startsWith('chain') ? 'chain' : 'from')) : undefined;
      if (!node) { general.push(r.row !== null ? `Shift ${r.row + 1}: ${r.reason}` : r.reason); continue; }
      byNode.get(node)!.push(r.reason);
    }
    let first: HTMLElement | null = null;
    for (const [node, list] of byNode) {
      node.textContent = list.join('; ');
      const input = document.querySelector<HTMLElement>(`[aria-describedby="${node.id}"]`);
      if (list.length) { input?.setAttribute('aria-invalid', 'true'); first ??= input; } else input?.removeAttribute('aria-invalid');
    }
    setText(this.rotaGeneral, general.join('; '));
    first?.focus();
  }

  private buildContactForm(): HTMLFormElement {
    const user = el('input', {
      id: 'contact-user', name: 'username', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', 'aria-describedby': 'contact-user-reason',
      value: this.isAdmin ? '' : this.me, readonly: !this.isAdmin,
    });
    const email = el('input', { id: 'contact-email', name: 'email', type: 'email', autocomplete: 'off', 'aria-describedby': 'contact-email-reason' });
    const userReason = el('span', { class: 'field-reason', id: 'contact-user-reason' });
    const emailReason = el('span', { class: 'field-reason', id: 'contact-email-reason' });
    const status = el('p', { class: 'contact-status', role: 'status' });
    const lookUp = el('button', { type: 'button', hidden: !this.isAdmin }, 'Look up');
    const show = (field: 'username' | 'email' | null, reason: string): void => {
      setText(userReason, field === 'username' ? reason : '');
      setText(emailReason, field === 'email' ? reason : '');
      for (const [input, f] of [[user, 'username'], [email, 'email']] as const) {
        if (field === f) { input.setAttribute('aria-invalid', 'true'); input.focus(); } else input.removeAttribute('aria-invalid');
      }
      if (field === null) setText(status, reason);
    };
    const name = (): string | null => {
      const u = user.value.trim();
      if (!u) { show('username', 'is required'); return null; }
      return u;
    };
    lookUp.addEventListener('click', () => {
      const u = name();
      if (!u) return;
      show(null, 'Looking up…');
      fetchContact(u).then((c) => { email.value = c.email ?? ''; show(null, c.email ? `${u} is paged at ${c.email}.` : `${u} has no e-mail for pages.`); },
        (err: unknown) => (err instanceof ApiError && err.status === 404 ? show('username', 'is not an account') : show(null, `Could not look up: ${err instanceof Error ? err.message : 'error'}`)));
    });
    const title = this.isAdmin ? 'E-mail for pages (admin)' : 'Your e-mail for pages';
    const form = el('form', { class: 'record-form contact-form', id: 'contact', novalidate: true, 'aria-label': title },
      el('fieldset', {}, el('legend', {}, title),
        el('div', { class: 'form-field' }, el('label', { for: user.id }, 'Account name'), user, userReason, lookUp),
        el('div', { class: 'form-field' }, el('label', { for: email.id }, 'E-mail', el('span', { class: 'optional' }, ' (empty removes it)')), email, emailReason),
        status, el('button', { type: 'submit' }, 'Save e-mail')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const u = name();
      if (!u) return;
      const e = email.value.trim();
      if (e && !/^[^\s@]+@[^\s@]+$/.test(e)) return show('email', 'must be an e-mail address, e.g. anna@example.org');
      show(null, 'Saving…');
      saveContact(u, e || null).then(() => show(null, e ? `${u} will be paged at ${e}.` : `${u} has no e-mail for pages now.`), (err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return show('username', 'is not an account');
        if (err instanceof ApiError && err.status === 400) return show(/email/i.test(err.message) ? 'email' : null, err.message.replace(/^(body\/)?email\s+/i, ''));
        show(null, `Could not save: ${err instanceof Error ? err.message : 'error'}`);
      });
    });
    // one's own address, shown at once
    if (!this.isAdmin) queueMicrotask(() => lookUp.click());
    return form;
  }
}
