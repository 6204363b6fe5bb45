/** /api/health (public), /metrics and /api/audit (admin and tokens). */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { SESSION_COOKIE, type Authenticator } from '../../auth/authenticator.ts';
import type { AuditAction, ApiBackend } from '../backend.ts';
import type { AuditEntry, AuditLogQuery } from '../auditStore.ts';
import { parseRange, rangeQueryProperties } from '../timeRange.ts';
import { ADMIN } from './params.ts';

const AUDIT_ACTIONS: readonly AuditAction[] = [
  'login', 'login_failed', 'login_locked', 'logout', 'ack', 'billing_export', 'evidence_export',
  'user_added', 'user_removed', 'user_changed', 'pump_label', 'pump_visit',
  'push_subscribe', 'push_unsubscribe',
  'page_sent', 'page_failed', 'page_accepted', 'page_declined', 'oncall_changed', 'contact_changed',
];

export interface AdminRouteDeps {
  backend: ApiBackend;
  auth: Authenticator;
  clock: () => number;
  /** every metric of the server, the HTTP layer's included */
  metrics: Registry;
  /** where GET /api/audit reads (default the backend's log; with DATABASE_URL the audit_log table) */
  auditLog?: (query: AuditLogQuery) => Promise<AuditEntry[]>;
}

export function registerAdminRoutes(app: FastifyInstance, d: AdminRouteDeps): void {
  app.get('/api/health', { config: { access: 'public' } }, async (request) => {
    const h = await d.backend.health();
    // anonymous callers (load balancers) get the contract fields only
    const known = await d.auth.identifyShared(request.headers.authorization, request.cookies[SESSION_COOKIE]).catch(() => undefined);
    if (known) return h;
    return { status: h.status, mqtt: h.mqtt, influx: h.influx, ...(h.database !== undefined ? { database: h.database } : {}), ...(h.cluster !== undefined ? { cluster: h.cluster } : {}) };
  });

  app.get('/metrics', { config: { access: ADMIN } }, async (_request, reply) => {
    return reply.type(d.metrics.contentType).send(await d.metrics.metrics());
  });

  const auditLog = d.auditLog ?? ((q: AuditLogQuery) => d.backend.auditLog({ ...q, action: q.action as AuditAction | undefined }));
  app.get<{ Querystring: { from?: string; to?: string; action?: string; limit?: number } }>('/api/audit', {
    schema: {
      querystring: {
        type: 'object',
        properties: {
          ...rangeQueryProperties,
          // the HTTP layer's actions, or the audit_log table's (`patient.read`, `order.create`, ...)
          action: { anyOf: [{ type: 'string', enum: AUDIT_ACTIONS }, { type: 'string', pattern: '^[a-z_]{1,40}\\.[a-z_]{1,40}$' }] },
          limit: { type: 'integer', minimum: 1, maximum: 10_000 },
        },
      },
    },
    config: { access: ADMIN },
  }, async (request) => {
    const { fromMs, toMs } = parseRange(request.query, d.clock());
    const q: AuditLogQuery = { fromMs, toMs, limit: request.query.limit ?? 1000 };
    if (request.query.action !== undefined) q.action = request.query.action;
    return auditLog(q);
  });
}
