/** /api/health (public), /metrics and /api/audit (admin and tokens). */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { SESSION_COOKIE, type Authenticator } from '../../auth/authenticator.ts';
import type { AuditAction, ApiBackend, AuditQuery } from '../backend.ts';
import { parseRange, rangeQueryProperties } from '../timeRange.ts';
import { ADMIN } from './params.ts';

const AUDIT_ACTIONS: readonly AuditAction[] = [
  'login', 'login_failed', 'login_locked', 'logout', 'ack', 'billing_export', 'evidence_export',
  'user_added', 'user_removed', 'user_changed', 'pump_label',
];

export interface AdminRouteDeps {
  backend: ApiBackend;
  auth: Authenticator;
  clock: () => number;
  /** every metric of the server, the HTTP layer's included */
  metrics: Registry;
}

export function registerAdminRoutes(app: FastifyInstance, d: AdminRouteDeps): void {
  app.get('/api/health', { config: { access: 'public' } }, async (request) => {
    const h = await d.backend.health();
    // anonymous callers (load balancers) get the contract fields only
    const known = d.auth.identify(request.headers.authorization, request.cookies[SESSION_COOKIE]);
    return known ? h : { status: h.status, mqtt: h.mqtt, influx: h.influx };
  });

  app.get('/metrics', { config: { access: ADMIN } }, async (_request, reply) => {
    return reply.type(d.metrics.contentType).send(await d.metrics.metrics());
  });

  app.get<{ Querystring: { from?: string; to?: string; action?: AuditAction; limit?: number } }>('/api/audit', {
    schema: {
      querystring: {
        type: 'object',
        properties: {
          ...rangeQueryProperties,
          action: { type: 'string', enum: AUDIT_ACTIONS },
          limit: { type: 'integer', minimum: 1, maximum: 10_000 },
        },
      },
    },
    config: { access: ADMIN },
  }, async (request) => {
    const { fromMs, toMs } = parseRange(request.query, d.clock());
    const q: AuditQuery = { fromMs, toMs, limit: request.query.limit ?? 1000 };
    if (request.query.action !== undefined) q.action = request.query.action;
    return d.backend.auditLog(q);
  });
}
