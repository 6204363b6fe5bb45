/**
 * A stand-in for the pumpwatch server that speaks the dashboard's contract (interfaces.md §4–5 plus
 * GET /api/me with a CSRF token): sessions, roles, CSRF, the read routes, acknowledge, /ws snapshot
 * then live messages. It serves dashboard/dist at /. Test-only: data in memory, 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Alert, Episode, PumpView, Role, ServerMessage, TelemetryPoint } from '../../protocol/api.ts';

const DIST = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };

export interface FakeUser { password: string; role: Role }

export interface FakeServerOptions {
  port?: number;
  users?: Record<string, FakeUser>;
  pumps?: PumpView[];
  alerts?: Alert[];
  episodes?: Episode[];
  telemetry?: Record<string, TelemetryPoint[]>;
}

interface Session { username: string; role: Role; csrf: string }

export class FakeServer {
  readonly pumps = new Map<string, PumpView>();
  readonly alerts = new Map<string, Alert>();
  episodes: Episode[];
  telemetry: Record<string, TelemetryPoint[]>;
  /** POSTs and DELETEs refused for a missing or wrong CSRF token */
  csrfRefused = 0;
  private readonly users: Record<string, FakeUser>;
  private readonly sessions = new Map<string, Session>();
  private server: Server | null = null;
  private wss: WebSocketServer | null = null;
  private readonly clients = new Set<WebSocket>();
  port: number;

  constructor(opts: FakeServerOptions = {}) {
    this.port = opts.port ?? 0;
    this.users = opts.users ?? {
      nurse: { password: 'nurse-pass', role: 'nurse' },
      nurse2: { password: 'nurse2-pass', role: 'nurse' },
      billing: { password: 'billing-pass', role: 'billing' },
      admin: { password: 'admin-pass', role: 'admin' },
    };
    for (const p of opts.pumps ?? []) this.pumps.set(p.pump, p);
    for (const a of opts.alerts ?? []) this.alerts.set(a.id, a);
    this.episodes = opts.episodes ?? [];
    this.telemetry = opts.telemetry ?? {};
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsClients(): number {
    return this.clients.size;
  }

  /** Listens (again, on the same port after a stop). Sessions survive a restart, as with a real server. */
  async start(): Promise<void> {
    const server = createServer((req, res) => { this.handle(req, res).catch(() => this.send(res, 500, { error: 'internal' })); });
    const wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (this.frozen) return; // the handshake never completes
      const s = this.session(req);
      if (req.url !== '/ws' || !s || s.role === 'billing') {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        this.clients.add(ws);
        ws.on('close', () => this.clients.delete(ws));
        ws.send(JSON.stringify(this.snapshot()));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.server = server;
    this.wss = wss;
  }

  /** Closes every connection at once, as a crashed or restarting server does. */
  async stop(): Promise<void> {
    for (const ws of this.clients) ws.terminate();
    this.clients.clear();
    this.wss?.close();
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** true: the network to the page is "dead": sockets stay open but nothing gets through, HTTP hangs */
  frozen = false;

  /** Forgets every login, as a restarted server with in-memory sessions does. */
  dropSessions(): void {
    this.sessions.clear();
  }

  snapshot(): ServerMessage {
    const alerts = [...this.alerts.values()].filter((a) => a.status === 'active' || !a.acknowledged);
    return { type: 'snapshot', pumps: [...this.pumps.values()], alerts };
  }

  broadcast(msg: ServerMessage): void {
    if (this.frozen) return;
    const text = JSON.stringify(msg);
    for (const ws of this.clients) ws.send(text);
  }

  upsertPump(p: PumpView): void {
    this.pumps.set(p.pump, p);
    this.broadcast({ type: 'pump', pump: p });
  }

  upsertAlert(a: Alert): void {
    this.alerts.set(a.id, a);
    this.broadcast({ type: 'alert', alert: a });
  }

  private session(req: IncomingMessage): Session | undefined {
    const m = /(?:^|;\s*)pw_session=([^;]+)/.exec(req.headers.cookie ?? '');
    return m ? this.sessions.get(m[1]!) : undefined;
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private async body(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
    } catch {
      return null;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;
    if (this.frozen) return; // never answered, like packets into a dead Wi-Fi
    if (!path.startsWith('/api/')) return this.serveStatic(path, res);
    const method = req.method ?? 'GET';
    if (path === '/api/health') return this.send(res, 200, { status: 'ok', mqtt: 'up', influx: 'up' });
    if (path === '/api/session' && method === 'POST') {
      const b = (await this.body(req)) as { username?: unknown; password?: unknown } | null;
      const u = typeof b?.username === 'string' ? this.users[b.username] : undefined;
      if (!u || b?.password !== u.password) return this.send(res, 401, { error: 'bad credentials' });
      const id = randomBytes(16).toString('hex');
      this.sessions.set(id, { username: b.username as string, role: u.role, csrf: randomBytes(16).toString('hex') });
      return this.send(res, 200, { username: b.username, role: u.role }, { 'set-cookie': `pw_session=${id}; HttpOnly; SameSite=Strict; Path=/` });
    }
    const s = this.session(req);
    if (!s) return this.send(res, 401, { error: 'login required' });
    if (method !== 'GET' && req.headers['x-csrf-token'] !== s.csrf) {
      this.csrfRefused++;
      return this.send(res, 403, { error: 'csrf' });
    }
    const nurse = s.role === 'nurse' || s.role === 'admin';
    const billing = s.role === 'billing' || s.role === 'admin';
    if (path === '/api/session' && method === 'DELETE') {
      const m = /(?:^|;\s*)pw_session=([^;]+)/.exec(req.headers.cookie ?? '');
      if (m) this.sessions.delete(m[1]!);
      return this.send(res, 200, { ok: true }, { 'set-cookie': 'pw_session=; Max-Age=0; Path=/' });
    }
    if (path === '/api/me') return this.send(res, 200, { username: s.username, role: s.role, csrfToken: s.csrf });
    if (path === '/api/pumps') return nurse ? this.send(res, 200, [...this.pumps.values()]) : this.send(res, 403, { error: 'forbidden' });
    let m = /^\/api\/pumps\/([^/]+)\/telemetry$/.exec(path);
    if (m) {
      if (!nurse) return this.send(res, 403, { error: 'forbidden' });
      const pump = decodeURIComponent(m[1]!);
      if (!this.pumps.has(pump)) return this.send(res, 404, { error: 'unknown pump' });
      return this.send(res, 200, this.telemetry[pump] ?? []);
    }
    const labelRoute = /^\/api\/pumps\/([^/]+)\/label$/.exec(path);
    if (labelRoute && method === 'PUT') {
      if (!nurse) return this.send(res, 403, { error: 'forbidden' });
      const p = this.pumps.get(decodeURIComponent(labelRoute[1]!));
      const b = (await this.body(req)) as { label?: unknown } | null;
      if (!p) return this.send(res, 404, { error: 'unknown pump' });
      if (b === null || (b.label !== null && (typeof b.label !== 'string' || b.label.length === 0 || b.label.length > 60))) return this.send(res, 400, { error: 'bad label' });
      const next = { ...p, label: b.label };
      this.upsertPump(next);
      return this.send(res, 200, next);
    }
    if (path === '/api/alerts') {
      if (!nurse) return this.send(res, 403, { error: 'forbidden' });
      const status = url.searchParams.get('status') ?? 'active';
      const pump = url.searchParams.get('pump');
      const list = [...this.alerts.values()]
        .filter((a) => (status === 'all' || a.status === 'active') && (!pump || a.pump === pump))
        .sort((a, b) => Date.parse(b.raisedAt) - Date.parse(a.raisedAt));
      return this.send(res, 200, list);
    }
    m = /^\/api\/alerts\/([^/]+)\/ack$/.exec(path);
    if (m && method === 'POST') {
      if (!nurse) return this.send(res, 403, { error: 'forbidden' });
      const a = this.alerts.get(decodeURIComponent(m[1]!));
      if (!a) return this.send(res, 404, { error: 'unknown alert' });
      const acked: Alert = a.acknowledged ? a : { ...a, acknowledged: true, ackedBy: s.username, ackedAt: new Date().toISOString() };
      this.upsertAlert(acked);
      return this.send(res, 200, acked);
    }
    if (path.startsWith('/api/billing/') && !billing) return this.send(res, 403, { error: 'forbidden' });
    const pumpFilter = url.searchParams.get('pump');
    const episodes = this.episodes.filter((e) => !pumpFilter || e.pump === pumpFilter);
    if (path === '/api/billing/episodes') return this.send(res, 200, episodes);
    if (path === '/api/billing/episodes.csv') {
      const rows = ['pump,programId,drug,start,end,deliveryHours,longestInterruptionMin,continuous24h,code',
        ...episodes.map((e) => [e.pump, e.programId, e.drug, e.start, e.end ?? '', e.deliveryHours, e.longestInterruptionMin, e.continuous24h, e.code].join(','))];
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="episodes.csv"' });
      res.end(rows.join('\r\n') + '\r\n');
      return;
    }
    m = /^\/api\/billing\/episodes\/([^/]+)\/evidence$/.exec(path);
    if (m) {
      const e = this.episodes.find((x) => x.id === decodeURIComponent(m[1]!));
      if (!e) return this.send(res, 404, { error: 'unknown episode' });
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(`{"seq":${e.evidence.firstSeq},"time":"${e.start}","received":"${e.start}","raw":"$EVT,..."}\n`);
      return;
    }
    return this.send(res, 404, { error: 'not found' });
  }

  private serveStatic(path: string, res: ServerResponse): void {
    const rel = path === '/' ? 'index.html' : normalize(path).replace(/^[/\\]+/, '');
    const file = join(DIST, rel);
    if (!file.startsWith(DIST) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  }
}
