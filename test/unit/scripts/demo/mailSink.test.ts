import { afterAll, afterEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { describeMail, startMailSink, type MailSink } from '../../../../scripts/demo/mailSink.ts';
import { tempDir } from '../../../helpers/tempDir.ts';

const dir = tempDir('pumpwatch-mailsink-');
let sink: MailSink | null = null;
afterEach(async () => {
  await sink?.close();
  sink = null;
});
afterAll(() => dir.remove());

test('a page e-mailed the way the server sends it is kept as .eml, with its recipient, kind and accept links', async () => {
  const seen: string[] = [];
  sink = await startMailSink({ folder: dir.path, onMail: (m) => seen.push(describeMail(m)) });
  const transport = nodemailer.createTransport({ url: sink.url, tls: { rejectUnauthorized: false } });
  await transport.sendMail({
    from: 'pumpwatch@demo.pumpwatch.example', to: 'nurse@demo.pumpwatch.example', subject: 'Pumpwatch: 2 alerts need you',
    text: '1. Pump CS7-DEMO06: program\n   Accept or decline: http://127.0.0.1:8080/page/abc_DEF-1\n\n2. x\n   Accept or decline: http://127.0.0.1:8080/page/ghi2\n',
    headers: { 'X-Pumpwatch-Page': '7', 'X-Pumpwatch-Kind': 'page' },
  });
  transport.close();
  assert.equal(sink.mails.length, 1);
  const m = sink.mails[0];
  assert.equal(m?.to, 'nurse@demo.pumpwatch.example');
  assert.equal(m?.kind, 'page');
  assert.deepEqual(m?.links, ['http://127.0.0.1:8080/page/abc_DEF-1', 'http://127.0.0.1:8080/page/ghi2']);
  assert.match(m?.file ?? '', /0001-page-nurse@demo\.pumpwatch\.example\.eml$/);
  assert.match(readFileSync(m?.file ?? '', 'utf8'), /X-Pumpwatch-Kind: page/);
  assert.equal(seen.length, 1);
  assert.match(seen[0] ?? '', /mail → nurse@demo\.pumpwatch\.example +\[page\] Pumpwatch: 2 alerts need you\n +accept: http:\/\/127\.0\.0\.1:8080\/page\/abc_DEF-1 \(\+1 more in the message\)$/);
});

test('a follow-up without a link is one line', () => {
  assert.equal(describeMail({ to: 'a@b', subject: 'Taken by nurse2: x', kind: 'accepted', links: [] }), '  mail → a@b  [accepted] Taken by nurse2: x');
});
