/**
 * A checkout that never built anything (no dashboard/dist, no .build): `npm run server`, then the
 * URL it prints shows the nurses' board, not a 404. The checkout is what a clone of this working
 * tree would hold: its tracked files and the new ones git does not ignore (`git ls-files --cached
 * --others --exclude-standard`), as they are now, with node_modules linked in.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { startProcess, type RunningProcess } from '../helpers/childProcess.ts';
import { startInfluxd, type InfluxServer } from '../helpers/influxd.ts';
import { startMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir, type TempDir } from '../helpers/tempDir.ts';
import { launchChromium } from './browser.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let checkout: TempDir;
let broker: Broker;
let influx: InfluxServer;
let server: RunningProcess | null = null;
let browser: Browser | null = null;

beforeAll(async () => {
  checkout = tempDir('pumpwatch-checkout-');
  const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of tracked) {
    if (!existsSync(join(ROOT, file))) continue; // deleted in the working tree, not committed yet
    mkdirSync(dirname(join(checkout.path, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(checkout.path, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(checkout.path, 'node_modules'));
  broker = await startMosquitto();
  influx = await startInfluxd();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await broker?.dispose();
  await influx?.dispose();
  checkout?.remove();
});

test('npm run server on a checkout without dashboard/dist builds it, and the printed URL shows the login of the board', async () => {
  expect(existsSync(join(checkout.path, 'dashboard', 'dist'))).toBe(false);
  const port = await freePort();
  server = startProcess('npm', ['run', '--silent', 'server'], {
    cwd: checkout.path,
    env: {
      MQTT_URL: broker.url, INFLUX_URL: influx.urlFor('pumpwatch_fresh'), HOST: '127.0.0.1', PORT: String(port),
      PUMPWATCH_JOURNAL_DIR: join(checkout.path, '.data', 'journal'), PUMPWATCH_USERS_FILE: join(checkout.path, '.data', 'users.json'),
    },
  });
  const listening = await server.waitForLine(/"msg":"listening"/, 90_000);
  const url = (JSON.parse(listening) as { url: string }).url;
  expect(existsSync(join(checkout.path, 'dashboard', 'dist', 'index.html'))).toBe(true);
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);

  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(url);
  await page.getByLabel('User name').waitFor({ timeout: 10_000 });
  await page.getByLabel('Password').waitFor();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  expect(await page.locator('body').innerText()).not.toMatch(/not_found|unknown file/);
}, 150_000);
