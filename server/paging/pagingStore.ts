/**
 * Paging in PostgreSQL (migration 004): shifts, chains, pages, deliveries, acknowledgement notes.
 * Every chain change is conditional on the state it was computed from (updateChain), and a step's
 * page is claimed by its INSERT (claimPage) before anything is sent: after a restart, or with two
 * instances, each step is taken once.
 */
import type pg from 'pg';
import type { AckOutcome, Alert, OnCallShift, PageRecord } from '../../protocol/api.ts';
import type { Contact, PushTarget } from './channel.ts';
import type { ChainState, ChainStatus, ClosedReason } from './escalation.ts';

/** the lease check of CLUSTER_MODE=lease, run inside the claim's transaction */
export type PageFence = (tx: pg.PoolClient, pump: string) => Promise<void>;

export type PageStatus = 'sending' | 'sent' | 'failed' | 'accepted' | 'declined' | 'expired';

interface ChainRow {
  alert_id: string;
  pump: string;
  alert: Alert;
  chain: string[];
  status: ChainStatus;
  round: number;
  step: number;
  step_at: Date;
  accepted_by: string | null;
  accepted_at: Date | null;
  closed_reason: ClosedReason | null;
  paged: string[] | null;
  reached: boolean | null;
}

export interface StoredChain {
  state: ChainState;
  alert: Alert;
}

export interface TokenPage {
  pageId: string;
  alertId: string;
  username: string;
  status: PageStatus;
  round: number;
  step: number;
  alert: Alert;
  chainStatus: ChainStatus;
  acceptedBy: string | null;
}

const CHAIN_COLUMNS = `c.alert_id, c.pump, c.alert, c.chain, c.status, c.round, c.step, c.step_at, c.accepted_by, c.accepted_at, c.closed_reason,
  (SELECT array_agg(p.username ORDER BY p.id) FROM pages p WHERE p.alert_id = c.alert_id AND p.status IN ('sent', 'accepted', 'declined')) AS paged,
  EXISTS (SELECT 1 FROM pages p WHERE p.alert_id = c.alert_id AND p.round = c.round AND p.status IN ('sent', 'accepted', 'declined')) AS reached`;

function chainOf(r: ChainRow): StoredChain {
  const paged: string[] = [];
  for (const u of r.paged ?? []) if (!paged.includes(u)) paged.push(u);
  return {
    alert: r.alert,
    state: {
      alertId: r.alert_id, chain: r.chain, status: r.status, round: r.round, step: r.step, stepAtMs: r.step_at.getTime(),
      acceptedBy: r.accepted_by, acceptedAtMs: r.accepted_at?.getTime() ?? null, closedReason: r.closed_reason,
      reachedInRound: r.reached === true, paged,
    },
  };
}

const iso = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

export class PagingStore {
  /**
   * @param fence with leases (CLUSTER_MODE=lease): throws unless this instance still holds the pump,
   *   and holds the lease row until COMMIT, so a stale owner cannot claim a step (docs/scaling.md)
   */
  constructor(private readonly pool: pg.Pool, private readonly fence: PageFence | null = null) {}

  async replaceShifts(shifts: readonly OnCallShift[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('DELETE FROM oncall_shifts');
      for (const s of shifts) {
        await client.query('INSERT INTO oncall_shifts (starts_at, ends_at, chain) VALUES ($1, $2, $3)', [s.from, s.to, s.chain]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async shifts(): Promise<OnCallShift[]> {
    const { rows } = await this.pool.query<{ starts_at: Date; ends_at: Date; chain: string[] }>(
      'SELECT starts_at, ends_at, chain FROM oncall_shifts ORDER BY starts_at, id');
    return rows.map((r) => ({ from: r.starts_at.toISOString(), to: r.ends_at.toISOString(), chain: r.chain }));
  }

  /** the shift on call at `ms` (the latest started, when shifts overlap) */
  async shiftAt(ms: number): Promise<OnCallShift | null> {
    const { rows } = await this.pool.query<{ starts_at: Date; ends_at: Date; chain: string[] }>(
      'SELECT starts_at, ends_at, chain FROM oncall_shifts WHERE starts_at <= $1 AND ends_at > $1 ORDER BY starts_at DESC, id DESC LIMIT 1',
      [new Date(ms)]);
    const r = rows[0];
    return r ? { from: r.starts_at.toISOString(), to: r.ends_at.toISOString(), chain: r.chain } : null;
  }

  /** false when the alert has a chain already (another instance, or before a restart) */
  async insertChain(alert: Alert, s: ChainState): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO paging_chains (alert_id, pump, alert, chain, status, round, step, step_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (alert_id) DO NOTHING`,
      [s.alertId, alert.pump, JSON.stringify(alert), s.chain, s.status, s.round, s.step, new Date(s.stepAtMs)]);
    return rowCount === 1;
  }

  /** writes `next` only if the chain is still as `prev` left it; false: someone else moved it first */
  async updateChain(prev: ChainState, next: ChainState, alert?: Alert): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE paging_chains SET status = $5, round = $6, step = $7, step_at = $8, accepted_by = $9, accepted_at = $10,
         closed_reason = $11, alert = COALESCE($12::jsonb, alert), updated_at = now()
       WHERE alert_id = $1 AND status = $2 AND round = $3 AND step = $4`,
      [prev.alertId, prev.status, prev.round, prev.step, next.status, next.round, next.step, new Date(next.stepAtMs),
        next.acceptedBy, iso(next.acceptedAtMs), next.closedReason, alert ? JSON.stringify(alert) : null]);
    return rowCount === 1;
  }

  async chain(alertId: string): Promise<StoredChain | null> {
    const { rows } = await this.pool.query<ChainRow>(`SELECT ${CHAIN_COLUMNS} FROM paging_chains c WHERE c.alert_id = $1`, [alertId]);
    return rows[0] ? chainOf(rows[0]) : null;
  }

  /** chains not closed: running, failed, accepted (until acknowledged or cleared), idle */
  async openChains(): Promise<StoredChain[]> {
    const { rows } = await this.pool.query<ChainRow>(`SELECT ${CHAIN_COLUMNS} FROM paging_chains c WHERE c.status <> 'closed'`);
    return rows.map(chainOf);
  }

  async chains(alertIds: readonly string[]): Promise<StoredChain[]> {
    if (alertIds.length === 0) return [];
    const { rows } = await this.pool.query<ChainRow>(`SELECT ${CHAIN_COLUMNS} FROM paging_chains c WHERE c.alert_id = ANY($1)`, [alertIds]);
    return rows.map(chainOf);
  }

  /** the page of one step, claimed before it is sent; null when it was claimed already */
  async claimPage(pump: string, alertId: string, round: number, step: number, username: string, tokenSha256: string, nowMs: number): Promise<string | null> {
    const insert = async (db: pg.Pool | pg.PoolClient): Promise<string | null> => {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO pages (alert_id, round, step, username, token_sha256, status, created_at)
         VALUES ($1, $2, $3, $4, $5, 'sending', $6) ON CONFLICT (alert_id, round, step) DO NOTHING RETURNING id`,
        [alertId, round, step, username, tokenSha256, new Date(nowMs)]);
      return rows[0] ? String(rows[0].id) : null;
    };
    if (!this.fence) return insert(this.pool);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await this.fence(client, pump);
      const id = await insert(client);
      await client.query('COMMIT');
      return id;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if ((err as { code?: unknown }).code === 'LEASE_LOST') return null;
      throw err;
    } finally {
      client.release();
    }
  }

  /** `expired`: held for grouping, then not sent because its chain had moved on */
  async markPage(pageId: string, status: 'sent' | 'failed' | 'expired', nowMs: number): Promise<void> {
    await this.pool.query(
      `UPDATE pages SET status = $2, sent_at = CASE WHEN $2 = 'sent' THEN $3::timestamptz ELSE sent_at END
       WHERE id = $1 AND status = 'sending'`, [pageId, status, new Date(nowMs)]);
  }

  async recordDelivery(pageId: string, channel: string, status: 'sending' | 'retrying' | 'sent' | 'failed', attempts: number, error: string | null): Promise<void> {
    await this.pool.query(
      `INSERT INTO page_deliveries (page_id, channel, status, attempts, last_error, updated_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (page_id, channel) DO UPDATE SET status = $3, attempts = $4, last_error = COALESCE($5, page_deliveries.last_error), updated_at = now()`,
      [pageId, channel, status, attempts, error === null ? null : error.slice(0, 300)]);
  }

  async pageByToken(tokenSha256: string): Promise<TokenPage | null> {
    const { rows } = await this.pool.query<{
      id: string; alert_id: string; username: string; status: PageStatus; round: number; step: number; alert: Alert; chain_status: ChainStatus; accepted_by: string | null;
    }>(
      `SELECT p.id, p.alert_id, p.username, p.status, p.round, p.step, c.alert, c.status AS chain_status, c.accepted_by
       FROM pages p JOIN paging_chains c USING (alert_id) WHERE p.token_sha256 = $1`, [tokenSha256]);
    const r = rows[0];
    if (!r) return null;
    return {
      pageId: String(r.id), alertId: r.alert_id, username: r.username, status: r.status, round: r.round, step: r.step,
      alert: r.alert, chainStatus: r.chain_status, acceptedBy: r.accepted_by,
    };
  }

  /** single use: true only for the first answer to a page still open */
  async answerPage(pageId: string, status: 'accepted' | 'declined', nowMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      "UPDATE pages SET status = $2, answered_at = $3 WHERE id = $1 AND status IN ('sending', 'sent')", [pageId, status, new Date(nowMs)]);
    return rowCount === 1;
  }

  /** the alert's chain ended: its unanswered pages' tokens no longer work */
  async expirePages(alertId: string): Promise<void> {
    await this.pool.query("UPDATE pages SET status = 'expired' WHERE alert_id = $1 AND status IN ('sending', 'sent')", [alertId]);
  }

  async pages(alertId: string): Promise<PageRecord[]> {
    const { rows } = await this.pool.query<{
      id: string; username: string; round: number; step: number; status: PageStatus; created_at: Date; sent_at: Date | null;
      channel: string | null; d_status: string | null; last_error: string | null; d_at: Date | null;
    }>(
      `SELECT p.id, p.username, p.round, p.step, p.status, p.created_at, p.sent_at, d.channel, d.status AS d_status, d.last_error, d.updated_at AS d_at
       FROM pages p LEFT JOIN page_deliveries d ON d.page_id = p.id WHERE p.alert_id = $1 ORDER BY p.id, d.channel`, [alertId]);
    return rows.map((r) => {
      const failed = r.d_status === 'failed' || (r.channel === null && r.status === 'failed');
      const status: PageRecord['status'] = failed ? 'failed'
        : r.status === 'sending' ? 'sent' : r.status === 'failed' ? 'failed' : r.status;
      const rec: PageRecord = {
        id: `${r.id}${r.channel ? `-${r.channel}` : ''}`, to: r.username, channel: (r.channel ?? 'none') as PageRecord['channel'],
        sentAt: r.d_status === 'sent' ? (r.d_at ?? r.sent_at)?.toISOString() ?? null : null,
        status, round: r.round, step: r.step,
      };
      if (r.last_error !== null && r.d_status !== 'sent') rec.error = r.last_error;
      return rec;
    });
  }

  async saveAckNote(alertId: string, by: string, note: string | null, outcome: AckOutcome | null, nowMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO alert_ack_notes (alert_id, acked_by, note, outcome, at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (alert_id) DO NOTHING`, [alertId, by, note, outcome, new Date(nowMs)]);
  }

  async ackNotes(alertIds: readonly string[]): Promise<Map<string, { note: string | null; outcome: AckOutcome | null }>> {
    const out = new Map<string, { note: string | null; outcome: AckOutcome | null }>();
    if (alertIds.length === 0) return out;
    const { rows } = await this.pool.query<{ alert_id: string; note: string | null; outcome: AckOutcome | null }>(
      'SELECT alert_id, note, outcome FROM alert_ack_notes WHERE alert_id = ANY($1)', [alertIds]);
    for (const r of rows) out.set(r.alert_id, { note: r.note, outcome: r.outcome });
    return out;
  }

  /** users.email, and the person's Web Push subscriptions when that table exists */
  async contact(username: string): Promise<Contact | null> {
    const { rows } = await this.pool.query<{ email: string | null; has_push: boolean }>(
      "SELECT email, to_regclass('push_subscriptions') IS NOT NULL AS has_push FROM users WHERE username = $1", [username]);
    const r = rows[0];
    if (!r) return null;
    let push: PushTarget[] = [];
    if (r.has_push) {
      const sub = await this.pool.query<{ endpoint: string; p256dh: string; auth: string }>(
        'SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE username = $1', [username]);
      push = sub.rows.map((s) => ({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } }));
    }
    return { username, email: r.email, push };
  }

  /** false for an unknown user */
  async setEmail(username: string, email: string | null): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE users SET email = $2, updated_at = now() WHERE username = $1', [username, email]);
    return rowCount === 1;
  }

  async knownUsers(usernames: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ username: string }>('SELECT username FROM users WHERE username = ANY($1)', [usernames]);
    return new Set(rows.map((r) => r.username));
  }
}
