/**
 * `npm run demo` as a newcomer runs it: the whole system with clinical records. The pharmacist
 * logs in, sees the seeded patients, the board shows patient and order on an assigned pump and
 * none on the unassigned one, the ISMP pump raises program_mismatch and the unassigned one
 * program_unassigned; the first high alert is e-mailed to the first nurse on call, into the demo's
 * mailbox, with a link that opens the phone's accept page, the second nurse is paged when nobody
 * accepts, and the demo's HL7 receiver writes the ORU feed to its file; then Ctrl-C (SIGINT to the
 * demo's process group) stops everything, PostgreSQL included, and no process of the demo is left.
 */
import { afterAll, expect, test } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { Patient } from '../../protocol/clinical.ts';
import { startProcess, type RunningProcess } from '../helpers/childProcess.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/wait.ts';

const PASSWORD = 'demo-test-pass';
/** each nurse's time to accept, shorter than the demo's 60 s so the second nurse's page comes soon */
const ACCEPT_S = 10;
const dir = tempDir('pumpwatch-demo-');
let demo: RunningProcess | null = null;

afterAll(async () => {
  await demo?.stop(30_000);
  dir.remove();
});

/** pids of live processes started with this demo's folder in their environment (its whole tree) */
function demoProcesses(demoDir: string): number[] {
  const needle = `PUMPWATCH_DEMO_DIR=${demoDir}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) continue; // a zombie is not running
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** logs in; the session cookie, after checking the account's role */
async function login(base: string, username: string, role: string): Promise<string> {
  const res = await fetch(`${base}/api/session`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ username, password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { role: string }).role).toBe(role);
  return (res.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
}

test('npm run demo: the pharmacist sees the seeded patients, the board shows patient and order on assigned pumps; Ctrl-C leaves nothing running', { timeout: 300_000 }, async () => {
  const port = await freePort();
  demo = startProcess('npm', ['run', '--silent', 'demo'], {
    env: { PUMPWATCH_DEMO_DIR: dir.path, PORT: String(port), PUMPWATCH_DEMO_PASSWORD: PASSWORD, PAGE_ACCEPT_S: String(ACCEPT_S) },
  });
  await demo.waitForLine(/pumpwatch demo is running/, 240_000);
  const out = demo.lines.join('\n');
  expect(out).toMatch(/clinical records: 7 fictional patients, 7 orders, 6 pumps assigned/);
  expect(out).toMatch(/logins: .*pharmacist \(pharmacist\)/);
  const pgFolder = /postgres .*\(folder ([^)]+)\)/.exec(out)?.[1];
  expect(pgFolder && existsSync(pgFolder)).toBeTruthy();

  const base = `http://127.0.0.1:${port}`;
  const cookie = await login(base, 'pharmacist', 'pharmacist');
  const patients = (await (await fetch(`${base}/api/patients`, { headers: { cookie } })).json()) as Patient[];
  expect(patients.map((p) => p.mrn).sort()).toEqual(['DEMO-1001', 'DEMO-1002', 'DEMO-1003', 'DEMO-1004', 'DEMO-1005', 'DEMO-1006', 'DEMO-1007']);
  expect(patients.every((p) => p.name.endsWith('Fictional'))).toBe(true);

  // the pumps appear as their gateways relay them; the nurse sees whom to call
  const nurse = await login(base, 'nurse', 'nurse');
  const pumps = await waitFor(async () => {
    const list = (await (await fetch(`${base}/api/pumps`, { headers: { cookie: nurse } })).json()) as PumpView[];
    const ready = ['CS7-DEMO01', 'CS7-DEMO06', 'CS7-DEMO07'].every((s) => list.some((p) => p.pump === s));
    return ready ? list : null;
  }, 60_000, 'the demo pumps on the board', 500);
  const home1 = pumps.find((p) => p.pump === 'CS7-DEMO01');
  expect(home1?.patient).toMatchObject({ mrn: 'DEMO-1001', name: 'Alma Fictional' });
  expect(home1?.order).toMatchObject({ drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46, mode: 'continuous' });
  expect(pumps.find((p) => p.pump === 'CS7-DEMO06')?.order).toMatchObject({ rateMlH: 1.2, hours: 96 });
  expect(pumps.find((p) => p.pump === 'CS7-DEMO07')?.patient ?? null).toBeNull();

  // the ISMP pump: program_mismatch (high) naming its patient and order, within seconds of its START;
  // the pump started before it was assigned: program_unassigned
  const activeOf = async (pump: string): Promise<Alert[]> =>
    (await (await fetch(`${base}/api/alerts?status=active&pump=${pump}`, { headers: { cookie: nurse } })).json()) as Alert[];
  const mismatch = await waitFor(async () => (await activeOf('CS7-DEMO06')).find((a) => a.type === 'program_mismatch'), 30_000, 'program_mismatch on CS7-DEMO06', 500);
  const ismpPatient = patients.find((p) => p.mrn === 'DEMO-1006');
  expect(mismatch).toMatchObject({ severity: 'high', patientId: ismpPatient?.id, orderId: pumps.find((p) => p.pump === 'CS7-DEMO06')?.order?.id });
  await waitFor(async () => (await activeOf('CS7-DEMO07')).some((a) => a.type === 'program_unassigned'), 30_000, 'program_unassigned on CS7-DEMO07', 500);
  // the uneventful home raises nothing about its program
  expect((await activeOf('CS7-DEMO01')).map((a) => a.type)).not.toContain('program_mismatch');

  // paging: the rota the demo set, and its mailbox
  expect(out).toMatch(/on call: 1\. nurse <nurse@demo\.pumpwatch\.example>, 2\. nurse2 <nurse2@demo\.pumpwatch\.example>; 7 daily shifts/);
  const mailDir = /mailbox +smtp:\/\/127\.0\.0\.1:\d+ \(pages printed here and kept in (\S+)\/\*\.eml\)/.exec(out)?.[1];
  expect(mailDir).toBe(join(dir.path, 'mail'));
  const oncall = (await (await fetch(`${base}/api/oncall`, { headers: { cookie: nurse } })).json()) as { chain: string[] };
  expect(oncall.chain).toEqual(['nurse', 'nurse2']);
  /** the first page e-mailed to `address`: the parsed message and its first accept link */
  const pageTo = async (address: string): Promise<{ subject: string; text: string; link: string }> => waitFor(async () => {
    const file = readdirSync(mailDir ?? '').sort().find((f) => f.endsWith(`-page-${address}.eml`));
    if (!file) return null;
    const m = await simpleParser(readFileSync(join(mailDir ?? '', file)));
    const to = Array.isArray(m.to) ? m.to.map((a) => a.text).join() : m.to?.text ?? '';
    expect(to).toBe(address);
    expect(m.headers.get('x-pumpwatch-kind')).toBe('page');
    const link = new RegExp(`${base.replaceAll('.', '\\.')}/page/[A-Za-z0-9_-]+`).exec(m.text ?? '')?.[0];
    expect(link).toBeDefined();
    return { subject: m.subject ?? '', text: m.text ?? '', link: link ?? '' };
  }, 60_000, `a page e-mailed to ${address}`, 500);
  // a high alert (home-6's or home-4's program_mismatch) pages the first nurse at once
  const first = await pageTo('nurse@demo.pumpwatch.example');
  // the console says to whom, what and where to accept
  await demo.waitForLine(new RegExp(`accept: ${first.link}`), 5_000);
  expect(demo.lines.join('\n')).toMatch(/mail → nurse@demo\.pumpwatch\.example +\[page\] Pumpwatch/);
  // the link opens the phone's accept page, no sign-in needed
  const phone = await fetch(first.link);
  expect(phone.status).toBe(200);
  expect(phone.headers.get('content-type')).toMatch(/text\/html/);
  const phoneHtml = await phone.text();
  expect(phoneHtml).toContain('Accept: I take it');
  expect(phoneHtml).toContain('/page-assets/page.js');
  const token = first.link.split('/').pop() ?? '';
  const paged = (await (await fetch(`${base}/api/pages/${token}`)).json()) as { alert: { severity: string; pump: string; type: string }; status: string };
  expect(paged.alert.severity).toBe('high');
  expect(first.subject).toMatch(/^Pumpwatch/);
  expect(first.text).toContain(paged.alert.pump);
  // nobody accepts within PAGE_ACCEPT_S: the second nurse is paged
  await pageTo('nurse2@demo.pumpwatch.example');
  // the first nurse can still accept from the link: the chain stops there
  const accepted = await fetch(`${base}/api/pages/${token}/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(accepted.status).toBe(200);
  expect(await accepted.json()).toMatchObject({ result: 'ok', acceptedBy: 'nurse' });

  // Web Push: the demo made VAPID keys, so the board offers "Get alerts on this device"
  const key = await fetch(`${base}/api/push/key`, { headers: { cookie: nurse } });
  expect(key.status).toBe(200);
  expect(((await key.json()) as { publicKey: string }).publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);

  // HL7: the demo's own receiver writes the ORU feed, each message accepted (AA, no failed check)
  const hl7File = /the feed is written to (\S+hl7\.jsonl)/.exec(out)?.[1];
  expect(hl7File).toBe(join(dir.path, 'hl7.jsonl'));
  type Hl7Line = { type: string; answered: string; errors: string[]; text: string };
  const feed = await waitFor(() => {
    if (!existsSync(hl7File ?? '')) return null;
    const lines = readFileSync(hl7File ?? '', 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Hl7Line);
    const has = (t: string): boolean => lines.some((l) => l.type === t);
    return has('ORU^R40^ORU_R40') && has('ORU^R42^ORU_R42') ? lines : null;
  }, 60_000, 'PCD-04 and PCD-10 messages in the HL7 feed file', 500);
  expect(feed.every((l) => l.type.startsWith('ORU^R4') || l.type === 'ORU^R01^ORU_R01')).toBe(true);
  expect(feed.filter((l) => l.answered !== 'AA' || l.errors.length > 0)).toEqual([]);
  // the ISMP pump's alarm names its patient (PID-3, the MRN)
  expect(feed.some((l) => l.type === 'ORU^R40^ORU_R40' && l.text.includes('CS7-DEMO06') && l.text.includes('DEMO-1006^^^PUMPWATCH^MR'))).toBe(true);

  // what the probe below must not find afterwards: the demo, brokers, server, gateways, PostgreSQL
  expect(demoProcesses(dir.path).length).toBeGreaterThan(10);

  // Ctrl-C: SIGINT to the foreground process group
  process.kill(-(demo.child.pid ?? 0), 'SIGINT');
  const code = await demo.exited;
  await demo.waitForLine(/pumpwatch demo: stopped/, 5_000);
  // npm, signalled with the rest of the group as in a terminal, ends by the signal; the demo under it exits 0
  expect(code === 0 || demo.child.signalCode === 'SIGINT').toBe(true);
  expect(demo.lines.join('\n')).not.toMatch(/pumpwatch demo: (?!stopping|stopped|data and logs)/);
  // npm may return before the node process under it: wait for the demo's own process group only
  await waitFor(() => !groupAlive(demo?.child.pid ?? 0), 10_000, 'the demo\'s own processes to end');
  // the server, gateways, brokers and PostgreSQL run in groups of their own: the demo waited for them
  expect(demoProcesses(dir.path)).toEqual([]);
  expect(existsSync(pgFolder ?? '')).toBe(false);
  demo = null;
});
