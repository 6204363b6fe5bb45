/** Entry point of the HTTP layer: routes, authentication, security headers, static dashboard and /ws. */
import type { FastifyInstance } from 'fastify';
import type { ApiBackend } from './backend.ts';
import type { HttpOptions } from './options.ts';

export interface HttpLayer {
  /** WebSocket clients connected now */
  wsClients(): number;
  /** closes WebSockets, stops the users-file watcher and timers; call before app.close() */
  stop(): Promise<void>;
}

/**
 * Registers everything on `app` (before app.listen/ready). The app creates fastify itself
 * (with `https: tlsFiles(cert, key)` when TLS is on) and passes `https: true` here then.
 */
export function registerHttp(_app: FastifyInstance, _backend: ApiBackend, _options: HttpOptions): Promise<HttpLayer> {
  return Promise.reject(new Error('not implemented yet'));
}
