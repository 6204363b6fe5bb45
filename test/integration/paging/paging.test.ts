/**
 * Paging end to end (issue 14, §7): the real `npm run server` with PostgreSQL, Mosquitto and
 * influxd, pump sentences published as a gateway does, pages received by a real SMTP server
 * (parsed with mailparser) and a real webhook receiver checking the HMAC. One stack, one on-call
 * chain (ana → ben → cy), PAGE_ACCEPT_S=3, PAGE_GROUP_S=2.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert, PageRecord } from '../../../protocol/api.ts';
import { decodeSentence } from '../../../protocol/decode.ts';
import { encodeSentence } from '../../../protocol/encode.ts';
import { toPumpMessage } from '../../../protocol/payloads.ts';
import type { Sentence } from '../../../protocol/sentence.ts';
import { topics } from '../../../protocol/topics.ts';
import { hashPassword } from '../../../server/auth/passwords.ts';
import { writeUsersFile, type UsersFileContent } from '../../../server/auth/usersFile.ts';
import { startNpmScript, type RunningProcess } from '../../helpers/childProcess.ts';
import { startInfluxd, type InfluxServer } from '../../helpers/influxd.ts';
import { startMosquitto, type Broker } from '../../helpers/mosquitto.ts';
import { freePort } from '../../helpers/ports.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';
import { launchChromium } from '../../e2e/browser.ts';
import { BoardSocket } from '../../helpers/boardSocket.ts';
import { waitFor } from '../../helpers/wait.ts';
import { SmtpReceiver, WebhookReceiver, type Mail } from './receivers.ts';

const TOKEN = 'paging-test-token-0123456789';
const SECRET = 'paging-webhook-secret-0123456789';
const ACCEPT_S = 3;
/** one message per person per this long (60 in production) */
const GROUP_S = 2;
const NURSES = ['ana', 'ben', 'cy'] as const;
const email = (u: string): string => `${u}@homecare.test`;

let pg: PostgresServer;
let broker: Broker;
let influx: InfluxServer;
let dir: TempDir;
let port = 0;
let server: RunningProcess;
let gateway: MqttClient;
let smtp: SmtpReceiver;
let smtpPort = 0;
const hooks = new WebhookReceiver(SECRET);
const seqs = new Map<string, number>();

const base = (): string => `http://127.0.0.1:${port}`;
/** the admin's session headers (a token may not change the rota: people do) */
let admin: Record<string, string> = {};

async function login(username: string, password: string): Promise<Record<string, string>> {
  const res = await fetch(`${base()}/api/session`, {
    method: 'POST', headers: { origin: base(), 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: HTTP ${res.status}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('pumpwatch_session='));
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie: cookie ?? '', origin: base(), 'x-csrf-token': csrfToken };
}

const asAdmin = (init: RequestInit): RequestInit => ({ ...init, headers: admin });

async function api<T>(path: string, init: RequestInit = {}, expected = 200): Promise<T> {
  const res = await fetch(`${base()}${path}`, {
    ...init,
    headers: {
      ...(init.headers && 'cookie' in init.headers ? {} : { authorization: `Bearer ${TOKEN}` }),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}),
    },
  });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${text}`);
  return (text === '' ? null : JSON.parse(text)) as T;
}

/** the page's link as the phone opens it, and the POST its buttons make (no credentials but the token) */
async function answer(link: string, what: 'accept' | 'decline'): Promise<{ status: number; body: { result: string; acceptedBy: string | null } }> {
  const token = new URL(link).pathname.split('/').pop()!;
  const page = await fetch(link);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('/page-assets/page.js');
  const res = await fetch(`${base()}/api/pages/${token}/${what}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return { status: res.status, body: (await res.json()) as { result: string; acceptedBy: string | null } };
}

function linkOf(m: Mail): string {
  const match = /http:\/\/127\.0\.0\.1:\d+\/page\/[A-Za-z0-9_-]+/.exec(m.text);
  if (!match) throw new Error(`no accept link in ${m.text}`);
  return match[0];
}

async function send(pump: string, body: Record<string, unknown>): Promise<void> {
  const seq = seqs.get(pump) ?? 0;
  seqs.set(pump, seq + 1);
  const line = encodeSentence({ ...body, pump, seq, time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') } as Sentence);
  const d = decodeSentence(line);
  if (!d.ok) throw new Error(`bad test sentence ${line}`);
  await gateway.publishAsync(topics.pump('gw-paging', pump), JSON.stringify(toPumpMessage(d.sentence, line, new Date())), { qos: 1 });
}

const running = { type: 'status', state: 'RUN', rateMlH: 5, infusedMl: 10, vtbiMl: 220, reservoirMl: 220, pressureMmHg: 35, batteryPct: 90, alarms: [] };

async function occlude(pump: string): Promise<Alert> {
  if (!seqs.has(pump)) {
    await send(pump, { type: 'event', code: 'POWER_ON', detail: '4.2.1' });
    await send(pump, running);
  }
  await send(pump, { ...running, state: 'ALARM', rateMlH: 0, pressureMmHg: 790, alarms: ['OCCL_DN'] });
  await send(pump, { type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' });
  return waitFor(async () => (await api<Alert[]>(`/api/alerts?status=active&pump=${pump}`)).find((a) => a.type === 'occlusion'), 10_000, `occlusion on ${pump}`);
}

async function alertById(id: string, pump: string): Promise<Alert> {
  const all = await api<Alert[]>(`/api/alerts?status=all&pump=${pump}`);
  const a = all.find((x) => x.id === id);
  if (!a) throw new Error(`no alert ${id}`);
  return a;
}

/** page mails of one alert (its message names the pump) */
const pagesFor = (pump: string, to: string): Mail[] => smtp.to(email(to)).filter((m) => m.text.includes(pump));

async function startServer(): Promise<void> {
  server = startNpmScript('server', [], {
    env: {
      MQTT_URL: broker.url, INFLUX_URL: influx.urlFor('pumpwatch_paging'), HOST: '127.0.0.1', PORT: String(port),
      PUMPWATCH_JOURNAL_DIR: join(dir.path, 'journal'), PUMPWATCH_USERS_FILE: join(dir.path, 'users.json'),
      PUMPWATCH_API_TOKENS: TOKEN, INFLUX_FLUSH_MS: '100', CHECKPOINT_MS: '500', LOG_LEVEL: 'info',
      DATABASE_URL: pg.url, PUBLIC_URL: `http://127.0.0.1:${port}`,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, PAGE_FROM: 'pager@homecare.test', PAGE_ACCEPT_S: String(ACCEPT_S),
      PAGE_WEBHOOK_URL: hooks.url, PAGE_WEBHOOK_SECRET: SECRET, PAGE_GROUP_S: String(GROUP_S), PAGE_RETRY_MS: '100',
    },
  });
  await server.waitForLine(/"msg":"listening"/, 90_000);
  await waitFor(async () => ((await api<{ paging?: { status: string } }>('/api/health')).paging?.status === 'up'), 20_000, 'paging up');
}

beforeAll(async () => {
  [pg, broker, influx] = await Promise.all([startPostgres(), startMosquitto(), startInfluxd()]);
  dir = tempDir('pumpwatch-paging-');
  [port, smtpPort] = await Promise.all([freePort(), freePort()]);
  smtp = new SmtpReceiver(smtpPort);
  await Promise.all([smtp.start(), hooks.start()]);
  const content: UsersFileContent = { version: 1, users: {} };
  for (const u of NURSES) content.users[u] = { role: 'nurse', password: await hashPassword(`${u}-password-0001`), email: email(u), updatedAt: new Date().toISOString() };
  content.users.boss = { role: 'admin', password: await hashPassword('boss-password-0001'), updatedAt: new Date().toISOString() };
  writeUsersFile(join(dir.path, 'users.json'), content);
  await startServer();
  gateway = await mqtt.connectAsync(broker.url, { clientId: `paging-gw-${port}`, clean: true });
  // the accounts are read from the database once imported
  admin = await waitFor(() => login('boss', 'boss-password-0001'), 20_000, 'admin signed in');
  await api('/api/oncall', asAdmin({
    method: 'PUT',
    body: JSON.stringify({ shifts: [{ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString(), chain: NURSES }] }),
  }));
}, 180_000);

afterAll(async () => {
  await gateway?.endAsync();
  await server?.stop();
  await Promise.all([smtp.stop(), hooks.stop(), broker?.dispose(), influx?.dispose(), pg?.stop()]);
  dir?.remove();
});

describe('paging', () => {
  test('on call now: the rota and the contact agree with the accounts', async () => {
    const now = await api<{ chain: string[]; shift: { chain: string[] } | null }>('/api/oncall');
    expect(now.chain).toEqual([...NURSES]);
    expect(await api('/api/users/ana/contact')).toMatchObject({ username: 'ana', email: email('ana') });
    await api('/api/oncall', asAdmin({ method: 'PUT', body: JSON.stringify({ shifts: [{ from: new Date().toISOString(), to: new Date().toISOString(), chain: ['ana'] }] }) }), 400);
    await api('/api/oncall', asAdmin({ method: 'PUT', body: JSON.stringify({ shifts: [{ from: new Date().toISOString(), to: new Date(Date.now() + 1000).toISOString(), chain: ['nobody'] }] }) }), 400);
    await api('/api/oncall', { method: 'PUT', body: JSON.stringify({ shifts: [] }) }, 403);
    // a nurse sets her own contact, with the rule of `npm run users -- --email`
    const ben = await login('ben', 'ben-password-0001');
    await api('/api/users/ben/contact', { method: 'PUT', headers: ben, body: JSON.stringify({ email: 'not-an-address' }) }, 400);
    await api('/api/users/ana/contact', { method: 'PUT', headers: ben, body: JSON.stringify({ email: email('ben') }) }, 403);
    expect(await api('/api/users/ben/contact', { method: 'PUT', headers: ben, body: JSON.stringify({ email: email('ben') }) }))
      .toMatchObject({ email: email('ben') });
  });

  test('occlusion → the first person by e-mail within 5 s; no accept → the second after PAGE_ACCEPT_S; accepting through the link stops the chain', { timeout: 60_000 }, async () => {
    const board = await BoardSocket.open(`ws://127.0.0.1:${port}/ws`, { authorization: `Bearer ${TOKEN}` });
    const raisedAt = Date.now();
    const alert = await occlude('CS7-PG001');
    const first = await waitFor(() => pagesFor('CS7-PG001', 'ana')[0], 5000, 'page to ana');
    expect(first.at - raisedAt).toBeLessThan(5000);
    expect(first.subject).toMatch(/^Pumpwatch page: /);
    expect(first.text).toContain('Pump: CS7-PG001');
    expect(linkOf(first)).toMatch(new RegExp(`^${base()}/page/`));
    // the signed webhook carries the same page
    const hook = await waitFor(() => hooks.hooks.find((h) => h.body.kind === 'page' && h.body.to.username === 'ana' && h.body.alert.id === alert.id), 5000, 'webhook for ana');
    expect(hook.signatureOk).toBe(true);
    expect(pagesFor('CS7-PG001', 'ben')).toHaveLength(0);

    const second = await waitFor(() => pagesFor('CS7-PG001', 'ben')[0], (ACCEPT_S + 4) * 1000, 'page to ben');
    expect(second.at - first.at).toBeGreaterThanOrEqual(ACCEPT_S * 1000 - 300);
    const accepted = await answer(linkOf(second), 'accept');
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ result: 'ok', acceptedBy: 'ben' });
    // single use
    expect((await answer(linkOf(second), 'accept')).status).toBe(409);
    // the others are told; nobody else is paged
    await waitFor(() => smtp.to(email('ana'), 'accepted').some((m) => m.text.includes('CS7-PG001')), 5000, 'ana told ben accepted');
    const a = await alertById(alert.id, 'CS7-PG001');
    expect(a).toMatchObject({ acceptedBy: 'ben', paging: { status: 'accepted' } });
    // the board saw the chain move and the accept, pushed like any alert change
    await board.waitForAlert('CS7-PG001', (x) => x.paging?.status === 'paging' && x.paging.current === 'ben', { timeoutMs: 1000 });
    await board.waitForAlert('CS7-PG001', (x) => x.paging?.status === 'accepted' && x.acceptedBy === 'ben', { timeoutMs: 2000 });
    await board.close();
    expect(a.acceptedAt).not.toBeNull();
    await new Promise((r) => setTimeout(r, (ACCEPT_S + 1) * 1000)); // a whole accept period: cy must stay quiet
    expect(pagesFor('CS7-PG001', 'cy')).toHaveLength(0);
    const pages = await api<PageRecord[]>(`/api/alerts/${alert.id}/pages`);
    expect(pages.filter((p) => p.to === 'ben').map((p) => p.status)).toContain('accepted');
    // ana's page was delivered; once ben accepted, her link no longer works
    const anas = pages.filter((p) => p.to === 'ana' && p.channel === 'email')[0];
    expect(anas).toMatchObject({ status: 'expired', round: 0, step: 0 });
    expect(anas?.sentAt).not.toBeNull();
    const acked = await api<Alert>(`/api/alerts/${alert.id}/ack`, { method: 'POST', body: JSON.stringify({ note: 'line unkinked by phone', outcome: 'line_unkinked' }) });
    expect(acked).toMatchObject({ acknowledged: true, ackNote: 'line unkinked by phone', ackOutcome: 'line_unkinked', acceptedBy: 'ben' });
    await waitFor(async () => {
      const audit = await api<{ action: string }[]>(`/api/audit?from=${new Date(raisedAt - 1000).toISOString()}&limit=500`);
      const actions = new Set(audit.map((e) => e.action));
      if (['page_sent', 'page_accepted', 'ack'].every((x) => actions.has(x))) return true;
      throw new Error(`audited: ${[...actions].join(', ')}`);
    }, 10_000, 'pages and the acknowledgement audited');
  });

  test('decline moves on at once; an acknowledged alert that comes back pages again', { timeout: 60_000 }, async () => {
    const alert = await occlude('CS7-PG002');
    const first = await waitFor(() => pagesFor('CS7-PG002', 'ana')[0], 5000, 'page to ana');
    const declinedAt = Date.now();
    expect((await answer(linkOf(first), 'decline')).body.result).toBe('ok');
    const next = await waitFor(() => pagesFor('CS7-PG002', 'ben')[0], 5000, 'page to ben');
    expect(next.at - declinedAt).toBeLessThan(ACCEPT_S * 1000 - 500);
    await api(`/api/alerts/${alert.id}/ack`, { method: 'POST', body: '{}' });
    // the chain ended with the acknowledgement: the link no longer works
    expect((await answer(linkOf(next), 'accept')).status).toBe(410);

    // the pump runs again, then occludes again: a new alert, a new chain from the first person
    await send('CS7-PG002', running);
    await send('CS7-PG002', { type: 'event', code: 'ALARM_OFF', detail: 'OCCL_DN' });
    await waitFor(async () => (await alertById(alert.id, 'CS7-PG002')).status === 'cleared', 10_000, 'occlusion cleared');
    // alert ids carry the pump clock's whole second: the occlusion comes back in a later one
    await new Promise((r) => setTimeout(r, 1100));
    const again = await occlude('CS7-PG002');
    expect(again.id).not.toBe(alert.id);
    await waitFor(() => pagesFor('CS7-PG002', 'ana').length === 2 || undefined, 5000, 'ana paged again');
    await api(`/api/alerts/${again.id}/ack`, { method: 'POST', body: '{}' });
  });

  test('SMTP down → the webhook still delivers, the failure shows in health, metrics and the page list', { timeout: 60_000 }, async () => {
    await smtp.stop();
    try {
      const alert = await occlude('CS7-PG003');
      await waitFor(() => hooks.hooks.find((h) => h.body.kind === 'page' && h.body.alert.id === alert.id && h.body.to.username === 'ana'), 5000, 'webhook page');
      const health = await waitFor(async () => {
        const h = await api<{ status: string; paging: { status: string; channels: Record<string, { failing: boolean; lastError: string | null }> } }>('/api/health');
        return h.paging.channels.email?.failing ? h : undefined;
      }, 10_000, 'health shows e-mail failing');
      expect(health.status).toBe('degraded');
      expect(health.paging.status).toBe('degraded');
      expect(health.paging.channels.email?.lastError).toMatch(/SMTP/);
      const metrics = await (await fetch(`${base()}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      expect(metrics).toMatch(/pumpwatch_pages_failed_total\{channel="email"\} [1-9]/);
      expect(metrics).toMatch(/pumpwatch_pages_sent_total\{channel="webhook"\} [1-9]/);
      const pages = await api<PageRecord[]>(`/api/alerts/${alert.id}/pages`);
      const ana = pages.filter((p) => p.to === 'ana' && p.step === 0 && p.round === 0);
      expect(ana.find((p) => p.channel === 'email')).toMatchObject({ status: 'failed' });
      expect(ana.find((p) => p.channel === 'email')?.error).toMatch(/SMTP/);
      expect(ana.find((p) => p.channel === 'webhook')).toMatchObject({ status: 'sent' });
      expect((await alertById(alert.id, 'CS7-PG003')).paging?.status).toBe('paging');
      await api(`/api/alerts/${alert.id}/ack`, { method: 'POST', body: '{}' });
    } finally {
      await smtp.start();
    }
  });

  test('no storm: a burst of alerts for one person is one message at once, then the rest grouped in one', { timeout: 60_000 }, async () => {
    await new Promise((r) => setTimeout(r, GROUP_S * 1000)); // ana's last window is over
    const pumps = ['CS7-PG101', 'CS7-PG102', 'CS7-PG103'];
    const alerts = await Promise.all(pumps.map((p) => occlude(p)));
    const toAna = (): Mail[] => smtp.to(email('ana')).filter((m) => pumps.some((p) => m.text.includes(p)));
    await waitFor(() => toAna().length >= 2 || undefined, (GROUP_S + 5) * 1000, 'the grouped message');
    await new Promise((r) => setTimeout(r, 500));
    const mails = toAna();
    expect(mails).toHaveLength(2);
    const grouped = mails[1]!;
    expect(grouped.subject).toMatch(/2 alerts/);
    expect(grouped.at - mails[0]!.at).toBeGreaterThanOrEqual(GROUP_S * 1000 - 300);
    // each alert of the group keeps its own link
    expect(grouped.text.match(/\/page\//g)).toHaveLength(2);
    for (const a of alerts) await api(`/api/alerts/${a.id}/ack`, { method: 'POST', body: '{}' });
  });

  test('the phone page in Chromium: the alert, Accept, no script refused by the CSP', { timeout: 60_000 }, async () => {
    await new Promise((r) => setTimeout(r, GROUP_S * 1000)); // ana's last window is over
    const alert = await occlude('CS7-PG005');
    const mail = await waitFor(() => pagesFor('CS7-PG005', 'ana')[0], 5000, 'page to ana');
    const browser = await launchChromium();
    try {
      const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      const page = await ctx.newPage();
      const problems: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(linkOf(mail));
      await page.getByText('Waiting for your answer.').waitFor({ timeout: 5000 });
      expect(await page.locator('#pump').textContent()).toBe('CS7-PG005');
      expect(await page.locator('#patient').textContent()).toBe('no patient assigned');
      await page.getByRole('button', { name: /Accept/ }).click();
      await page.getByText('You accepted this alert.').waitFor({ timeout: 5000 });
      expect(await page.getByRole('button', { name: /Accept/ }).isVisible()).toBe(false);
      expect(problems, problems.join('; ')).toEqual([]);
      expect(await alertById(alert.id, 'CS7-PG005')).toMatchObject({ acceptedBy: 'ana', paging: { status: 'accepted' } });
      // opened again later: answered, no buttons
      await page.reload();
      await page.getByText('You accepted this alert.').waitFor({ timeout: 5000 });
    } finally {
      await browser.close();
    }
    await api(`/api/alerts/${alert.id}/ack`, { method: 'POST', body: '{}' });
  });

  test('server killed between two steps → the chain resumes after the restart, nobody paged twice for a step', { timeout: 120_000 }, async () => {
    const alert = await occlude('CS7-PG004');
    await waitFor(() => pagesFor('CS7-PG004', 'ana')[0], 5000, 'page to ana');
    await server.kill9();
    await startServer();
    const ben = await waitFor(() => pagesFor('CS7-PG004', 'ben')[0], 20_000, 'page to ben after the restart');
    expect(ben).toBeDefined();
    await waitFor(() => pagesFor('CS7-PG004', 'cy')[0], (ACCEPT_S + 4) * 1000, 'page to cy');
    await api(`/api/alerts/${alert.id}/ack`, { method: 'POST', body: '{}' });
    const pages = await api<PageRecord[]>(`/api/alerts/${alert.id}/pages`);
    const steps = pages.filter((p) => p.channel === 'email').map((p) => `${p.round}.${p.step}`);
    expect(new Set(steps).size).toBe(steps.length);
    const mails = smtp.mails.filter((m) => m.kind === 'page' && m.text.includes('CS7-PG004'));
    expect(new Set(mails.map((m) => m.pageId)).size).toBe(mails.length);
    expect(mails.filter((m) => m.to.includes(email('ana'))).length).toBe(pages.filter((p) => p.to === 'ana' && p.channel === 'email').length);
  });
});
