/**
 * Paging (§7, docs/paging.md): the on-call rota, contacts, the pages of an alert, and the phone
 * page whose token is the credential (GET /page/<token>, GET/POST /api/pages/<token>...: no
 * sign-in). Without DATABASE_URL the API routes answer 503 paging_off.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OnCallShift } from '../../../protocol/api.ts';
import { EMAIL_RE, MAX_EMAIL } from '../../auth/usersFile.ts';
import { principalOf } from '../access.ts';
import type { AuditTrail } from '../auditTrail.ts';
import type { ApiBackend, PagingApi } from '../backend.ts';
import { ApiError, badRequest, forbidden, notFound } from '../errors.ts';
import { PAGE_HTML, PAGE_JS } from './pagePhone.ts';
import { ADMIN, BOARD, ID_PARAM } from './params.ts';

const TOKEN_PARAM = { type: 'string', pattern: '^[A-Za-z0-9_-]{16,100}$' } as const;
const USER_PARAM = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' } as const;
const ISO = { type: 'string', format: 'date-time' } as const;

const SHIFTS_BODY = {
  type: 'object', required: ['shifts'], additionalProperties: false,
  properties: {
    shifts: {
      type: 'array', maxItems: 1000,
      items: {
        type: 'object', required: ['from', 'to', 'chain'], additionalProperties: false,
        properties: { from: ISO, to: ISO, chain: { type: 'array', minItems: 1, maxItems: 20, items: USER_PARAM } },
      },
    },
  },
} as const;

const ANSWER_STATUS = { ok: 200, not_found: 404, used: 409, already_accepted: 409, expired: 410 } as const;
const ANSWER_TEXT = {
  ok: 'done', not_found: 'unknown page', used: 'this page was answered already',
  already_accepted: 'someone accepted this alert already', expired: 'this page is no longer open',
} as const;

function pagingOf(backend: ApiBackend): PagingApi {
  if (!backend.paging) throw new ApiError(503, 'paging_off', 'paging is off: the server has no DATABASE_URL');
  return backend.paging;
}

function pagingFailure(err: unknown): never {
  const code = (err as { code?: string }).code;
  if ((err as Error).name === 'PagingError') throw new ApiError(400, 'bad_request', (err as Error).message, {}, { code });
  throw err;
}

/** an account may see and change its own contact; an admin anyone's */
function mayTouchContact(request: FastifyRequest, username: string): void {
  const p = principalOf(request);
  if (p.role !== 'admin' && !(p.kind !== 'token' && p.name === username)) throw forbidden();
}

export function registerPagingRoutes(app: FastifyInstance, backend: ApiBackend, audit: AuditTrail, clock: () => number): void {
  backend.paging?.onAudit((e) => audit.record(null, e.action, e.outcome, { actor: e.actor, role: null, target: e.target, detail: e.detail }));

  app.get<{ Querystring: { at?: string } }>('/api/oncall', {
    schema: { querystring: { type: 'object', properties: { at: ISO } } },
    config: { access: 'authenticated' },
  }, async (request) => {
    const at = request.query.at !== undefined ? Date.parse(request.query.at) : clock();
    return pagingOf(backend).onCall(at);
  });

  app.get('/api/oncall/shifts', { config: { access: ADMIN } }, async () => ({ shifts: await pagingOf(backend).shifts() }));

  app.put<{ Body: { shifts: OnCallShift[] } }>('/api/oncall', { schema: { body: SHIFTS_BODY }, config: { access: ADMIN } }, async (request) => {
    const paging = pagingOf(backend);
    const shifts = request.body.shifts.map((s) => ({ from: new Date(s.from).toISOString(), to: new Date(s.to).toISOString(), chain: s.chain }));
    await paging.replaceShifts(shifts).catch(pagingFailure);
    audit.record(request, 'oncall_changed', 'ok', { detail: { shifts: shifts.length } });
    return { shifts: await paging.shifts() };
  });

  app.get<{ Params: { username: string } }>('/api/users/:username/contact', {
    schema: { params: { type: 'object', required: ['username'], properties: { username: USER_PARAM } } },
    config: { access: 'authenticated' },
  }, async (request) => {
    mayTouchContact(request, request.params.username);
    const c = await pagingOf(backend).contact(request.params.username);
    if (!c) throw notFound('user');
    return c;
  });

  app.put<{ Params: { username: string }; Body: { email?: string | null } }>('/api/users/:username/contact', {
    schema: {
      params: { type: 'object', required: ['username'], properties: { username: USER_PARAM } },
      body: { type: 'object', additionalProperties: false, properties: { email: { type: ['string', 'null'], maxLength: MAX_EMAIL } } },
    },
    config: { access: 'authenticated' },
  }, async (request) => {
    const { username } = request.params;
    mayTouchContact(request, username);
    const paging = pagingOf(backend);
    const email = request.body.email === undefined ? undefined : request.body.email === '' ? null : request.body.email;
    // the same rule as `npm run users -- add ... --email` (an empty value clears it)
    if (email !== undefined && email !== null && !EMAIL_RE.test(email)) throw badRequest('email must be an e-mail address (name@host)');
    if (email !== undefined && !(await paging.setContact(username, email))) throw notFound('user');
    audit.record(request, 'contact_changed', 'ok', { target: username, detail: { email: email !== null && email !== undefined } });
    const c = await paging.contact(username);
    if (!c) throw notFound('user');
    return c;
  });

  app.get<{ Params: { id: string } }>('/api/alerts/:id/pages', {
    schema: { params: { type: 'object', required: ['id'], properties: { id: ID_PARAM } } },
    config: { access: BOARD },
  }, async (request) => pagingOf(backend).pages(request.params.id));

  // the phone page: the token is the credential
  app.get<{ Params: { token: string } }>('/api/pages/:token', {
    schema: { params: { type: 'object', required: ['token'], properties: { token: TOKEN_PARAM } } },
    config: { access: 'public' },
  }, async (request) => {
    const v = await pagingOf(backend).tokenView(request.params.token);
    if (!v) throw notFound('page');
    return v;
  });

  for (const what of ['accept', 'decline'] as const) {
    app.post<{ Params: { token: string } }>(`/api/pages/:token/${what}`, {
      schema: { params: { type: 'object', required: ['token'], properties: { token: TOKEN_PARAM } } },
      config: { access: 'public' },
    }, async (request, reply) => {
      const { result, view } = await pagingOf(backend).answer(request.params.token, what);
      if (result === 'not_found') throw notFound('page');
      reply.code(ANSWER_STATUS[result]);
      return { result, message: ANSWER_TEXT[result], ...(view ?? {}) };
    });
  }

  app.get<{ Params: { token: string } }>('/page/:token', {
    schema: { params: { type: 'object', required: ['token'], properties: { token: TOKEN_PARAM } } },
    config: { access: 'public' },
  }, async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(PAGE_HTML));

  app.get('/page-assets/page.js', { config: { access: 'public' } },
    async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(PAGE_JS));
}
