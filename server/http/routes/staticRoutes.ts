/** The built dashboard (dashboard/dist) at /: a small file server confined to that folder. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { notFound } from '../errors.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.txt': 'text/plain; charset=utf-8',
};

/** the file under root for a URL path, or undefined for anything that tries to leave it */
export function staticPath(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0] ?? '');
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((s) => s === '..' || s.startsWith('.') && s.length > 0)) return undefined;
  const rel = decoded === '/' || decoded.endsWith('/') ? `${decoded}index.html` : decoded;
  const full = resolve(join(root, rel));
  return full.startsWith(root + sep) ? full : undefined;
}

export function registerStaticRoutes(app: FastifyInstance, dashboardDir: string | undefined): void {
  const root = dashboardDir ? resolve(dashboardDir) : undefined;
  const serve = async (url: string, reply: FastifyReply): Promise<FastifyReply> => {
    const file = root ? staticPath(root, url) : undefined;
    if (!file) throw notFound('file');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw notFound('file');
    const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    // index.html and the service worker must be revalidated so a new build is picked up; hashed assets may be cached briefly
    const worker = file === join(root ?? '', 'sw.js');
    reply.header('cache-control', type.startsWith('text/html') || worker ? 'no-cache' : 'public, max-age=300');
    // the worker at the root controls the whole dashboard (docs/push.md)
    if (worker) reply.header('service-worker-allowed', '/');
    return reply.type(type).header('content-length', info.size).send(createReadStream(file));
  };
  app.get('/', { config: { access: 'static' } }, async (_request, reply) => serve('/', reply));
  app.get('/*', { config: { access: 'static' } }, async (request, reply) => serve(request.url, reply));
}
