/** A fastify app with the HTTP layer on a FakeBackend, a temporary users file and a hand-driven clock. */
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { hashPassword } from '../../../../server/auth/passwords.ts';
import { writeUsersFile, type UsersFileContent } from '../../../../server/auth/usersFile.ts';
import type { HttpOptions } from '../../../../server/http/options.ts';
import { registerHttp, type HttpLayer } from '../../../../server/http/registerHttp.ts';
import { tempDir, type TempDir } from '../../../helpers/tempDir.ts';
import { FakeBackend } from './fakeBackend.ts';

/** cheap scrypt cost so tests stay fast; production uses DEFAULT_SCRYPT_COST */
export const TEST_COST = { N: 1024, r: 8, p: 1 };
export const TOKEN = 'machine-token-0123456789';
export const PASSWORDS = { alice: 'alice-password', bob: 'bob-password', carol: 'carol-password' } as const;
export const ORIGIN = 'http://localhost:80';

export async function usersContent(entries: Record<string, ['nurse' | 'billing' | 'admin', string]>): Promise<UsersFileContent> {
  const users: UsersFileContent['users'] = {};
  for (const [name, [role, pw]] of Object.entries(entries)) {
    users[name] = { role, password: await hashPassword(pw, TEST_COST), updatedAt: '2026-11-27T00:00:00.000Z' };
  }
  return { version: 1, users };
}

export interface Fixture {
  app: FastifyInstance;
  http: HttpLayer;
  backend: FakeBackend;
  dir: TempDir;
  usersFile: string;
  /** epoch ms the layer sees */
  now: { ms: number };
  routes: { method: string; url: string }[];
  /** what a browser on our own page sends as Origin */
  origin: string;
  close(): Promise<void>;
  login(username: keyof typeof PASSWORDS, ip?: string): Promise<{ cookie: string; csrf: string; res: LightMyRequestResponse }>;
}

export async function makeFixture(opts: Partial<HttpOptions> = {}): Promise<Fixture> {
  const dir = tempDir('pumpwatch-http-');
  const usersFile = join(dir.path, 'users.json');
  writeUsersFile(usersFile, await usersContent({ alice: ['nurse', PASSWORDS.alice], bob: ['billing', PASSWORDS.bob], carol: ['admin', PASSWORDS.carol] }));
  const now = { ms: Date.parse('2026-11-27T12:00:00Z') };
  const app = Fastify({ logger: false });
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method: m, url: r.url });
  });
  const backend = new FakeBackend();
  const http = await registerHttp(app, backend, {
    tokens: [TOKEN], usersFile, https: false, clock: () => now.ms, usersPollMs: 3_600_000, ...opts,
  });
  await app.ready();
  const origin = opts.https ? 'https://localhost:80' : ORIGIN;
  return {
    app, http, backend, dir, usersFile, now, routes, origin,
    async close() {
      await http.stop();
      await app.close();
      dir.remove();
    },
    async login(username, ip = '10.0.0.1') {
      const res = await app.inject({
        method: 'POST', url: '/api/session', remoteAddress: ip,
        headers: { origin }, payload: { username, password: PASSWORDS[username] },
      });
      if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
      const c = res.cookies.find((k) => k.name === 'pumpwatch_session');
      if (!c) throw new Error('no session cookie');
      return { cookie: `pumpwatch_session=${c.value}`, csrf: (res.json<{ csrfToken: string }>()).csrfToken, res };
    },
  };
}
