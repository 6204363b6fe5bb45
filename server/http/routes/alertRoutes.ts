/** Alerts (read by the board's roles: nurse, pharmacist, admin) and acknowledgement (nurse, admin; tokens may acknowledge). */
import type { FastifyInstance } from 'fastify';
import { ACK_OUTCOMES, type AckOutcome } from '../../../protocol/api.ts';
import { principalOf } from '../access.ts';
import type { AuditTrail } from '../auditTrail.ts';
import type { AlertQuery, ApiBackend } from '../backend.ts';
import { badRequest, notFound } from '../errors.ts';
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

  app.post<{ Params: { id: string }; Body: unknown }>('/api/alerts/:id/ack', {
    schema: { params: { type: 'object', required: ['id'], properties: { id: ID_PARAM } } },
    config: { access: NURSE, tokenWrites: true },
  }, async (request) => {
    const by = principalOf(request).name;
    const { note, outcome } = ackBody(request.body);
    const acked = await backend.acknowledge(request.params.id, by);
    // §7: the note and outcome are kept with the alert (with paging on: in PostgreSQL)
    const alert = acked && backend.paging ? await backend.paging.recordAck(acked, by, note, outcome) : acked;
    if (!alert) {
      audit.record(request, 'ack', 'failed', { target: request.params.id, detail: { reason: 'unknown_alert' } });
      throw notFound('alert');
    }
    audit.record(request, 'ack', 'ok', { target: alert.id, detail: { type: alert.type, pump: alert.pump, ...(outcome !== null ? { outcome } : {}), note: note !== null } });
    return alert;
  });
}

/** `{note?, outcome?}`, or no body at all */
function ackBody(body: unknown): { note: string | null; outcome: AckOutcome | null } {
  if (body === undefined || body === null) return { note: null, outcome: null };
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('body must be {"note"?, "outcome"?}');
  const { note, outcome, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw badRequest(`unknown field ${Object.keys(rest)[0]}`);
  if (note !== undefined && note !== null && (typeof note !== 'string' || note.length > 500)) throw badRequest('note must be text of at most 500 characters');
  if (outcome !== undefined && outcome !== null && !(ACK_OUTCOMES as readonly unknown[]).includes(outcome)) throw badRequest(`outcome must be one of ${ACK_OUTCOMES.join(', ')}`);
  return { note: typeof note === 'string' && note.trim() !== '' ? note.trim() : null, outcome: (outcome as AckOutcome | undefined) ?? null };
}
