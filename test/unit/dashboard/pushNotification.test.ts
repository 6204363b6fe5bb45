import { describe, expect, test } from 'vitest';
import type { PushPayload } from '../../../protocol/push.ts';
import { ACCEPT_ACTION, clickTarget, genericNotification, notificationFor, parsePushPayload } from '../../../dashboard/sw/notification.ts';
import { base64urlBytes, pushFailureText, PUSH_TEXT, sameKey } from '../../../dashboard/src/pushSubscribe.ts';

const page: PushPayload = {
  kind: 'page', title: 'HIGH: occlusion, pump CS7-000123', body: 'Ada L. (MRN-9)\nOcclusion', acceptUrl: 'https://pumps.example.org/page/tok-1',
  alertId: 'CS7-000123:occlusion:1', pageId: 'pg-1',
};
const SCOPE = 'https://pumps.example.org/';

describe('service worker: what a push shows', () => {
  test('a page: its title and body, one notification per alert, kept on screen, with Accept', () => {
    expect(notificationFor(page)).toEqual({
      title: page.title,
      options: {
        body: page.body, tag: 'alert:CS7-000123:occlusion:1', renotify: true, requireInteraction: true,
        icon: '/icons/icon-192.png', badge: '/icons/badge-96.png', data: page, actions: [{ action: 'accept', title: 'Accept' }],
      },
    });
  });

  test('accepted and resolved replace the page (same tag), quietly and without Accept', () => {
    for (const kind of ['accepted', 'resolved'] as const) {
      const n = notificationFor({ ...page, kind, acceptUrl: null });
      expect(n.options).toMatchObject({ tag: 'alert:CS7-000123:occlusion:1', renotify: false, requireInteraction: false, actions: [] });
    }
  });

  test('the payload is checked: anything else gets the generic notice', () => {
    expect(parsePushPayload(JSON.stringify(page))).toEqual(page);
    expect(parsePushPayload(JSON.stringify({ ...page, extra: 1 }))).toEqual(page);
    expect(parsePushPayload('not json')).toBeNull();
    expect(parsePushPayload('null')).toBeNull();
    expect(parsePushPayload(JSON.stringify({ ...page, kind: 'other' }))).toBeNull();
    expect(parsePushPayload(JSON.stringify({ ...page, title: 3 }))).toBeNull();
    expect(parsePushPayload(JSON.stringify({ ...page, acceptUrl: 'javascript:alert(1)' }))).toBeNull();
    expect(genericNotification()).toMatchObject({ title: 'pumpwatch', options: { data: null, actions: [] } });
  });
});

describe('service worker: where a tap goes', () => {
  test('Accept, or the body of a page, opens its accept page', () => {
    expect(clickTarget(page, ACCEPT_ACTION, SCOPE)).toBe(page.acceptUrl);
    expect(clickTarget(page, '', SCOPE)).toBe(page.acceptUrl);
  });

  test('a follow-up, an unknown action or a foreign notification opens the board', () => {
    expect(clickTarget({ ...page, kind: 'accepted', acceptUrl: null }, '', SCOPE)).toBe(SCOPE);
    expect(clickTarget(page, 'snooze', SCOPE)).toBe(SCOPE);
    expect(clickTarget(null, ACCEPT_ACTION, SCOPE)).toBe(SCOPE);
    expect(clickTarget({ acceptUrl: 'https://evil.example/' }, ACCEPT_ACTION, SCOPE)).toBe(SCOPE);
  });
});

describe('the subscribe control', () => {
  const key = 'BGHsRXJCw43mpOYkBNDxy9wVbadYM2DYxRY5-D3ohvE8Cw--QVUcb5FUBktfhnGeXvM7xD23UP0KhCjyBt9YYKo';

  test('the VAPID key goes to subscribe() as its bytes', () => {
    const bytes = base64urlBytes(key);
    expect(bytes.length).toBe(65);
    expect(Buffer.from(bytes).toString('base64url')).toBe(key);
  });

  test('a subscription made with another key is not this server\'s', () => {
    expect(sameKey(base64urlBytes(key).buffer, key)).toBe(true);
    const other = base64urlBytes(key);
    other[64] = (other[64]! + 1) % 256;
    expect(sameKey(other.buffer, key)).toBe(false);
    expect(sameKey(null, key)).toBe(false);
  });

  test('failures say what to do', () => {
    const denied = new Error('Permission denied');
    denied.name = 'NotAllowedError';
    expect(pushFailureText(denied)).toBe(PUSH_TEXT.denied);
    const abort = new Error('Registration failed - push service not available');
    abort.name = 'AbortError';
    expect(pushFailureText(abort)).toBe('Could not set up alerts on this device: Registration failed - push service not available');
  });
});
