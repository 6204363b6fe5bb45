/**
 * The nurse visit in a real chromium against the real server (liveServer.ts): on a phone-sized
 * screen a nurse puts a running pump in visit from its detail page; another nurse's board shows
 * "In visit until HH:MM <zone> (by …)" at once; ending it clears that board too. The controls are at
 * least 48 px tall.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { PumpView } from '../../protocol/api.ts';
import { buildDashboard, launchChromium, loggedInPage } from './browser.ts';
import { LiveServer } from './liveServer.ts';
import { infuse } from './pumpWorld.ts';

const USERS = [
  { name: 'anna', password: 'anna-pass-1', role: 'nurse' },
  { name: 'bea', password: 'bea-pass-1', role: 'nurse' },
] as const;
const PUMP = 'CS7-VISIT1';
const PHONE = { width: 390, height: 844 };

const live = new LiveServer();
let browser: Browser;
const contexts: BrowserContext[] = [];

async function loggedIn(user: (typeof USERS)[number]): Promise<Page> {
  return loggedInPage(browser, contexts, live.url, user, PHONE);
}

beforeAll(async () => {
  buildDashboard();
  await live.start(USERS.map((u) => ({ ...u })), { SIGNAL_LOST_S: '3600' });
  browser = await launchChromium();
  const now = Date.now();
  await infuse(live.pump(PUMP, 'home-visit-1'), { startMs: now - 30 * 60_000, untilMs: now - 20_000, programId: 'V-1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, programHours: 46 });
  await vi.waitFor(async () => expect((await live.api<PumpView>(`/api/pumps/${PUMP}`)).state).toBe('RUN'), { timeout: 30_000, interval: 200 });
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await live.dispose();
});

describe('nurse visit on the board', () => {
  test('one nurse starts a visit on a phone; every other board shows who and until when; ending it clears it', async () => {
    const anna = await loggedIn(USERS[0]);
    const bea = await loggedIn(USERS[1]);
    const beaRow = bea.locator(`.board-body [data-pump="${PUMP}"]`);
    await beaRow.waitFor();
    await expect.poll(() => beaRow.locator('.pump-visit').textContent()).toBe('');

    await anna.goto(`${live.url}/#/pump/${PUMP}`);
    const minutes = anna.getByLabel('Nurse visit: pump may be stopped for');
    await minutes.waitFor();
    expect(await minutes.inputValue()).toBe('30');
    await minutes.selectOption('45');
    const start = anna.getByRole('button', { name: 'Start visit', exact: true });
    for (const control of [minutes, start]) expect((await control.boundingBox())?.height ?? 0).toBeGreaterThanOrEqual(48);
    await start.click();
    await anna.getByRole('status').filter({ hasText: 'Visit started.' }).waitFor();

    const until = (await live.api<PumpView>(`/api/pumps/${PUMP}`)).visit?.until;
    expect(until).toBeTruthy();
    // in the zone the board shows this pump's times in (no patient here: the server's), named
    const { timeZone } = await live.api<{ timeZone: string }>('/api/me');
    const hhmm = await bea.evaluate(([iso, zone]) => {
      const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }).formatToParts(Date.parse(iso));
      const part = (t: string): string => parts.find((x) => x.type === t)?.value ?? '';
      return `${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
    }, [until!, timeZone] as const);
    await expect.poll(() => beaRow.locator('.pump-visit').textContent(), { timeout: 10_000 }).toBe(`In visit until ${hhmm} (by anna)`);
    await expect.poll(() => anna.locator('.visit-current').textContent()).toBe(`In visit until ${hhmm} (by anna)`);

    const end = anna.getByRole('button', { name: 'End visit', exact: true });
    expect((await end.boundingBox())?.height ?? 0).toBeGreaterThanOrEqual(48);
    await end.click();
    await expect.poll(() => beaRow.locator('.pump-visit').textContent(), { timeout: 10_000 }).toBe('');
    expect((await live.api<PumpView>(`/api/pumps/${PUMP}`)).visit).toBeNull();
  });
});
