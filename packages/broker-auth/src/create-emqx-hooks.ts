import { canPublish, canSubscribe, ClientIdMismatch, refusalFor } from '@mqtt-oidc/core'
import type { Acl, AclContext } from '@mqtt-oidc/core'
import { createConnectCheck } from './lib/connect-check.js'
import type { FeedGuard } from './create-feed-guard.js'
import type { Verifier } from './create-verifier.js'
import type { LogFn, RevocationChecker } from './types.js'

export interface EmqxHooksOptions {
  /** Verifies the CONNECT password (the broker token). Required. */
  verifier: Verifier
  /** Revoked jtis: a revoked session is denied every later publish/subscribe. Optional. */
  revocations?: RevocationChecker
  /** Feed-unreachable policy, checked on every authentication. Optional. */
  feedGuard?: Pick<FeedGuard, 'check'>
  /** Most sessions remembered for authorization (oldest dropped first). Default 100000. */
  maxSessions?: number
  /** Called once per authentication decision (metrics): the refusal code, undefined when allowed. */
  onConnect?: (code: string | undefined) => void
  /** Told when a session is remembered and when it is forgotten (refused re-authentication, evicted), e.g. to report sessions. Optional. */
  sessions?: EmqxSessionObserver
  log?: LogFn
}

/** A session as the EMQX hook sees it: at authentication only (EMQX does not tell an HTTP authenticator of disconnects). */
export interface EmqxSessionObserver {
  started(clientId: string, session: { readonly username: string | null; readonly jti: string; readonly exp: number | undefined; readonly remoteAddress: string | null }): void
  ended(clientId: string): void
}

/** An HTTP answer for EMQX: status 200 and a JSON body. */
export interface EmqxAnswer {
  readonly status: 200
  readonly body: Record<string, unknown>
}

export interface EmqxHooks {
  /** EMQX 5 HTTP authentication (`password_based` + `http`): `{clientid, username, password}` → `{result, is_superuser, ...}`. */
  authenticate(request: Record<string, unknown>): Promise<EmqxAnswer>
  /** EMQX 5 HTTP authorization: `{clientid, username, topic, action}` → `{result: "allow"|"deny"}`. */
  authorize(request: Record<string, unknown>): EmqxAnswer
  /** Client ids of the remembered sessions holding this jti (to kick them through EMQX's REST API). */
  clientsOf(jti: string): string[]
  readonly sessionCount: number
}

interface Session {
  readonly jti: string
  readonly exp: number | undefined
  readonly acl: Acl
  readonly ctx: AclContext
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '')
const DENY: EmqxAnswer = { status: 200, body: { result: 'deny' } }
const ALLOW: EmqxAnswer = { status: 200, body: { result: 'allow' } }

/**
 * The decisions behind an HTTP auth/authz hook for EMQX 5, so EMQX gets our
 * verification, revocation and ACLs. Authentication verifies the token and
 * remembers the session (by client id); authorization checks each
 * publish/subscribe against that session's ACL, and denies everything once
 * its jti is revoked or its token expired. Every doubt is `deny` (never
 * `ignore`, which would hand the decision to the next source).
 *
 * @example
 * const hooks = createEmqxHooks({ verifier, revocations: follower })
 * const { status, body } = await hooks.authenticate({ clientid, username, password })
 */
export function createEmqxHooks(options: EmqxHooksOptions): EmqxHooks {
  const log: LogFn = options.log ?? (() => {})
  const maxSessions = options.maxSessions ?? 100_000
  const sessions = new Map<string, Session>()
  const check = createConnectCheck({ verifier: options.verifier, revocations: options.revocations, feedGuard: options.feedGuard })

  function remember(clientId: string, session: Session): void {
    sessions.delete(clientId)
    sessions.set(clientId, session)
    while (sessions.size > maxSessions) {
      const oldest = sessions.keys().next()
      if (oldest.done) break
      sessions.delete(oldest.value)
      options.sessions?.ended(oldest.value)
    }
  }

  async function authenticate(request: Record<string, unknown>): Promise<EmqxAnswer> {
    const clientId = text(request.clientid)
    try {
      // EMQX has already assigned an id to an empty one, so the client id must be `sub` itself
      if (clientId === '') throw new ClientIdMismatch('EMQX sent no client id')
      const auth = await check({ clientId, username: text(request.username), password: text(request.password) })
      const { jti, exp } = auth.claims
      remember(clientId, { jti, exp, acl: auth.acl, ctx: { clientid: clientId, username: auth.claims.username } })
      options.sessions?.started(clientId, { username: auth.claims.username ?? null, jti, exp, remoteAddress: text(request.peerhost) || null })
      log('info', 'EMQX authentication allowed', { client_id: clientId, jti, exp })
      options.onConnect?.(undefined)
      const body: Record<string, unknown> = { result: 'allow', is_superuser: false, client_attrs: { jti } }
      if (exp !== undefined) body.expire_at = exp
      return { status: 200, body }
    } catch (err) {
      const { code } = refusalFor(err)
      if (sessions.delete(clientId)) options.sessions?.ended(clientId)
      log('warn', 'EMQX authentication denied', { code, client_id: clientId || undefined, reason: err instanceof Error ? err.message : undefined })
      options.onConnect?.(code)
      return DENY
    }
  }

  function authorize(request: Record<string, unknown>): EmqxAnswer {
    const clientId = text(request.clientid)
    const topic = text(request.topic)
    const action = text(request.action)
    const session = sessions.get(clientId)
    const live = session !== undefined && !options.revocations?.has(session.jti) &&
      (session.exp === undefined || Date.now() < session.exp * 1000)
    const username = text(request.username)
    const allowed = live && (username === '' || username === session.ctx.username || username === session.ctx.clientid) && (
      action === 'publish' ? !topic.startsWith('$SYS/') && canPublish(session.acl, topic, session.ctx)
        : action === 'subscribe' ? canSubscribe(session.acl, topic, session.ctx)
          : false)
    if (!allowed) {
      log('warn', 'EMQX authorization denied', { code: 'ERR_ACL_DENIED', client_id: clientId, jti: session?.jti, action, topic, session: session ? (live ? 'live' : 'ended') : 'none' })
    }
    return allowed ? ALLOW : DENY
  }

  return {
    authenticate,
    authorize,
    clientsOf: (jti) => [...sessions].filter(([, s]) => s.jti === jti).map(([clientId]) => clientId),
    get sessionCount() {
      return sessions.size
    },
  }
}
