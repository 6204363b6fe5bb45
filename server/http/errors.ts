/** One error body for every failure: {error: CODE, message}. Never a stack trace or an internal detail. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export type ApiErrorCode =
  | 'bad_request' | 'unauthorized' | 'forbidden' | 'not_found' | 'csrf_rejected' | 'origin_rejected'
  | 'too_many_attempts' | 'unsupported_media_type' | 'payload_too_large' | 'not_supported' | 'unavailable' | 'internal'
  // clinical records (§6)
  | 'conflict' | 'database_unavailable' | 'clinical_records_off'
  // paging (§7)
  | 'paging_off' | 'gone';

export interface ApiErrorBody {
  error: ApiErrorCode;
  message: string;
  /** a 400 of a clinical body: every malformed field with its reason */
  fields?: { field: string; reason: string }[];
  /** a 409 or 404 of the clinical records: the store's stable code (DUPLICATE_MRN, PUMP_ALREADY_ASSIGNED...) */
  code?: string;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    /** extra body members (`fields`, `code`) */
    readonly extra: Pick<ApiErrorBody, 'fields' | 'code'> = {},
  ) {
    super(message);
  }
}

export const unauthorized = (): ApiError => new ApiError(401, 'unauthorized', 'authentication required', { 'www-authenticate': 'Bearer' });
export const forbidden = (): ApiError => new ApiError(403, 'forbidden', 'this account may not use this route');
export const notFound = (what: string): ApiError => new ApiError(404, 'not_found', `unknown ${what}`);
export const badRequest = (message: string): ApiError => new ApiError(400, 'bad_request', message);

/** status codes fastify's own errors may keep, with a message of ours */
const CLIENT_ERRORS: Record<number, [ApiErrorCode, string]> = {
  400: ['bad_request', 'malformed request'],
  404: ['not_found', 'not found'],
  413: ['payload_too_large', 'request body too large'],
  415: ['unsupported_media_type', 'unsupported content type'],
};

function toBody(err: FastifyError | ApiError): { status: number; body: ApiErrorBody; headers: Record<string, string> } {
  if (err instanceof ApiError) return { status: err.statusCode, body: { error: err.code, message: err.message, ...err.extra }, headers: err.headers };
  if (err.validation) {
    // ajv's message names the field and the rule, nothing internal
    return { status: 400, body: { error: 'bad_request', message: err.message.slice(0, 300) }, headers: {} };
  }
  if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
    return { status: 400, body: { error: 'bad_request', message: 'request body is not valid JSON' }, headers: {} };
  }
  const known = err.statusCode !== undefined ? CLIENT_ERRORS[err.statusCode] : undefined;
  if (known && err.statusCode !== undefined) return { status: err.statusCode, body: { error: known[0], message: known[1] }, headers: {} };
  return { status: 500, body: { error: 'internal', message: 'internal error' }, headers: {} };
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, headers } = toBody(err);
    if (status >= 500) request.log.error({ err: { message: err.message, code: (err as FastifyError).code } }, 'request failed');
    void reply.code(status).headers(headers).type('application/json; charset=utf-8').send(body);
  });
}
