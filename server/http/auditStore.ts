/**
 * The audit log in PostgreSQL (table `audit_log`, migration 002, append-only), shared by every
 * instance and read back by GET /api/audit together with what the clinical store writes there.
 * record() never waits: events queue in memory and go in batches; while PostgreSQL is down they
 * stay queued (bounded: the oldest are dropped beyond `maxQueued`, and counted) and are written
 * when it returns, with the time they happened. Until the database is first up and migrated they
 * also wait (waitForOpen), so an event of the first seconds never meets a table not yet made.
 */
import type pg from 'pg';
import type { AuditAction, AuditEvent, AuditQuery } from './backend.ts';

/** the HTTP layer's actions under the table's `noun.verb` names */
export const AUDIT_ACTION_NAMES: Readonly<Record<AuditAction, string>> = Object.freeze({
  login: 'session.login', login_failed: 'session.login_failed', login_locked: 'session.login_locked', logout: 'session.logout',
  ack: 'alert.ack', billing_export: 'billing.export', evidence_export: 'evidence.export',
  user_added: 'user.add', user_removed: 'user.remove', user_changed: 'user.change', pump_label: 'pump.label', pump_visit: 'pump.visit',
  push_subscribe: 'push.subscribe', push_unsubscribe: 'push.unsubscribe',
  page_sent: 'page.sent', page_failed: 'page.failed', page_accepted: 'page.accepted', page_declined: 'page.declined',
  oncall_changed: 'oncall.change', contact_changed: 'user.contact',
});
const ACTION_OF_NAME = new Map<string, AuditAction>(Object.entries(AUDIT_ACTION_NAMES).map(([k, v]) => [v, k as AuditAction]));

/** an entry as GET /api/audit shows it: the HTTP layer's events, and the clinical ones (`patient.read`, ...) */
export interface AuditEntry extends Omit<AuditEvent, 'action' | 'detail'> {
  action: string;
  detail?: Record<string, unknown>;
  /** clinical entries: the patient concerned (an id, never a name) */
  patientId?: string;
}

export interface AuditLogQuery extends Omit<AuditQuery, 'action'> {
  /** an AuditAction or a table action such as `patient.read` */
  action?: string;
}

export interface PgAuditLogOptions {
  pool: pg.Pool;
  /** events held while the database is away (default 100 000, a few tens of MB at most) */
  maxQueued?: number;
  /** rows per INSERT (default 500) */
  batchSize?: number;
  /** retry period while the database is away, ms (default 2000) */
  retryMs?: number;
  /** a batch refused for another reason than an outage (it is dropped and counted; never retried forever) */
  onError?: (message: string) => void;
  /** hold events until open() (the database is up and migrated: before that the table may not exist yet) */
  waitForOpen?: boolean;
}

interface AuditRow {
  at: Date;
  actor: string;
  action: string;
  entity_id: string | null;
  patient_id: string | null;
  detail: Record<string, unknown>;
}

export class PgAuditLog {
  private queue: AuditEvent[] = [];
  private writing: Promise<void> | null = null;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;
  private opened: boolean;
  /** events written, and events lost (queue full, or refused by the database) */
  written = 0;
  dropped = 0;

  constructor(
    private readonly opts: PgAuditLogOptions,
    private readonly isUnavailable: (err: unknown) => boolean,
  ) {
    this.opened = opts.waitForOpen !== true;
  }

  /** the database is up and migrated: what is queued goes out now */
  open(): Promise<void> {
    this.opened = true;
    return this.drain();
  }

  /** queues one event; never throws, never waits */
  audit(event: AuditEvent): void {
    if (this.queue.length >= (this.opts.maxQueued ?? 100_000)) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(event);
    if (this.opened && !this.retry && !this.stopped) queueMicrotask(() => void this.drain());
  }

  get queued(): number {
    return this.queue.length;
  }

  /** writes what is queued now (resolves when written, or when the database refused: then it stays queued) */
  drain(): Promise<void> {
    if (!this.opened) return Promise.resolve();
    this.writing ??= this.writeAll().finally(() => {
      this.writing = null;
    });
    return this.writing;
  }

  /** one last attempt to write the queue, then no more retries */
  async stop(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    await this.drain();
    this.stopped = true;
  }

  async read(q: AuditLogQuery): Promise<AuditEntry[]> {
    const values: unknown[] = [new Date(q.fromMs), new Date(q.toMs), Math.max(1, Math.floor(q.limit))];
    let filter = '';
    if (q.action !== undefined) {
      values.push(AUDIT_ACTION_NAMES[q.action as AuditAction] ?? q.action);
      filter = ' AND action = $4';
    }
    const { rows } = await this.opts.pool.query<AuditRow>(
      `SELECT at, actor, action, entity_id, patient_id, detail FROM audit_log
        WHERE at >= $1 AND at <= $2${filter} ORDER BY at DESC, id DESC LIMIT $3`, values,
    );
    return rows.map(entryFromRow);
  }

  private async writeAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.opts.batchSize ?? 500);
      try {
        await insertBatch(this.opts.pool, batch);
        this.written += batch.length;
      } catch (err) {
        if (this.isUnavailable(err)) {
          this.scheduleRetry();
          return;
        }
        // a row the table refuses would block the queue for ever: drop the batch, say so
        this.opts.onError?.(`audit batch refused: ${(err as Error).message}`);
        this.dropped += batch.length;
      }
      // events queued meanwhile beyond maxQueued shifted the front: remove exactly the batch sent
      this.removeSent(batch);
    }
  }

  private removeSent(batch: readonly AuditEvent[]): void {
    const first = this.queue.indexOf(batch[0] as AuditEvent);
    if (first === 0) this.queue.splice(0, batch.length);
    else this.queue = this.queue.filter((e) => !batch.includes(e));
  }

  private scheduleRetry(): void {
    if (this.retry || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.drain();
    }, this.opts.retryMs ?? 2000);
    this.retry.unref();
  }
}

async function insertBatch(pool: pg.Pool, batch: readonly AuditEvent[]): Promise<void> {
  const at: Date[] = [];
  const actor: string[] = [];
  const action: string[] = [];
  const entity: (string | null)[] = [];
  const detail: string[] = [];
  for (const e of batch) {
    at.push(new Date(e.time));
    actor.push(e.actor.slice(0, 100) || 'anonymous');
    action.push(AUDIT_ACTION_NAMES[e.action]);
    entity.push(e.target ?? null);
    detail.push(JSON.stringify({ role: e.role, from: e.from, outcome: e.outcome, ...(e.detail ? { detail: e.detail } : {}) }));
  }
  await pool.query(
    `INSERT INTO audit_log (at, actor, action, entity_id, detail)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::jsonb[])`,
    [at, actor, action, entity, detail],
  );
}

function entryFromRow(r: AuditRow): AuditEntry {
  const d = r.detail ?? {};
  const httpAction = ACTION_OF_NAME.get(r.action);
  const entry: AuditEntry = {
    time: r.at.toISOString(),
    action: httpAction ?? r.action,
    actor: r.actor,
    role: typeof d.role === 'string' ? (d.role as AuditEntry['role']) : null,
    from: typeof d.from === 'string' ? d.from : 'local',
    outcome: d.outcome === 'failed' || d.outcome === 'denied' ? d.outcome : 'ok',
  };
  if (r.entity_id !== null) entry.target = r.entity_id;
  if (r.patient_id !== null) entry.patientId = r.patient_id;
  if (httpAction) {
    if (d.detail && typeof d.detail === 'object') entry.detail = d.detail as Record<string, unknown>;
  } else {
    // clinical and import entries keep their detail as written (ids and counts only)
    const { role: _r, from: _f, outcome: _o, ...rest } = d;
    if (Object.keys(rest).length > 0) entry.detail = rest;
  }
  return entry;
}
