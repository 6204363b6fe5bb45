/**
 * Paging: hears the core's alert facts, runs one escalation chain per alert (escalation.ts) and
 * sends its pages (pageSender.ts). Every chain change is first written to PostgreSQL with a
 * conditional UPDATE and a step's page is claimed by INSERT before it is sent, so a restarted
 * instance, or another one, continues a chain from the step reached and nobody is paged twice for
 * one step. A claimed page whose sending was cut by a crash is not sent again (at most once per
 * step); the next step follows when its time is up. `owns(pump)` lets a lease layer say which
 * instance drives which chains (default: this one drives all).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Alert } from '../../protocol/api.ts';
import type { Clock } from '../clock.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { PageChannel } from './channel.ts';
import { sleepMs } from './deliver.ts';
import * as esc from './escalation.ts';
import { acceptedMessage, resolvedMessage, type Patient } from './messages.ts';
import { KeyedQueue } from './keyedQueue.ts';
import { PageSender, type ClaimedPage } from './pageSender.ts';
import { pagingHealth, type PagingHealth } from './pagingHealth.ts';
import { decorateAlerts, withPaging } from './pagingViews.ts';
import type { PagingStore, StoredChain } from './pagingStore.ts';

export interface PagingServiceOptions {
  store: PagingStore;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  channels: readonly PageChannel[];
  /** PUBLIC_URL, without a trailing slash */
  publicUrl: string;
  acceptS: number;
  groupS: number;
  firstRetryMs: number;
  retries?: number;
  /** the patient of an alert (null when unassigned or unknown) */
  patientOf: (alert: Alert) => Promise<Patient>;
  /** open alerts now: at start, those that should be paging and have no chain yet get one */
  openAlerts: () => Alert[];
  /** resolves once PostgreSQL is up and migrated */
  whenUp: () => Promise<void>;
  /** does this instance drive the chains of this pump? (a lease layer; default: yes) */
  owns?: (pump: string) => boolean;
  /**
   * does the core hold this pump's state now (its open alerts are in openAlerts())? After a
   * takeover a pump is owned before it is rebuilt from storage (default: owns)
   */
  holds?: (pump: string) => boolean;
  tickMs?: number;
  /** open chains are re-read this often (another instance's changes), ms */
  reloadMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PagingAuditEvent {
  action: 'page_sent' | 'page_failed' | 'page_accepted' | 'page_declined';
  actor: string;
  target: string;
  outcome: 'ok' | 'failed';
  detail: Record<string, string | number | boolean>;
}

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export class PagingService {
  /** chains not closed, and the alert each belongs to (latest state seen) */
  readonly chains = new Map<string, StoredChain>();
  readonly sender: PageSender;
  /** chains closed lately: live changes of their alerts still show who accepted */
  private readonly recentlyClosed = new Map<string, esc.ChainState>();
  /** chains whose alert is known here only as PostgreSQL stored it (another instance's pump, not heard from the core here) */
  private readonly unheard = new Set<string>();
  private readonly queue: KeyedQueue;
  private readonly changeListeners = new Set<(alert: Alert) => void>();
  private readonly auditListeners = new Set<(e: PagingAuditEvent) => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private ready: Promise<void>;
  private markReady!: () => void;
  private timer: NodeJS.Timeout | null = null;
  private lastReloadMs = 0;
  private stopped = false;
  private started = false;

  constructor(private readonly o: PagingServiceOptions) {
    this.ready = new Promise((r) => { this.markReady = r; });
    this.queue = new KeyedQueue(() => this.ready, (err, first) => {
      // logged once until a step succeeds again (a database outage fails every step)
      if (first) o.log.error({ err: err.message, code: 'PAGING_STEP_FAILED' }, 'paging step failed; retried at the next tick');
    });
    this.sender = new PageSender({
      store: o.store, channels: o.channels, clock: o.clock, log: o.log, groupMs: o.groupS * 1000,
      retries: o.retries ?? 3, firstRetryMs: o.firstRetryMs, sleep: o.sleep ?? sleepMs,
      stillDue: (p) => {
        const c = this.chains.get(p.alertId);
        return c !== undefined && (c.state.status === 'paging' || c.state.status === 'failed') && c.state.round === p.round && c.state.step === p.step;
      },
      onOutcome: (p, ok, outcomes) => {
        this.emitAudit({
          action: ok ? 'page_sent' : 'page_failed', actor: 'paging', target: p.alertId, outcome: ok ? 'ok' : 'failed',
          detail: { to: p.to, round: p.round, step: p.step, channels: outcomes.filter((x) => x.ok).map((x) => x.channel).join(',') || 'none' },
        });
        void this.serial(p.alertId, () => this.transit(p.alertId, (s) => (ok ? esc.delivered(s, p.round, p.step, p.to) : esc.deliveryFailed(s, p.round, p.step, this.o.clock.now()))));
      },
    });
    // subscribed at once, so facts replayed at start-up are heard; handled once the database is up
    const bus = o.bus;
    this.unsubscribe.push(
      bus.on('alertRaised', (a) => this.onFact(a, 'raised')),
      bus.on('alertEscalated', (a) => this.onFact(a, 'escalated')),
      bus.on('alertChanged', (a) => this.onFact(a, 'changed')),
      bus.on('alertCleared', (a) => void this.serial(a.id, () => this.end(a, esc.cleared))),
      bus.on('alertAcknowledged', (a) => void this.serial(a.id, () => this.end(a, esc.acknowledged))),
    );
  }

  /** loads the open chains, starts the ones missed while down, and the timer; returns at once */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.o.whenUp().then(async () => {
      // the open chains, and a chain for each alert that should be paging and has none (raised before a crash)
      await this.reload();
      this.markReady();
    }).catch((err: Error) => this.o.log.error({ err: err.message }, 'paging could not start'));
    this.timer = setInterval(() => this.tick(), this.o.tickMs ?? 250);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const off of this.unsubscribe) off();
    await this.queue.drain();
    await this.sender.drain();
  }

  /** an alert whose paging changed, with its paging fields (the board shows it like any change) */
  onChange(listener: (alert: Alert) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  onAudit(listener: (e: PagingAuditEvent) => void): () => void {
    this.auditListeners.add(listener);
    return () => this.auditListeners.delete(listener);
  }

  emitAudit(e: PagingAuditEvent): void {
    for (const l of this.auditListeners) l(e);
  }

  /** runs `fn` after every earlier operation on the same alert (and after start-up loaded the chains) */
  serial<T>(alertId: string, fn: () => Promise<T>): Promise<T> {
    return this.queue.run(alertId, fn);
  }

  /** steps that failed (database away) since start; each is retried */
  get stepFailures(): number {
    return this.queue.failures;
  }

  private owns(pump: string): boolean {
    return this.o.owns ? this.o.owns(pump) : true;
  }

  private holds(pump: string): boolean {
    return this.owns(pump) && (this.o.holds ? this.o.holds(pump) : true);
  }

  private onFact(a: Alert, fact: 'raised' | 'escalated' | 'changed'): void {
    const known = this.chains.get(a.id);
    this.unheard.delete(a.id);
    if (known) known.alert = a;
    if (esc.startsChain(a, fact) && (!known || known.state.status === 'closed')) void this.serial(a.id, () => this.ensure(a));
  }

  /** the alert should be paging: start its chain, or go on with one a clear had closed */
  private async ensure(a: Alert): Promise<void> {
    if (this.stopped || !this.owns(a.pump)) return;
    this.unheard.delete(a.id);
    const now = this.o.clock.now();
    let cur: StoredChain | null | undefined = this.chains.get(a.id);
    if (!cur) {
      cur = await this.o.store.chain(a.id);
      if (cur && cur.state.status !== 'closed') {
        this.chains.set(a.id, { ...cur, alert: a });
        return;
      }
    }
    if (cur) {
      if (cur.state.status === 'closed') {
        this.chains.set(a.id, { ...cur, alert: a });
        await this.transit(a.id, (s) => esc.reopen(s, now), a);
        if (this.chains.get(a.id)?.state.status === 'closed') this.chains.delete(a.id);
      }
      return;
    }
    const shift = await this.o.store.shiftAt(now);
    const t = esc.startChain(a.id, shift?.chain ?? [], now);
    if (!(await this.o.store.insertChain(a, t.state))) {
      const stored = await this.o.store.chain(a.id);
      if (stored && stored.state.status !== 'closed') this.chains.set(a.id, stored);
      return;
    }
    const held = { state: t.state, alert: a };
    this.chains.set(a.id, held);
    this.changed(held);
    await this.run(a.id, t.effects);
  }

  /** the alert cleared or was acknowledged: its chain ends and the tokens expire */
  private async end(a: Alert, f: (s: esc.ChainState) => esc.Transition): Promise<void> {
    this.unheard.delete(a.id);
    let cur = this.chains.get(a.id);
    if (!cur) {
      const stored = await this.o.store.chain(a.id);
      if (!stored || stored.state.status === 'closed') return;
      this.chains.set(a.id, (cur = stored));
    }
    cur.alert = a;
    if (await this.transit(a.id, f, a)) await this.o.store.expirePages(a.id);
  }

  /**
   * Applies a transition: computed on the state held, written only if PostgreSQL still has that
   * state, then its effects. Someone else moved first: the stored state is taken instead.
   */
  async transit(alertId: string, f: (s: esc.ChainState) => esc.Transition, alert?: Alert): Promise<boolean> {
    const cur = this.chains.get(alertId);
    if (!cur) return false;
    const t = f(cur.state);
    if (t.state === cur.state) return false;
    if (!(await this.o.store.updateChain(cur.state, t.state, alert))) {
      const fresh = await this.o.store.chain(alertId);
      if (fresh && fresh.state.status !== 'closed') this.chains.set(alertId, { ...fresh, alert: cur.alert });
      else this.chains.delete(alertId);
      this.changed(fresh ? { ...fresh, alert: cur.alert } : undefined);
      return false;
    }
    cur.state = t.state;
    if (t.state.status === 'closed') this.forgetClosed(cur.state);
    this.changed(cur);
    await this.run(alertId, t.effects, cur.alert);
    return true;
  }

  private async run(alertId: string, effects: readonly esc.Effect[], alertNow?: Alert): Promise<void> {
    const alert = alertNow ?? this.chains.get(alertId)?.alert;
    if (!alert || effects.length === 0) return;
    const patient = await this.o.patientOf(alert).catch(() => null);
    for (const e of effects) {
      if (e.type === 'notify') {
        for (const to of e.to) {
          this.sender.notify(to, e.kind === 'accepted'
            ? acceptedMessage(`${alertId}:${e.kind}`, alert, patient, e.acceptedBy ?? '')
            : resolvedMessage(`${alertId}:${e.kind}`, alert, patient));
        }
        continue;
      }
      const token = randomBytes(24).toString('base64url');
      const pageId = await this.o.store.claimPage(alert.pump, alertId, e.round, e.step, e.to, hashToken(token), this.o.clock.now());
      if (pageId === null) continue; // this step was paged already (before a restart, or by another instance)
      const page: ClaimedPage = {
        pageId, alertId, round: e.round, step: e.step, to: e.to, alert, patient, acceptUrl: `${this.o.publicUrl}/page/${token}`,
      };
      this.sender.offer(page);
    }
  }

  private changed(c: StoredChain | undefined): void {
    // nobody on call: nothing a nurse would see changes (the alert's own changes carry `idle`)
    if (!c || c.state.chain.length === 0) return;
    const alert = withPaging(c.alert, c.state);
    for (const l of this.changeListeners) l(alert);
  }

  /** the alerts with their paging fields: chains held here, the others (closed, history) from PostgreSQL */
  async decorate(alerts: readonly Alert[]): Promise<Alert[]> {
    return decorateAlerts(alerts, (id) => this.heldState(id), this.o.store, this.o.log);
  }

  private heldState(alertId: string): esc.ChainState | undefined {
    return this.chains.get(alertId)?.state ?? this.recentlyClosed.get(alertId);
  }

  /** the same from what is held here only (live changes, which cannot wait for a query) */
  decorateHeld(a: Alert): Alert {
    return withPaging(a, this.heldState(a.id) ?? null);
  }

  /** an alert whose acknowledgement note was saved: shown to the board at once */
  noteSaved(a: Alert): void {
    for (const l of this.changeListeners) l(a);
  }

  private forgetClosed(s: esc.ChainState): void {
    this.chains.delete(s.alertId);
    this.unheard.delete(s.alertId);
    this.recentlyClosed.set(s.alertId, s);
    if (this.recentlyClosed.size > 1000) this.recentlyClosed.delete(this.recentlyClosed.keys().next().value!);
  }

  failedChains(): number {
    let n = 0;
    for (const c of this.chains.values()) if (c.state.status === 'failed') n++;
    return n;
  }

  /** GET /api/health's `paging` */
  health(): PagingHealth {
    return pagingHealth(this.o.channels, this.sender, this.failedChains(), this.chains.size);
  }


  /** called by the timer; tests call it with their own clock */
  tick(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const acceptMs = this.o.acceptS * 1000;
    for (const [id, c] of this.chains) {
      if (!this.owns(c.alert.pump) || this.queue.has(id)) continue;
      // an acknowledgement or a clear whose step failed (database away) is applied again until it holds
      if (c.alert.acknowledged || c.alert.status === 'cleared') {
        const alert = c.alert;
        void this.serial(id, () => this.end(alert, alert.acknowledged ? esc.acknowledged : esc.cleared));
        continue;
      }
      if (!esc.isDue(c.state, now, acceptMs)) continue;
      void this.serial(id, () => this.transit(id, (s) => (esc.isDue(s, this.o.clock.now(), acceptMs) ? esc.advance(s, this.o.clock.now()) : { state: s, effects: [] })));
    }
    this.sender.tick();
    if (now - this.lastReloadMs >= (this.o.reloadMs ?? 5000)) {
      this.lastReloadMs = now;
      void this.ready.then(() => this.reload()).catch((err: Error) => this.o.log.warn({ err: err.message }, 'paging chains not re-read'));
    }
  }

  /** re-reads the open chains (another instance's changes); chains busy here are left as they are */
  private async reload(): Promise<void> {
    const open = await this.o.store.openChains();
    const live = new Map(this.o.openAlerts().map((a) => [a.id, a]));
    const seen = new Set<string>();
    for (const c of open) {
      seen.add(c.state.alertId);
      if (this.queue.has(c.state.alertId)) continue;
      const known = this.chains.get(c.state.alertId);
      const moved = !known || known.state.status !== c.state.status || known.state.round !== c.state.round || known.state.step !== c.state.step;
      // the alert as the core holds it now; a pump held here whose alert is no longer open was
      // acknowledged and cleared while the chain could not be told (by a crash, a database outage,
      // or an owner that died first: the next tick ends it). A pump just taken over and not yet
      // rebuilt says nothing yet: its chain goes on as stored, from the stored step time
      const id = c.state.alertId;
      const heard = live.get(id) ?? (known && !this.unheard.has(id) ? known.alert : undefined);
      const last = known?.alert ?? c.alert;
      const held = this.holds(c.alert.pump);
      const alert = heard ?? (held && !last.acknowledged ? { ...last, acknowledged: true } : last);
      if (heard || held) this.unheard.delete(id);
      else this.unheard.add(id);
      const chain = { state: c.state, alert };
      this.chains.set(id, chain);
      if (moved) this.changed(chain);
    }
    for (const [id, c] of [...this.chains]) {
      if (!seen.has(id) && !this.queue.has(id)) {
        this.chains.delete(id);
        this.unheard.delete(id);
        this.changed({ ...c, state: { ...c.state, status: 'closed' } });
      }
    }
    // alerts that should be paging with no chain yet: raised while PostgreSQL was away
    for (const a of this.o.openAlerts()) {
      if (!esc.startsChain(a, 'changed') || this.chains.has(a.id) || this.recentlyClosed.has(a.id) || this.queue.has(a.id) || !this.owns(a.pump)) continue;
      void this.serial(a.id, () => this.ensure(a));
    }
  }
}
