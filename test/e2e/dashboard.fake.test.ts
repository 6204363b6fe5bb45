/** The dashboard in a real chromium against the contract-faithful fake server. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildDashboard, launchChromium, SCREENSHOTS } from './browser.ts';
import { fakeAlert, fakeEpisodes, fakePump, fakeTelemetry } from './fakeData.ts';
import { FakeServer } from './fakeServer.ts';
import { attentionRank, compareBoardKeys, summarizeAlerts } from '../../dashboard/src/sort.ts';
import { pumpName } from '../../dashboard/src/format.ts';
import type { PumpState } from '../../protocol/sentence.ts';

const NOW = Date.now();
let server: FakeServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function loggedIn(user: string, password: string, viewport = { width: 1440, height: 900 }): Promise<Page> {
  const ctx = await browser.newContext({ viewport, acceptDownloads: true });
  contexts.push(ctx);
  const page = await ctx.newPage();
  await page.goto(server.url);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  return page;
}

before(async () => {
  buildDashboard();
  const pumps = Array.from({ length: 12 }, (_, i) => fakePump(i, NOW));
  pumps[5] = fakePump(5, NOW, { state: 'ALARM', alarms: ['OCCL_DN'], pressureMmHg: 790 });
  server = new FakeServer({
    pumps,
    alerts: [fakeAlert('al-5', pumps[5].pump, NOW - 60_000)],
    telemetry: { [pumps[5].pump]: fakeTelemetry(NOW - 20 * 3_600_000, 20) },
    episodes: fakeEpisodes(NOW),
  });
  await server.start();
  browser = await launchChromium();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await server?.stop();
});

describe('dashboard against the fake server', () => {
  test('a wrong password is refused with a message; no session is made', async () => {
    const page = await loggedIn('nurse', 'wrong');
    await page.getByText('Wrong user name or password.').waitFor();
    assert.equal(await page.locator('.board').count(), 0);
  });

  test('a nurse sees every pump, attention first, state in words; the session survives a reload', async () => {
    const page = await loggedIn('nurse', 'nurse-pass');
    await page.locator('.board-body .board-row').nth(11).waitFor();
    assert.equal(await page.locator('.board-body .board-row').count(), 12);
    const first = page.locator('.board-body .board-row').first();
    assert.equal(await first.getAttribute('data-pump'), 'CS7-004505');
    assert.match(await first.innerText(), /ALARM · OCCL_DN/);
    assert.match(await first.innerText(), /790 mmHg/);
    await page.locator('#stale-banner').waitFor({ state: 'hidden' });
    await page.reload();
    await page.locator('.board-body .board-row').nth(11).waitFor();
    assert.match(await page.locator('.top .who').innerText(), /nurse \(nurse\)/);
    await page.screenshot({ path: join(SCREENSHOTS, 'board-fake.png') });
  });

  test('a new alert appears live, is acknowledged with one click (CSRF header sent), and a second nurse sees who', async () => {
    const page = await loggedIn('nurse', 'nurse-pass');
    const other = await loggedIn('nurse2', 'nurse2-pass');
    await page.locator('.board-body .board-row').first().waitFor();
    await other.locator('.board-body .board-row').first().waitFor();
    server.upsertPump(fakePump(2, NOW, { state: 'ALARM', alarms: ['OCCL_UP'] }));
    server.upsertAlert(fakeAlert('al-2', 'CS7-004502', Date.now(), { message: 'Line blocked upstream on CS7-004502.' }));
    const item = page.locator('[data-alert="al-2"]');
    await item.waitFor({ timeout: 2000 });
    await page.waitForFunction(() => /HIGH alert, pump CS7-004502/.test(document.getElementById('live-assertive')?.textContent ?? ''), null, { timeout: 2000 });
    assert.match(await item.innerText(), /Not acknowledged/);
    const refusedBefore = server.csrfRefused;
    await item.getByRole('button', { name: /Acknowledge/ }).click();
    await item.getByText(/Acknowledged by nurse at \d\d:\d\d:\d\d/).waitFor({ timeout: 2000 });
    assert.equal(server.alerts.get('al-2')?.ackedBy, 'nurse');
    assert.equal(await item.getByRole('button', { name: /Acknowledge/ }).isVisible(), false, 'no second acknowledge');
    assert.equal(server.csrfRefused, refusedBefore);
    await other.locator('[data-alert="al-2"]').getByText(/Acknowledged by nurse at/).waitFor({ timeout: 2000 });
  });

  test('a new high alert beeps and raises a browser notification; a low one does neither', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(ctx);
    await ctx.grantPermissions(['notifications'], { origin: server.url });
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
    await page.goto(server.url);
    await page.getByLabel('User name').fill('nurse');
    await page.getByLabel('Password').fill('nurse-pass');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.board-body .board-row').first().waitFor();
    await page.getByRole('button', { name: /sound/i }).click();
    server.upsertAlert(fakeAlert('al-low', 'CS7-004507', Date.now(), { severity: 'low', type: 'low_battery', message: 'Battery at 18 %.' }));
    await page.locator('[data-alert="al-low"]').waitFor();
    server.upsertAlert(fakeAlert('al-high', 'CS7-004508', Date.now()));
    await page.locator('[data-alert="al-high"]').waitFor();
    const perm = await page.evaluate(() => Notification.permission);
    assert.equal(perm, 'granted');
    await page.waitForFunction(() => (window as unknown as { shown: string[] }).shown.length > 0, null, { timeout: 2000 });
    const { shown, beeps } = await page.evaluate(() => {
      const w = window as unknown as { shown: string[]; beeps: number };
      return { shown: w.shown, beeps: w.beeps };
    });
    assert.deepEqual(shown, ['pumpwatch: Occlusion — CS7-004508']);
    assert.equal(beeps, 3);
  });

  test('cleared-but-unacknowledged alerts stay; escalated ones stand out', async () => {
    const page = await loggedIn('nurse', 'nurse-pass');
    await page.locator('[data-alert="al-5"]').waitFor();
    server.upsertAlert({ ...server.alerts.get('al-5')!, status: 'cleared', clearedAt: new Date().toISOString() });
    await page.locator('[data-alert="al-5"]').getByText(/cleared \d\d:/).waitFor();
    await page.reload();
    await page.locator('[data-alert="al-5"]').waitFor();
    server.upsertAlert(fakeAlert('al-9', 'CS7-004509', Date.now(), { escalated: true }));
    const esc = page.locator('[data-alert="al-9"]');
    await esc.getByText('ESCALATED').waitFor();
    assert.equal(await page.locator('.alerts-list > li').first().getAttribute('data-alert'), 'al-9');
  });

  test('under a burst of 500 updates the keyed board stays exactly in attention-first order', async () => {
    const page = await loggedIn('nurse', 'nurse-pass');
    await page.locator('.board-body .board-row').nth(11).waitFor();
    const states: PumpState[] = ['RUN', 'PAUSE', 'ALARM', 'END', 'IDLE', 'RUN'];
    for (let n = 0; n < 500; n++) {
      const i = (n * 5) % 12;
      const p = fakePump(i, NOW, { state: states[(n * 7) % states.length]!, label: n % 4 === 0 ? `L${n % 9}` : server.pumps.get(fakePump(i, NOW).pump)?.label ?? null });
      server.upsertPump(p);
      if (n % 50 === 0) server.upsertAlert(fakeAlert(`burst-${n}`, p.pump, Date.now(), { severity: n % 100 === 0 ? 'medium' : 'low', type: 'low_battery' }));
    }
    const summary = summarizeAlerts(server.alerts.values());
    const expected = [...server.pumps.values()]
      .map((p) => ({ rank: attentionRank(p, summary.get(p.pump)), name: pumpName(p), pump: p.pump }))
      .sort(compareBoardKeys).map((k) => k.pump);
    const shown = (): Promise<string[]> => page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.board-body .board-row')].map((e) => e.dataset.pump ?? ''));
    for (let i = 0; i < 50 && JSON.stringify(await shown()) !== JSON.stringify(expected); i++) await page.waitForTimeout(100);
    assert.deepEqual(await shown(), expected);
  });

  test('a lost connection shows the stale banner with the time, and it goes once resynchronised', async () => {
    const page = await loggedIn('nurse', 'nurse-pass');
    await page.locator('.board-body .board-row').first().waitFor();
    await page.locator('#stale-banner').waitFor({ state: 'hidden' });
    await server.stop();
    const banner = page.locator('#stale-banner');
    await banner.waitFor({ state: 'visible', timeout: 3000 });
    assert.match(await banner.innerText(), /Live updates lost since \d\d:\d\d:\d\d — data may be out of date/);
    assert.ok(await page.evaluate(() => document.body.classList.contains('stale')));
    // the world changes while the page is cut off; the snapshot after reconnect must show it
    server.pumps.set('CS7-004500', fakePump(0, NOW, { state: 'PAUSE', label: 'Changed while offline' }));
    await server.start();
    await banner.waitFor({ state: 'hidden', timeout: 15_000 });
    await page.locator('[data-pump="CS7-004500"] a.pump-name', { hasText: 'Changed while offline' }).waitFor({ timeout: 2000 });
  });

  test('a connection that dies silently (socket open, nothing gets through) is found by the health probe', async () => {
    const page = await loggedIn('nurse', 'nurse-pass');
    await page.locator('.board-body .board-row').first().waitFor();
    await page.locator('#stale-banner').waitFor({ state: 'hidden' });
    server.frozen = true;
    try {
      // probe every 15 s with a 5 s timeout
      await page.locator('#stale-banner').waitFor({ state: 'visible', timeout: 30_000 });
      assert.match(await page.locator('#stale-banner').innerText(), /Live updates lost since/);
    } finally {
      server.frozen = false;
    }
    await page.locator('#stale-banner').waitFor({ state: 'hidden', timeout: 20_000 });
  });

  test('pump detail: program, four charts, timeline with the alarm', async () => {
    const page = await loggedIn('nurse', 'nurse-pass');
    await page.locator('.board-body .board-row').first().waitFor();
    await page.locator('[data-pump="CS7-004505"] a.pump-name').click();
    await page.locator('.detail .uplot').nth(3).waitFor();
    assert.equal(await page.locator('.detail .uplot').count(), 4);
    const facts = await page.locator('.facts').innerText();
    assert.match(facts, /CYTARABINE/);
    assert.match(facts, /FOLFOX-C6/);
    assert.match(facts, /46 h/);
    assert.match(await page.locator('.timeline').innerText(), /pump alarm OCCL_DN on/);
    assert.match(await page.locator('.timeline').innerText(), /RUN → ALARM/);
    await page.screenshot({ path: join(SCREENSHOTS, 'pump-detail-fake.png'), fullPage: true });
    // a label given here is what every board shows
    await page.getByLabel(/Label shown on the board/).fill('Round B, visit 4');
    await page.getByRole('button', { name: 'Save label' }).click();
    await page.getByText('Saved.').waitFor();
    assert.equal(server.pumps.get('CS7-004505')?.label, 'Round B, visit 4');
    await page.getByRole('link', { name: /Back to all pumps/ }).click();
    await page.locator('[data-pump="CS7-004505"] a.pump-name', { hasText: 'Round B, visit 4' }).waitFor();
  });

  test('billing: episodes with codes and interruptions, CSV download and evidence link; nurse has no billing', async () => {
    const page = await loggedIn('billing', 'billing-pass');
    await page.locator('table.episodes tbody tr').nth(1).waitFor();
    const text = await page.locator('table.episodes').innerText();
    assert.match(text, /S9330 — continuous/);
    assert.match(text, /S9331/);
    assert.match(text, /1, longest 48 min/);
    assert.equal(await page.locator('.board').count(), 0);
    assert.equal(await page.locator('a[href="/api/billing/episodes/ep-1/evidence"]').count(), 1);
    await page.getByLabel('Pump serial').fill('CS7-004501');
    await page.getByRole('button', { name: 'Show episodes' }).click();
    await page.getByText('1 episodes').waitFor();
    const link = page.getByRole('link', { name: 'Download CSV' });
    assert.equal(await link.getAttribute('href'), '/api/billing/episodes.csv?pump=CS7-004501');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const csv = readFileSync((await download.path()), 'utf8');
    assert.match(csv, /^pump,programId/);
    assert.match(csv, /CS7-004501,FOLFOX-C2/);
    assert.doesNotMatch(csv, /CS7-004500/);
    // a session that ended meanwhile brings back the login, with the reason
    server.dropSessions();
    await page.getByRole('button', { name: 'Show episodes' }).click();
    await page.getByText('Your session has ended').waitFor();
    assert.equal(await page.locator('table.episodes').count(), 0);
  });

  test('phone: one column, alerts above the board, every control reachable by keyboard; logout ends the session', async () => {
    const page = await loggedIn('nurse', 'nurse-pass', { width: 390, height: 844 });
    await page.locator('.board-body .board-row').first().waitFor();
    const alerts = await page.locator('.alerts').boundingBox();
    const board = await page.locator('.board').boundingBox();
    assert.ok(alerts && board && board.y > alerts.y && Math.abs(board.x - alerts.x) < 2, 'one column');
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= 390, `no sideways scrolling (${scrollWidth})`);
    await page.screenshot({ path: join(SCREENSHOTS, 'phone-fake.png') });
    // Tab reaches an Acknowledge button
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.classList.contains('ack-button') ?? false);
    }
    assert.ok(reached, 'Acknowledge reachable with Tab');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('User name').waitFor();
    const me = await page.evaluate(async () => (await fetch('/api/me')).status);
    assert.equal(me, 401);
  });
});
