/** Security headers on every response (API, static files, errors). */
import type { FastifyInstance } from 'fastify';

/** Scripts only from our own files; uPlot sets inline style attributes, hence 'unsafe-inline' for styles only. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function installSecurityHeaders(app: FastifyInstance, https: boolean): void {
  const fixed: Record<string, string> = {
    'content-security-policy': CSP,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
  if (https) fixed['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.headers(fixed);
    // API answers carry clinical data: never cached by a browser or proxy
    if (request.url.startsWith('/api/') || request.url === '/metrics') reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
