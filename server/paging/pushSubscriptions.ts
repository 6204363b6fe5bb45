/**
 * The Web Push subscriptions of each person's devices (migration 005, push_subscriptions): added
 * and removed by the person from the board (POST/DELETE /api/push/subscriptions), read by the
 * paging contacts (Contact.push), removed by the push channel when a push service says a device is
 * gone (404/410). Validation of what a browser sends lives here too, so the routes and the store
 * agree on what a subscription is.
 */
import type pg from 'pg';
import type { PushTarget } from './channel.ts';

/** one device of the person, as GET /api/push/subscriptions shows it */
export interface PushDevice {
  endpoint: string;
  createdAt: string;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Why a browser's PushSubscription JSON is refused, or null. `p256dh` is an uncompressed P-256
 * point (65 bytes), `auth` 16 bytes (RFC 8291 §3); the endpoint is an https: URL (RFC 8030: push
 * services are reached over TLS; web-push sends over HTTPS only).
 */
export function subscriptionProblem(s: { endpoint: string; keys: { p256dh: string; auth: string } }): string | null {
  let url: URL;
  try {
    url = new URL(s.endpoint);
  } catch {
    return 'endpoint is not a URL';
  }
  if (url.protocol !== 'https:') return 'endpoint must be an https: URL';
  if (s.endpoint.length > 2000) return 'endpoint is longer than 2000 characters';
  if (url.username !== '' || url.password !== '') return 'endpoint must not carry credentials';
  const p256dh = B64URL.test(s.keys.p256dh) ? Buffer.from(s.keys.p256dh, 'base64url') : null;
  if (p256dh === null || p256dh.length !== 65 || p256dh[0] !== 0x04) return 'keys.p256dh must be base64url of an uncompressed P-256 public key (65 bytes)';
  const auth = B64URL.test(s.keys.auth) ? Buffer.from(s.keys.auth, 'base64url') : null;
  if (auth === null || auth.length !== 16) return 'keys.auth must be base64url of 16 bytes';
  return null;
}

interface Row {
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: Date;
}

export class PushSubscriptionStore {
  constructor(private readonly pool: pg.Pool) {}

  /** stores the device for `username` (a device subscribed under another account moves); true when new */
  async add(username: string, target: PushTarget): Promise<boolean> {
    const r = await this.pool.query<{ created: boolean }>(
      `INSERT INTO push_subscriptions (endpoint, username, p256dh, auth) VALUES ($1, $2, $3, $4)
       ON CONFLICT (endpoint) DO UPDATE SET username = EXCLUDED.username, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth
       RETURNING (xmax = 0) AS created`,
      [target.endpoint, username, target.keys.p256dh, target.keys.auth],
    );
    return r.rows[0]?.created ?? false;
  }

  /** the person's own device only; false when it was not theirs or not there */
  async remove(username: string, endpoint: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM push_subscriptions WHERE endpoint = $1 AND username = $2', [endpoint, username]);
    return (r.rowCount ?? 0) > 0;
  }

  /**
   * A push service said the device is gone (404/410): removed, and the removal audited (the
   * person will not be reached on that device any more). The endpoint itself is not logged: it is
   * the device's capability URL.
   */
  async removeGone(endpoint: string): Promise<boolean> {
    const r = await this.pool.query<{ username: string }>(
      `WITH gone AS (DELETE FROM push_subscriptions WHERE endpoint = $1 RETURNING username)
       INSERT INTO audit_log (actor, action, entity_id, detail)
       SELECT 'push-service', 'push.gone', username, jsonb_build_object('service', $2::text) FROM gone
       RETURNING entity_id AS username`,
      [endpoint, serviceOf(endpoint)],
    );
    return r.rows.length > 0;
  }

  /** Contact.push of one person */
  async targets(username: string): Promise<PushTarget[]> {
    const r = await this.pool.query<Row>('SELECT endpoint, p256dh, auth, created_at FROM push_subscriptions WHERE username = $1 ORDER BY created_at, endpoint', [username]);
    return r.rows.map((row) => ({ endpoint: row.endpoint, keys: { p256dh: row.p256dh, auth: row.auth } }));
  }

  async devices(username: string): Promise<PushDevice[]> {
    const r = await this.pool.query<Row>('SELECT endpoint, p256dh, auth, created_at FROM push_subscriptions WHERE username = $1 ORDER BY created_at, endpoint', [username]);
    return r.rows.map((row) => ({ endpoint: row.endpoint, createdAt: row.created_at.toISOString() }));
  }
}

/** the push service's origin (e.g. https://fcm.googleapis.com): what may be logged of an endpoint */
export function serviceOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return 'unknown';
  }
}
