/**
 * `npm run demo -- --instances N`: one address in front of N server instances, as a load
 * balancer would be. HTTP requests and WebSocket upgrades go to any instance whose /api/health
 * answered in the last second, in turn (no sticky sessions: sessions are in PostgreSQL); a
 * request that finds its instance gone is sent to the next one. A demo tool, not a product part:
 * use a real load balancer (nginx, HAProxy) in production (docs/scaling.md).
 */
import http from 'node:http';
import net from 'node:net';

export interface DemoProxy {
  port: number;
  /** the instances answering now (their ports) */
  alive(): number[];
  close(): Promise<void>;
}

export async function startDemoProxy(opts: { port: number; targets: readonly number[]; healthEveryMs?: number }): Promise<DemoProxy> {
  const live = new Set<number>(opts.targets);
  let turn = 0;
  const pick = (exclude: ReadonlySet<number>): number | null => {
    const list = opts.targets.filter((t) => live.has(t) && !exclude.has(t));
    if (list.length === 0) return null;
    return list[turn++ % list.length] as number;
  };
  const probe = async (): Promise<void> => {
    await Promise.all(opts.targets.map(async (t) => {
      const ok = await fetch(`http://127.0.0.1:${t}/api/health`, { signal: AbortSignal.timeout(900) }).then((r) => r.ok, () => false);
      if (ok) live.add(t);
      else live.delete(t);
    }));
  };
  const timer = setInterval(() => void probe(), opts.healthEveryMs ?? 1000);

  const server = http.createServer((req, res) => {
    // the body is read first, so a request can be sent again to another instance
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tried = new Set<number>();
      const send = (): void => {
        const target = pick(tried);
        if (target === null) {
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"no_instance","message":"no pumpwatch instance answers"}');
          return;
        }
        tried.add(target);
        const up = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        up.on('error', () => {
          live.delete(target);
          if (!res.headersSent) send();
          else res.destroy();
        });
        up.end(body);
      };
      send();
    });
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const target = pick(new Set());
    if (target === null) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
      return;
    }
    const up = net.connect(target, '127.0.0.1', () => {
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) up.write(head);
      socket.pipe(up);
      up.pipe(socket);
    });
    // the instance went away: the board reconnects, through here, to another one
    up.on('error', () => {
      live.delete(target);
      socket.destroy();
    });
    socket.on('error', () => up.destroy());
    up.on('close', () => socket.destroy());
    socket.on('close', () => up.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  await probe();
  return {
    port: opts.port,
    alive: () => opts.targets.filter((t) => live.has(t)),
    close: () => new Promise<void>((resolve) => {
      clearInterval(timer);
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
