/** POST/DELETE /api/session (login, logout) and GET /api/me. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SESSION_COOKIE, type Authenticator } from '../../auth/authenticator.ts';
import type { LoginThrottle } from '../../auth/loginThrottle.ts';
import { AccountGoneError, SessionsUnavailableError } from '../../auth/pgSessions.ts';
import type { Session, Sessions } from '../../auth/sessions.ts';
import { checkOrigin, principalOf } from '../access.ts';
import type { AuditTrail } from '../auditTrail.ts';
import { ApiError } from '../errors.ts';
import type { OriginPolicy } from '../../auth/origin.ts';

export interface SessionRouteDeps {
  auth: Authenticator;
  sessions: Sessions;
  throttle: LoginThrottle;
  audit: AuditTrail;
  policy: OriginPolicy;
  https: boolean;
  sessionAbsoluteS: number;
  /** the server's zone, told in GET /api/me */
  timeZone: string;
}

interface LoginBody {
  username: string;
  password: string;
}

const loginSchema = {
  body: {
    type: 'object',
    required: ['username', 'password'],
    properties: {
      username: { type: 'string', minLength: 1, maxLength: 64 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
    },
  },
} as const;

function sessionView(s: Session, sessions: Sessions): { csrfToken: string; expiresAt: string } {
  return { csrfToken: s.csrfToken, expiresAt: new Date(sessions.expiresAtMs(s)).toISOString() };
}

export function registerSessionRoutes(app: FastifyInstance, d: SessionRouteDeps): void {
  const clearCookie = (reply: FastifyReply): void => {
    void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: d.https });
  };

  app.post<{ Body: LoginBody }>('/api/session', { schema: loginSchema, config: { access: 'public' } }, async (request, reply) => {
    // login CSRF: a browser on another site must not log the victim into an attacker's account
    checkOrigin(request, d.policy, false);
    const { username, password } = request.body;
    const ip = request.ip;
    const verdict = d.throttle.check(ip, username);
    if (!verdict.allowed) {
      d.audit.record(request, 'login_failed', 'denied', { actor: username, role: null, detail: { reason: `locked_${verdict.by}` } });
      throw new ApiError(429, 'too_many_attempts', 'too many failed logins; try again later', { 'retry-after': String(verdict.retryAfterS) });
    }
    const role = await d.auth.checkPassword(username, password).catch((err: unknown) => {
      if (err instanceof SessionsUnavailableError) throw new ApiError(503, 'unavailable', err.message, { 'retry-after': '5' });
      throw err;
    });
    if (!role) {
      const locked = d.throttle.fail(ip, username);
      d.audit.record(request, 'login_failed', 'failed', { actor: username, role: null, detail: { reason: 'bad_credentials' } });
      if (locked.lockedIp || locked.lockedUser) {
        d.audit.record(request, 'login_locked', 'denied', { actor: username, role: null, detail: { by: locked.lockedUser ? 'user' : 'ip' } });
      }
      throw new ApiError(401, 'unauthorized', 'invalid username or password');
    }
    d.throttle.succeed(username);
    // a fresh id on every login (no session fixation); an old cookie is revoked
    const previous = request.cookies[SESSION_COOKIE];
    if (previous) await d.sessions.destroy(previous);
    let created: { id: string; session: Session };
    try {
      created = await d.sessions.create(username, role);
    } catch (err) {
      // the password was right, but sessions live in PostgreSQL and it is down: say so (not 401, not 500)
      if (err instanceof SessionsUnavailableError) {
        d.audit.record(request, 'login_failed', 'failed', { actor: username, role, detail: { reason: 'database_unavailable' } });
        throw new ApiError(503, 'unavailable', err.message, { 'retry-after': '5' });
      }
      // removed by `npm run users` a moment ago, before this instance reloaded the accounts
      if (err instanceof AccountGoneError) {
        d.audit.record(request, 'login_failed', 'failed', { actor: username, role: null, detail: { reason: 'account_removed' } });
        throw new ApiError(401, 'unauthorized', 'invalid username or password');
      }
      throw err;
    }
    const { id, session } = created;
    void reply.setCookie(SESSION_COOKIE, id, {
      path: '/', httpOnly: true, sameSite: 'strict', secure: d.https, maxAge: d.sessionAbsoluteS,
    });
    d.audit.record(request, 'login', 'ok', { actor: username, role });
    return { username, role, ...sessionView(session, d.sessions) };
  });

  app.delete('/api/session', { config: { access: 'authenticated' } }, async (request, reply) => {
    const p = principalOf(request);
    if (p.kind === 'session') await d.sessions.destroy(p.sessionId);
    clearCookie(reply);
    d.audit.record(request, 'logout', 'ok');
    return reply.code(204).send();
  });

  app.get('/api/me', { config: { access: 'authenticated' } }, (request) => {
    const p = principalOf(request);
    if (p.kind === 'token') return { username: p.name, role: p.role, kind: p.kind, timeZone: d.timeZone };
    return { username: p.name, role: p.role, kind: p.kind, ...sessionView(p.session, d.sessions), timeZone: d.timeZone };
  });
}
