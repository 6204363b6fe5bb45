import { describe, expect, test } from 'vitest';
import { ChannelError, type PageMessage } from '../../../../server/paging/channel.ts';
import { pushError, pushPayload, pushTopic } from '../../../../server/paging/pushChannel.ts';
import { serviceOf, subscriptionProblem } from '../../../../server/paging/pushSubscriptions.ts';
import { decryptAes128gcm, encryptAes128gcm } from '../../../helpers/pushService.ts';
import { createECDH, randomBytes } from 'node:crypto';

const statusError = (statusCode: number): Error => Object.assign(new Error('Received unexpected response code'), { statusCode });

describe('push failures', () => {
  test.each([[404, 'PUSH_GONE', true], [410, 'PUSH_GONE', true], [429, 'PUSH_THROTTLED', false], [500, 'PUSH_SERVICE_ERROR', false], [503, 'PUSH_SERVICE_ERROR', false], [400, 'PUSH_REJECTED', false], [403, 'PUSH_REJECTED', false], [413, 'PUSH_REJECTED', false]] as const)(
    'HTTP %i is %s (permanent: %s)', (status, code, permanent) => {
      const e = pushError(statusError(status));
      expect(e).toBeInstanceOf(ChannelError);
      expect(e).toMatchObject({ code, permanent });
    },
  );

  test('a network failure is retryable and names the errno', () => {
    expect(pushError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toMatchObject({ code: 'PUSH_UNREACHABLE', permanent: false, message: 'push service unreachable (ECONNREFUSED)' });
    expect(pushError(new Error('Socket timeout'))).toMatchObject({ code: 'PUSH_UNREACHABLE', permanent: false });
  });
});

describe('push payload', () => {
  const message = {
    kind: 'page', pageId: 'pg-7', title: 'T'.repeat(500), body: 'B'.repeat(5000), acceptUrl: 'https://x.example/page/t',
    alert: { id: 'A-1' }, patient: null,
  } as unknown as PageMessage;

  test('carries kind, title, body, acceptUrl, alertId and pageId, cut to fit a push', () => {
    const p = pushPayload(message);
    expect(Object.keys(p)).toEqual(['kind', 'title', 'body', 'acceptUrl', 'alertId', 'pageId']);
    expect(p.title.length).toBe(120);
    expect(p.body.length).toBe(1000);
    expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThan(3000);
  });

  test('the topic is 32 base64url characters, the same for one alert', () => {
    expect(pushTopic('A-1')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(pushTopic('A-1')).toBe(pushTopic('A-1'));
    expect(pushTopic('A-2')).not.toBe(pushTopic('A-1'));
  });
});

describe('a browser subscription', () => {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const ok = { endpoint: 'https://fcm.googleapis.com/fcm/send/abc', keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };

  test('is accepted with an https endpoint, a P-256 key and a 16-byte secret', () => {
    expect(subscriptionProblem(ok)).toBeNull();
  });

  test.each([
    [{ endpoint: 'http://fcm.googleapis.com/x' }, 'endpoint must be an https: URL'],
    [{ endpoint: 'nope' }, 'endpoint is not a URL'],
    [{ endpoint: 'https://user:pw@push.example/x' }, 'endpoint must not carry credentials'],
    [{ endpoint: `https://push.example/${'x'.repeat(2000)}` }, 'endpoint is longer than 2000 characters'],
    [{ keys: { ...ok.keys, p256dh: ecdh.getPublicKey('base64url', 'compressed') } }, 'keys.p256dh must be base64url of an uncompressed P-256 public key (65 bytes)'],
    [{ keys: { ...ok.keys, p256dh: `${ok.keys.p256dh}=` } }, 'keys.p256dh must be base64url of an uncompressed P-256 public key (65 bytes)'],
    [{ keys: { ...ok.keys, auth: randomBytes(12).toString('base64url') } }, 'keys.auth must be base64url of 16 bytes'],
  ])('%j is refused: %s', (change, reason) => {
    expect(subscriptionProblem({ ...ok, ...change })).toBe(reason);
  });

  test('only the push service origin of an endpoint is ever logged', () => {
    expect(serviceOf(ok.endpoint)).toBe('https://fcm.googleapis.com');
    expect(serviceOf('::')).toBe('unknown');
  });
});

describe('the test push service decrypts RFC 8291 as a device does', () => {
  test('round trip, and a wrong secret does not authenticate', () => {
    const device = createECDH('prime256v1');
    device.generateKeys();
    const auth = randomBytes(16);
    const body = encryptAes128gcm('{"kind":"page"}', device.getPublicKey(), auth);
    expect(decryptAes128gcm(body, { ecdh: device, auth })).toBe('{"kind":"page"}');
    expect(() => decryptAes128gcm(body, { ecdh: device, auth: randomBytes(16) })).toThrow();
  });
});
