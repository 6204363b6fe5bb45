/**
 * Web Push on the real `npm run server` (PostgreSQL, Mosquitto, influxd, VAPID keys set) and Debian's
 * Chromium: the dashboard is installable (manifest, icons, service worker at the root), the push
 * routes keep a person's devices, the board's "Get alerts on this device" subscribes and hands the
 * subscription to the server, a page sent to that subscription arrives decrypted at a local push
 * service, and a pushed message is shown by the service worker as a notification with Accept.
 *
 * Chromium here cannot reach Google's push service, so PushManager.subscribe() itself fails; the
 * test checks the board says so, then replaces subscribe() in the page (the only stand-in) with one
 * that answers a subscription of the local push service. The push is handed to the service worker
 * through the DevTools protocol (ServiceWorker.deliverPushMessage), as a push service would.
 */
import { join } from 'node:path';
import pg from 'pg';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import webPush from 'web-push';
import type { PushPayload } from '../../protocol/push.ts';
import { hashPassword } from '../../server/auth/passwords.ts';
import { writeUsersFile, type UsersFileContent } from '../../server/auth/usersFile.ts';
import { createPushChannel } from '../../server/paging/pushChannel.ts';
import { PushSubscriptionStore } from '../../server/paging/pushSubscriptions.ts';
import { startNpmScript, type RunningProcess } from '../helpers/childProcess.ts';
import { startInfluxd, type InfluxServer } from '../helpers/influxd.ts';
import { startMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { LocalPushService } from '../helpers/pushService.ts';
import { tempDir, type TempDir } from '../helpers/tempDir.ts';
import { buildDashboard, launchChromium } from './browser.ts';

const VAPID = webPush.generateVAPIDKeys();
const SUBJECT = 'mailto:oncall-ops@example.org';
const TOKEN = 'push-e2e-token-0123456789abcdef';
const NURSE = { name: 'nurse1', password: 'nurse1-password-01', role: 'nurse' as const };
const ADMIN = { name: 'admin', password: 'admin-password-0001', role: 'admin' as const };

let postgres: PostgresServer;
let broker: Broker;
let influx: InfluxServer;
let dir: TempDir;
let server: RunningProcess;
let service: LocalPushService;
let pool: pg.Pool;
let browser: Browser;
let base = '';
const contexts: BrowserContext[] = [];

interface Answer { status: number; body: unknown }

/** a logged-in person's calls: cookie, CSRF token, same Origin */
async function login(user: { name: string; password: string }): Promise<(method: string, path: string, body?: unknown) => Promise<Answer>> {
  const res = await fetch(`${base}/api/session`, {
    method: 'POST', headers: { origin: base, 'content-type': 'application/json' }, body: JSON.stringify({ username: user.name, password: user.password }),
  });
  if (res.status !== 200) throw new Error(`login ${user.name}: HTTP ${res.status}`);
  const cookie = (res.headers.getSetCookie().find((c) => c.startsWith('pumpwatch_session=')) ?? '').split(';')[0] ?? '';
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return async (method, path, body) => {
    const r = await fetch(`${base}${path}`, {
      method, headers: { cookie, origin: base, 'x-csrf-token': csrfToken, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text === '' ? null : JSON.parse(text) as unknown };
  };
}

beforeAll(async () => {
  buildDashboard();
  [postgres, broker, influx] = await Promise.all([startPostgres(), startMosquitto(), startInfluxd()]);
  service = new LocalPushService();
  await service.start();
  dir = tempDir('pumpwatch-push-e2e-');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const users: UsersFileContent = { version: 1, users: {} };
  for (const u of [NURSE, ADMIN]) users.users[u.name] = { role: u.role, password: await hashPassword(u.password), updatedAt: new Date().toISOString() };
  writeUsersFile(join(dir.path, 'users.json'), users);
  server = startNpmScript('server', [], {
    env: {
      MQTT_URL: broker.url, INFLUX_URL: influx.urlFor('pumpwatch_push'), HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: postgres.url,
      PUMPWATCH_JOURNAL_DIR: join(dir.path, 'journal'), PUMPWATCH_USERS_FILE: join(dir.path, 'users.json'), PUMPWATCH_API_TOKENS: TOKEN,
      VAPID_PUBLIC_KEY: VAPID.publicKey, VAPID_PRIVATE_KEY: VAPID.privateKey, VAPID_SUBJECT: SUBJECT,
    },
  });
  await server.waitForLine(/"msg":"listening"/, 60_000);
  // accounts are imported into the database once it is up
  await vi.waitFor(async () => expect((await fetch(`${base}/api/health`).then((r) => r.json()) as { database?: string }).database).toBe('up'), { timeout: 30_000, interval: 100 });
  pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await pool?.end();
  await server?.stop();
  await Promise.all([broker?.dispose(), influx?.dispose(), postgres?.stop(), service?.stop()]);
  dir?.remove();
});

describe('installable dashboard', () => {
  test('the manifest, its icons and the service worker are served from the root, as a browser installs them', async () => {
    const html = await (await fetch(`${base}/`)).text();
    expect(html).toContain('<link rel="manifest" href="/manifest.webmanifest">');
    const m = await fetch(`${base}/manifest.webmanifest`);
    expect(m.headers.get('content-type')).toBe('application/manifest+json');
    const manifest = (await m.json()) as { display: string; start_url: string; scope: string; theme_color: string; icons: { src: string; sizes: string; type: string }[] };
    expect(manifest).toMatchObject({ display: 'standalone', start_url: '/', scope: '/', theme_color: '#161b22' });
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    for (const icon of manifest.icons) {
      const r = await fetch(`${base}${icon.src}`);
      expect(r.status, icon.src).toBe(200);
      expect(r.headers.get('content-type')).toBe(icon.type);
      const bytes = Buffer.from(await r.arrayBuffer());
      if (icon.type === 'image/png') {
        expect(bytes.subarray(1, 4).toString()).toBe('PNG');
        const [w, h] = icon.sizes.split('x').map(Number);
        expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([w, h]);
      }
    }
    const sw = await fetch(`${base}/sw.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(sw.headers.get('service-worker-allowed')).toBe('/');
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    expect(await sw.text()).toContain('notificationclick');
  });
});

describe('push subscription routes', () => {
  test('a person adds, lists and removes their own devices; bad subscriptions get a 400 with the reason; audited without the endpoint', async () => {
    const nurse = await login(NURSE);
    expect(await nurse('GET', '/api/push/key')).toEqual({ status: 200, body: { publicKey: VAPID.publicKey } });
    const device = service.subscribe('api-device');
    const bad = async (body: unknown): Promise<string> => {
      const r = await nurse('POST', '/api/push/subscriptions', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      return (r.body as { message: string }).message;
    };
    expect(await bad({ ...device, endpoint: 'http://push.example.net/x' })).toBe('endpoint must be an https: URL');
    expect(await bad({ ...device, endpoint: 'not a url' })).toBe('endpoint is not a URL');
    expect(await bad({ ...device, keys: { ...device.keys, p256dh: 'AAAA' } })).toMatch(/^keys\.p256dh must be base64url/);
    expect(await bad({ ...device, keys: { ...device.keys, auth: 'a+b/c=' } })).toMatch(/^keys\.auth must be base64url/);
    expect(await bad({ endpoint: device.endpoint })).toMatch(/keys/);

    expect(await nurse('POST', '/api/push/subscriptions', { ...device, expirationTime: null })).toEqual({ status: 201, body: { endpoint: device.endpoint, created: true } });
    expect(await nurse('POST', '/api/push/subscriptions', device)).toEqual({ status: 201, body: { endpoint: device.endpoint, created: false } });
    const listed = await nurse('GET', '/api/push/subscriptions');
    expect(listed.body).toEqual([{ endpoint: device.endpoint, createdAt: expect.any(String) as string }]);
    // another person sees none of it, and cannot remove it
    const admin = await login(ADMIN);
    expect((await admin('GET', '/api/push/subscriptions')).body).toEqual([]);
    expect((await admin('DELETE', '/api/push/subscriptions', { endpoint: device.endpoint })).status).toBe(404);
    // a machine token has no devices
    const byToken = await fetch(`${base}/api/push/subscriptions`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(byToken.status).toBe(403);

    expect(await nurse('DELETE', '/api/push/subscriptions', { endpoint: device.endpoint })).toEqual({ status: 204, body: null });
    expect((await nurse('DELETE', '/api/push/subscriptions', { endpoint: device.endpoint })).status).toBe(404);

    await vi.waitFor(async () => {
      const audit = (await admin('GET', '/api/audit?action=push_subscribe')).body as { actor: string; action: string; detail?: Record<string, unknown> }[];
      expect(audit.map((a) => [a.actor, a.action, a.detail?.service])).toEqual([['nurse1', 'push_subscribe', service.origin], ['nurse1', 'push_subscribe', service.origin]]);
      const removed = (await admin('GET', '/api/audit?action=push_unsubscribe')).body as unknown[];
      expect(removed).toHaveLength(1);
      expect(JSON.stringify([audit, removed])).not.toContain('/push/api-device');
    }, { timeout: 5000, interval: 100 });
  });
});

/** the page's service worker, registered from the server, and the DevTools session that reaches it */
async function workerOf(page: Page): Promise<{ cdp: CDPSession; registrationId: string; scope: string }> {
  const cdp = await page.context().newCDPSession(page);
  const registrations = new Map<string, string>();
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] }) => {
    for (const r of e.registrations) if (!r.isDeleted) registrations.set(r.scopeURL, r.registrationId);
  });
  await cdp.send('ServiceWorker.enable');
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  const registrationId = await vi.waitFor(() => {
    const id = registrations.get(scope);
    if (!id) throw new Error('no registration yet');
    return id;
  }, { timeout: 10_000, interval: 50 });
  return { cdp, registrationId, scope };
}

interface ShownNotification { title: string; body: string; tag: string; requireInteraction: boolean; actions: { action: string; title: string }[]; data: unknown }

async function notificationsOf(page: Page): Promise<ShownNotification[]> {
  return page.evaluate(async () => {
    const shown = await (await navigator.serviceWorker.ready).getNotifications();
    return shown.map((n) => ({
      title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction, data: n.data as unknown,
      actions: ((n as unknown as { actions?: { action: string; title: string }[] }).actions ?? []).map((a) => ({ action: a.action, title: a.title })),
    }));
  });
}

describe('the board on a phone', () => {
  test('the service worker registers from the server; the subscribe control reports that this Chromium has no push service', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    contexts.push(ctx);
    await ctx.grantPermissions(['notifications'], { origin: base });
    const page = await ctx.newPage();
    await page.goto(base);
    await page.getByLabel('User name').fill(NURSE.name);
    await page.getByLabel('Password').fill(NURSE.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    const control = page.getByRole('button', { name: 'Get alerts on this device' });
    await control.waitFor({ timeout: 15_000 });
    expect(await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL)).toBe(`${base}/sw.js`);
    await control.click();
    await expect.poll(() => page.locator('.push-status').textContent(), { timeout: 20_000 }).toMatch(/^Could not set up alerts on this device: /);
    expect((await pool.query('SELECT count(*)::int AS n FROM push_subscriptions')).rows[0]).toEqual({ n: 0 });
  });

  test('subscribing posts the subscription made with the server key; a page to it reaches the push service; the worker shows a pushed page with Accept', async () => {
    const device = service.subscribe('phone-browser');
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    contexts.push(ctx);
    await ctx.grantPermissions(['notifications'], { origin: base });
    // the stand-in for Google's push service: subscribe() answers a subscription of the local one,
    // and keeps the key it was given
    await ctx.addInitScript((sub: { endpoint: string; keys: { p256dh: string; auth: string } }) => {
      const w = window as unknown as { pushKeyUsed?: string };
      PushManager.prototype.subscribe = function (options?: PushSubscriptionOptionsInit) {
        const key = new Uint8Array(options?.applicationServerKey as ArrayBuffer);
        w.pushKeyUsed = btoa(String.fromCharCode(...key)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        return Promise.resolve({
          endpoint: sub.endpoint, options: { applicationServerKey: key.buffer, userVisibleOnly: true }, expirationTime: null,
          toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }),
          unsubscribe: () => Promise.resolve(true),
        } as unknown as PushSubscription);
      };
    }, device);
    const phone = await ctx.newPage();
    await phone.goto(base);
    await phone.getByLabel('User name').fill(NURSE.name);
    await phone.getByLabel('Password').fill(NURSE.password);
    await phone.getByRole('button', { name: 'Log in' }).click();
    await phone.getByRole('button', { name: 'Get alerts on this device' }).click();
    await expect.poll(() => phone.locator('.push-status').textContent(), { timeout: 15_000 }).toBe('Alerts on this device: on');
    expect(await phone.getByRole('button', { name: 'Stop alerts on this device' }).isVisible()).toBe(true);
    expect(await phone.evaluate(() => (window as unknown as { pushKeyUsed?: string }).pushKeyUsed)).toBe(VAPID.publicKey);

    // the server keeps it for nurse1: a page to nurse1's devices arrives, encrypted for this device
    const store = new PushSubscriptionStore(pool);
    const targets = await store.targets(NURSE.name);
    expect(targets).toEqual([{ endpoint: device.endpoint, keys: device.keys }]);
    const payload: PushPayload = {
      kind: 'page', title: 'HIGH: occlusion, pump CS7-000777', body: 'Occlusion: no volume delivered for 2 min\nCall the patient.',
      acceptUrl: `${base}/page/tok-e2e-accept`, alertId: 'CS7-000777:occlusion:1', pageId: 'pg-e2e-1',
    };
    const channel = createPushChannel({ publicKey: VAPID.publicKey, privateKey: VAPID.privateKey, subject: SUBJECT, agent: service.agent });
    await channel.send({ username: NURSE.name, email: null, push: targets }, {
      kind: 'page', pageId: payload.pageId, title: payload.title, body: payload.body, acceptUrl: payload.acceptUrl, patient: null,
      alert: { id: payload.alertId, pump: 'CS7-000777', gateway: 'gw', type: 'occlusion', severity: 'high', status: 'active', acknowledged: false, ackedBy: null, ackedAt: null, raisedAt: new Date().toISOString(), clearedAt: null, message: 'Occlusion', detail: {} },
    });
    const arrived = service.received.find((r) => r.device === 'phone-browser');
    expect(arrived && JSON.parse(arrived.plaintext)).toEqual(payload);

    // what the push service would hand this device, delivered to its service worker
    const { cdp, registrationId } = await workerOf(phone);
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: base, registrationId, data: arrived!.plaintext });
    await expect.poll(() => notificationsOf(phone), { timeout: 10_000 }).toEqual([{
      title: payload.title, body: payload.body, tag: `alert:${payload.alertId}`, requireInteraction: true,
      actions: [{ action: 'accept', title: 'Accept' }], data: payload,
    }]);

    // a tap on Accept, or on the notification, opens the accept page. DevTools cannot tap a system
    // notification, and a worker may open windows only from a real tap: the click is dispatched in
    // the real worker on the notification it shows, with clients.openWindow recording the URL
    const worker = ctx.serviceWorkers().find((w) => w.url() === `${base}/sw.js`);
    expect(worker).toBeDefined();
    const opened = await worker!.evaluate(async (actions: string[]) => {
      const scope = self as unknown as {
        registration: ServiceWorkerRegistration;
        clients: { openWindow(url: string): Promise<null> };
        dispatchEvent(e: Event): boolean;
      };
      const urls: string[] = [];
      scope.clients.openWindow = (url: string) => {
        urls.push(url);
        return Promise.resolve(null);
      };
      const [shown] = await scope.registration.getNotifications();
      for (const action of actions) {
        const Click = (self as unknown as { NotificationEvent: new (type: string, init: { notification: Notification; action: string }) => Event }).NotificationEvent;
        scope.dispatchEvent(new Click('notificationclick', { notification: shown!, action }));
        await new Promise((r) => setTimeout(r, 50));
      }
      return urls;
    }, ['accept', '']);
    expect(opened).toEqual([payload.acceptUrl, payload.acceptUrl]);

    // a follow-up on the same alert replaces the page, without Accept
    const accepted: PushPayload = { ...payload, kind: 'accepted', title: 'Accepted by nurse2', body: 'nurse2 is handling it.', acceptUrl: null, pageId: 'pg-e2e-2' };
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: base, registrationId, data: JSON.stringify(accepted) });
    await expect.poll(async () => (await notificationsOf(phone)).map((n) => [n.title, n.actions.length, n.requireInteraction]), { timeout: 10_000 })
      .toEqual([['Accepted by nurse2', 0, false]]);

    // stopping alerts on this device removes it from the server
    await phone.getByRole('button', { name: 'Stop alerts on this device' }).click();
    await expect.poll(() => phone.getByRole('button', { name: 'Get alerts on this device' }).isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await store.targets(NURSE.name)).toEqual([]);
  });
});
