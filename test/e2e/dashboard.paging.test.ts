/**
 * Paging in the dashboard, in a real chromium against the real server (buildServer in this process
 * through liveServer.ts) on real PostgreSQL, Mosquitto and influxd, paging by e-mail to a real SMTP
 * server started here: an admin sets e-mail contacts and the rota on the On call page (times in the
 * agency's zone, named; the reasons beside the fields), a nurse on a phone sees who is on call; an
 * occlusion pages the first on call, the alert shows who is paged and its page history, the accept
 * from the e-mailed link shows who accepted, an acknowledgement with a note and an outcome shows on
 * the alert and in the pump's timeline; a chain nobody can be reached on shows "Nobody could be
 * paged" in red, and one-tap acknowledge still works.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { OnCallNow } from '../../dashboard/src/rota.ts';
import { freePort } from '../helpers/ports.ts';
import { startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { buildDashboard, launchChromium, loggedInPage, SCREENSHOTS } from './browser.ts';
import { LiveServer, type PumpFeed } from './liveServer.ts';
import { infuse, statusNow } from './pumpWorld.ts';

const H = 3_600_000;
const ZONE = 'America/Chicago';
const USERS = [
  { name: 'admin', password: 'admin-pass-1', role: 'admin' },
  { name: 'anna', password: 'anna-pass-1', role: 'nurse' },
  { name: 'bea', password: 'bea-pass-1', role: 'nurse' },
  // on call with no way to reach her: a chain of only her pages nobody
  { name: 'carl', password: 'carl-pass-1', role: 'nurse' },
] as const;
const PAGED_PUMP = 'CS7-PAGE01';
const UNREACHABLE_PUMP = 'CS7-PAGE02';
const PHONE = { width: 390, height: 844 };

/** A real SMTP server: what arrives, parsed. */
class MailDrop {
  readonly mails: { to: string; subject: string; text: string }[] = [];
  port = 0;
  private server: SMTPServer | null = null;

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onData: (stream, session, done) => {
        simpleParser(stream).then((m) => {
          for (const rcpt of session.envelope.rcptTo) this.mails.push({ to: rcpt.address, subject: m.subject ?? '', text: `${m.text ?? ''}\n${m.html || ''}` });
          done();
        }, done);
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const live = new LiveServer();
const mail = new MailDrop();
let pg: PostgresServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
let paged: PumpFeed;
let unreachable: PumpFeed;

async function loggedIn(user: (typeof USERS)[number], viewport = { width: 1440, height: 900 }): Promise<Page> {
  return loggedInPage(browser, contexts, live.url, user, viewport);
}

/** the wall clock in the agency's zone `offsetMs` from now, as a datetime-local value */
function agencyInput(offsetMs: number): string {
  const s = new Intl.DateTimeFormat('sv-SE', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(Date.now() + offsetMs);
  return s.replace(' ', 'T');
}

/** that value read back as the instant it names (minutes, as the input has) */
function agencyIso(value: string): string {
  const guess = Date.parse(`${value}:00Z`);
  const wall = (ms: number): number => Date.parse(`${new Intl.DateTimeFormat('sv-SE', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(ms).replace(' ', 'T')}Z`);
  return new Date(guess - (wall(guess) - guess)).toISOString();
}

const alertItem = (page: Page, text: string) => page.locator('.alerts-list > li', { hasText: text }).first();

async function occlusion(feed: PumpFeed): Promise<void> {
  await statusNow(feed, 'ALARM', { infusedMl: 12, pressureMmHg: 790, alarms: ['OCCL_DN'] });
  await feed.send({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' });
}

beforeAll(async () => {
  buildDashboard();
  pg = await startPostgres();
  await mail.start();
  await live.start(USERS.map((u) => ({ ...u })), {
    DATABASE_URL: pg.url, TZ: ZONE, SIGNAL_LOST_S: '3600',
    SMTP_URL: `smtp://127.0.0.1:${mail.port}`, PAGE_FROM: 'pumpwatch@ward.test', PAGE_ACCEPT_S: '5', PAGE_GROUP_S: '0',
  });
  browser = await launchChromium();
  paged = live.pump(PAGED_PUMP, 'home-page-1');
  unreachable = live.pump(UNREACHABLE_PUMP, 'home-page-2');
  await vi.waitFor(async () => expect((await live.api<{ database?: string }>('/api/health')).database).toBe('up'), { timeout: 30_000, interval: 100 });
  const now = Date.now();
  for (const feed of [paged, unreachable]) {
    await infuse(feed, { startMs: now - 30 * 60_000, untilMs: now - 20_000, programId: `P-${feed.serial}`, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, programHours: 46 });
  }
  await vi.waitFor(async () => expect((await live.api<PumpView>(`/api/pumps/${UNREACHABLE_PUMP}`)).state).toBe('RUN'), { timeout: 30_000, interval: 200 });
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await live.dispose();
  await mail.stop();
  await pg?.stop();
});

describe('paging in the dashboard', () => {
  test('an admin sets e-mail contacts and the rota on the On call page; a nurse on a phone sees who is on call', async () => {
    const admin = await loggedIn(USERS[0]);
    await admin.getByRole('link', { name: 'On call' }).click();
    await admin.getByRole('heading', { name: 'On call' }).waitFor();
    // times are typed and shown in the agency's zone, named
    expect(await admin.locator('.oncall-zone').innerText()).toMatch(/America\/Chicago \(C[SD]T\)/);

    const contact = admin.locator('#contact');
    for (const [user, email] of [['anna', 'anna@ward.test'], ['bea', 'bea@ward.test']] as const) {
      await contact.getByLabel('Account name').fill(user);
      await contact.getByLabel(/^E-mail/).fill(email);
      await contact.getByRole('button', { name: 'Save e-mail' }).click();
      await contact.locator('.contact-status', { hasText: `${user} will be paged at ${email}.` }).waitFor();
    }
    await contact.getByLabel('Account name').fill('anna');
    await contact.getByLabel(/^E-mail/).fill('');
    await contact.getByRole('button', { name: 'Look up' }).click();
    await contact.locator('.contact-status', { hasText: 'anna is paged at anna@ward.test.' }).waitFor();
    expect(await contact.getByLabel(/^E-mail/).inputValue()).toBe('anna@ward.test');
    // a malformed address is refused beside the field
    await contact.getByLabel(/^E-mail/).fill('anna-at-ward');
    await contact.getByRole('button', { name: 'Save e-mail' }).click();
    await admin.locator('#contact-email-reason', { hasText: 'must be an e-mail address' }).waitFor();

    // the rota: a day shift on now (anna first, bea second), and the night after it (bea, then anna)
    const rota = admin.locator('#rota');
    expect(await rota.locator('.rota-shift').count()).toBe(0);
    await rota.getByRole('button', { name: 'Add shift' }).click();
    const day = rota.locator('.rota-shift').nth(0);
    await day.getByLabel(/^From \(America\/Chicago/).fill(agencyInput(-H));
    await day.getByLabel(/^To \(America\/Chicago/).fill(agencyInput(-2 * H));
    await day.getByLabel('1st on call').fill('anna');
    await day.getByRole('button', { name: 'Add person' }).click();
    await day.getByLabel('2nd on call').fill('anna');
    await rota.getByRole('button', { name: 'Save rota' }).click();
    // checked before sending, each reason beside its field
    await day.locator('.field-reason', { hasText: 'must be after the start' }).waitFor();
    await day.locator('.field-reason', { hasText: "is already anna's place in this chain" }).waitFor();
    expect(await day.getByLabel('2nd on call').getAttribute('aria-invalid')).toBe('true');

    // a name with no account: only the server knows; its reason shows beside that name
    const dayFrom = agencyInput(-H);
    const dayTo = agencyInput(8 * H);
    await day.getByLabel(/^To \(America\/Chicago/).fill(dayTo);
    await day.getByLabel('2nd on call').fill('ghost');
    const refused = admin.waitForResponse((r) => r.url().endsWith('/api/oncall') && r.request().method() === 'PUT');
    await rota.getByRole('button', { name: 'Save rota' }).click();
    expect((await refused).status()).toBe(400);
    await expect.poll(() => day.locator('.rota-chain li').nth(1).locator('.field-reason').innerText()).not.toBe('');
    expect(await day.getByLabel('2nd on call').getAttribute('aria-invalid')).toBe('true');

    await day.getByLabel('2nd on call').fill('bea');
    await rota.getByRole('button', { name: 'Add shift' }).click();
    const night = rota.locator('.rota-shift').nth(1);
    // the next shift starts where the last one ends
    expect(await night.getByLabel(/^From/).inputValue()).toBe(dayTo);
    const nightTo = agencyInput(20 * H);
    await night.getByLabel(/^To/).fill(nightTo);
    await night.getByLabel('1st on call').fill('bea');
    await night.getByRole('button', { name: 'Add person' }).click();
    await night.getByLabel('2nd on call').fill('anna');
    const saved = admin.waitForRequest((r) => r.url().endsWith('/api/oncall') && r.method() === 'PUT');
    await rota.getByRole('button', { name: 'Save rota' }).click();
    expect((await saved).postDataJSON()).toEqual({
      shifts: [
        { from: agencyIso(dayFrom), to: agencyIso(dayTo), chain: ['anna', 'bea'] },
        { from: agencyIso(dayTo), to: agencyIso(nightTo), chain: ['bea', 'anna'] },
      ],
    });
    await admin.locator('.oncall-status', { hasText: 'Rota saved (2 shifts).' }).waitFor();
    await admin.locator('.chain-now li', { hasText: '1st on call anna' }).waitFor();
    expect(await admin.locator('.shift-list li').first().innerText()).toMatch(/C[SD]T – .* C[SD]T 1st bea · 2nd anna$/);
    const now = await live.api<OnCallNow>(`/api/oncall?at=${new Date().toISOString()}`);
    expect(now.chain).toEqual(['anna', 'bea']);
    await admin.screenshot({ path: join(SCREENSHOTS, 'oncall-admin.png'), fullPage: true });

    // a nurse on a phone: who is on call, above the alerts; no rota form; nothing scrolls sideways
    const nurse = await loggedIn(USERS[2], PHONE);
    await nurse.locator('.alerts').waitFor();
    await nurse.getByRole('link', { name: 'On call' }).click();
    await nurse.locator('.chain-now li', { hasText: '2nd on call bea' }).waitFor();
    expect(await nurse.locator('.chain-now li').allInnerTexts()).toEqual(['1st on call anna', '2nd on call bea']);
    expect(await nurse.locator('#rota').count()).toBe(0);
    // her own e-mail for pages, and nobody else's
    await nurse.locator('#contact .contact-status', { hasText: 'bea is paged at bea@ward.test.' }).waitFor();
    expect(await nurse.locator('#contact-user').getAttribute('readonly')).toBe('');
    const section = await nurse.locator('.oncall').boundingBox();
    const alerts = await nurse.locator('.alerts').boundingBox();
    expect(section!.y).toBeLessThan(alerts!.y);
    expect(await nurse.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await nurse.screenshot({ path: join(SCREENSHOTS, 'oncall-phone.png') });
    // and the admin's editor fits a phone too
    const phoneAdmin = await loggedIn(USERS[0], PHONE);
    await phoneAdmin.goto(`${live.url}/#/oncall`);
    await phoneAdmin.locator('#rota .rota-shift').nth(1).waitFor();
    expect(await phoneAdmin.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  }, 120_000);

  test('an occlusion pages the first on call: the alert shows who is paged, the pages sent, who accepted, and the note and outcome of the acknowledgement', async () => {
    const anna = await loggedIn(USERS[1]);
    await anna.locator('.board-body .board-row').first().waitFor();
    await occlusion(paged);
    const item = alertItem(anna, `Occlusion — ${PAGED_PUMP}`);
    await item.locator('.alert-paging', { hasText: 'Paging anna (1st on call, round 1)' }).waitFor({ timeout: 10_000 });

    // the e-mail arrived at the SMTP server with its accept link
    const sent = await vi.waitFor(() => {
      const m = mail.mails.find((x) => x.to === 'anna@ward.test' && /\/page\/[A-Za-z0-9_-]{16,}/.test(x.text));
      if (!m) throw new Error('no page for anna yet');
      return m;
    }, { timeout: 10_000, interval: 100 });
    const token = /\/page\/([A-Za-z0-9_-]{16,})/.exec(sent.text)![1]!;

    // the page history, on demand
    await item.getByRole('button', { name: 'Pages sent' }).click();
    const row = item.locator('.page-list li', { hasText: 'anna' }).first();
    await row.waitFor();
    expect(await row.innerText()).toMatch(/\d+ \w+ \d\d:\d\d:\d\d C[SD]T anna E-mail (Sent|Accepted)/);
    await anna.screenshot({ path: join(SCREENSHOTS, 'alert-paging.png') });

    // accepted from the link (no login: the token is the credential)
    const accept = await fetch(`${live.url}/api/pages/${token}/accept`, { method: 'POST' });
    expect(accept.status).toBeLessThan(300);
    await item.locator('.alert-paging.paging-accepted', { hasText: /^Accepted by anna at \d\d:\d\d:\d\d C[SD]T$/ }).waitFor({ timeout: 5000 });
    // the history follows
    await item.locator('.page-list li .page-status', { hasText: 'Accepted' }).waitFor({ timeout: 5000 });

    // acknowledged with an outcome and a note
    await item.getByRole('button', { name: 'Add note & outcome' }).click();
    await item.getByLabel(/^Outcome/).selectOption('line_unkinked');
    await item.getByLabel(/^Note/).fill('Line kinked under the sofa; patient fine');
    const ack = anna.waitForRequest((r) => /\/api\/alerts\/[^/]+\/ack$/.test(r.url()));
    await item.getByRole('button', { name: 'Acknowledge with note' }).click();
    expect((await ack).postDataJSON()).toEqual({ outcome: 'line_unkinked', note: 'Line kinked under the sofa; patient fine' });
    await item.getByText(/^Acknowledged by anna at \d\d:\d\d:\d\d C[SD]T$/).waitFor({ timeout: 5000 });
    await item.locator('.alert-ack-detail', { hasText: /^Outcome: Line unkinked · Note: Line kinked under the sofa; patient fine$/ }).waitFor({ timeout: 5000 });
    // still so once every message about the acknowledgement has arrived
    await anna.waitForTimeout(1000);
    expect(await item.locator('.alert-ack-detail').innerText()).toBe('Outcome: Line unkinked · Note: Line kinked under the sofa; patient fine');
    expect(await item.locator('.alert-paging').innerText()).toMatch(/^Accepted by anna at/);
    expect(await item.locator('form.ack-form').count()).toBe(0);
    const stored = (await live.api<Alert[]>(`/api/alerts?status=all&pump=${PAGED_PUMP}`)).find((a) => a.type === 'occlusion');
    expect(stored).toMatchObject({ ackedBy: 'anna', ackOutcome: 'line_unkinked', ackNote: 'Line kinked under the sofa; patient fine', acceptedBy: 'anna' });

    // the pump detail: the alert with its paging, and the acknowledgement in the timeline
    await item.locator('a.alert-title').click();
    const detailAlert = anna.locator('.pump-alerts li', { hasText: 'Occlusion' }).first();
    await detailAlert.locator('.alert-paging', { hasText: 'Accepted by anna' }).waitFor();
    await detailAlert.locator('.alert-ack-detail', { hasText: 'Outcome: Line unkinked' }).waitFor();
    await anna.locator('.timeline li.tl-ack', { hasText: 'Occlusion acknowledged by anna — Outcome: Line unkinked · Note: Line kinked under the sofa; patient fine' }).waitFor({ timeout: 15_000 });
    await detailAlert.getByRole('button', { name: 'Pages sent' }).click();
    await detailAlert.locator('.page-list li', { hasText: 'anna' }).first().waitFor();
  }, 120_000);

  test('a chain nobody can be reached on: "Nobody could be paged" in red; one tap still acknowledges', async () => {
    const admin = await loggedIn(USERS[0]);
    await admin.goto(`${live.url}/#/oncall`);
    const rota = admin.locator('#rota');
    await rota.locator('.rota-shift').nth(1).waitFor();
    // carl has no contact; he alone is on call now
    await rota.locator('.rota-shift').nth(0).getByLabel('1st on call').fill('carl');
    await rota.locator('.rota-shift').nth(0).getByLabel('2nd on call').fill('');
    await rota.getByRole('button', { name: 'Save rota' }).click();
    await admin.locator('.chain-now li', { hasText: '1st on call carl' }).waitFor();
    expect((await live.api<OnCallNow>(`/api/oncall?at=${new Date().toISOString()}`)).chain).toEqual(['carl']);

    const bea = await loggedIn(USERS[2]);
    await bea.locator('.board-body .board-row').first().waitFor();
    await occlusion(unreachable);
    const item = alertItem(bea, `Occlusion — ${UNREACHABLE_PUMP}`);
    const failed = item.locator('.alert-paging.paging-failed');
    await failed.waitFor({ timeout: 60_000 });
    expect(await failed.innerText()).toMatch(/^Nobody could be paged/);
    expect(await failed.getAttribute('role')).toBe('alert');
    const colours = await failed.evaluate((e) => { const s = getComputedStyle(e); return [s.color, s.backgroundColor]; });
    expect(colours).toEqual(['rgb(255, 255, 255)', 'rgb(176, 30, 30)']);
    // the pump detail says so too
    await bea.goto(`${live.url}/#/pump/${UNREACHABLE_PUMP}`);
    await bea.locator('.pump-alerts .alert-paging.paging-failed', { hasText: 'Nobody could be paged' }).waitFor();
    await bea.screenshot({ path: join(SCREENSHOTS, 'paging-failed.png') });

    // one tap, no note: acknowledged as before
    const ack = bea.waitForRequest((r) => /\/api\/alerts\/[^/]+\/ack$/.test(r.url()));
    await item.getByRole('button', { name: /Acknowledge/ }).click();
    expect((await ack).postData()).toBeNull();
    await item.getByText(/Acknowledged by bea at \d\d:\d\d:\d\d/).waitFor({ timeout: 5000 });
    expect(await item.locator('.alert-ack-detail').isVisible()).toBe(false);
  }, 120_000);
});
