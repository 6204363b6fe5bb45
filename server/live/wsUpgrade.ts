/**
 * /ws on the HTTP(S) server's 'upgrade' event (ws in noServer mode): the same credentials as HTTP
 * (bearer token or session cookie), the Origin checked, and roles that see pumps and alerts only.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import fastifyCookie from '@fastify/cookie';
import { WebSocketServer } from 'ws';
import { SESSION_COOKIE, type Authenticator, type Principal } from '../auth/authenticator.ts';
import { originAllowed, statedOrigin, type OriginPolicy } from '../auth/origin.ts';
import type { LiveHub } from './hub.ts';

export const WS_PATH = '/ws';

export interface WsUpgradeDeps {
  auth: Authenticator;
  policy: OriginPolicy;
  hub: LiveHub;
  /** whether this caller's role may watch live changes (the HTTP layer's rule for its routes) */
  mayWatch(principal: Principal): boolean;
  /** upgrade refusals by reason */
  onRefused?: (reason: 'path' | 'unauthorized' | 'forbidden' | 'origin') => void;
}

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };
const STATUS_CODE: Record<number, string> = { 401: 'unauthorized', 404: 'not_found', 503: 'unavailable' };

function refuse(socket: Duplex, status: number): void {
  const body = JSON.stringify({ error: STATUS_CODE[status] ?? 'forbidden', message: STATUS_TEXT[status] ?? '' });
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

function sessionCookie(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  try {
    return fastifyCookie.fastifyCookie.parse(header)[SESSION_COOKIE];
  } catch {
    return undefined;
  }
}

/** Returns the detach function (removes the listener, closes the ws server). */
export function attachWebSocket(server: HttpServer, deps: WsUpgradeDeps): () => void {
  // clients only listen; anything they send is tiny (or a misuse)
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) {
      deps.onRefused?.('path');
      return refuse(socket, 404);
    }
    // a session made on another instance is looked up where sessions are shared (no query when held here)
    deps.auth.identifyShared(req.headers.authorization, sessionCookie(req)).then(
      (principal) => upgradeFor(req, socket, head, principal),
      () => {
        deps.onRefused?.('unauthorized');
        refuse(socket, 503);
      },
    );
  };
  const upgradeFor = (req: IncomingMessage, socket: Duplex, head: Buffer, principal: Principal | undefined): void => {
    if (!principal) {
      deps.onRefused?.('unauthorized');
      return refuse(socket, 401);
    }
    const origin = statedOrigin(req.headers.origin, undefined);
    // a browser always sends Origin; a cookie without one is not from our page
    const originOk = origin === undefined ? principal.kind === 'token' : origin !== null && originAllowed(origin, req.headers.host, deps.policy);
    if (!originOk) {
      deps.onRefused?.('origin');
      return refuse(socket, 403);
    }
    if (!deps.mayWatch(principal)) {
      deps.onRefused?.('forbidden');
      return refuse(socket, 403);
    }
    wss.handleUpgrade(req, socket, head, (ws) => deps.hub.add(ws));
  };
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('upgrade', onUpgrade);
    wss.close();
  };
}
