/**
 * Patients and orders in the dashboard, in a real chromium against the real server (buildServer in
 * this process through liveServer.ts) on real PostgreSQL, Mosquitto and influxd: a pharmacist
 * creates a patient, an order and an assignment through the forms and a nurse's board shows them
 * when the pump reports; the forms show the API's 400 reasons and a 409 beside the fields; a nurse
 * gets no forms; with PostgreSQL stopped a banner says what is unavailable while alarms still arrive.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { Assignment, Patient } from '../../protocol/clinical.ts';
import { startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { buildDashboard, launchChromium, loggedInPage, SCREENSHOTS } from './browser.ts';
import { LiveServer, type PumpFeed } from './liveServer.ts';
import { infuse, statusNow } from './pumpWorld.ts';

const H = 3_600_000;
const USERS = [
  { name: 'nurse', password: 'nurse-pass-1', role: 'nurse' },
  { name: 'pharma', password: 'pharma-pass-1', role: 'pharmacist' },
] as const;
const ASSIGNED = 'CS7-CLIN01';
const UNASSIGNED = 'CS7-CLIN02';
const MRN = 'MRN-E2E-0042';

const live = new LiveServer();
let pg: PostgresServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
let assigned: PumpFeed;
let unassigned: PumpFeed;

async function loggedIn(user: (typeof USERS)[number], viewport = { width: 1440, height: 900 }): Promise<Page> {
  return loggedInPage(browser, contexts, live.url, user, viewport);
}

/** a datetime-local value `offsetMs` from now, in the browser's zone */
const localInput = (page: Page, offsetMs: number): Promise<string> => page.evaluate((off) => {
  const d = new Date(Date.now() + off);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}, offsetMs);

const reason = (page: Page, form: string, field: string) => page.locator(`#${form}-${field}-reason`);

beforeAll(async () => {
  buildDashboard();
  pg = await startPostgres();
  await live.start(USERS.map((u) => ({ ...u })), { DATABASE_URL: pg.url, SIGNAL_LOST_S: '3600' });
  browser = await launchChromium();
  assigned = live.pump(ASSIGNED, 'home-clin-1');
  unassigned = live.pump(UNASSIGNED, 'home-clin-2');
  // the server starts without waiting for its database (it never blocks the alarm path)
  await vi.waitFor(async () => expect((await live.api<{ database?: string }>('/api/health')).database).toBe('up'), { timeout: 30_000, interval: 100 });
  // a pump nobody assigned, running: on every board from the start
  const now = Date.now();
  await infuse(unassigned, { startMs: now - 30 * 60_000, untilMs: now - 20_000, programId: 'GEM-1', drug: 'GEMCITABINE', rateMlH: 5, volumeMl: 230, programHours: 46 });
  await vi.waitFor(async () => expect((await live.api<PumpView>(`/api/pumps/${UNASSIGNED}`)).state).toBe('RUN'), { timeout: 30_000, interval: 200 });
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await live.dispose();
  await pg?.stop();
});

describe('patients and orders in the dashboard', () => {
  test('a pharmacist creates patient, order and assignment in the forms; the nurse board shows them when the pump reports', async () => {
    const pharma = await loggedIn(USERS[1]);
    await pharma.getByRole('heading', { name: 'Patients and orders' }).waitFor();
    // the pharmacist has no board and no live socket
    expect(await pharma.locator('.board').count()).toBe(0);

    const patientForm = pharma.locator('#new-patient');
    await patientForm.getByLabel('MRN').fill(MRN);
    await patientForm.getByLabel(/^Name/).fill('Ada Byron');
    await patientForm.getByLabel(/^Phone/).fill('+1 555 010 4477');
    await patientForm.getByLabel(/^Time zone/).fill('America/Chicago');
    await patientForm.getByRole('button', { name: 'Create patient' }).click();
    await pharma.locator('#selected-patient', { hasText: `Ada Byron · MRN ${MRN}` }).waitFor();

    const orderForm = pharma.locator('#new-order');
    await orderForm.getByLabel(/^Drug/).fill('FLUOROURACIL');
    await orderForm.getByLabel(/^Rate/).fill('1.2');
    await orderForm.getByLabel(/^Volume/).fill('115.2');
    await orderForm.getByLabel(/^Hours/).fill('96');
    await orderForm.getByLabel(/^Mode/).selectOption('continuous');
    await orderForm.getByLabel(/^Start/).fill(await localInput(pharma, -2 * H));
    await orderForm.getByLabel(/^Payer/).fill('Medicare');
    await orderForm.getByLabel(/^Prescriber/).fill('Dr Lovelace');
    await orderForm.getByRole('button', { name: 'Create order' }).click();
    await pharma.locator('.order-list li', { hasText: 'FLUOROURACIL · 1.2 mL/h · 115.2 mL over 96 h · continuous' }).waitFor();

    const assignForm = pharma.locator('#assign-pump');
    await assignForm.getByLabel(/^Pump serial/).fill(ASSIGNED.toLowerCase());
    await assignForm.getByLabel(/^On the patient from/).fill(await localInput(pharma, -H));
    await assignForm.getByRole('button', { name: 'Assign pump' }).click();
    await pharma.locator(`.assignment-list li[data-pump="${ASSIGNED}"]`, { hasText: `Ada Byron · MRN ${MRN}` }).waitFor();

    // what the forms made is what the API holds
    const patient = (await live.api<Patient[]>('/api/patients')).find((p) => p.mrn === MRN);
    expect(patient).toMatchObject({ name: 'Ada Byron', phone: '+1 555 010 4477', timezone: 'America/Chicago' });
    const open = await live.api<Assignment[]>(`/api/assignments?pump=${ASSIGNED}&active=true`);
    expect(open).toHaveLength(1);
    expect(open[0]!.patientId).toBe(patient!.id);

    // the pump was keyed at 28.8 mL/h for 4 h (the ISMP case), then its line is blocked
    const nurse = await loggedIn(USERS[0]);
    const now = Date.now();
    await infuse(assigned, { startMs: now - 30 * 60_000, untilMs: now - 20_000, programId: 'FU-C1', drug: 'FLUOROURACIL', rateMlH: 28.8, volumeMl: 115.2, programHours: 4 });
    const row = nurse.locator(`.board-body [data-pump="${ASSIGNED}"]`);
    await row.locator('.pump-patient', { hasText: `Ada Byron · MRN ${MRN}` }).waitFor({ timeout: 10_000 });
    expect(await row.locator('.pump-order').innerText()).toBe('FLUOROURACIL · 1.2 mL/h');
    await nurse.locator(`.board-body [data-pump="${UNASSIGNED}"] .pump-patient`, { hasText: 'no order assigned' }).waitFor();

    await assigned.send({ type: 'status', state: 'ALARM', rateMlH: 28.8, infusedMl: 14, vtbiMl: 101.2, reservoirMl: 101.2, pressureMmHg: 790, batteryPct: 90, alarms: ['OCCL_DN'] });
    await assigned.send({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_DN' });
    const item = nurse.locator('.alerts-list > li', { hasText: `Occlusion — ${ASSIGNED}` }).first();
    await item.locator('.alert-patient', { hasText: `Patient: Ada Byron · MRN ${MRN}` }).waitFor({ timeout: 5000 });
    const stored = (await live.api<Alert[]>(`/api/alerts?pump=${ASSIGNED}`)).find((a) => a.type === 'occlusion');
    expect(stored?.patientId).toBe(patient!.id);

    // the detail: whom to call, and programmed vs ordered with the differences highlighted
    await row.locator('a.pump-name').click();
    const clinical = nurse.locator('.pump-clinical');
    await clinical.locator('.patient-name', { hasText: 'Ada Byron' }).waitFor();
    expect(await clinical.locator('.patient-mrn').innerText()).toBe(MRN);
    const call = clinical.getByRole('link', { name: /Call Ada Byron/ });
    expect(await call.getAttribute('href')).toBe('tel:+15550104477');
    const box = await call.boundingBox();
    expect(box!.height).toBeGreaterThanOrEqual(48);
    const rate = clinical.locator('tr[data-field="rate"]');
    expect(await rate.getAttribute('class')).toBe('mismatch');
    expect(await rate.locator('.programmed').innerText()).toMatch(/^28\.8 ⚠ differs$/);
    expect(await rate.locator('.ordered').innerText()).toBe('1.2');
    expect(await clinical.locator('tr[data-field="volume"]').getAttribute('class')).toBe('');
    expect(await clinical.locator('tr[data-field="hours"]').getAttribute('class')).toBe('mismatch');
    await nurse.screenshot({ path: join(SCREENSHOTS, 'pump-detail-patient.png') });

    // a phone at night: the call button is big enough to tap
    const phone = await loggedIn(USERS[0], { width: 390, height: 844 });
    await phone.goto(`${live.url}/#/pump/${ASSIGNED}`);
    const phoneCall = phone.getByRole('link', { name: /Call Ada Byron/ });
    await phoneCall.waitFor();
    const phoneBox = await phoneCall.boundingBox();
    expect(phoneBox!.height).toBeGreaterThanOrEqual(48);
    expect(phoneBox!.width).toBeGreaterThanOrEqual(150);
    // the pump's next status changes the facts, not the call button under the nurse's finger
    const callHandle = await phoneCall.elementHandle();
    await assigned.send({ type: 'status', state: 'ALARM', rateMlH: 28.8, infusedMl: 14, vtbiMl: 101.2, reservoirMl: 101.2, pressureMmHg: 640, batteryPct: 89, alarms: ['OCCL_DN'] });
    await phone.locator('.facts dd', { hasText: '89 %' }).waitFor();
    expect(await callHandle.evaluate((a) => a.isConnected)).toBe(true);

    // the pump comes off the patient: ended in the form, and the board says so at the pump's next report
    await pharma.locator(`.assignment-list li[data-pump="${ASSIGNED}"]`).getByRole('button', { name: /taken off/ }).click();
    await pharma.locator(`.assignment-list li[data-pump="${ASSIGNED}"]`).waitFor({ state: 'detached' });
    expect(await live.api<Assignment[]>(`/api/assignments?pump=${ASSIGNED}&active=true`)).toHaveLength(0);
    await nurse.goto(`${live.url}/#/board`);
    await statusNow(assigned, 'ALARM', { infusedMl: 14, pressureMmHg: 790, alarms: ['OCCL_DN'] });
    await nurse.locator(`.board-body [data-pump="${ASSIGNED}"] .pump-patient`, { hasText: 'no order assigned' }).waitFor({ timeout: 10_000 });
  }, 120_000);

  test("the forms show the API's 400 reasons beside the fields, and the server's 409 for a duplicate MRN and a pump already assigned", async () => {
    const pharma = await loggedIn(USERS[1]);
    const form = pharma.locator('#new-patient');
    await form.getByLabel('MRN').fill('   ');
    await form.getByLabel(/^Name/).fill('Someone');
    await form.getByLabel(/^Time zone/).fill('Mars/Olympus');
    await form.getByRole('button', { name: 'Create patient' }).click();
    await reason(pharma, 'new-patient', 'timezone').getByText('must be an IANA time zone, e.g. America/Chicago').waitFor();
    // the same reason the server gives for that body
    const res = await pharma.evaluate(async () => {
      const { csrfToken } = (await (await fetch('/api/me')).json()) as { csrfToken: string };
      const r = await fetch('/api/patients', {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
        body: JSON.stringify({ mrn: 'MRN-E2E-TZ', name: 'Someone', timezone: 'Mars/Olympus' }),
      });
      return { status: r.status, text: await r.text() };
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('must be an IANA time zone, e.g. America/Chicago');
    expect(await form.getByLabel(/^Time zone/).getAttribute('aria-invalid')).toBe('true');

    // 409: the MRN exists (created by the first test)
    await form.getByLabel('MRN').fill(MRN);
    await form.getByLabel(/^Time zone/).fill('');
    const answer = pharma.waitForResponse((r) => r.url().endsWith('/api/patients') && r.request().method() === 'POST');
    await form.getByRole('button', { name: 'Create patient' }).click();
    expect((await answer).status()).toBe(409);
    await expect.poll(() => reason(pharma, 'new-patient', 'mrn').innerText()).not.toBe('');
    expect(await reason(pharma, 'new-patient', 'timezone').innerText()).toBe('');
    expect((await live.api<Patient[]>('/api/patients')).filter((p) => p.mrn === MRN)).toHaveLength(1);

    // an order with a rate of 0 is refused before sending, next to the rate
    await pharma.locator('.patient-list button', { hasText: `MRN ${MRN}` }).click();
    const order = pharma.locator('#new-order');
    await order.getByLabel(/^Drug/).fill('FLUOROURACIL');
    await order.getByLabel(/^Rate/).fill('0');
    await order.getByLabel(/^Volume/).fill('115.2');
    await order.getByLabel(/^Hours/).fill('96');
    await order.getByLabel(/^Start/).fill(await localInput(pharma, 0));
    await order.getByRole('button', { name: 'Create order' }).click();
    await reason(pharma, 'new-order', 'rateMlH').getByText('must be greater than 0').waitFor();

    // 409: a pump with an open assignment cannot be assigned again
    await order.getByLabel(/^Rate/).fill('1.2');
    await order.getByRole('button', { name: 'Create order' }).click();
    await expect.poll(() => pharma.locator('#assign-pump-orderId option').count()).toBeGreaterThan(0);
    const assign = pharma.locator('#assign-pump');
    await assign.getByLabel(/^Pump serial/).fill('CS7-CLIN09');
    await assign.getByRole('button', { name: 'Assign pump' }).click();
    await pharma.locator('.assignment-list li[data-pump="CS7-CLIN09"]').waitFor();
    const again = pharma.waitForResponse((r) => r.url().endsWith('/api/assignments') && r.request().method() === 'POST');
    await assign.getByRole('button', { name: 'Assign pump' }).click();
    expect((await again).status()).toBe(409);
    await expect.poll(() => reason(pharma, 'assign-pump', 'pump').innerText()).not.toBe('');
    await pharma.screenshot({ path: join(SCREENSHOTS, 'records-forms.png'), fullPage: true });
  }, 60_000);

  test('a pharmacist edits the drug limits: a bad row is refused at its cell, a good table is saved', async () => {
    const pharma = await loggedIn(USERS[1]);
    const form = pharma.locator('#drug-limits');
    await form.waitFor();
    await form.getByRole('button', { name: 'Add a drug' }).click();
    await form.getByLabel('Drug, row 1').fill('FLUOROURACIL');
    await form.getByLabel('Max rate (mL/h), row 1').fill('0');
    await form.getByRole('button', { name: 'Save limits' }).click();
    await form.locator('tbody tr').first().locator('.field-reason', { hasText: 'max rate must be greater than 0' }).waitFor();
    await form.getByLabel('Max rate (mL/h), row 1').fill('10');
    await form.getByRole('button', { name: 'Add a drug' }).click();
    await form.getByLabel('Drug, row 2').fill('fluorouracil');
    await form.getByLabel('Max rate (mL/h), row 2').fill('12');
    await form.getByRole('button', { name: 'Save limits' }).click();
    await form.locator('tbody tr').nth(1).locator('.field-reason', { hasText: 'drug names the same drug as limits[0]' }).waitFor();
    await form.getByRole('button', { name: 'Remove row 2' }).click();
    await form.getByLabel('Max volume (mL), row 1').fill('500');
    await form.getByRole('button', { name: 'Save limits' }).click();
    await pharma.locator('.records-status', { hasText: 'Drug limits saved (1 drugs).' }).waitFor();
    expect(await live.api<{ limits: unknown[] }>('/api/drug-limits')).toEqual({ limits: [{ drug: 'FLUOROURACIL', maxRateMlH: 10, maxVolumeMl: 500 }] });
  });

  test('a nurse gets no forms: no link to them, #/records shows the board, and the API refuses her changes', async () => {
    const nurse = await loggedIn(USERS[0]);
    await nurse.locator('.board-body .board-row').first().waitFor();
    expect(await nurse.getByRole('link', { name: 'Patients & orders' }).count()).toBe(0);
    await nurse.goto(`${live.url}/#/records`);
    await nurse.locator('.board-body .board-row').first().waitFor();
    expect(await nurse.locator('form.record-form').count()).toBe(0);
    // a nurse reads patients (whom to call) but changes none
    const statuses = await nurse.evaluate(async () => {
      const { csrfToken } = (await (await fetch('/api/me')).json()) as { csrfToken: string };
      const read = await fetch('/api/patients');
      const write = await fetch('/api/patients', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken }, body: JSON.stringify({ mrn: 'MRN-NURSE', name: 'Nobody' }) });
      return [read.status, write.status];
    });
    expect(statuses).toEqual([200, 403]);
  });

  test('PostgreSQL stopped: a banner says patient records are unavailable, forms are off, and alarms still arrive', async () => {
    const nurse = await loggedIn(USERS[0]);
    const pharma = await loggedIn(USERS[1]);
    await nurse.locator('.board-body .board-row').first().waitFor();
    await pharma.locator('#new-patient').waitFor();
    expect(await nurse.locator('.db-banner').isVisible()).toBe(false);
    await pg.restart(async () => {
      const banner = nurse.locator('.db-banner');
      await banner.waitFor({ state: 'visible', timeout: 30_000 });
      expect(await banner.innerText()).toMatch(/Patient records and order checks are unavailable.*Alarms from pumps keep working/);
      // the alarm path never waits on the database
      await statusNow(unassigned, 'ALARM', { infusedMl: 3, pressureMmHg: 20, alarms: ['OCCL_UP'] });
      await unassigned.send({ type: 'event', code: 'ALARM_ON', detail: 'OCCL_UP' });
      await nurse.locator('.alerts-list > li', { hasText: `Occlusion — ${UNASSIGNED}` }).waitFor({ timeout: 5000 });
      // the pharmacist's forms are off, saying why
      await pharma.locator('.db-banner').waitFor({ state: 'visible', timeout: 30_000 });
      expect(await pharma.getByRole('button', { name: 'Create patient' }).isDisabled()).toBe(true);
      expect(await pharma.locator('#new-patient').getByLabel('MRN').isDisabled()).toBe(true);
      expect(await pharma.locator('#new-patient .form-disabled').innerText()).toMatch(/unavailable/);
      await nurse.screenshot({ path: join(SCREENSHOTS, 'database-down.png') });
    });
    await nurse.locator('.db-banner').waitFor({ state: 'hidden', timeout: 30_000 });
    await pharma.locator('.db-banner').waitFor({ state: 'hidden', timeout: 30_000 });
    expect(await pharma.getByRole('button', { name: 'Create patient' }).isDisabled()).toBe(false);
    await vi.waitFor(async () => expect((await live.api<PumpView>(`/api/pumps/${UNASSIGNED}`)).state).toBe('ALARM'));
  }, 120_000);

  test('a server without DATABASE_URL: no patient lines, no link to the forms, no banner', async () => {
    // a second server on the same broker and influxd, keeping no clinical records
    const off = new LiveServer();
    try {
      await off.start([{ name: 'admin', password: 'admin-pass-1', role: 'admin' }], { SIGNAL_LOST_S: '3600' }, { broker: live.broker, influx: live.influx });
      expect((await off.api<{ database?: string }>('/api/health')).database).toBe('off');
      await statusNow(unassigned, 'RUN', { infusedMl: 3 });
      const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      contexts.push(ctx);
      const page = await ctx.newPage();
      await page.goto(off.url);
      await page.getByLabel('User name').fill('admin');
      await page.getByLabel('Password').fill('admin-pass-1');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.locator(`.board-body [data-pump="${UNASSIGNED}"]`).waitFor({ timeout: 10_000 });
      await page.waitForFunction(() => document.body.classList.contains('clinical-off'), null, { timeout: 15_000 });
      expect(await page.getByRole('link', { name: 'Patients & orders' }).isVisible()).toBe(false);
      expect(await page.locator(`.board-body [data-pump="${UNASSIGNED}"] .pump-patient`).isVisible()).toBe(false);
      expect(await page.locator('.db-banner').isVisible()).toBe(false);
    } finally {
      await off.dispose();
    }
  }, 120_000);
});
