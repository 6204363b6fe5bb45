/**
 * Deny by default: every route (and the 404 handler) needs a principal unless its config says
 * `access: 'public'`; role lists give 403 to the wrong role; cookie sessions must pass CSRF checks
 * on state changes (double-submit X-CSRF-Token and same Origin/Referer).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../../protocol/api.ts';
import { SESSION_COOKIE, type Authenticator, type Principal } from '../auth/authenticator.ts';
import { SessionsUnavailableError } from '../auth/pgSessions.ts';
import { sameSecret } from '../auth/sessions.ts';
import { ApiError, forbidden, unauthorized } from './errors.ts';
import { originAllowed, statedOrigin, type OriginPolicy } from '../auth/origin.ts';

/** 'public': anyone; 'static': anyone, except paths under /api/ (an unknown API path stays private) */
export type Access = 'public' | 'static' | 'authenticated' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** a machine client's bearer token may call this changing route (acknowledge, label); tokens read everything else only */
    tokenWrites?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function roleAllowed(role: Role, access: Access): boolean {
  if (access === 'public' || access === 'static' || access === 'authenticated') return true;
  return role === 'admin' || access.includes(role);
}

/** CSRF for cookie sessions; also used for the login itself (origin only, there is no session yet). */
export function checkOrigin(request: FastifyRequest, policy: OriginPolicy, required: boolean): void {
  const stated = statedOrigin(request.headers.origin, request.headers.referer);
  if (stated === undefined) {
    if (required) throw new ApiError(403, 'origin_rejected', 'missing Origin header');
    return;
  }
  if (stated === null || !originAllowed(stated, request.headers.host, policy)) {
    throw new ApiError(403, 'origin_rejected', 'cross-origin request refused');
  }
}

export function installAccessControl(app: FastifyInstance, auth: Authenticator, policy: OriginPolicy): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    await authorise(request, auth, policy);
  });
}

async function authorise(request: FastifyRequest, auth: Authenticator, policy: OriginPolicy): Promise<void> {
  let access: Access = request.routeOptions.config.access ?? 'authenticated';
  if (access === 'static' && (request.url.startsWith('/api/') || request.url === '/api')) access = 'authenticated';
  if (access === 'public' || access === 'static') return;
  let principal: Principal | undefined;
  try {
    // sessions shared in PostgreSQL: a cookie this instance holds costs no query
    principal = await auth.identifyShared(request.headers.authorization, request.cookies[SESSION_COOKIE]);
  } catch (err) {
    if (err instanceof SessionsUnavailableError) throw new ApiError(503, 'unavailable', err.message, { 'retry-after': '5' });
    throw err;
  }
  if (!principal) throw unauthorized();
  request.principal = principal;
  if (!roleAllowed(principal.role, access)) throw forbidden();
  // §2: tokens have full read access and may acknowledge; patients, orders, accounts are changed by people
  if (principal.kind === 'token' && !SAFE_METHODS.has(request.method) && request.routeOptions.config.tokenWrites !== true) {
    throw new ApiError(403, 'forbidden', 'an API token reads and acknowledges; it changes nothing else');
  }
  if (principal.kind === 'session' && !SAFE_METHODS.has(request.method)) {
    const header = request.headers['x-csrf-token'];
    if (typeof header !== 'string' || !sameSecret(header, principal.session.csrfToken)) {
      throw new ApiError(403, 'csrf_rejected', 'missing or wrong X-CSRF-Token');
    }
    checkOrigin(request, policy, true);
  }
}

/** The principal of an authenticated route (the hook guarantees it). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}
