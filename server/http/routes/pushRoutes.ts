/**
 * Web Push subscriptions of the logged-in person's devices (docs/push.md, docs/api.md):
 * GET /api/push/key, GET/POST/DELETE /api/push/subscriptions. A subscription belongs to a person's
 * login, never to a machine token; the endpoint (a capability URL) is never logged or audited,
 * only its push service's origin.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serviceOf, subscriptionProblem, type PushSubscriptionStore } from '../../paging/pushSubscriptions.ts';
import type { AuditTrail } from '../auditTrail.ts';
import { ApiError, badRequest } from '../errors.ts';

export interface PushRouteDeps {
  /** VAPID_PUBLIC_KEY; null: Web Push is off (404 on every route) */
  publicKey: string | null;
  /** null without DATABASE_URL (503) */
  store: PushSubscriptionStore | null;
  audit: AuditTrail;
}

const KEY = { type: 'string', minLength: 1, maxLength: 200 } as const;
const ENDPOINT = { type: 'string', minLength: 1, maxLength: 2000 } as const;

/** PushSubscription.toJSON() of a browser: expirationTime and any later members are ignored */
const SUBSCRIPTION_BODY = {
  type: 'object',
  required: ['endpoint', 'keys'],
  properties: {
    endpoint: ENDPOINT,
    keys: { type: 'object', required: ['p256dh', 'auth'], properties: { p256dh: KEY, auth: KEY } },
  },
} as const;

interface SubscriptionBody {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

function pushOff(): ApiError {
  return new ApiError(404, 'not_found', 'Web Push is not configured on this server (VAPID_PUBLIC_KEY)');
}

/** the person behind the request; a bearer token has no devices */
function personOf(request: FastifyRequest): string {
  const p = request.principal;
  if (!p || p.kind !== 'session') throw new ApiError(403, 'forbidden', 'Web Push subscriptions belong to a person: log in');
  return p.name;
}

/** the store's answer, or its failure as an ApiError */
async function stored<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw storeError(err);
  }
}

function storeError(err: unknown): ApiError {
  if ((err as { code?: unknown }).code === '23503') return new ApiError(403, 'forbidden', 'this account is not in the database');
  return new ApiError(503, 'database_unavailable', 'the database is unavailable; try again');
}

export function registerPushRoutes(app: FastifyInstance, d: PushRouteDeps): void {
  const ready = (): PushSubscriptionStore => {
    if (d.publicKey === null) throw pushOff();
    if (d.store === null) throw new ApiError(503, 'unavailable', 'Web Push subscriptions are kept in PostgreSQL: DATABASE_URL is not set');
    return d.store;
  };

  app.get('/api/push/key', { config: { access: 'authenticated' } }, (_request, reply) => {
    if (d.publicKey === null) throw pushOff();
    return reply.send({ publicKey: d.publicKey });
  });

  app.get('/api/push/subscriptions', { config: { access: 'authenticated' } }, async (request) => {
    const username = personOf(request);
    const store = ready();
    return stored(() => store.devices(username));
  });

  app.post<{ Body: SubscriptionBody }>('/api/push/subscriptions', {
    schema: { body: SUBSCRIPTION_BODY },
    config: { access: 'authenticated' },
  }, async (request, reply) => {
    const username = personOf(request);
    const store = ready();
    const target = { endpoint: request.body.endpoint, keys: { p256dh: request.body.keys.p256dh, auth: request.body.keys.auth } };
    const problem = subscriptionProblem(target);
    if (problem !== null) throw badRequest(problem);
    const created = await stored(() => store.add(username, target));
    d.audit.record(request, 'push_subscribe', 'ok', { target: username, detail: { service: serviceOf(target.endpoint), created } });
    return reply.code(201).send({ endpoint: target.endpoint, created });
  });

  app.delete<{ Body: { endpoint: string } }>('/api/push/subscriptions', {
    schema: { body: { type: 'object', required: ['endpoint'], properties: { endpoint: ENDPOINT } } },
    config: { access: 'authenticated' },
  }, async (request, reply) => {
    const username = personOf(request);
    const store = ready();
    const removed = await stored(() => store.remove(username, request.body.endpoint));
    if (!removed) throw new ApiError(404, 'not_found', 'no such subscription of this account');
    d.audit.record(request, 'push_unsubscribe', 'ok', { target: username, detail: { service: serviceOf(request.body.endpoint) } });
    return reply.code(204).send();
  });
}
