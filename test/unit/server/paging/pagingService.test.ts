/**
 * The paging service on a fake clock with an in-memory store that keeps PostgreSQL's rules
 * (conditional chain updates, one page per step): pages at once, the next after PAGE_ACCEPT_S,
 * medium only when escalated, low never, a chain that reaches nobody is failed, two instances
 * sharing the store page each step once, and `owns` keeps a chain to its instance.
 */
import { describe, expect, test } from 'vitest';
import pino from 'pino';
import type { Alert } from '../../../../protocol/api.ts';
import { manualClock } from '../../../../server/clock.ts';
import { EventBus } from '../../../../server/events/eventBus.ts';
import { ChannelError, type Contact, type PageChannel, type PageMessage } from '../../../../server/paging/channel.ts';
import type { ChainState } from '../../../../server/paging/escalation.ts';
import { createPagingApi } from '../../../../server/paging/pagingApi.ts';
import { PagingService } from '../../../../server/paging/pagingService.ts';
import type { PagingStore, StoredChain } from '../../../../server/paging/pagingStore.ts';

const T0 = Date.parse('2026-12-05T03:00:00Z');
const log = pino({ level: process.env.DEBUG_PAGING ? 'debug' : 'silent' });

class MemoryStore {
  chainsById = new Map<string, StoredChain>();
  pages: { id: string; alertId: string; round: number; step: number; to: string; status: string; tokenSha256?: string }[] = [];

  down = false;
  constructor(private readonly onCall: string[]) {}
  shiftAt() {
    if (this.down) return Promise.reject(new Error('ECONNREFUSED'));
    return Promise.resolve({ from: '', to: '', chain: this.onCall });
  }
  insertChain(alert: Alert, s: ChainState) {
    if (this.chainsById.has(s.alertId)) return Promise.resolve(false);
    this.chainsById.set(s.alertId, { alert, state: s });
    return Promise.resolve(true);
  }
  updateChain(prev: ChainState, next: ChainState) {
    if (this.down) return Promise.reject(new Error('ECONNREFUSED'));
    const c = this.chainsById.get(prev.alertId);
    if (!c || c.state.status !== prev.status || c.state.round !== prev.round || c.state.step !== prev.step) return Promise.resolve(false);
    c.state = next;
    return Promise.resolve(true);
  }
  chain(id: string) {
    if (this.down) return Promise.reject(new Error('ECONNREFUSED'));
    const c = this.chainsById.get(id);
    return Promise.resolve(c ? { alert: c.alert, state: { ...c.state } } : null);
  }
  openChains() {
    return Promise.resolve([...this.chainsById.values()].filter((c) => c.state.status !== 'closed').map((c) => ({ alert: c.alert, state: { ...c.state } })));
  }
  chains(ids: readonly string[]) {
    if (this.down) return Promise.reject(new Error('ECONNREFUSED'));
    return Promise.resolve(ids.flatMap((id) => (this.chainsById.has(id) ? [this.chainsById.get(id)!] : [])));
  }
  claimPage(_pump: string, alertId: string, round: number, step: number, to: string, tokenSha256?: string) {
    if (this.pages.some((p) => p.alertId === alertId && p.round === round && p.step === step)) return Promise.resolve(null);
    const id = String(this.pages.length + 1);
    this.pages.push({ id, alertId, round, step, to, status: 'sending', ...(tokenSha256 ? { tokenSha256 } : {}) });
    return Promise.resolve(id);
  }
  pageByToken(tokenSha256: string) {
    const p = this.pages.find((x) => x.tokenSha256 === tokenSha256);
    const c = p && this.chainsById.get(p.alertId);
    return Promise.resolve(p && c ? {
      pageId: p.id, alertId: p.alertId, username: p.to, status: p.status, round: p.round, step: p.step,
      alert: c.alert, chainStatus: c.state.status, acceptedBy: c.state.acceptedBy,
    } : null);
  }
  answerPage(id: string, status: string) {
    const p = this.pages.find((x) => x.id === id);
    if (!p || (p.status !== 'sending' && p.status !== 'sent')) return Promise.resolve(false);
    p.status = status;
    return Promise.resolve(true);
  }
  markPage(id: string, status: string) {
    const p = this.pages.find((x) => x.id === id);
    if (p?.status === 'sending') p.status = status;
    return Promise.resolve();
  }
  recordDelivery() {
    return Promise.resolve();
  }
  contact(username: string): Promise<Contact> {
    return Promise.resolve({ username, email: `${username}@x.test`, push: [] });
  }
  expirePages() {
    return Promise.resolve();
  }
  ackNotes() {
    return Promise.resolve(new Map());
  }
}

class Inbox implements PageChannel {
  readonly name = 'email' as const;
  readonly got: { to: string; kind: string; pump: string; title: string; acceptUrl: string | null }[] = [];
  failing = false;
  /** the next sends that fail with a temporary error (retried) */
  flaky = 0;
  canReach = (): boolean => true;
  send(c: Contact, m: PageMessage): Promise<void> {
    if (this.failing) return Promise.reject(new ChannelError('DOWN', 'down', true));
    if (this.flaky > 0) {
      this.flaky--;
      return Promise.reject(new ChannelError('BUSY', 'try later'));
    }
    this.got.push({ to: c.username, kind: m.kind, pump: m.alert.pump, title: m.title, acceptUrl: m.acceptUrl });
    return Promise.resolve();
  }
  pages(): string[] {
    return this.got.filter((g) => g.kind === 'page').map((g) => g.to);
  }
}

function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'a1', pump: 'CS7-100001', gateway: 'gw', type: 'occlusion', severity: 'high', status: 'active', acknowledged: false,
    ackedBy: null, ackedAt: null, raisedAt: new Date(T0).toISOString(), clearedAt: null, message: 'Blocked line', detail: {}, ...over,
  };
}

function instance(store: MemoryStore, inbox: Inbox, clock: ReturnType<typeof manualClock>, owns?: (pump: string) => boolean, open: Alert[] = [], groupS = 0, retries = 0) {
  const bus = new EventBus(log);
  const service = new PagingService({
    store: store as unknown as PagingStore, bus, clock, log, channels: [inbox], publicUrl: 'https://pw.test',
    acceptS: 300, groupS, firstRetryMs: 1, retries, tickMs: 3_600_000, reloadMs: 5000,
    patientOf: () => Promise.resolve(null), openAlerts: () => open, whenUp: () => Promise.resolve(),
    sleep: () => Promise.resolve(), ...(owns ? { owns } : {}),
  });
  service.start();
  return { bus, service };
}

/** lets the service's promise chains run (no time passes: the clock is the fake one) */
async function settle(...services: PagingService[]): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setImmediate(r));
    for (const s of services) await s.sender.drain();
  }
}

describe('paging service', () => {
  test('high: the first at once, the next after PAGE_ACCEPT_S, around again; acknowledgement stops it', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore(['ana', 'ben']);
    const inbox = new Inbox();
    const { bus, service } = instance(store, inbox, clock);
    bus.emit('alertRaised', alert());
    await settle(service);
    expect(inbox.pages()).toEqual(['ana']);
    clock.advance(299_000);
    service.tick();
    await settle(service);
    expect(inbox.pages()).toEqual(['ana']);
    clock.advance(1000);
    service.tick();
    await settle(service);
    expect(inbox.pages()).toEqual(['ana', 'ben']);
    clock.advance(300_000);
    service.tick();
    await settle(service);
    expect(inbox.pages()).toEqual(['ana', 'ben', 'ana']);
    expect(service.decorateHeld(alert()).paging).toEqual({ status: 'paging', round: 1, step: 0, current: 'ana' });
    bus.emit('alertAcknowledged', alert({ acknowledged: true }));
    await settle(service);
    clock.advance(3_600_000);
    service.tick();
    await settle(service);
    expect(inbox.pages()).toHaveLength(3);
    await service.stop();
  });

  test('medium pages only once escalated; low never', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore(['ana']);
    const inbox = new Inbox();
    const { bus, service } = instance(store, inbox, clock);
    bus.emit('alertRaised', alert({ id: 'm1', severity: 'medium', type: 'low_reservoir' }));
    bus.emit('alertRaised', alert({ id: 'l1', severity: 'low', type: 'clock_error' }));
    await settle(service);
    expect(inbox.pages()).toEqual([]);
    bus.emit('alertEscalated', alert({ id: 'l1', severity: 'low', type: 'clock_error', escalated: true }));
    bus.emit('alertEscalated', alert({ id: 'm1', severity: 'medium', type: 'low_reservoir', escalated: true }));
    await settle(service);
    expect(inbox.pages()).toEqual(['ana']);
    await service.stop();
  });

  test('cleared before anyone accepted: those paged get "resolved"', async () => {
    const clock = manualClock(T0);
    const inbox = new Inbox();
    const { bus, service } = instance(new MemoryStore(['ana', 'ben']), inbox, clock);
    bus.emit('alertRaised', alert());
    await settle(service);
    bus.emit('alertCleared', alert({ status: 'cleared' }));
    await settle(service);
    expect(inbox.got.map((g) => `${g.to}:${g.kind}`)).toEqual(['ana:page', 'ana:resolved']);
    await service.stop();
  });

  test('nobody reachable: the whole round fails at once, the chain is failed and health degraded', async () => {
    const clock = manualClock(T0);
    const inbox = new Inbox();
    inbox.failing = true;
    const store = new MemoryStore(['ana', 'ben']);
    const { bus, service } = instance(store, inbox, clock);
    bus.emit('alertRaised', alert());
    await settle(service);
    expect(store.pages.map((p) => `${p.to}:${p.status}`)).toEqual(['ana:failed', 'ben:failed']);
    expect(service.decorateHeld(alert()).paging?.status).toBe('failed');
    expect(service.health()).toMatchObject({ status: 'degraded', failedChains: 1, channels: { email: { failing: true } } });
    inbox.failing = false;
    clock.advance(300_000);
    service.tick();
    await settle(service);
    expect(inbox.pages()).toEqual(['ana']);
    expect(service.decorateHeld(alert()).paging?.status).toBe('paging');
    await service.stop();
  });

  test('two instances on one store: each step is paged once', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore(['ana', 'ben', 'cy']);
    const inbox = new Inbox();
    const a = instance(store, inbox, clock);
    const b = instance(store, inbox, clock);
    a.bus.emit('alertRaised', alert());
    b.bus.emit('alertRaised', alert());
    await settle(a.service, b.service);
    for (let i = 0; i < 3; i++) {
      clock.advance(300_000);
      a.service.tick();
      b.service.tick();
      await settle(a.service, b.service);
    }
    expect(inbox.pages()).toEqual(['ana', 'ben', 'cy', 'ana']);
    expect(new Set(store.pages.map((p) => `${p.round}.${p.step}`)).size).toBe(store.pages.length);
    await Promise.all([a.service.stop(), b.service.stop()]);
  });

  test('an alert raised while PostgreSQL was away starts paging once it is back', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore(['ana']);
    const inbox = new Inbox();
    const open = [alert()];
    const { bus, service } = instance(store, inbox, clock, undefined, open);
    await settle(service);
    expect(inbox.pages()).toEqual(['ana']);
    // a second alert while the database is down
    store.down = true;
    const second = alert({ id: 'a2', pump: 'CS7-100002' });
    open.push(second);
    bus.emit('alertRaised', second);
    await settle(service);
    expect(inbox.pages()).toEqual(['ana']);
    // the alerts still go out while it is away, with what is held
    const shown = await service.decorate([alert(), second]);
    expect(shown.map((a) => a.paging?.status ?? null)).toEqual(['paging', null]);
    store.down = false;
    clock.advance(5000);
    service.tick();
    await settle(service);
    expect(inbox.got.filter((g) => g.kind === 'page').map((g) => g.pump)).toEqual(['CS7-100001', 'CS7-100002']);
    await service.stop();
  });

  test('an acknowledgement that could not be written (database away) still stops the chain once it is back', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore(['ana', 'ben']);
    const inbox = new Inbox();
    const { bus, service } = instance(store, inbox, clock);
    bus.emit('alertRaised', alert());
    await settle(service);
    store.down = true;
    const acked = alert({ acknowledged: true });
    bus.emit('alertChanged', acked);
    bus.emit('alertAcknowledged', acked);
    await settle(service);
    expect(store.chainsById.get('a1')?.state.status).toBe('paging');
    store.down = false;
    clock.advance(300_000);
    service.tick();
    await settle(service);
    service.tick();
    await settle(service);
    expect(store.chainsById.get('a1')?.state.status).toBe('closed');
    expect(inbox.pages()).toEqual(['ana']);
    expect(service.stepFailures).toBeGreaterThan(0);
    await service.stop();
  });

  test('an acknowledged alert that comes back is a new alert: a new chain from the first person', async () => {
    const clock = manualClock(T0);
    const inbox = new Inbox();
    const { bus, service } = instance(new MemoryStore(['ana', 'ben']), inbox, clock);
    bus.emit('alertRaised', alert());
    await settle(service);
    bus.emit('alertAcknowledged', alert({ acknowledged: true }));
    bus.emit('alertCleared', alert({ acknowledged: true, status: 'cleared' }));
    await settle(service);
    clock.advance(60_000);
    bus.emit('alertRaised', alert({ id: 'a1-again' }));
    await settle(service);
    expect(inbox.pages()).toEqual(['ana', 'ana']);
    expect(service.decorateHeld(alert({ id: 'a1-again' })).paging).toMatchObject({ status: 'paging', round: 0, step: 0 });
    await service.stop();
  });

  test('no storm: a burst for one person is one message at once and one grouped message a window later', async () => {
    const clock = manualClock(T0);
    const inbox = new Inbox();
    const { bus, service } = instance(new MemoryStore(['ana']), inbox, clock, undefined, [], 60);
    for (const n of [1, 2, 3]) bus.emit('alertRaised', alert({ id: `burst-${n}`, pump: `CS7-10000${n}` }));
    await settle(service);
    expect(inbox.got.map((g) => g.pump)).toEqual(['CS7-100001']);
    clock.advance(59_000);
    service.tick();
    await settle(service);
    expect(inbox.got).toHaveLength(1);
    clock.advance(1000);
    service.tick();
    await settle(service);
    expect(inbox.got).toHaveLength(2);
    expect(inbox.got[1]!.title).toMatch(/2 alerts/);
    await service.stop();
  });

  test('a temporary failure is retried; the retry gauge goes back to 0 and one message is counted', async () => {
    const clock = manualClock(T0);
    const inbox = new Inbox();
    inbox.flaky = 2;
    const { bus, service } = instance(new MemoryStore(['ana']), inbox, clock, undefined, [], 0, 3);
    bus.emit('alertRaised', alert());
    await settle(service);
    expect(inbox.pages()).toEqual(['ana']);
    expect(service.sender.retrying()).toBe(0);
    expect(service.sender.stats.get('email')).toMatchObject({ sent: 1, failed: 0, failing: false });
    await service.stop();
  });

  test('owns(pump) false: this instance leaves the chain alone', async () => {
    const clock = manualClock(T0);
    const inbox = new Inbox();
    const { bus, service } = instance(new MemoryStore(['ana']), inbox, clock, () => false);
    bus.emit('alertRaised', alert());
    await settle(service);
    expect(inbox.pages()).toEqual([]);
    await service.stop();
  });
});

/** an instance of a lease cluster: owns and holds (rebuilt) its pumps as the test says */
function leaseInstance(store: MemoryStore, inbox: Inbox, clock: ReturnType<typeof manualClock>, own: { owns: boolean; holds: boolean; open: Alert[] }) {
  const bus = new EventBus(log);
  const service = new PagingService({
    store: store as unknown as PagingStore, bus, clock, log, channels: [inbox], publicUrl: 'https://pw.test',
    acceptS: 300, groupS: 0, firstRetryMs: 1, retries: 0, tickMs: 3_600_000, reloadMs: 5000,
    patientOf: () => Promise.resolve(null), openAlerts: () => own.open, whenUp: () => Promise.resolve(),
    sleep: () => Promise.resolve(), owns: () => own.owns, holds: () => own.holds,
  });
  service.start();
  return { bus, service };
}

/** one tick every 5 s (a re-read each time) from now until `untilMs` */
async function runUntil(clock: ReturnType<typeof manualClock>, untilMs: number, service: PagingService): Promise<void> {
  while (clock.now() < untilMs) {
    clock.advance(Math.min(5000, untilMs - clock.now()));
    service.tick();
    await settle(service);
  }
}

describe('paging across a lease takeover', () => {
  test('the new owner goes on from the stored step time (not restarted at the takeover), nobody paged twice', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore(['ana', 'ben', 'cy']);
    const [inB, inA] = [new Inbox(), new Inbox()];
    const b = leaseInstance(store, inB, clock, { owns: true, holds: true, open: [alert()] });
    const aOwn = { owns: false, holds: false, open: [] as Alert[] };
    const a = leaseInstance(store, inA, clock, aOwn);
    b.bus.emit('alertRaised', alert());
    await settle(b.service, a.service);
    expect(inB.pages()).toEqual(['ana']);
    await runUntil(clock, T0 + 100_000, a.service);
    expect(inA.pages()).toEqual([]);
    // B dies 100 s into ana's step; A takes the partition, then rebuilds the pump (the alert open)
    await b.service.stop();
    aOwn.owns = true;
    await runUntil(clock, T0 + 105_000, a.service);
    Object.assign(aOwn, { holds: true, open: [alert()] });
    await runUntil(clock, T0 + 299_000, a.service);
    expect(inA.pages()).toEqual([]);
    await runUntil(clock, T0 + 300_000, a.service);
    expect(inA.pages()).toEqual(['ben']);
    expect(store.pages.map((p) => `${p.to}:${p.round}.${p.step}`)).toEqual(['ana:0.0', 'ben:0.1']);
    await runUntil(clock, T0 + 600_000, a.service);
    expect(inA.pages()).toEqual(['ben', 'cy']);
    expect(inB.pages()).toEqual(['ana']);
    await a.service.stop();
  });

  test('a chain the new owner never saw, of a pump not yet rebuilt, is not taken for acknowledged: it goes on at the stored time', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore(['ana', 'ben']);
    const [inB, inA] = [new Inbox(), new Inbox()];
    const b = leaseInstance(store, inB, clock, { owns: true, holds: true, open: [alert()] });
    b.bus.emit('alertRaised', alert());
    await settle(b.service);
    await b.service.stop();
    // A starts reading the chains after it took the partition, before the pump is rebuilt
    clock.advance(2000);
    const aOwn = { owns: true, holds: false, open: [] as Alert[] };
    const a = leaseInstance(store, inA, clock, aOwn);
    await settle(a.service);
    await runUntil(clock, T0 + 10_000, a.service);
    expect(store.chainsById.get('a1')?.state.status).toBe('paging');
    Object.assign(aOwn, { holds: true, open: [alert()] });
    await runUntil(clock, T0 + 300_000, a.service);
    expect(inA.pages()).toEqual(['ben']);
    expect(inB.pages()).toEqual(['ana']);
    await a.service.stop();
  });

  test('rebuilt on the new owner, an alert no longer open (acknowledged and cleared before the owner died) ends its chain', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore(['ana', 'ben']);
    const [inB, inA] = [new Inbox(), new Inbox()];
    const b = leaseInstance(store, inB, clock, { owns: true, holds: true, open: [alert()] });
    const aOwn = { owns: false, holds: false, open: [] as Alert[] };
    const a = leaseInstance(store, inA, clock, aOwn);
    b.bus.emit('alertRaised', alert());
    await settle(b.service, a.service);
    await runUntil(clock, T0 + 20_000, a.service);
    await b.service.stop();
    Object.assign(aOwn, { owns: true, holds: true });
    await runUntil(clock, T0 + 30_000, a.service);
    expect(store.chainsById.get('a1')?.state.status).toBe('closed');
    await runUntil(clock, T0 + 400_000, a.service);
    expect(inA.pages()).toEqual([]);
    await a.service.stop();
  });

  test('accepting through an instance that does not drive the chain, and holds it a step behind, stops it', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore(['ana', 'ben', 'cy']);
    const [inA, inC] = [new Inbox(), new Inbox()];
    const a = leaseInstance(store, inA, clock, { owns: true, holds: true, open: [alert()] });
    const c = leaseInstance(store, inC, clock, { owns: false, holds: false, open: [] });
    a.bus.emit('alertRaised', alert());
    await settle(a.service, c.service);
    await runUntil(clock, T0 + 295_000, c.service);
    expect(c.service.chains.get('a1')?.state.step).toBe(0);
    clock.advance(5000);
    a.service.tick(); // ben is paged by the driver; C still holds step 0 (its next re-read is later)
    await settle(a.service);
    expect(inA.pages()).toEqual(['ana', 'ben']);
    expect(c.service.chains.get('a1')?.state.step).toBe(0);
    const api = createPagingApi({ service: c.service, store: store as unknown as PagingStore, clock, log, patientOf: () => Promise.resolve(null) });
    const token = new URL(inA.got.find((g) => g.to === 'ben')!.acceptUrl!).pathname.split('/').pop()!;
    expect((await api.answer(token, 'accept')).result).toBe('ok');
    await settle(c.service);
    expect(store.chainsById.get('a1')?.state).toMatchObject({ status: 'accepted', acceptedBy: 'ben' });
    await runUntil(clock, T0 + 1_000_000, a.service);
    expect(inA.pages()).toEqual(['ana', 'ben']);
    await a.service.stop();
    await c.service.stop();
  });

  test('an alert the old owner raised but had no chain for yet gets one from the new owner once the pump is rebuilt', async () => {
    const clock = manualClock(T0);
    const store = new MemoryStore(['ana', 'ben']);
    const inA = new Inbox();
    const aOwn = { owns: true, holds: false, open: [] as Alert[] };
    const a = leaseInstance(store, inA, clock, aOwn);
    await runUntil(clock, T0 + 6000, a.service);
    expect(inA.pages()).toEqual([]);
    // rebuilt from the old owner's checkpoint: the alert is open here; the next re-read starts its chain
    Object.assign(aOwn, { holds: true, open: [alert()] });
    await runUntil(clock, T0 + 11_000, a.service);
    expect(inA.pages()).toEqual(['ana']);
    await runUntil(clock, T0 + 311_000, a.service);
    expect(inA.pages()).toEqual(['ana', 'ben']);
    await a.service.stop();
  });
});
