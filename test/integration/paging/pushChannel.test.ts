/**
 * The Web Push channel against a real push service of our own (test/helpers/pushService.ts: HTTPS,
 * VAPID checked, RFC 8291 payloads decrypted with node:crypto) and the subscriptions in a real
 * PostgreSQL (migrations applied as the server applies them). What arrives is what a phone would
 * show; a 410/404 removes the device; a 500, a 429 or an unreachable service is retryable.
 */
import type pg from 'pg';
import webPush from 'web-push';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert } from '../../../protocol/api.ts';
import { parseDatabaseUrl } from '../../../server/db/databaseUrl.ts';
import { migrate } from '../../../server/db/migrate.ts';
import { createDatabasePool } from '../../../server/db/pool.ts';
import { ChannelError, type Contact, type PageChannel, type PageMessage } from '../../../server/paging/channel.ts';
import { createPushChannel, pushTopic, type PushPayload } from '../../../server/paging/pushChannel.ts';
import { PushSubscriptionStore } from '../../../server/paging/pushSubscriptions.ts';
import { freePort } from '../../helpers/ports.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { LocalPushService } from '../../helpers/pushService.ts';

const VAPID = webPush.generateVAPIDKeys();
const SUBJECT = 'mailto:oncall-ops@example.org';

let pgServer: PostgresServer;
let pool: pg.Pool;
let store: PushSubscriptionStore;
let service: LocalPushService;
let channel: PageChannel;
const gone: string[] = [];

const alert: Alert = {
  id: 'CS7-000123:occlusion:1764800000000', pump: 'CS7-000123', gateway: 'home-1', type: 'occlusion', severity: 'high',
  status: 'active', acknowledged: false, ackedBy: null, ackedAt: null, raisedAt: '2026-12-03T19:00:00.000Z', clearedAt: null,
  message: 'Occlusion: pressure climbing, no volume delivered for 2 min', detail: {},
};

function page(kind: PageMessage['kind'] = 'page', pageId = 'pg-1'): PageMessage {
  return {
    kind, pageId, alert, patient: { mrn: 'MRN-9', name: 'Ada Lovelace', phone: '+1 555 0100' },
    title: 'HIGH: occlusion, pump CS7-000123',
    body: 'Ada Lovelace (MRN-9), +1 555 0100\nOcclusion: pressure climbing, no volume delivered for 2 min\nCall the patient; check the line for kinks.',
    acceptUrl: kind === 'page' ? 'https://pumps.example.org/page/tok-abc123' : null,
  };
}

async function contact(username: string): Promise<Contact> {
  return { username, email: null, push: await store.targets(username) };
}

async function sendError(c: Contact, m: PageMessage): Promise<ChannelError> {
  try {
    await channel.send(c, m);
  } catch (err) {
    if (err instanceof ChannelError) return err;
    throw err;
  }
  throw new Error('the send succeeded');
}

beforeAll(async () => {
  [pgServer, service] = await Promise.all([startPostgres(), (async () => {
    const s = new LocalPushService();
    await s.start();
    return s;
  })()]);
  pool = createDatabasePool(parseDatabaseUrl(pgServer.url), { max: 3 });
  await migrate(pool);
  for (const name of ['nurse1', 'nurse2', 'nurse3']) await pool.query("INSERT INTO users (username, role, password_hash) VALUES ($1, 'nurse', 'scrypt$test')", [name]);
  store = new PushSubscriptionStore(pool);
  channel = createPushChannel({
    publicKey: VAPID.publicKey, privateKey: VAPID.privateKey, subject: SUBJECT, agent: service.agent,
    onGone: async (endpoint) => {
      gone.push(endpoint);
      await store.removeGone(endpoint);
    },
  });
});

afterAll(async () => {
  await pool?.end();
  await Promise.all([pgServer?.stop(), service?.stop()]);
});

describe('Web Push channel against a local push service', () => {
  test('a page reaches every device of the person, VAPID-signed, and decrypts to the payload the service worker shows', async () => {
    expect(await store.add('nurse1', service.subscribe('phone-1'))).toBe(true);
    expect(await store.add('nurse1', service.subscribe('tablet-1'))).toBe(true);
    const c = await contact('nurse1');
    expect(channel.canReach(c)).toBe(true);
    expect(channel.canReach({ username: 'x', email: 'x@example.org', push: [] })).toBe(false);

    await channel.send(c, page());
    expect(service.refused).toEqual([]);
    expect(service.received.map((r) => r.device).sort()).toEqual(['phone-1', 'tablet-1']);
    for (const r of service.received) {
      const payload = JSON.parse(r.plaintext) as PushPayload;
      expect(payload).toEqual({
        kind: 'page', title: 'HIGH: occlusion, pump CS7-000123', body: page().body,
        acceptUrl: 'https://pumps.example.org/page/tok-abc123', alertId: alert.id, pageId: 'pg-1',
      });
      expect(r.headers).toEqual({ ttl: '3600', urgency: 'high', topic: pushTopic(alert.id), contentEncoding: 'aes128gcm' });
      expect(r.vapid).toMatchObject({ aud: service.origin, sub: SUBJECT, publicKey: VAPID.publicKey });
    }
  });

  test('an "accepted" follow-up is not urgent and carries no accept link', async () => {
    service.received.length = 0;
    await channel.send(await contact('nurse1'), { ...page('accepted', 'pg-2'), title: 'Accepted by nurse2', acceptedBy: 'nurse2' });
    expect(service.received).toHaveLength(2);
    const r = service.received[0]!;
    expect(r.headers.urgency).toBe('normal');
    expect(JSON.parse(r.plaintext)).toMatchObject({ kind: 'accepted', acceptUrl: null, title: 'Accepted by nurse2', pageId: 'pg-2' });
  });

  test('410 from the push service: that device is removed (audited) and the page still counts when another device took it', async () => {
    service.received.length = 0;
    service.answer('tablet-1', 410);
    await channel.send(await contact('nurse1'), page());
    expect(service.received.map((r) => r.device)).toEqual(['phone-1']);
    expect(gone).toEqual([`${service.origin}/push/tablet-1`]);
    expect((await store.targets('nurse1')).map((t) => t.endpoint)).toEqual([`${service.origin}/push/phone-1`]);
    const audit = await pool.query<{ actor: string; entity_id: string; detail: unknown }>("SELECT actor, entity_id, detail FROM audit_log WHERE action = 'push.gone'");
    expect(audit.rows).toEqual([{ actor: 'push-service', entity_id: 'nurse1', detail: { service: service.origin } }]);
  });

  test('410 on the only device: a permanent PUSH_GONE, and the person has no device left', async () => {
    await store.add('nurse2', service.subscribe('phone-2'));
    service.answer('phone-2', 410);
    const err = await sendError(await contact('nurse2'), page());
    expect(err).toMatchObject({ code: 'PUSH_GONE', permanent: true });
    expect(await store.targets('nurse2')).toEqual([]);
  });

  test('404 is gone too', async () => {
    await store.add('nurse3', service.subscribe('phone-3'));
    service.answer('phone-3', 404);
    expect(await sendError(await contact('nurse3'), page())).toMatchObject({ code: 'PUSH_GONE', permanent: true });
    expect(await store.targets('nurse3')).toEqual([]);
  });

  test('500 and 429 are retryable with stable codes, and keep the subscription', async () => {
    await store.add('nurse3', service.subscribe('phone-4'));
    service.answer('phone-4', 500);
    expect(await sendError(await contact('nurse3'), page())).toMatchObject({ code: 'PUSH_SERVICE_ERROR', permanent: false });
    service.answer('phone-4', 429);
    expect(await sendError(await contact('nurse3'), page())).toMatchObject({ code: 'PUSH_THROTTLED', permanent: false });
    expect((await store.targets('nurse3')).length).toBe(1);
    // the service recovers: the retry is delivered
    service.received.length = 0;
    service.answer('phone-4', 201);
    await channel.send(await contact('nurse3'), page());
    expect(service.received.map((r) => r.device)).toEqual(['phone-4']);
  });

  test('a push service that cannot be reached is retryable (PUSH_UNREACHABLE)', async () => {
    const port = await freePort();
    const c: Contact = { username: 'nurse3', email: null, push: [{ ...service.subscribe('nowhere'), endpoint: `https://127.0.0.1:${port}/push/nowhere` }] };
    expect(await sendError(c, page())).toMatchObject({ code: 'PUSH_UNREACHABLE', permanent: false });
  });

  test('a page signed with another VAPID key is refused by the push service (the check is real)', async () => {
    const other = webPush.generateVAPIDKeys();
    const forged = createPushChannel({ publicKey: VAPID.publicKey, privateKey: other.privateKey, subject: SUBJECT, agent: service.agent });
    service.refused.length = 0;
    await expect(forged.send(await contact('nurse1'), page())).rejects.toMatchObject({ code: 'PUSH_REJECTED', permanent: false });
    expect(service.refused).toEqual(['VAPID signature does not verify']);
  });
});
