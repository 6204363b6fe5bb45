/** Alerts (read by the board's roles: nurse, pharmacist, admin) and acknowledgement (nurse, admin; tokens may acknowledge). */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../access.ts';
import type { AuditTrail } from '../auditTrail.ts';
import type { AlertQuery, ApiBackend } from '../backend.ts';
import { notFound } from '../errors.ts';
import { parseRange, rangeQueryProperties } from '../timeRange.ts';
import { BOARD, ID_PARAM, NURSE, PUMP_PARAM } from './params.ts';

interface AlertsQuery {
  status?: 'active' | 'all';
  pump?: string;
  from?: string;
  to?: string;
}

export function registerAlertRoutes(app: FastifyInstance, backend: ApiBackend, audit: AuditTrail, clock: () => number): void {
  app.get<{ Querystring: AlertsQuery }>('/api/alerts', {
    schema: {
      querystring: {
        type: 'object',
        properties: { status: { type: 'string', enum: ['active', 'all'] }, pump: PUMP_PARAM, ...rangeQueryProperties },
      },
    },
    config: { access: BOARD },
  }, async (request) => {
    const { fromMs, toMs } = parseRange(request.query, clock());
    const q: AlertQuery = { status: request.query.status ?? 'active', fromMs, toMs };
    if (request.query.pump !== undefined) q.pump = request.query.pump;
    return backend.alerts(q);
  });

  app.post<{ Params: { id: string } }>('/api/alerts/:id/ack', {
    schema: { params: { type: 'object', required: ['id'], properties: { id: ID_PARAM } } },
    config: { access: NURSE, tokenWrites: true },
  }, async (request) => {
    const by = principalOf(request).name;
    const alert = await backend.acknowledge(request.params.id, by);
    if (!alert) {
      audit.record(request, 'ack', 'failed', { target: request.params.id, detail: { reason: 'unknown_alert' } });
      throw notFound('alert');
    }
    audit.record(request, 'ack', 'ok', { target: alert.id, detail: { type: alert.type, pump: alert.pump } });
    return alert;
  });
}
