/**
 * What the service worker does with a push and a click, as pure functions (unit-tested; the
 * worker in serviceWorker.ts only wires them to the events). A page is shown until the nurse acts
 * on it (requireInteraction), with an Accept action that opens the phone accept page; a later
 * message on the same alert (accepted, resolved) replaces it (same tag).
 */
import type { PushPayload } from '../../protocol/push.ts';

export const ACCEPT_ACTION = 'accept';

/** NotificationOptions members the worker passes (the DOM lib's type lacks `actions`) */
export interface ShownNotification {
  title: string;
  options: {
    body: string;
    tag: string;
    /** a new page on the same alert buzzes again */
    renotify: boolean;
    /** a page stays on screen until the nurse acts on it */
    requireInteraction: boolean;
    icon: string;
    badge: string;
    data: PushPayload | null;
    actions: { action: string; title: string }[];
  };
}

const KINDS: readonly PushPayload['kind'][] = ['page', 'accepted', 'resolved'];

/** the push's JSON, or null when it is not a pumpwatch page (the worker then shows a generic notice) */
export function parsePushPayload(text: string): PushPayload | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const str = (k: string): boolean => typeof o[k] === 'string';
  if (!KINDS.includes(o.kind as PushPayload['kind']) || !str('title') || !str('body') || !str('alertId') || !str('pageId')) return null;
  if (o.acceptUrl !== null && !(str('acceptUrl') && /^https?:\/\//.test(o.acceptUrl as string))) return null;
  return { kind: o.kind as PushPayload['kind'], title: o.title as string, body: o.body as string, acceptUrl: o.acceptUrl as string | null, alertId: o.alertId as string, pageId: o.pageId as string };
}

export function notificationFor(p: PushPayload): ShownNotification {
  const isPage = p.kind === 'page' && p.acceptUrl !== null;
  return {
    title: p.title,
    options: {
      body: p.body,
      tag: `alert:${p.alertId}`,
      renotify: isPage,
      requireInteraction: isPage,
      icon: '/icons/icon-192.png',
      badge: '/icons/badge-96.png',
      data: p,
      actions: isPage ? [{ action: ACCEPT_ACTION, title: 'Accept' }] : [],
    },
  };
}

/** a push that is not ours still shows something: a push without a notification breaks the browser's rules */
export function genericNotification(): ShownNotification {
  return {
    title: 'pumpwatch',
    options: {
      body: 'Open pumpwatch to see the alert.', tag: 'pumpwatch', renotify: false, requireInteraction: false,
      icon: '/icons/icon-192.png', badge: '/icons/badge-96.png', data: null, actions: [],
    },
  };
}

/**
 * Where a click goes: Accept, or the notification's body, opens the accept page of a page; any
 * other click (or one on a follow-up) opens the board.
 */
export function clickTarget(data: unknown, action: string, scope: string): string {
  const p = data !== null && typeof data === 'object' ? parsePushPayload(JSON.stringify(data)) : null;
  if (p && p.acceptUrl !== null && p.kind === 'page' && (action === ACCEPT_ACTION || action === '')) return p.acceptUrl;
  return scope;
}
