/** Debian's chromium driven by playwright-core, headless, with background networking off. */
import { execFileSync } from 'node:child_process';
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

export const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
