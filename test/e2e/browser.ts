/** Debian's chromium driven by playwright-core, headless, with background networking off. */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Builds dashboard/dist (what the servers serve at /). */
export function buildDashboard(): void {
  execFileSync('node', ['scripts/buildDashboard.mjs', '--quiet'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'inherit' });
}

/**
 * Where the browser tests save screenshots: a temp folder, so a test run leaves the working tree
 * clean; `PUMPWATCH_SCREENSHOTS_DIR=docs/screenshots npm test -- e2e` refreshes the documentation's.
 */
export const SCREENSHOTS = resolve(process.env.PUMPWATCH_SCREENSHOTS_DIR ?? join(tmpdir(), 'pumpwatch-screenshots'));
mkdirSync(SCREENSHOTS, { recursive: true });

export const DESKTOP = { width: 1440, height: 900 };

/** A new browser context at `url` (kept in `contexts` for closing) with `user` logged in through the login form. */
export async function loggedInPage(
  browser: Browser, contexts: BrowserContext[], url: string, user: { name: string; password: string }, viewport = DESKTOP,
): Promise<Page> {
  const ctx = await browser.newContext({ viewport, acceptDownloads: true });
  contexts.push(ctx);
  const page = await ctx.newPage();
  await page.goto(url);
  await page.getByLabel('User name').fill(user.name);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  return page;
}
