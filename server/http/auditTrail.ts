/** Builds audit records from requests and hands them to the backend without waiting. */
import type { FastifyRequest } from 'fastify';
import type { Role } from '../../protocol/api.ts';
import type { ApiBackend, AuditAction, AuditEvent } from './backend.ts';

export class AuditTrail {
  private recorded = 0;
  private failed = 0;

  constructor(
    private readonly backend: ApiBackend,
    private readonly clock: () => number,
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
      this.backend.audit(event);
      this.recorded++;
    } catch {
      this.failed++;
    }
  }

  stats(): { recorded: number; failed: number } {
    return { recorded: this.recorded, failed: this.failed };
  }
}
