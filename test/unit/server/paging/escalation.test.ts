/** The escalation chain, pure, on a fake clock: every rule of docs/paging.md. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { Alert } from '../../../../protocol/api.ts';
import * as esc from '../../../../server/paging/escalation.ts';

const ACCEPT_MS = 300_000;
const T0 = Date.parse('2026-12-05T03:00:00Z');
const chain = ['ana', 'ben', 'cy'];

function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'a1', pump: 'CS7-100001', gateway: 'gw', type: 'occlusion', severity: 'high', status: 'active', acknowledged: false,
    ackedBy: null, ackedAt: null, raisedAt: new Date(T0).toISOString(), clearedAt: null, message: 'Occlusion', detail: {}, ...over,
  };
}

/** the chain after the step paged at `t` reached its person */
function pagedAndReached(t: esc.Transition): esc.ChainState {
  const page = t.effects.find((e) => e.type === 'page');
  assert.ok(page && page.type === 'page');
  return esc.delivered(t.state, page.round, page.step, page.to).state;
}

describe('what starts a chain', () => {
  test('high when raised; medium only once escalated (unacknowledged for ESCALATE_AFTER_S); low never; acknowledged or cleared never', () => {
    assert.equal(esc.startsChain(alert(), 'raised'), true);
    assert.equal(esc.startsChain(alert({ severity: 'medium' }), 'raised'), false);
    assert.equal(esc.startsChain(alert({ severity: 'medium' }), 'escalated'), true);
    assert.equal(esc.startsChain(alert({ severity: 'medium', escalated: true }), 'changed'), true);
    assert.equal(esc.startsChain(alert({ severity: 'low', escalated: true }), 'escalated'), false);
    assert.equal(esc.startsChain(alert({ acknowledged: true }), 'raised'), false);
    assert.equal(esc.startsChain(alert({ status: 'cleared' }), 'raised'), false);
  });
});

describe('escalation chain', () => {
  test('pages the first person at once; nobody on call: idle, nothing sent', () => {
    const t = esc.startChain('a1', chain, T0);
    assert.deepEqual(t.effects, [{ type: 'page', to: 'ana', round: 0, step: 0 }]);
    assert.equal(t.state.status, 'paging');
    const idle = esc.startChain('a1', [], T0);
    assert.equal(idle.state.status, 'idle');
    assert.deepEqual(idle.effects, []);
  });

  test('the next person after acceptMs without an accept, not before', () => {
    const s = pagedAndReached(esc.startChain('a1', chain, T0));
    assert.equal(esc.isDue(s, T0 + ACCEPT_MS - 1, ACCEPT_MS), false);
    assert.equal(esc.isDue(s, T0 + ACCEPT_MS, ACCEPT_MS), true);
    const next = esc.advance(s, T0 + ACCEPT_MS);
    assert.deepEqual(next.effects, [{ type: 'page', to: 'ben', round: 0, step: 1 }]);
    assert.equal(next.state.stepAtMs, T0 + ACCEPT_MS);
  });

  test('the chain repeats in rounds until someone accepts', () => {
    let s = pagedAndReached(esc.startChain('a1', chain, T0));
    const pages: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const t = esc.advance(s, T0 + i * ACCEPT_MS);
      const e = t.effects[0]!;
      assert.ok(e.type === 'page');
      pages.push(`${e.to}@${e.round}.${e.step}`);
      s = esc.delivered(t.state, e.round, e.step, e.to).state;
    }
    assert.deepEqual(pages, ['ben@0.1', 'cy@0.2', 'ana@1.0', 'ben@1.1']);
    assert.equal(s.status, 'paging');
  });

  test('decline moves on at once; a decline from someone not paged now changes nothing', () => {
    const s = pagedAndReached(esc.startChain('a1', chain, T0));
    const t = esc.decline(s, 'ana', T0 + 5000);
    assert.deepEqual(t.effects, [{ type: 'page', to: 'ben', round: 0, step: 1 }]);
    const stale = esc.decline(t.state, 'ana', T0 + 6000);
    assert.equal(stale.state, t.state);
    assert.deepEqual(stale.effects, []);
  });

  test('accept stops the chain, records who and when, and tells the others paged', () => {
    let s = pagedAndReached(esc.startChain('a1', chain, T0));
    s = esc.delivered(esc.advance(s, T0 + ACCEPT_MS).state, 0, 1, 'ben').state;
    const t = esc.accept(s, 'ben', T0 + ACCEPT_MS + 10_000);
    assert.equal(t.state.status, 'accepted');
    assert.equal(t.state.acceptedBy, 'ben');
    assert.equal(t.state.acceptedAtMs, T0 + ACCEPT_MS + 10_000);
    assert.deepEqual(t.effects, [{ type: 'notify', kind: 'accepted', to: ['ana'], acceptedBy: 'ben' }]);
    assert.equal(esc.isDue(t.state, T0 + 10 * ACCEPT_MS, ACCEPT_MS), false, 'no more pages');
    assert.deepEqual(esc.advance(t.state, T0 + 10 * ACCEPT_MS).effects, []);
    assert.equal(esc.accept(t.state, 'ana', T0 + 20 * ACCEPT_MS).state.acceptedBy, 'ben', 'the first accept wins');
  });

  test('acknowledgement stops the chain; an accepted chain keeps who accepted', () => {
    const s = pagedAndReached(esc.startChain('a1', chain, T0));
    const acked = esc.acknowledged(s);
    assert.equal(acked.state.status, 'closed');
    assert.equal(acked.state.closedReason, 'acknowledged');
    assert.deepEqual(esc.advance(acked.state, T0 + ACCEPT_MS).effects, []);
    const accepted = esc.acknowledged(esc.accept(s, 'ana', T0 + 1000).state);
    assert.equal(accepted.state.closedReason, 'accepted');
    assert.equal(accepted.state.acceptedBy, 'ana');
  });

  test('cleared before anyone accepted: "resolved" to everyone paged; after an accept: nothing', () => {
    let s = pagedAndReached(esc.startChain('a1', chain, T0));
    s = esc.delivered(esc.advance(s, T0 + ACCEPT_MS).state, 0, 1, 'ben').state;
    const t = esc.cleared(s);
    assert.equal(t.state.status, 'closed');
    assert.deepEqual(t.effects, [{ type: 'notify', kind: 'resolved', to: ['ana', 'ben'] }]);
    assert.deepEqual(esc.cleared(esc.accept(s, 'ben', T0 + ACCEPT_MS + 1).state).effects, []);
  });

  test('a page that failed on every channel moves on at once; a round that reached nobody is failed and the next round waits', () => {
    let t = esc.startChain('a1', chain, T0);
    t = esc.deliveryFailed(t.state, 0, 0, T0 + 1000);
    assert.deepEqual(t.effects, [{ type: 'page', to: 'ben', round: 0, step: 1 }]);
    t = esc.deliveryFailed(t.state, 0, 1, T0 + 2000);
    t = esc.deliveryFailed(t.state, 0, 2, T0 + 3000);
    assert.equal(t.state.status, 'failed');
    assert.deepEqual(t.effects, [], 'the next round waits acceptMs');
    assert.equal(esc.isDue(t.state, T0 + 3000 + ACCEPT_MS, ACCEPT_MS), true);
    const next = esc.advance(t.state, T0 + 3000 + ACCEPT_MS);
    assert.deepEqual(next.effects, [{ type: 'page', to: 'ana', round: 1, step: 0 }]);
    assert.equal(next.state.status, 'failed', 'failed until a page gets through');
    assert.equal(esc.delivered(next.state, 1, 0, 'ana').state.status, 'paging');
  });

  test('a round where someone was reached is not failed even if its last page failed', () => {
    let s = pagedAndReached(esc.startChain('a1', ['ana', 'ben'], T0));
    s = esc.advance(s, T0 + ACCEPT_MS).state;
    const t = esc.deliveryFailed(s, 0, 1, T0 + ACCEPT_MS + 100);
    assert.equal(t.state.status, 'paging');
    assert.deepEqual(t.effects, [{ type: 'page', to: 'ana', round: 1, step: 0 }]);
  });

  test('outcomes of a step already passed do not move the chain', () => {
    const s = esc.advance(pagedAndReached(esc.startChain('a1', chain, T0)), T0 + ACCEPT_MS).state;
    assert.equal(esc.deliveryFailed(s, 0, 0, T0 + ACCEPT_MS + 1).state, s);
  });

  test('an alert that flaps back (same alert, not acknowledged) reopens the chain from the first person in a new round', () => {
    const s = pagedAndReached(esc.startChain('a1', chain, T0));
    const closed = esc.cleared(s).state;
    const t = esc.reopen(closed, T0 + 60_000);
    assert.equal(t.state.status, 'paging');
    assert.deepEqual(t.effects, [{ type: 'page', to: 'ana', round: 1, step: 0 }]);
    assert.deepEqual(esc.reopen(esc.acknowledged(s).state, T0 + 60_000).effects, [], 'an acknowledged one never reopens');
  });
});
