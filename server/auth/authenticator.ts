/** Who is calling: a bearer token, a cookie session, or nobody. Shared by HTTP routes and /ws. */
import type { Role } from '../../protocol/api.ts';
import { burnPasswordCheck, verifyPassword } from './passwords.ts';
import { SessionsUnavailableError } from './pgSessions.ts';
import type { Session, Sessions } from './sessions.ts';
import type { TokenSet } from './tokens.ts';
import type { UserDirectory } from './usersStore.ts';

export const SESSION_COOKIE = 'pumpwatch_session';

export type Principal =
  | { kind: 'token'; name: string; role: Role }
  | { kind: 'session'; name: string; role: Role; session: Session; sessionId: string };

/** Machine clients: "full read access, may acknowledge" (interfaces.md §2) = the admin role's reach. */
const TOKEN_ROLE: Role = 'admin';

/** how long a login or a session check waits for the accounts' first read before answering 503 */
const WAIT_FOR_ACCOUNTS_MS = 3000;

export class Authenticator {
  constructor(
    private readonly tokens: TokenSet,
    readonly sessions: Sessions,
    private readonly users: UserDirectory,
  ) {}

  /**
   * identify() after the session store has looked the cookie up where sessions are shared (a
   * session made on another instance); a cookie this instance already holds costs no query.
   * Rejects with SessionsUnavailableError when the cookie is unknown here and the store cannot be asked.
   */
  async identifyShared(authorization: string | undefined, sessionCookie: string | undefined): Promise<Principal | undefined> {
    if (authorization === undefined && this.sessions.prime && sessionCookie !== undefined && sessionCookie.length > 0 && sessionCookie.length <= 128) {
      await this.sessions.prime(sessionCookie);
    }
    // right after a start the accounts may still be on their way: a session cannot be judged without them
    if (authorization === undefined && sessionCookie && !(await this.accountsReady())) throw new SessionsUnavailableError('check');
    return this.identify(authorization, sessionCookie);
  }

  /**
   * A bearer token wins over a cookie; a malformed or wrong Authorization header is refused outright
   * (no fallback to the cookie), so a client never silently acts as someone else.
   */
  identify(authorization: string | undefined, sessionCookie: string | undefined): Principal | undefined {
    if (authorization !== undefined) {
      const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization.trim());
      if (!m?.[1]) return undefined;
      const t = this.tokens.match(m[1]);
      return t ? { kind: 'token', name: t.label, role: TOKEN_ROLE } : undefined;
    }
    if (sessionCookie === undefined || sessionCookie.length === 0 || sessionCookie.length > 128) return undefined;
    const session = this.sessions.touch(sessionCookie);
    if (!session) return undefined;
    // the account may have been removed or demoted since login
    // accounts not read yet: nobody is known, which says nothing about this session (it must not be ended)
    if (this.users.ready && !this.users.ready()) return undefined;
    const user = this.users.get(session.username);
    if (!user || user.role !== session.role) {
      void this.sessions.destroy(sessionCookie);
      return undefined;
    }
    return { kind: 'session', name: session.username, role: session.role, session, sessionId: sessionCookie };
  }

  /** The account's role when the password is right; same cost whether or not the username exists. */
  async checkPassword(username: string, password: string): Promise<Role | undefined> {
    // right after a start the accounts may still be on their way from the database: wait a moment
    if (!(await this.accountsReady())) throw new SessionsUnavailableError('login');
    const user = this.users.get(username);
    if (!user) return burnPasswordCheck(password).then(() => undefined);
    return (await verifyPassword(password, user.password)) ? user.role : undefined;
  }

  /** true once the accounts were read, waiting a moment for their first read after a start */
  private async accountsReady(): Promise<boolean> {
    if (!this.users.ready || this.users.ready()) return true;
    return (await this.users.whenReady?.(WAIT_FOR_ACCOUNTS_MS)) ?? false;
  }
}
