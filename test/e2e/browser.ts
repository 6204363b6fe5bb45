/** Debian's chromium driven by playwright-core, headless, with background networking off. */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

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
