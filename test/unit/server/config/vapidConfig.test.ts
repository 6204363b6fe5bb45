import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import webPush from 'web-push';
import { ConfigError, loadConfig } from '../../../../server/config.ts';

const keys = webPush.generateVAPIDKeys();
const DB = { DATABASE_URL: 'postgres://pumpwatch@127.0.0.1:5432/pumpwatch' };
const refusedWith = (re: RegExp) => (e: unknown): boolean => e instanceof ConfigError && re.test(e.message);

describe('VAPID settings', () => {
  test('unset: no Web Push', () => {
    const c = loadConfig({});
    assert.equal(c.vapidPublicKey, null);
    assert.equal(c.vapidPrivateKey, null);
    assert.equal(c.vapidSubject, null);
  });

  test('keys from `npm run vapid-keys` with a mailto: subject are taken as they are', () => {
    const c = loadConfig({ ...DB, VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey, VAPID_SUBJECT: 'mailto:ops@example.org' });
    assert.equal(c.vapidPublicKey, keys.publicKey);
    assert.equal(c.vapidPrivateKey, keys.privateKey);
    assert.equal(c.vapidSubject, 'mailto:ops@example.org');
  });

  test('both keys or neither', () => {
    assert.throws(() => loadConfig({ VAPID_PUBLIC_KEY: keys.publicKey, VAPID_SUBJECT: 'mailto:a@b.c' }), refusedWith(/go together/));
    assert.throws(() => loadConfig({ VAPID_PRIVATE_KEY: keys.privateKey, VAPID_SUBJECT: 'mailto:a@b.c' }), refusedWith(/go together/));
  });

  test('keys must be base64url of the right size; the message never echoes the private key', () => {
    const base = { ...DB, VAPID_SUBJECT: 'mailto:a@b.c' };
    assert.throws(() => loadConfig({ ...base, VAPID_PUBLIC_KEY: `${keys.publicKey}==`, VAPID_PRIVATE_KEY: keys.privateKey }), refusedWith(/VAPID_PUBLIC_KEY must be base64url/));
    assert.throws(() => loadConfig({ ...base, VAPID_PUBLIC_KEY: keys.privateKey, VAPID_PRIVATE_KEY: keys.privateKey }), refusedWith(/65 bytes/));
    // a public key that is not an uncompressed point (first byte 0x04)
    const notAPoint = Buffer.from(keys.publicKey, 'base64url');
    notAPoint[0] = 0x03;
    assert.throws(() => loadConfig({ ...base, VAPID_PUBLIC_KEY: notAPoint.toString('base64url'), VAPID_PRIVATE_KEY: keys.privateKey }), refusedWith(/uncompressed/));
    const secret = `${keys.privateKey.slice(0, 40)}+/A`;
    assert.throws(() => loadConfig({ ...base, VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: secret }), (e: unknown) => e instanceof ConfigError && /VAPID_PRIVATE_KEY must be base64url/.test(e.message) && !e.message.includes(secret));
  });

  test('the keys need the database that keeps the subscriptions', () => {
    assert.throws(() => loadConfig({ VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey, VAPID_SUBJECT: 'mailto:a@b.c' }), refusedWith(/VAPID keys need DATABASE_URL/));
  });

  test('the subject is mailto: or https:, required unless PUBLIC_URL is https:', () => {
    const k = { ...DB, VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey };
    assert.throws(() => loadConfig({ ...k, VAPID_SUBJECT: 'http://pumps.example.org' }), refusedWith(/VAPID_SUBJECT must use mailto: or https:/));
    assert.throws(() => loadConfig(k), refusedWith(/VAPID_SUBJECT .* is required/));
    assert.equal(loadConfig({ ...k, PUBLIC_URL: 'https://pumps.example.org/board/' }).vapidSubject, 'https://pumps.example.org');
    assert.equal(loadConfig({ ...k, VAPID_SUBJECT: 'https://pumps.example.org/contact' }).vapidSubject, 'https://pumps.example.org/contact');
  });
});
