/** Delivery to one person: every channel in parallel, retries with backoff, permanent errors not retried. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { Alert } from '../../../../protocol/api.ts';
import { ChannelError, type Contact, type PageChannel, type PageMessage } from '../../../../server/paging/channel.ts';
import { deliver, reached } from '../../../../server/paging/deliver.ts';
import { pageMessage } from '../../../../server/paging/messages.ts';
import { signature, webhookPayload } from '../../../../server/paging/webhookChannel.ts';

const alert: Alert = {
  id: 'a1', pump: 'CS7-100001', gateway: 'gw', type: 'occlusion', severity: 'high', status: 'active', acknowledged: false,
  ackedBy: null, ackedAt: null, raisedAt: '2026-12-05T03:00:00Z', clearedAt: null, message: 'Blocked line', detail: {},
};
const contact: Contact = { username: 'ana', email: 'ana@x.test', push: [] };
const message: PageMessage = pageMessage([{ pageId: '1', alert, patient: { mrn: 'M1', name: 'Pat Doe', phone: null }, acceptUrl: 'https://pw.test/page/tok' }]);

/** a channel that fails its first `failures` sends with `error` */
function channel(name: PageChannel['name'], failures: number, error = new ChannelError('DOWN', 'down'), reach = true): PageChannel & { sends: number } {
  const ch = {
    name, sends: 0,
    canReach: () => reach,
    send(): Promise<void> {
      ch.sends++;
      return ch.sends <= failures ? Promise.reject(error) : Promise.resolve();
    },
  };
  return ch;
}

function fakeSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: (ms) => { waits.push(ms); return Promise.resolve(); } };
}

describe('deliver', () => {
  test('a failing channel is retried with doubling backoff until it gets through', async () => {
    const email = channel('email', 2);
    const s = fakeSleep();
    const out = await deliver([email], contact, message, { retries: 3, firstRetryMs: 100, sleep: s.sleep });
    assert.deepEqual(out, [{ channel: 'email', ok: true, attempts: 3, error: null }]);
    assert.deepEqual(s.waits, [100, 200]);
  });

  test('gives up after the retries; the other channel still reaches the person', async () => {
    const email = channel('email', 99);
    const hook = channel('webhook', 0);
    const attempts: string[] = [];
    const out = await deliver([email, hook], contact, message, {
      retries: 3, firstRetryMs: 100, sleep: fakeSleep().sleep, onAttempt: (c, st, n) => attempts.push(`${c}:${st}:${n}`),
    });
    assert.equal(reached(out), true);
    assert.deepEqual(out.map((o) => [o.channel, o.ok, o.attempts]), [['email', false, 4], ['webhook', true, 1]]);
    assert.match(out[0]!.error ?? '', /^DOWN: down/);
    assert.ok(attempts.includes('email:retrying:3') && attempts.includes('email:failed:4') && attempts.includes('webhook:sent:1'));
  });

  test('a permanent error is not retried; every channel failing is not reached', async () => {
    const email = channel('email', 99, new ChannelError('SMTP_REFUSED', 'no such mailbox', true));
    const s = fakeSleep();
    const out = await deliver([email], contact, message, { retries: 3, firstRetryMs: 100, sleep: s.sleep });
    assert.equal(out[0]!.attempts, 1);
    assert.deepEqual(s.waits, []);
    assert.equal(reached(out), false);
  });

  test('channels that cannot reach the person are not tried; none at all is not reached', async () => {
    const push = channel('push', 0, undefined, false);
    const out = await deliver([push], contact, message, { retries: 3, firstRetryMs: 100, sleep: fakeSleep().sleep });
    assert.deepEqual(out, []);
    assert.equal(push.sends, 0);
    assert.equal(reached(out), false);
  });
});

describe('page messages and the webhook', () => {
  test('a page names the patient, the pump and the alert, and carries the link', () => {
    assert.match(message.title, /Blocked line/);
    assert.match(message.body, /Pat Doe \(MRN M1\)/);
    assert.match(message.body, /Pump: CS7-100001/);
    assert.equal(message.acceptUrl, 'https://pw.test/page/tok');
  });

  test('several pages for one person are one message with each link', () => {
    const m = pageMessage([
      { pageId: '1', alert, patient: null, acceptUrl: 'https://pw.test/page/one' },
      { pageId: '2', alert: { ...alert, id: 'a2', pump: 'CS7-100002' }, patient: null, acceptUrl: 'https://pw.test/page/two' },
    ]);
    assert.match(m.title, /2 alerts/);
    assert.ok(m.body.includes('https://pw.test/page/one') && m.body.includes('https://pw.test/page/two') && m.body.includes('CS7-100002'));
  });

  test('the signature is the hex HMAC-SHA256 of the raw body with the shared secret', () => {
    const body = JSON.stringify(webhookPayload(contact, message));
    // printf '{}' | openssl dgst -sha256 -hmac k
    assert.equal(signature('{}', 'k'), 'sha256=add853b103fbcc936a194f9eb15e29c4ff08af6e47d5d1bca4f20218e31e4fff');
    assert.notEqual(signature(body, 'secret'), signature(body, 'other'));
    assert.notEqual(signature(body, 'secret'), signature(`${body} `, 'secret'));
  });
});
