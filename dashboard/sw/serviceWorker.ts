/**
 * The dashboard's service worker (served at /sw.js, scope /): shows a Web Push page as a
 * notification with an Accept action, and opens the accept page when the nurse taps it
 * (docs/push.md). It caches nothing and intercepts no request: the board is live or it says so.
 * Built by scripts/buildDashboard.mjs into dashboard/dist/sw.js.
 */
import { clickTarget, genericNotification, notificationFor, parsePushPayload } from './notification.ts';

/** the few members of the worker's scope used here (the project's TypeScript lib is the DOM's) */
interface WorkerScope {
  registration: { scope: string; showNotification(title: string, options: object): Promise<void> };
  clients: {
    openWindow(url: string): Promise<unknown>;
    claim(): Promise<void>;
    matchAll(o: { type: 'window'; includeUncontrolled: boolean }): Promise<{ url: string; focus(): Promise<unknown> }[]>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: string, listener: (event: WorkerEvent) => void): void;
}
interface WorkerEvent {
  waitUntil(p: Promise<unknown>): void;
  data?: { text(): string } | null;
  action?: string;
  notification?: { data: unknown; close(): void };
}

const worker = self as unknown as WorkerScope;

worker.addEventListener('install', (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener('push', (event) => {
  const payload = parsePushPayload(event.data?.text() ?? '');
  const shown = payload === null ? genericNotification() : notificationFor(payload);
  event.waitUntil(worker.registration.showNotification(shown.title, shown.options));
});

worker.addEventListener('notificationclick', (event) => {
  const target = clickTarget(event.notification?.data ?? null, event.action ?? '', worker.registration.scope);
  event.notification?.close();
  event.waitUntil((async () => {
    // the board already open in a window: bring it forward rather than open another
    if (target === worker.registration.scope) {
      const open = (await worker.clients.matchAll({ type: 'window', includeUncontrolled: true }))[0];
      if (open) return open.focus();
    }
    return worker.clients.openWindow(target);
  })());
});
