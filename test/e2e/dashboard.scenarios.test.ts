/**
 * The dashboard in a real chromium against the real server (buildServer, its HTTP and WebSocket
 * layers, Mosquitto, influxd), with twelve homes' pumps sending as gateways do: login, the board in
 * attention order, live alerts and acknowledgement, sound and notifications, cleared and escalated
 * alerts, a burst of updates, lost and silently dead connections, pump detail and labels, billing,
 * and the phone layout.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { PumpState } from '../../protocol/sentence.ts';
import { pumpName } from '../../dashboard/src/format.ts';
import { attentionRank, compareBoardKeys, needsAttention, summarizeAlerts } from '../../dashboard/src/sort.ts';
import { buildDashboard, launchChromium, loggedInPage, SCREENSHOTS } from './browser.ts';
import { LiveServer, type PumpFeed } from './liveServer.ts';
import { infuse, statusNow } from './pumpWorld.ts';

const H = 3_600_000;
const NOW = Date.now();
const live = new LiveServer();
let browser: Browser;
const contexts: BrowserContext[] = [];
const feeds: PumpFeed[] = [];
const serial = (i: number): string => `CS7-${String(4500 + i).padStart(6, '0')}`;
const USERS = [
  { name: 'nurse', password: 'nurse-pass-1', role: 'nurse' },
  { name: 'nurse2', password: 'nurse2-pass-1', role: 'nurse' },
  { name: 'billing', password: 'billing-pass-1', role: 'billing' },
] as const;

async function loggedIn(user: string, password: string, viewport = { width: 1440, height: 900 }): Promise<Page> {
  return loggedInPage(browser, contexts, live.url, { name: user, password }, viewport);
}

const alertItem = (page: Page, title: string) => page.locator('.alerts-list > li', { hasText: title }).first();

/** every open alert the server holds (what the board's snapshot carries) */
async function openAlerts(): Promise<Alert[]> {
  const all = await live.api<Alert[]>(`/api/alerts?status=all&from=${new Date(NOW - 4 * 24 * H).toISOString()}`);
  return all.filter(needsAttention);
}

/** the board order the dashboard's own rules give for the server's current state */
async function expectedOrder(): Promise<string[]> {
  const [pumps, alerts] = await Promise.all([live.api<PumpView[]>('/api/pumps'), openAlerts()]);
  const summary = summarizeAlerts(alerts);
  return pumps.map((p) => ({ rank: attentionRank(p, summary.get(p.pump)), name: pumpName(p), pump: p.pump })).sort(compareBoardKeys).map((k) => k.pump);
}

const shownOrder = (page: Page): Promise<string[]> =>
  page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.board-body .board-row')].map((e) => e.dataset.pump ?? ''));

beforeAll(async () => {
  buildDashboard();
  // signal_lost would follow 5 min of silence; these pumps report only when a test moves them
  await live.start(USERS.map((u) => ({ ...u })), { SIGNAL_LOST_S: '3600', ESCALATE_AFTER_S: '30' });
  browser = await launchChromium();
  for (let i = 0; i < 12; i++) feeds.push(live.pump(serial(i), `home-${String(i).padStart(3, '0')}`));
  // two finished infusions for billing: 46 h with a 24-min pause (S9330), 20 h with a 48-min occlusion (S9331)
  await infuse(feeds[0]!, {
    startMs: NOW - 60 * H, endMs: NOW - 14 * H, untilMs: NOW - 60_000, programId: 'FOLFOX-C1', drug: 'FLUOROURACIL',
    rateMlH: 5, volumeMl: 230, programHours: 46, interruptions: [{ atMin: 600, minutes: 24, kind: 'PAUSE' }],
  });
  await infuse(feeds[1]!, {
    startMs: NOW - 30 * H, endMs: NOW - 10 * H, untilMs: NOW - 60_000, programId: 'FOLFOX-C2', drug: 'FLUOROURACIL',
    rateMlH: 5, volumeMl: 230, programHours: 46, interruptions: [{ atMin: 300, minutes: 48, kind: 'OCCL_DN' }],
  });
  // 20 h into a 46 h infusion with an occlusion 10 h in, and blocked again now
  const infused5 = await infuse(feeds[5]!, {
    startMs: NOW - 20 * H, untilMs: NOW - 60_000, programId: 'FOLFOX-C6', drug: 'CYTARABINE',
    rateMlH: 5, volumeMl: 230, programHours: 46, interruptions: [{ atMin: 600, minutes: 60, kind: 'OCCL_DN' }],
  });
  await statusNow(feeds[5]!, 'ALARM', { infusedMl: infused5, pressureMmHg: 790, alarms: ['OCCL_DN'] });
  await feeds[5]!.send({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' });
  for (const i of [2, 3, 4, 6, 8, 9, 10, 11]) {
    await infuse(feeds[i]!, { startMs: NOW - 2 * H, untilMs: NOW - 30_000, programId: `FOLFOX-C${(i % 6) + 1}`, drug: 'GEMCITABINE', rateMlH: 5, volumeMl: 230, programHours: 46 });
  }
  await feeds[4]!.send({ type: 'event', code: 'PAUSE', detail: '' });
  await statusNow(feeds[4]!, 'PAUSE', { infusedMl: 10 });
  await feeds[7]!.send({ type: 'event', code: 'POWER_ON', detail: '1.0' });
  await statusNow(feeds[7]!, 'IDLE', { infusedMl: 0 });
  await vi.waitFor(async () => expect(await live.api<PumpView[]>('/api/pumps')).toHaveLength(12), { timeout: 30_000, interval: 200 });
  for (const i of [0, 3, 6, 9]) await live.api(`/api/pumps/${serial(i)}/label`, { method: 'PUT', body: JSON.stringify({ label: `Home ${i}` }) });
  await vi.waitFor(async () => expect((await live.api<PumpView>(`/api/pumps/${serial(5)}`)).state).toBe('ALARM'), { timeout: 10_000, interval: 200 });
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await live.dispose();
});

describe('dashboard against the real server', () => {
  test('a wrong password is refused with a message; no session is made', async () => {
    const page = await loggedIn('nurse', 'wrong-password');
    await page.getByText('Wrong user name or password.').waitFor();
    expect(await page.locator('.board').count()).toBe(0);
    expect(await page.evaluate(async () => (await fetch('/api/me')).status)).toBe(401);
  });

  test('a nurse sees every pump, attention first, state in words; the session survives a reload', async () => {
    const page = await loggedIn('nurse', 'nurse-pass-1');
    await page.locator('.board-body .board-row').nth(11).waitFor();
    expect(await page.locator('.board-body .board-row').count()).toBe(12);
    // attention first: the rows in exactly the order the server's pumps and open alerts give
    expect(await shownOrder(page)).toEqual(await expectedOrder());
    const first = page.locator('.board-body .board-row').first();
    const firstPump = await first.getAttribute('data-pump');
    expect((await openAlerts()).some((a) => a.pump === firstPump && a.severity === 'high')).toBe(true);
    const occluded = page.locator(`[data-pump="${serial(5)}"]`);
    expect(await occluded.innerText()).toMatch(/ALARM · OCCL_DN/);
    expect(await occluded.innerText()).toMatch(/790 mmHg/);
    await page.locator(`[data-pump="${serial(3)}"] a.pump-name`, { hasText: 'Home 3' }).waitFor();
    await page.locator('#stale-banner').waitFor({ state: 'hidden' });
    await page.reload();
    await page.locator('.board-body .board-row').nth(11).waitFor();
    expect(await page.locator('.top .who').innerText()).toMatch(/nurse \(nurse\)/);
    await page.screenshot({ path: join(SCREENSHOTS, 'board-twelve-homes.png') });
  });

  test('a new alert appears live, is acknowledged with one click (CSRF header sent), and a second nurse sees who', async () => {
    const page = await loggedIn('nurse', 'nurse-pass-1');
    const other = await loggedIn('nurse2', 'nurse2-pass-1');
    await page.locator('.board-body .board-row').first().waitFor();
    await other.locator('.board-body .board-row').first().waitFor();
    await statusNow(feeds[2]!, 'ALARM', { pressureMmHg: 20, alarms: ['OCCL_UP'] });
    await feeds[2]!.send({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_UP' });
    const item = alertItem(page, `Occlusion — ${serial(2)}`);
    await item.waitFor({ timeout: 2000 });
    await page.waitForFunction((p) => new RegExp(`HIGH alert, pump ${p}`).test(document.getElementById('live-assertive')?.textContent ?? ''), serial(2), { timeout: 2000 });
    expect(await item.innerText()).toMatch(/Not acknowledged/);
    const ackRequest = page.waitForRequest((r) => r.method() === 'POST' && /\/api\/alerts\/[^/]+\/ack$/.test(r.url()));
    await item.getByRole('button', { name: /Acknowledge/ }).click();
    const sent = await ackRequest;
    expect(sent.headers()['x-csrf-token']).toMatch(/.{16,}/);
    expect((await sent.response())?.status()).toBe(200);
    await item.getByText(/Acknowledged by nurse at \d\d:\d\d:\d\d/).waitFor({ timeout: 2000 });
    const stored = (await openAlerts()).concat(await live.api<Alert[]>(`/api/alerts?pump=${serial(2)}`)).find((a) => a.pump === serial(2) && a.type === 'occlusion');
    expect(stored?.ackedBy).toBe('nurse');
    expect(await item.getByRole('button', { name: /Acknowledge/ }).isVisible()).toBe(false);
    await alertItem(other, `Occlusion — ${serial(2)}`).getByText(/Acknowledged by nurse at/).waitFor({ timeout: 2000 });
  });

  test('a new high alert beeps and raises a browser notification; a low one does neither', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(ctx);
    await ctx.grantPermissions(['notifications'], { origin: live.url });
    // plain JavaScript: functions serialised from this file would carry the test runner's helpers
    await ctx.addInitScript({
      content: `
        window.shown = []; window.beeps = 0;
        const Real = window.Notification;
        window.Notification = class extends Real { constructor(t, o) { window.shown.push(t); super(t, o); } };
        const create = AudioContext.prototype.createOscillator;
        AudioContext.prototype.createOscillator = function () { window.beeps++; return create.call(this); };
      `,
    });
    const page = await ctx.newPage();
    await page.goto(live.url);
    await page.getByLabel('User name').fill('nurse');
    await page.getByLabel('Password').fill('nurse-pass-1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.board-body .board-row').first().waitFor();
    await page.getByRole('button', { name: /sound/i }).click();
    await statusNow(feeds[10]!, 'RUN', { batteryPct: 15 });
    await alertItem(page, serial(10)).waitFor();
    await statusNow(feeds[8]!, 'ALARM', { pressureMmHg: 790, alarms: ['OCCL_DN'] });
    await feeds[8]!.send({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' });
    await alertItem(page, `Occlusion — ${serial(8)}`).waitFor();
    expect(await page.evaluate(() => Notification.permission)).toBe('granted');
    await page.waitForFunction(() => (window as unknown as { shown: string[] }).shown.length > 0, null, { timeout: 2000 });
    const { shown, beeps } = await page.evaluate(() => {
      const w = window as unknown as { shown: string[]; beeps: number };
      return { shown: w.shown, beeps: w.beeps };
    });
    expect(shown).toContain(`pumpwatch: Occlusion — ${serial(8)}`);
    // an older high alert may escalate meanwhile (ESCALATE_AFTER_S=30) and ring too; the low battery never does
    expect(shown.some((t) => t.includes(serial(10)))).toBe(false);
    expect(beeps).toBe(3 * shown.length);
  });

  test('cleared-but-unacknowledged alerts stay; escalated ones stand out', async () => {
    const page = await loggedIn('nurse', 'nurse-pass-1');
    const item5 = alertItem(page, `Occlusion — ${serial(5)}`);
    await item5.waitFor();
    await feeds[5]!.send({ type: 'event', code: 'ALARM_OFF', detail: 'OCCL_DN' });
    await statusNow(feeds[5]!, 'RUN', { infusedMl: 100 });
    await item5.getByText(/cleared \d\d:/).waitFor({ timeout: 5000 });
    await page.reload();
    await alertItem(page, `Occlusion — ${serial(5)}`).getByText(/cleared \d\d:/).waitFor();
    await statusNow(feeds[9]!, 'ALARM', { pressureMmHg: 790, alarms: ['OCCL_DN'] });
    await feeds[9]!.send({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' });
    // ESCALATE_AFTER_S=30: unacknowledged for 30 s, the server pushes it again, escalated
    const esc = alertItem(page, `Occlusion — Home 9`);
    await esc.getByText('ESCALATED').waitFor({ timeout: 45_000 });
    expect(await page.locator('.alerts-list > li').first().innerText()).toMatch(/Occlusion — Home 9/);
  }, 60_000);

  test('under a burst of 500 updates the keyed board stays exactly in attention-first order', async () => {
    const page = await loggedIn('nurse', 'nurse-pass-1');
    await page.locator('.board-body .board-row').nth(11).waitFor();
    const states: PumpState[] = ['RUN', 'PAUSE', 'ALARM', 'END', 'IDLE', 'RUN'];
    const sends: Promise<void>[] = [];
    for (let n = 0; n < 500; n++) {
      const i = 6 + ((n * 5) % 6);
      const state = states[(n * 7) % states.length]!;
      sends.push(statusNow(feeds[i]!, state, { infusedMl: 20 + n / 10, batteryPct: n % 50 === 0 ? 15 : 80, alarms: state === 'ALARM' ? ['AIR'] : [] }));
      if (n % 50 === 0) sends.push(live.api(`/api/pumps/${serial(i)}/label`, { method: 'PUT', body: JSON.stringify({ label: `L${n % 9}` }) }));
    }
    await Promise.all(sends);
    await expect.poll(async () => JSON.stringify(await shownOrder(page)) === JSON.stringify(await expectedOrder()), { timeout: 10_000 }).toBe(true);
  });

  test('a lost connection shows the stale banner with the time, and it goes once resynchronised', async () => {
    const page = await loggedIn('nurse', 'nurse-pass-1');
    await page.locator('.board-body .board-row').first().waitFor();
    await page.locator('#stale-banner').waitFor({ state: 'hidden' });
    await live.stopServer();
    const banner = page.locator('#stale-banner');
    await banner.waitFor({ state: 'visible', timeout: 3000 });
    expect(await banner.innerText()).toMatch(/Live updates lost since \d\d:\d\d:\d\d — data may be out of date/);
    expect(await page.evaluate(() => document.body.classList.contains('stale'))).toBe(true);
    // the world changes while the page is cut off (the broker keeps it for the server); the snapshot after reconnect shows it
    await feeds[0]!.send({ type: 'event', code: 'POWER_OFF', detail: '' });
    await statusNow(feeds[3]!, 'PAUSE', { infusedMl: 10 });
    await live.startServer();
    await banner.waitFor({ state: 'hidden', timeout: 15_000 });
    await page.locator(`[data-pump="${serial(3)}"]`, { hasText: 'Paused' }).waitFor({ timeout: 5000 });
  }, 60_000);

  test('a connection that dies silently (socket open, nothing gets through) is found by the health probe', async () => {
    const page = await loggedIn('nurse', 'nurse-pass-1');
    await page.locator('.board-body .board-row').first().waitFor();
    await page.locator('#stale-banner').waitFor({ state: 'hidden' });
    live.silent = true;
    try {
      // probe every 15 s with a 5 s timeout
      await page.locator('#stale-banner').waitFor({ state: 'visible', timeout: 30_000 });
      expect(await page.locator('#stale-banner').innerText()).toMatch(/Live updates lost since/);
    } finally {
      live.silent = false;
    }
    await page.locator('#stale-banner').waitFor({ state: 'hidden', timeout: 20_000 });
  }, 60_000);

  test('pump detail: program, four charts, timeline with the alarm; a label given there is what every board shows', async () => {
    const page = await loggedIn('nurse', 'nurse-pass-1');
    const board = await loggedIn('nurse2', 'nurse2-pass-1');
    await page.locator('.board-body .board-row').first().waitFor();
    await page.locator(`[data-pump="${serial(5)}"] a.pump-name`).click();
    await page.locator('.detail .uplot').nth(3).waitFor({ timeout: 15_000 });
    expect(await page.locator('.detail .uplot').count()).toBe(4);
    const facts = await page.locator('.facts').innerText();
    expect(facts).toMatch(/CYTARABINE/);
    expect(facts).toMatch(/FOLFOX-C6/);
    expect(facts).toMatch(/46 h/);
    await page.locator('.timeline').getByText(/pump alarm OCCL_DN on/).first().waitFor({ timeout: 15_000 });
    expect(await page.locator('.timeline').innerText()).toMatch(/RUN → ALARM/);
    await page.screenshot({ path: join(SCREENSHOTS, 'pump-detail-occlusion.png'), fullPage: true });
    await page.getByLabel(/Label shown on the board/).fill('Round B, visit 4');
    await page.getByRole('button', { name: 'Save label' }).click();
    await page.getByText('Saved.').waitFor();
    expect((await live.api<PumpView>(`/api/pumps/${serial(5)}`)).label).toBe('Round B, visit 4');
    await board.locator(`[data-pump="${serial(5)}"] a.pump-name`, { hasText: 'Round B, visit 4' }).waitFor({ timeout: 5000 });
    // a pump change alone (no alert message) redraws that pump's alert items too
    await alertItem(board, 'Occlusion — Round B, visit 4').waitFor({ timeout: 5000 });
    await page.getByRole('link', { name: /Back to all pumps/ }).click();
    await page.locator(`[data-pump="${serial(5)}"] a.pump-name`, { hasText: 'Round B, visit 4' }).waitFor();
  });

  test('billing: episodes with codes and interruptions, CSV download and evidence link; a removed account is logged out', async () => {
    const page = await loggedIn('billing', 'billing-pass-1');
    await page.locator('table.episodes tbody tr').nth(1).waitFor({ timeout: 15_000 });
    // the 46 h infusion with a 24-min pause is continuous; the 20 h one with a 48-min occlusion is not
    const continuous = await page.locator('table.episodes tbody tr', { hasText: serial(0) }).innerText();
    expect(continuous).toMatch(/S9330 — continuous/);
    expect(continuous).toMatch(/longest 24 min/);
    const short = await page.locator('table.episodes tbody tr', { hasText: serial(1) }).innerText();
    expect(short).toMatch(/S9331 — intermittent/);
    expect(short).toMatch(/longest 48 min/);
    expect(await page.locator('.board').count()).toBe(0);
    const evidence = page.locator('a[href^="/api/billing/episodes/"][href$="/evidence"]');
    expect(await evidence.count()).toBeGreaterThanOrEqual(2);
    await page.getByLabel('Pump serial').fill(serial(1));
    await page.getByRole('button', { name: 'Show episodes' }).click();
    await page.getByText(/^1 episodes/).waitFor();
    const link = page.getByRole('link', { name: 'Download CSV' });
    expect(await link.getAttribute('href')).toBe(`/api/billing/episodes.csv?pump=${serial(1)}`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv).toMatch(/^id,pump,programId,/);
    expect(csv).toContain(`,${serial(1)},FOLFOX-C2,`);
    expect(csv).not.toContain(serial(0));
    // the account is removed (npm run users -- remove): its session ends, the login comes back with the reason
    live.removeUser('billing');
    await expect.poll(async () => (await page.evaluate(async () => (await fetch('/api/me')).status)), { timeout: 10_000 }).toBe(401);
    await page.getByRole('button', { name: 'Show episodes' }).click();
    await page.getByText('Your session has ended').waitFor();
    expect(await page.locator('table.episodes').count()).toBe(0);
  });

  test('phone: one column, alerts above the board, every control reachable by keyboard; logout ends the session', async () => {
    const page = await loggedIn('nurse', 'nurse-pass-1', { width: 390, height: 844 });
    await page.locator('.board-body .board-row').first().waitFor();
    const alerts = await page.locator('.alerts').boundingBox();
    const board = await page.locator('.board').boundingBox();
    expect(alerts && board && board.y > alerts.y && Math.abs(board.x - alerts.x) < 2, 'one column').toBe(true);
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth, 'no sideways scrolling').toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SCREENSHOTS, 'phone-twelve-homes.png') });
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.classList.contains('ack-button') ?? false);
    }
    expect(reached, 'Acknowledge reachable with Tab').toBe(true);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('User name').waitFor();
    expect(await page.evaluate(async () => (await fetch('/api/me')).status)).toBe(401);
  });
});
