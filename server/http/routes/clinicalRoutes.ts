/**
 * Clinical records (interfaces.md §6; docs/api.md, "Clinical records"). Pharmacists (and admins)
 * change patients, orders, assignments and drug limits; nurses and billing read them. Bodies are
 * checked by protocol/clinicalValidation.ts, the same rules as the dashboard's forms: a 400 names
 * every malformed field (`fields: [{field, reason}]`). The store writes the audit entry of each read and change in the same
 * transaction. Without DATABASE_URL every route answers 503 clinical_records_off (after the role
 * check, before the body is looked at).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  describeErrors, isRecordId, PUMP_SERIAL_RE, validateDrugLimits, validateNewAssignment, validateNewOrder, validateNewPatient,
  validatePatientChanges, type FieldError, type Validated,
} from '../../../protocol/clinicalValidation.ts';
import { ClinicalError } from '../../clinical/clinicalErrors.ts';
import { principalOf } from '../access.ts';
import type { ApiBackend, ClinicalApi } from '../backend.ts';
import { ApiError } from '../errors.ts';
import { CLINICAL_READ, CLINICAL_WRITE } from './params.ts';

interface IdParams { id: string }

const badFields = (errors: FieldError[]): ApiError => new ApiError(400, 'bad_request', describeErrors(errors).slice(0, 1000), {}, { fields: errors });

function valid<T>(v: Validated<T>): T {
  if (!v.ok) throw badFields(v.errors);
  return v.value;
}

/** ClinicalError → the HTTP answer; anything else goes to the generic 500 */
function toApiError(err: unknown): unknown {
  if (!(err instanceof ClinicalError)) return err;
  switch (err.code) {
    case 'NOT_FOUND': return new ApiError(404, 'not_found', err.message, {}, { code: err.code });
    case 'DUPLICATE_MRN':
    case 'PUMP_ALREADY_ASSIGNED':
    case 'ORDER_DISCONTINUED':
    case 'DUPLICATE_DRUG':
      return new ApiError(409, 'conflict', err.message, {}, { code: err.code });
    case 'INVALID_INPUT': return new ApiError(400, 'bad_request', err.message);
    case 'DATABASE_UNAVAILABLE':
      return new ApiError(503, 'database_unavailable', 'clinical records are unavailable: the database cannot be reached', { 'retry-after': '5' });
    case 'DATABASE_ERROR': return new ApiError(500, 'internal', 'internal error');
  }
}

export function registerClinicalRoutes(app: FastifyInstance, backend: ApiBackend): void {
  const read = { config: { access: CLINICAL_READ } };
  const write = { config: { access: CLINICAL_WRITE } };
  /** runs `work` with the clinical API and the caller's name as actor */
  const withClinical = async <T>(request: FastifyRequest, work: (c: ClinicalApi, actor: string) => Promise<T>): Promise<T> => {
    const clinical = backend.clinical;
    if (!clinical) throw new ApiError(503, 'clinical_records_off', 'clinical records are off: the server has no DATABASE_URL');
    try {
      return await work(clinical, principalOf(request).name);
    } catch (err) {
      throw toApiError(err);
    }
  };

  // ---- patients
  app.post('/api/patients', write, async (request, reply) => {
    const p = await withClinical(request, (c, actor) => c.createPatient(valid(validateNewPatient(request.body)), actor));
    return reply.code(201).send(p);
  });
  app.get('/api/patients', read, (request) => withClinical(request, (c, actor) => c.listPatients(actor)));
  app.get<{ Params: IdParams }>('/api/patients/:id', read, (request) =>
    withClinical(request, (c, actor) => c.getPatient(request.params.id, actor)));
  app.patch<{ Params: IdParams }>('/api/patients/:id', write, (request) =>
    withClinical(request, (c, actor) => c.updatePatient(request.params.id, valid(validatePatientChanges(request.body)), actor)));

  // ---- orders
  app.post('/api/orders', write, async (request, reply) => {
    const o = await withClinical(request, (c, actor) => c.createOrder(valid(validateNewOrder(request.body)), actor));
    return reply.code(201).send(o);
  });
  app.get<{ Querystring: { patientId?: string } }>('/api/orders', read, (request) => withClinical(request, (c, actor) => {
    const { patientId } = request.query;
    if (patientId !== undefined && !isRecordId(patientId)) throw badFields([{ field: 'patientId', reason: 'must be a record id (a decimal string)' }]);
    return c.listOrders(patientId === undefined ? {} : { patientId }, actor);
  }));
  app.get<{ Params: IdParams }>('/api/orders/:id', read, (request) =>
    withClinical(request, (c, actor) => c.getOrder(request.params.id, actor)));
  app.post<{ Params: IdParams }>('/api/orders/:id/discontinue', write, (request) =>
    withClinical(request, (c, actor) => c.discontinueOrder(request.params.id, actor)));

  // ---- assignments
  app.post('/api/assignments', write, async (request, reply) => {
    const a = await withClinical(request, (c, actor) => c.createAssignment(valid(validateNewAssignment(request.body)), actor));
    return reply.code(201).send(a);
  });
  app.post<{ Params: IdParams }>('/api/assignments/:id/end', write, (request) =>
    withClinical(request, (c, actor) => c.endAssignment(request.params.id, actor)));
  app.get<{ Querystring: { pump?: string; active?: string } }>('/api/assignments', read, (request) => withClinical(request, (c, actor) => {
    const { pump, active } = request.query;
    const errors: FieldError[] = [];
    if (pump !== undefined && !PUMP_SERIAL_RE.test(pump)) errors.push({ field: 'pump', reason: 'must be a pump serial (3 to 20 of A-Z, 0-9 and -)' });
    if (active !== undefined && active !== 'true' && active !== 'false') errors.push({ field: 'active', reason: 'must be true or false' });
    if (errors.length > 0) throw badFields(errors);
    return c.listAssignments({ ...(pump !== undefined ? { pump } : {}), ...(active !== undefined ? { active: active === 'true' } : {}) }, actor);
  }));

  // ---- drug limits: the whole table is read and replaced at once
  app.get('/api/drug-limits', read, async (request) => ({ limits: await withClinical(request, (c) => c.drugLimits()) }));
  app.put('/api/drug-limits', write, async (request) => ({
    limits: await withClinical(request, (c, actor) => c.replaceDrugLimits(valid(validateDrugLimits(request.body)).limits, actor)),
  }));
}
