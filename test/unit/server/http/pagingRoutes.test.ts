/** The paging routes on a fake PagingApi: off without a database, the phone page, answers, contacts, the acknowledgement's note. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AckOutcome, Alert, OnCallShift, PageTokenView } from '../../../../protocol/api.ts';
import type { ApiBackend, PagingApi } from '../../../../server/http/backend.ts';
import { makeFixture, type Fixture } from './appFixture.ts';

const TOKEN_OK = 'tok_ok_0123456789abcdef';
const view: PageTokenView = {
  alert: { id: 'a1', type: 'occlusion', severity: 'high', message: 'Line blocked', pump: 'PMP-001', raisedAt: '2026-11-27T10:00:00.000Z', status: 'active' },
  patient: null, status: 'sent', acceptedBy: null, expired: false,
};

class FakePaging implements PagingApi {
  emails = new Map<string, string | null>([['alice', 'alice@x.test'], ['carol', null]]);
  answers: string[] = [];
  acks: { id: string; by: string; note: string | null; outcome: AckOutcome | null }[] = [];
  shifts(): Promise<OnCallShift[]> {
    return Promise.resolve([]);
  }
  replaceShifts(): Promise<void> {
    return Promise.resolve();
  }
  onCall(): Promise<{ shift: OnCallShift | null; chain: string[] }> {
    return Promise.resolve({ shift: null, chain: [] });
  }
  contact(username: string) {
    return Promise.resolve(this.emails.has(username) ? { username, email: this.emails.get(username) ?? null, push: 0 } : null);
  }
  setContact(username: string, email: string | null): Promise<boolean> {
    if (!this.emails.has(username)) return Promise.resolve(false);
    this.emails.set(username, email);
    return Promise.resolve(true);
  }
  pages() {
    return Promise.resolve([]);
  }
  tokenView(token: string) {
    return Promise.resolve(token === TOKEN_OK ? view : null);
  }
  answer(token: string, what: 'accept' | 'decline') {
    this.answers.push(`${token}:${what}`);
    const result = token === TOKEN_OK ? 'ok' as const : token.startsWith('used') ? 'used' as const : token.startsWith('gone') ? 'expired' as const : 'not_found' as const;
    return Promise.resolve({ result, view: result === 'not_found' ? null : view });
  }
  recordAck(alert: Alert, by: string, note: string | null, outcome: AckOutcome | null): Promise<Alert> {
    this.acks.push({ id: alert.id, by, note, outcome });
    return Promise.resolve({ ...alert, ackNote: note, ackOutcome: outcome });
  }
  decorate(alerts: readonly Alert[]) {
    return Promise.resolve([...alerts]);
  }
  onAudit() {
    return () => undefined;
  }
}

describe('paging routes', () => {
  let f: Fixture;
  let nurse: Record<string, string>;
  let admin: Record<string, string>;
  beforeAll(async () => {
    f = await makeFixture();
    const a = await f.login('alice');
    nurse = { cookie: a.cookie, 'x-csrf-token': a.csrf, origin: f.origin };
    const c = await f.login('carol');
    admin = { cookie: c.cookie, 'x-csrf-token': c.csrf, origin: f.origin };
  });
  afterAll(async () => {
    await f.close();
  });

  test('without a database: 503 paging_off', async () => {
    delete (f.backend as ApiBackend).paging;
    const res = await f.app.inject({ url: '/api/oncall', headers: nurse });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: 'paging_off' });
    expect((await f.app.inject({ url: `/api/pages/${TOKEN_OK}` })).statusCode).toBe(503);
  });

  test('the phone page: HTML without inline script under the CSP, its script a file, nothing cached', async () => {
    const page = await f.app.inject({ url: `/page/${TOKEN_OK}` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<script src="/page-assets/page.js"></script>');
    expect(page.body.match(/<script>/g)).toBeNull();
    const js = await f.app.inject({ url: '/page-assets/page.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.body).toContain("'/api/pages/'");
    expect((await f.app.inject({ url: '/page/short' })).statusCode).toBe(400);
  });

  test('answers by token, no sign-in: ok 200, used 409, expired 410, unknown 404', async () => {
    const paging = new FakePaging();
    (f.backend as ApiBackend).paging = paging;
    const post = (token: string) => f.app.inject({ method: 'POST', url: `/api/pages/${token}/accept`, payload: {} });
    expect((await post(TOKEN_OK)).json()).toMatchObject({ result: 'ok', alert: { id: 'a1' } });
    expect((await post('used_0123456789abcdef')).statusCode).toBe(409);
    expect((await post('gone_0123456789abcdef')).statusCode).toBe(410);
    expect((await post('nope_0123456789abcdef')).statusCode).toBe(404);
    expect((await f.app.inject({ url: `/api/pages/${TOKEN_OK}` })).json()).toEqual(view);
    expect((await f.app.inject({ url: '/api/pages/nope_0123456789abcdef' })).statusCode).toBe(404);
  });

  test('a contact is read and changed by its own account or an admin, with the rule of npm run users', async () => {
    const paging = new FakePaging();
    (f.backend as ApiBackend).paging = paging;
    const put = (who: Record<string, string>, user: string, email: unknown) =>
      f.app.inject({ method: 'PUT', url: `/api/users/${user}/contact`, headers: who, payload: { email } });
    expect((await put(nurse, 'alice', 'alice@home.test')).json()).toMatchObject({ username: 'alice', email: 'alice@home.test' });
    expect((await put(nurse, 'carol', 'x@y.test')).statusCode).toBe(403);
    expect((await f.app.inject({ url: '/api/users/carol/contact', headers: nurse })).statusCode).toBe(403);
    expect((await put(nurse, 'alice', 'not an address')).statusCode).toBe(400);
    expect((await put(admin, 'alice', '')).json()).toMatchObject({ email: null });
    expect((await put(admin, 'nobody', 'n@x.test')).statusCode).toBe(404);
    expect(f.backend.audits.some((e) => e.action === 'contact_changed' && e.target === 'alice')).toBe(true);
  });

  test('the acknowledgement takes an optional note and outcome; a bad one is a 400 and acknowledges nothing', async () => {
    const paging = new FakePaging();
    (f.backend as ApiBackend).paging = paging;
    const ack = (payload?: unknown) => f.app.inject({ method: 'POST', url: '/api/alerts/a1/ack', headers: nurse, ...(payload !== undefined ? { payload: payload as object } : {}) });
    expect((await ack({ outcome: 'hoped_for_the_best' })).statusCode).toBe(400);
    expect((await ack({ note: 'x'.repeat(501) })).statusCode).toBe(400);
    expect((await ack({ mood: 'tired' })).statusCode).toBe(400);
    expect(f.backend.acks).toHaveLength(0);
    const ok = await ack({ note: ' called the patient ', outcome: 'patient_called' });
    expect(ok.json()).toMatchObject({ acknowledged: true, ackNote: 'called the patient', ackOutcome: 'patient_called' });
    expect(paging.acks).toEqual([{ id: 'a1', by: 'alice', note: 'called the patient', outcome: 'patient_called' }]);
    expect(f.backend.audits.find((e) => e.action === 'ack' && e.outcome === 'ok')?.detail).toMatchObject({ outcome: 'patient_called', note: true });
    expect((await ack()).statusCode).toBe(200);
  });
});
