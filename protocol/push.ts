/**
 * What a Web Push page carries to a device (encrypted, RFC 8291) and its service worker shows
 * (dashboard/sw/serviceWorker.ts): JSON of this shape, under ~4 kB.
 */
export interface PushPayload {
  /** `page` asks the person to accept; `accepted` and `resolved` tell them it is over */
  kind: 'page' | 'accepted' | 'resolved';
  /** one line, fit for a lock screen */
  title: string;
  /** a few lines: patient, pump, what happened, what to do */
  body: string;
  /** `<PUBLIC_URL>/page/<token>`: where the person accepts; null for `accepted` and `resolved` */
  acceptUrl: string | null;
  alertId: string;
  pageId: string;
}
