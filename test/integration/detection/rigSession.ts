/**
 * A person's login on the detection rig's server, for the routes API tokens may not use (the
 * clinical records, billing reviews): the account put straight into the rig's users table, then a
 * real POST /api/session. One helper for every scenario that needs patients, orders and assignments.
 */
import type { Role } from '../../../protocol/api.ts';
import { hashPassword } from '../../../server/auth/passwords.ts';
import { databaseTarget } from '../../../server/cli/usersTargets.ts';
import { parseDatabaseUrl } from '../../../server/db/databaseUrl.ts';
import { createDatabasePool } from '../../../server/db/pool.ts';
import type { DetectionRig } from './detectionRig.ts';

/** the headers of a logged-in browser: session cookie, Origin, CSRF token, JSON body */
export type RigSession = Record<string, string>;

export async function rigSession(rig: DetectionRig, username: string, role: Role, password: string): Promise<RigSession> {
  if (!rig.pg) throw new Error('the rig has no database');
  const pool = createDatabasePool(parseDatabaseUrl(rig.pg.url), { max: 1 });
  const accounts = databaseTarget(pool, 'the test database', 'test');
  try {
    await accounts.put(username, { role, passwordHash: await hashPassword(password) });
  } finally {
    await accounts.close();
    await pool.end().catch(() => undefined);
  }
  // The server re-reads the accounts every 2 s. Each refused login counts towards the account's
  // lockout (5), so try only after a reload could have happened, and at most 3 times refused.
  let res: Response | null = null;
  for (let refused = 0, deadline = Date.now() + 20_000; refused < 3 && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 2500));
    res = await fetch(`${rig.url}/api/session`, {
      method: 'POST', headers: { origin: rig.url, 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
    });
    if (res.status === 200) break;
    if (res.status !== 503) refused++;
  }
  if (res?.status !== 200) throw new Error(`${username} login: HTTP ${res?.status ?? 'none'} ${res ? await res.text() : ''}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('pumpwatch_session=')) ?? '';
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie, origin: rig.url, 'x-csrf-token': csrfToken, 'content-type': 'application/json' };
}

/** POST as that person; the answer's JSON, or an error naming the route when the status is not `expected` */
export async function rigPost<T>(rig: DetectionRig, session: RigSession, path: string, body: unknown, expected = 201): Promise<T> {
  const res = await fetch(`${rig.url}${path}`, { method: 'POST', headers: session, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`POST ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}
