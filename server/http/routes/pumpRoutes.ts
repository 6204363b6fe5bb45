/** Pumps and their telemetry: read by the board's roles (nurse, pharmacist, admin), labelled and put in visit by nurses and admins. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PumpView } from '../../../protocol/api.ts';
import { principalOf } from '../access.ts';
import type { AuditTrail } from '../auditTrail.ts';
import type { ApiBackend } from '../backend.ts';
import { notFound } from '../errors.ts';
import { parseRange, rangeQueryProperties } from '../timeRange.ts';
import { BOARD, NURSE, PUMP_PARAM } from './params.ts';

interface PumpParams {
  pump: string;
}

const pumpParams = { type: 'object', required: ['pump'], properties: { pump: PUMP_PARAM } } as const;

/** a nurse visit lasts 5 min to 4 h: long enough for a line change, short enough not to be forgotten */
export const VISIT_MIN_MINUTES = 5;
export const VISIT_MAX_MINUTES = 240;

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

  // A nurse visit: stops and silences of this pump do not page until it ends (docs/detection.md).
  // Set by a person (tokens may not): the board shows who, and every other nurse relies on it.
  const setVisit = backend.setPumpVisit?.bind(backend);
  if (setVisit) {
    const visit = async (request: FastifyRequest<{ Params: PumpParams }>, minutes: number | null): Promise<PumpView> => {
      const pump = await setVisit(request.params.pump, minutes, principalOf(request).name);
      if (!pump) throw notFound('pump');
      audit.record(request, 'pump_visit', 'ok', { target: request.params.pump, detail: minutes === null ? { ended: true } : { minutes } });
      return pump;
    };
    app.put<{ Params: PumpParams; Body: { minutes: number } }>('/api/pumps/:pump/visit', {
      schema: {
        params: pumpParams,
        body: {
          type: 'object', required: ['minutes'], additionalProperties: false,
          properties: { minutes: { type: 'integer', minimum: VISIT_MIN_MINUTES, maximum: VISIT_MAX_MINUTES } },
        },
      },
      config: { access: NURSE },
    }, async (request) => visit(request, request.body.minutes));
    app.delete<{ Params: PumpParams }>('/api/pumps/:pump/visit', { schema: { params: pumpParams }, config: { access: NURSE } },
      async (request) => visit(request, null));
  }
}
