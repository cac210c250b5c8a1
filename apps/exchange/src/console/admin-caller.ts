import { ADMIN_SCOPE } from '@mqtt-oidc/core'
import type { ConsoleSession, ConsoleSessions } from './console-sessions.js'
import { IdpRefused } from './idp-client.js'
import type { IdpClient, TokenResponse } from './idp-client.js'

/** The person's sign-in has ended (refresh refused, account disabled or signed out at the IdP): sign in again. */
export class SignInEnded extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SignInEnded'
  }
}

/** The person is signed in but no longer gets the admin scope (left the admin group). */
export class NotAnAdmin extends Error {
  constructor(readonly username: string) {
    super(`${username} may not administer brokers`)
    this.name = 'NotAnAdmin'
  }
}

export interface AdminAnswer {
  readonly status: number
  readonly body: unknown
}

export interface AdminCaller {
  /**
   * Calls the exchange's own admin API (`path` under /admin) with the
   * session's access token, refreshed first when it expires within a minute.
   * Resolves with the API's status and JSON, whatever they are.
   */
  call(id: string, session: ConsoleSession, method: string, path: string, body?: unknown): Promise<AdminAnswer>
  /** Opens an admin API SSE stream as the session's person (the caller reads and closes it). */
  open(id: string, session: ConsoleSession, path: string, signal: AbortSignal): Promise<Response>
}

/** Refresh an access token this long before it expires, seconds. */
const REFRESH_AHEAD = 60

/**
 * The console's one way to act: the admin API the CLI uses, on this
 * exchange's own address, with the person's token (never a token of the
 * exchange's own). Refreshes run one at a time per session in every instance
 * (the IdP rotates refresh tokens: two refreshes with one token would end the grant).
 */
export function createAdminCaller(deps: {
  readonly selfUrl: () => string
  readonly sessions: ConsoleSessions
  readonly idp: IdpClient
  readonly resource: () => string
  readonly now: () => number
}): AdminCaller {
  async function fresh(id: string, session: ConsoleSession, force = false): Promise<ConsoleSession> {
    if (!force && session.accessTokenExpiresAt - deps.now() > REFRESH_AHEAD) return session
    return deps.sessions.withRefreshLock(id, async () => {
      const current = await deps.sessions.get(id, deps.now())
      if (!current) throw new SignInEnded('the console session has ended')
      // Another request (or instance) refreshed meanwhile.
      if (current.accessToken !== session.accessToken && current.accessTokenExpiresAt - deps.now() > REFRESH_AHEAD) return current
      if (!current.refreshToken) throw new SignInEnded('the sign-in has expired')
      let tokens: TokenResponse
      try {
        tokens = await deps.idp.refresh(current.refreshToken, deps.resource())
      } catch (err) {
        if (err instanceof IdpRefused && err.error === 'invalid_grant') {
          await deps.sessions.destroy(id)
          throw new SignInEnded('the sign-in has ended at the identity provider')
        }
        throw err
      }
      if (!tokens.scope?.split(' ').includes(ADMIN_SCOPE)) {
        await deps.sessions.destroy(id)
        throw new NotAnAdmin(current.username)
      }
      const next: ConsoleSession = {
        ...current,
        accessToken: tokens.access_token,
        accessTokenExpiresAt: deps.now() + (tokens.expires_in ?? 300),
        refreshToken: tokens.refresh_token ?? current.refreshToken,
      }
      await deps.sessions.save(id, next, deps.now())
      return next
    })
  }

  const request = (session: ConsoleSession, method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> =>
    fetch(`${deps.selfUrl()}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${session.accessToken}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    })

  return {
    async call(id, session, method, path, body) {
      let current = await fresh(id, session)
      let res = await request(current, method, path, body)
      if (res.status === 401) {
        // The token was refused (keys rotated, clock skew): once more with a new one.
        await res.arrayBuffer()
        current = await fresh(id, current, true)
        res = await request(current, method, path, body)
      }
      return { status: res.status, body: await res.json().catch(() => null) }
    },
    async open(id, session, path, signal) {
      return request(await fresh(id, session), 'GET', path, undefined, signal)
    },
  }
}
