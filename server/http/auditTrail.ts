/**
 * Builds audit records from requests and hands them, without waiting, to where they are kept: the
 * backend (InfluxDB), or with DATABASE_URL the audit_log table (auditStore.ts).
 */
import type { FastifyRequest } from 'fastify';
import type { Role } from '../../protocol/api.ts';
import type { AuditAction, AuditEvent } from './backend.ts';

export interface AuditSink {
  /** stores one record; must not throw nor wait */
  audit(event: AuditEvent): void;
}

export class AuditTrail {
  private recorded = 0;
  private failed = 0;

  constructor(
    private readonly sink: AuditSink,
    private readonly clock: () => number,
    /** records the sink lost after accepting them (its queue overflowed while the database was down) */
    private readonly lostBySink: () => number = () => 0,
  ) {}

  /** actor/role default to the request's principal */
  record(
    request: FastifyRequest | null,
    action: AuditAction,
    outcome: AuditEvent['outcome'],
    extra: { actor?: string; role?: Role | null; target?: string; detail?: AuditEvent['detail'] } = {},
  ): void {
    const event: AuditEvent = {
      time: new Date(this.clock()).toISOString(),
      action,
      actor: (extra.actor ?? request?.principal?.name ?? 'anonymous').slice(0, 128),
      role: extra.role !== undefined ? extra.role : (request?.principal?.role ?? null),
      from: request ? request.ip : 'local',
      outcome,
    };
    if (extra.target !== undefined) event.target = extra.target;
    if (extra.detail !== undefined) event.detail = extra.detail;
    try {
      this.sink.audit(event);
      this.recorded++;
    } catch {
      this.failed++;
    }
  }

  stats(): { recorded: number; failed: number } {
    return { recorded: this.recorded, failed: this.failed + this.lostBySink() };
  }
}
