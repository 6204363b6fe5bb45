/** Entry point of the HTTP layer: routes, authentication, security headers, static dashboard and /ws. */
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import { Authenticator } from '../auth/authenticator.ts';
import { LoginThrottle } from '../auth/loginThrottle.ts';
import { TokenSet } from '../auth/tokens.ts';
import { LiveHub } from '../live/hub.ts';
import { attachWebSocket, WS_PATH } from '../live/wsUpgrade.ts';
import { installAccessControl, roleAllowed } from './access.ts';
import { createAccountStores } from './accountStores.ts';
import { registerHttpMetrics } from './httpMetrics.ts';
import type { ApiBackend } from './backend.ts';
import { ApiError, installErrorHandlers } from './errors.ts';
import { resolveHttpOptions, type HttpOptions } from './options.ts';
import type { OriginPolicy } from '../auth/origin.ts';
import { registerAdminRoutes } from './routes/adminRoutes.ts';
import { registerAlertRoutes } from './routes/alertRoutes.ts';
import { registerBillingRoutes } from './routes/billingRoutes.ts';
import { registerClinicalRoutes } from './routes/clinicalRoutes.ts';
import { registerPagingRoutes } from './routes/pagingRoutes.ts';
import { BOARD } from './routes/params.ts';
import { registerPumpRoutes } from './routes/pumpRoutes.ts';
import { registerPushRoutes } from './routes/pushRoutes.ts';
import { registerSessionRoutes } from './routes/sessionRoutes.ts';
import { registerStaticRoutes } from './routes/staticRoutes.ts';
import { installSecurityHeaders } from './securityHeaders.ts';

export interface HttpLayer {
  hub: LiveHub;
  /** WebSocket clients connected now */
  wsClients(): number;
  /** re-reads the accounts now (the users file's watcher, or the database poll, does this by itself) */
  reloadUsers(): void;
  /** closes WebSockets, stops the users-file watcher and timers; call before app.close() */
  stop(): Promise<void>;
}

/**
 * Registers everything on `app` (before app.listen/ready). The app creates fastify itself
 * (with `https: tlsFiles(cert, key)` when TLS is on) and passes `https: true` here then.
 * Throws with a one-line reason when the users file exists but is unreadable or invalid.
 */
export async function registerHttp(app: FastifyInstance, backend: ApiBackend, options: HttpOptions): Promise<HttpLayer> {
  const o = resolveHttpOptions(options);
  const log = app.log.child({ component: 'http' });
  const policy: OriginPolicy = { https: o.https, allowed: o.allowedOrigins };
  const accounts = createAccountStores(backend, o, log);
  await accounts.start();
  const { sessions, audit } = accounts;
  const auth = new Authenticator(new TokenSet(o.tokens), sessions, accounts.users);
  const throttle = new LoginThrottle({
    maxPerIp: o.loginMaxPerIp, maxPerUser: o.loginMaxPerUser, windowS: o.loginWindowS, lockoutS: o.loginLockoutS, clock: o.clock,
  });
  const hub = new LiveHub(backend, {
    maxBufferedBytes: o.wsMaxBufferedBytes,
    pingMs: o.wsPingMs,
    log: (msg, fields) => log.warn(fields, msg),
  });
  const countWsRefusal = registerHttpMetrics(o.metrics, { hub, sessions, audit });

  await app.register(fastifyCookie);
  installErrorHandlers(app);
  // request bodies are JSON only: without this, fastify's text/plain parser would hand the schema a
  // string and the caller a 400 that does not say the content type is what is wrong
  app.removeContentTypeParser('text/plain');
  installSecurityHeaders(app, o.https);
  installAccessControl(app, auth, policy);
  app.setNotFoundHandler(() => {
    throw new ApiError(404, 'not_found', 'not found');
  });

  const clock = o.clock;
  registerSessionRoutes(app, { auth, sessions, throttle, audit, policy, https: o.https, sessionAbsoluteS: o.sessionAbsoluteS, timeZone: o.timeZone });
  registerPumpRoutes(app, backend, audit, clock);
  registerAlertRoutes(app, backend, audit, clock);
  registerBillingRoutes(app, backend, audit, clock);
  registerClinicalRoutes(app, backend);
  registerPagingRoutes(app, backend, audit, clock);
  registerAdminRoutes(app, {
    backend, auth, clock,
    metrics: o.metrics,
    ...(accounts.auditLog ? { auditLog: accounts.auditLog } : {}),
  });
  registerPushRoutes(app, { publicKey: options.push?.publicKey ?? null, store: options.push?.store ?? null, audit });
  // a plain GET /ws (no upgrade) from an allowed caller
  app.get(WS_PATH, { config: { access: BOARD } }, () => {
    throw new ApiError(426, 'bad_request', 'use a WebSocket upgrade', { upgrade: 'websocket' });
  });
  registerStaticRoutes(app, o.dashboardDir);

  hub.start();
  const detachWs = attachWebSocket(app.server, {
    auth, policy, hub, mayWatch: (principal) => roleAllowed(principal.role, BOARD),
    onRefused: countWsRefusal,
  });
  const sweep = setInterval(() => sessions.sweep(), 60_000);
  sweep.unref();

  let stopped = false;
  return {
    hub,
    wsClients: () => hub.clientCount(),
    reloadUsers: () => void accounts.reloadUsers(),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sweep);
      detachWs();
      await hub.stop();
      await accounts.stop();
    },
  };
}
