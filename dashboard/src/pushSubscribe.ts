/**
 * "Get alerts on this device" on the board (docs/push.md): registers the service worker
 * (/sw.js), asks for permission to notify, subscribes with the server's VAPID key and gives the
 * server the subscription, so pages reach this phone or computer when the board is closed.
 * Hidden when the browser has no Push API or the server no VAPID key.
 */
import { deletePushSubscription, fetchPushKey, savePushSubscription } from './api.ts';
import { el, setText } from './element.ts';

export const SERVICE_WORKER_URL = '/sw.js';

/** base64url (no padding) → bytes, for PushManager.subscribe's applicationServerKey */
export function base64urlBytes(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** true when a subscription was made with this key (a new server key needs a new subscription) */
export function sameKey(applicationServerKey: ArrayBuffer | null | undefined, key: string): boolean {
  if (!applicationServerKey) return false;
  const a = new Uint8Array(applicationServerKey);
  const b = base64urlBytes(key);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** what the control says for each state */
export const PUSH_TEXT = {
  off: 'Get alerts on this device',
  on: 'Alerts on this device: on',
  stop: 'Stop alerts on this device',
  working: 'Setting up alerts on this device…',
  denied: 'Notifications are blocked for this site: allow them in the browser settings, then try again.',
} as const;

/** the reason a subscription failed, in words a nurse can pass on */
export function pushFailureText(err: unknown): string {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'NotAllowedError') return PUSH_TEXT.denied;
  return `Could not set up alerts on this device: ${message || name || 'unknown error'}`;
}

export class PushControl {
  readonly root: HTMLElement;
  private readonly button = el('button', { type: 'button', class: 'push-toggle' }, PUSH_TEXT.off);
  private readonly status = el('span', { class: 'push-status', role: 'status' });
  private key: string | null = null;
  private registration: ServiceWorkerRegistration | null = null;
  private subscription: PushSubscription | null = null;

  constructor() {
    this.root = el('span', { class: 'push-control', hidden: true }, this.button, this.status);
    this.button.addEventListener('click', () => { void (this.subscription ? this.unsubscribe() : this.subscribe()); });
  }

  /** registers the service worker and shows the control when this browser and the server can push */
  async start(): Promise<void> {
    if (!('serviceWorker' in navigator)) return;
    try {
      this.registration = await navigator.serviceWorker.register(SERVICE_WORKER_URL, { scope: '/' });
    } catch {
      return; // no worker (an insecure origin, a private window): no alerts on this device
    }
    if (!('PushManager' in window) || !('Notification' in window) || !this.registration.pushManager) return;
    this.key = await fetchPushKey().catch(() => null);
    if (this.key === null) return;
    const existing = await this.registration.pushManager.getSubscription().catch(() => null);
    this.subscription = existing && sameKey(existing.options.applicationServerKey, this.key) ? existing : null;
    // a device subscribed before is saved again: the server may have lost it (restored database, other account)
    if (this.subscription) await savePushSubscription(this.subscription.toJSON()).catch(() => undefined);
    this.show();
    this.root.hidden = false;
  }

  private show(message = ''): void {
    setText(this.button, this.subscription ? PUSH_TEXT.stop : PUSH_TEXT.off);
    setText(this.status, message || (this.subscription ? PUSH_TEXT.on : ''));
  }

  async subscribe(): Promise<void> {
    if (!this.registration || this.key === null) return;
    this.button.disabled = true;
    setText(this.status, PUSH_TEXT.working);
    try {
      const permission = await Notification.requestPermission();
      if (permission !== 'granted') {
        this.show(PUSH_TEXT.denied);
        return;
      }
      const old = await this.registration.pushManager.getSubscription();
      if (old && !sameKey(old.options.applicationServerKey, this.key)) await old.unsubscribe();
      const subscription = await this.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64urlBytes(this.key) });
      await savePushSubscription(subscription.toJSON());
      this.subscription = subscription;
      this.show();
    } catch (err) {
      this.show(pushFailureText(err));
    } finally {
      this.button.disabled = false;
    }
  }

  async unsubscribe(): Promise<void> {
    const s = this.subscription;
    if (!s) return;
    this.button.disabled = true;
    try {
      await deletePushSubscription(s.endpoint).catch(() => undefined);
      await s.unsubscribe();
      this.subscription = null;
      this.show();
    } catch (err) {
      this.show(`Could not stop alerts on this device: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.button.disabled = false;
    }
  }
}
