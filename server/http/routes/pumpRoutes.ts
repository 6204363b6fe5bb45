/** Pumps and their telemetry: read by the board's roles (nurse, pharmacist, admin), labelled by nurses and admins. */
import type { FastifyInstance } from 'fastify';
import type { AuditTrail } from '../auditTrail.ts';
import type { ApiBackend } from '../backend.ts';
import { notFound } from '../errors.ts';
import { parseRange, rangeQueryProperties } from '../timeRange.ts';
import { BOARD, NURSE, PUMP_PARAM } from './params.ts';

interface PumpParams {
  pump: string;
}

const pumpParams = { type: 'object', required: ['pump'], properties: { pump: PUMP_PARAM } } as const;

export function registerPumpRoutes(app: FastifyInstance, backend: ApiBackend, audit: AuditTrail, clock: () => number): void {
  app.get('/api/pumps', { config: { access: BOARD } }, async () => backend.pumps());

  app.get<{ Params: PumpParams }>('/api/pumps/:pump', { schema: { params: pumpParams }, config: { access: BOARD } }, async (request) => {
    const pump = await backend.pump(request.params.pump);
    if (!pump) throw notFound('pump');
    return pump;
  });

  app.get<{ Params: PumpParams; Querystring: { from?: string; to?: string } }>('/api/pumps/:pump/telemetry', {
    schema: { params: pumpParams, querystring: { type: 'object', properties: rangeQueryProperties } },
    config: { access: BOARD },
  }, async (request) => {
    const { fromMs, toMs } = parseRange(request.query, clock());
    if (!(await backend.pump(request.params.pump))) throw notFound('pump');
    return backend.telemetry(request.params.pump, fromMs, toMs);
  });

  const setLabel = backend.setPumpLabel?.bind(backend);
  if (setLabel) {
    app.put<{ Params: PumpParams; Body: { label: string | null } }>('/api/pumps/:pump/label', {
      schema: {
        params: pumpParams,
        body: {
          type: 'object', required: ['label'], additionalProperties: false,
          properties: { label: { anyOf: [{ type: 'string', minLength: 1, maxLength: 60, pattern: '^[^\\u0000-\\u001f<>]*$' }, { type: 'null' }] } },
        },
      },
      config: { access: NURSE, tokenWrites: true },
    }, async (request) => {
      const pump = await setLabel(request.params.pump, request.body.label);
      if (!pump) throw notFound('pump');
      // the label may name a patient: the audit log records that it changed, never its text
      audit.record(request, 'pump_label', 'ok', { target: request.params.pump });
      return pump;
    });
  }
}
