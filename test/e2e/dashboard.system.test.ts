/**
 * The dashboard against the real system: Mosquitto, influxd, server, gateway and a pump on a socat
 * pty. An occlusion written on the serial line reaches the page within 2 s; acknowledging it shows
 * in a second nurse's browser; a server restart shows the stale banner and then recovery; billing
 * CSV downloads.
 */
import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildDashboard, launchChromium, loggedInPage, SCREENSHOTS } from './browser.ts';
import { RealStack } from './realStack.ts';

const SERIAL = 'CS7-E2E001';
const stack = new RealStack();
let browser: Browser;
const contexts: BrowserContext[] = [];

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function loggedIn(user: string, password: string): Promise<Page> {
  const page = await loggedInPage(browser, contexts, stack.url, { name: user, password });
  await page.locator('.top .who').waitFor();
  return page;
}

beforeAll(async () => {
  buildDashboard();
  await stack.start([
    { name: 'nurse', password: 'night-shift-1', role: 'nurse' },
    { name: 'nurse2', password: 'night-shift-2', role: 'nurse' },
    { name: 'admin', password: 'admin-pass-1', role: 'admin' },
  ]);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stack.dispose();
});

test('occlusion on the serial line → alert on the page within 2 s → acknowledged for everyone; restart → stale banner → recovery; billing CSV', async () => {
  const nurse = await loggedIn('nurse', 'night-shift-1');
  const nurse2 = await loggedIn('nurse2', 'night-shift-2');
  await nurse.locator('#stale-banner').waitFor({ state: 'hidden', timeout: 15_000 });

  // three hours of an uneventful infusion, as the pump would have sent it
  const now = Date.now();
  const start = now - 3 * 3_600_000;
  await stack.send({ type: 'event', code: 'POWER_ON', detail: '1.0', time: iso(start - 60_000) });
  await stack.send({ type: 'program', programId: 'E2E-C1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46, time: iso(start - 10_000) });
  await stack.send({ type: 'event', code: 'START', detail: 'E2E-C1', time: iso(start) });
  let infused = 0;
  for (let t = start; t < now - 60_000; t += 5 * 60_000) {
    await stack.send({
      type: 'status', state: 'RUN', rateMlH: 5, infusedMl: Math.round(infused * 100) / 100, vtbiMl: Math.round((230 - infused) * 100) / 100,
      reservoirMl: Math.round((230 - infused) * 100) / 100, pressureMmHg: 35 + Math.round((t - start) / 3_600_000), batteryPct: 98 - Math.floor((t - start) / 3_600_000), alarms: [], time: iso(t),
    });
    infused += 5 / 12;
  }
  const row = nurse.locator(`[data-pump="${SERIAL}"]`);
  await row.waitFor({ timeout: 30_000 });
  await nurse.getByText(/Running/).first().waitFor({ timeout: 10_000 });

  // the occlusion, written on the serial port now
  const vi = Math.round(infused * 100) / 100;
  const t0 = Date.now();
  await stack.send({ type: 'status', state: 'ALARM', rateMlH: 5, infusedMl: vi, vtbiMl: Math.round((230 - vi) * 100) / 100, reservoirMl: Math.round((230 - vi) * 100) / 100, pressureMmHg: 790, batteryPct: 95, alarms: ['OCCL_DN'] });
  await stack.send({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' });
  const item = nurse.locator('.alerts-list > li', { hasText: `Occlusion — ${SERIAL}` }).first();
  await item.waitFor({ timeout: 2000 });
  const latencyMs = Date.now() - t0;
  assert.ok(latencyMs < 2000, `alert shown after ${latencyMs} ms`);
  console.log(`occlusion on the serial line to alert on the page: ${latencyMs} ms`);
  // the pump's own row follows in the next board batch (at most a quarter of a second later)
  await nurse.locator(`[data-pump="${SERIAL}"]`, { hasText: 'ALARM · OCCL_DN' }).waitFor({ timeout: 2000 });
  assert.equal(await nurse.locator('.board-body .board-row').first().getAttribute('data-pump'), SERIAL);

  await item.getByRole('button', { name: /Acknowledge/ }).click();
  await item.getByText(/Acknowledged by nurse at \d\d:\d\d:\d\d/).waitFor({ timeout: 2000 });
  const other = nurse2.locator('.alerts-list > li', { hasText: `Occlusion — ${SERIAL}` }).first();
  await other.getByText(/Acknowledged by nurse at \d\d:\d\d:\d\d/).waitFor({ timeout: 2000 });
  await nurse.screenshot({ path: join(SCREENSHOTS, 'board.png') });

  // pump detail with charts and the alert on the timeline
  const detail = await loggedIn('nurse', 'night-shift-1');
  await detail.goto(`${stack.url}/#/pump/${SERIAL}`);
  await detail.locator('.detail .uplot').nth(3).waitFor({ timeout: 15_000 });
  await detail.locator('.timeline').getByText(/HIGH alert: Occlusion/).waitFor({ timeout: 15_000 });
  assert.match(await detail.locator('.facts').innerText(), /FLUOROURACIL/);
  await detail.screenshot({ path: join(SCREENSHOTS, 'pump-detail.png'), fullPage: true });

  // the server goes away: every open page says so, with the time
  await stack.stopServer();
  const banner = nurse.locator('#stale-banner');
  await banner.waitFor({ state: 'visible', timeout: 5000 });
  assert.match(await banner.innerText(), /Live updates lost since \d\d:\d\d:\d\d — data may be out of date/);
  await nurse2.locator('#stale-banner').waitFor({ state: 'visible', timeout: 5000 });
  await nurse.screenshot({ path: join(SCREENSHOTS, 'stale-banner.png') });
  await stack.startServer();
  // recovery: sessions survive the restart, so each page goes live again by itself, no login asked
  for (const page of [nurse, nurse2]) {
    await page.locator('#stale-banner').waitFor({ state: 'hidden', timeout: 30_000 });
    assert.equal(await page.getByText('Your session has ended').count(), 0, 'not logged out by the restart');
    // resynchronised from the snapshot: the pump and who acknowledged are still there
    await page.locator(`[data-pump="${SERIAL}"]`).waitFor();
    await page.locator('.alerts-list > li', { hasText: `Occlusion — ${SERIAL}` }).first().getByText(/Acknowledged by nurse/).waitFor({ timeout: 5000 });
  }

  // billing CSV (admin sees billing)
  const admin = await loggedIn('admin', 'admin-pass-1');
  await admin.goto(`${stack.url}/#/billing`);
  await admin.locator('.billing-status').getByText(/episodes/).waitFor({ timeout: 15_000 });
  const link = admin.getByRole('link', { name: 'Download CSV' });
  const [download] = await Promise.all([admin.waitForEvent('download'), link.click()]);
  const csv = readFileSync((await download.path()), 'utf8');
  const [header, ...rows] = csv.trim().split(/\r?\n/);
  assert.match(header ?? '', /pump/);
  assert.ok(rows.some((r) => r.includes(SERIAL)), `CSV has the episode of ${SERIAL}:\n${csv}`);
});
