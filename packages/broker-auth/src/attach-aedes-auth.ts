import type { Aedes, AedesPublishPacket, Client, Subscription } from 'aedes'
import { decodeJwt } from 'jose'
import { AclDenied, canPublish, canReceive, canSubscribe, refusalFor, TokenExpired, TokenRevoked } from '@mqtt-oidc/core'
import type { Acl, AclContext } from '@mqtt-oidc/core'
import { describeError } from './lib/describe-error.js'
import { authorizeConnect } from './authorize-connect.js'
import type { Verifier } from './create-verifier.js'
import type { RevocationFollower } from './create-revocation-follower.js'
import type { FeedGuard } from './create-feed-guard.js'
import type { ConnectAuthorization, LogFn } from './types.js'

export interface AedesAuthOptions {
  /** Verifies CONNECT passwords. Required. */
  verifier: Verifier
  /** Live revocations: sessions whose jti gets revoked are closed at once. Optional. */
  follower?: Pick<RevocationFollower, 'has' | 'on'>
  /** Feed-unreachable policy, checked on every CONNECT. Default: none. */
  feedGuard?: Pick<FeedGuard, 'check'>
  /** Called once per CONNECT decision (for metrics): `code` is the refusal code, undefined when accepted. */
  onConnect?: (code: string | undefined) => void
  /** Optional log callback; refusals are logged at warn with code, jti and client id, never the token. */
  log?: LogFn
}

export interface AedesAuth {
  /** Sessions currently authenticated. */
  readonly sessionCount: number
  /** Removes the revocation listener and the expiry timers (the hooks stay set). */
  close(): void
}

/** Per-client auth state, kept for the connection's lifetime. */
interface Session {
  readonly clientId: string
  readonly jti: string
  /** Token expiry in epoch seconds; undefined = never. */
  readonly exp: number | undefined
  readonly acl: Acl
  readonly ctx: AclContext
  ended?: 'revoked' | 'expired' | 'closed'
  timer?: NodeJS.Timeout
}

// setTimeout's ceiling (~24.8 days); longer expiries re-arm.
const MAX_TIMER_MS = 2 ** 31 - 1
const SYS_PREFIX = '$SYS/'

/**
 * Installs broker-token authentication and ACL enforcement on an aedes
 * instance: `preConnect` + `authenticate` (CONNACK 4/5 from REFUSALS; an
 * empty client id becomes the token's `sub`), `authorizePublish`,
 * `authorizeSubscribe` (SUBACK 0x80 per denied filter), `authorizeForward`
 * (nothing outside the ACL is delivered, retained messages included), and
 * closes sessions whose jti is revoked or whose token expires.
 *
 * @example
 * const aedes = await Aedes.createBroker()
 * attachAedesAuth(aedes, { verifier, follower, log })
 */
export function attachAedesAuth(aedes: Aedes, options: AedesAuthOptions): AedesAuth {
  const { verifier, follower } = options
  const log: LogFn = options.log ?? (() => {})
  const sessions = new WeakMap<Client, Session>()
  const byJti = new Map<string, Set<Client>>()
  // aedes replaces an empty CONNECT client id with `aedes_<uuid>` before
  // `authenticate`, so remember it here (preConnect still sees the packet).
  const emptyClientId = new WeakSet<Client>()
  let count = 0

  const previousPreConnect = aedes.preConnect
  aedes.preConnect = (client, packet, callback) => {
    if (!packet.clientId) emptyClientId.add(client)
    previousPreConnect.call(aedes, client, packet, callback)
  }

  aedes.authenticate = (client, username, password, done) => {
    const requestedId = emptyClientId.has(client) ? '' : client.id
    // `.then(accept, refuse)`: an exception thrown by aedes inside `done` must not call `done` twice
    checkConnect(requestedId, username, password).then((auth) => {
      if (client.closed) return // aedes ignores a late answer for a connection that is gone
      ;(client as { id: string }).id = auth.clientId
      const ctx: AclContext = { clientid: auth.clientId, username: auth.claims.username }
      startSession(client, { clientId: auth.clientId, jti: auth.claims.jti, exp: auth.claims.exp, acl: auth.acl, ctx })
      log('info', 'CONNECT accepted', { client_id: auth.clientId, jti: auth.claims.jti, exp: auth.claims.exp })
      options.onConnect?.(undefined)
      done(null, true)
    }, (err: unknown) => {
      const refusal = refusalFor(err)
      log('warn', 'CONNECT refused', {
        code: refusal.code, connack: refusal.connack, client_id: requestedId || undefined,
        jti: unverifiedJti(password), reason: err instanceof Error ? err.message : undefined,
      })
      if (refusal.code === 'ERR_SERVER') log('error', 'CONNECT check failed', { err: describeError(err) })
      options.onConnect?.(refusal.code)
      const error = Object.assign(new Error(refusal.code), { returnCode: refusal.connack })
      done(error as Parameters<typeof done>[0], false)
    })
  }

  async function checkConnect(clientId: string, username: string | undefined, password: Buffer | undefined): Promise<ConnectAuthorization> {
    const auth = await authorizeConnect(verifier, { clientId, username, password })
    // revoked while the signature was being checked
    if (follower?.has(auth.claims.jti)) throw new TokenRevoked('jti is revoked')
    // the verifier's clock leeway must not buy a session that would be closed at once
    if (auth.claims.exp !== undefined && auth.claims.exp * 1000 <= Date.now()) throw new TokenExpired('token has expired')
    // a good token, but recent revocations cannot be known: the feed policy decides
    options.feedGuard?.check()
    return auth
  }

  aedes.authorizePublish = (client, packet, callback) => {
    const session = client ? sessions.get(client) : undefined
    if (!client || !session || !isLive(session)) return callback(denied('PUBLISH', session, packet.topic))
    if (packet.topic.startsWith(SYS_PREFIX) || !canPublish(session.acl, packet.topic, session.ctx)) {
      return callback(denied('PUBLISH', session, packet.topic))
    }
    callback(null)
  }

  aedes.authorizeSubscribe = (client, subscription: Subscription, callback) => {
    const session = sessions.get(client)
    if (session && isLive(session) && canSubscribe(session.acl, subscription.topic, session.ctx)) {
      return callback(null, subscription)
    }
    denied('SUBSCRIBE', session, subscription.topic)
    callback(null, null) // SUBACK 0x80 for this filter only
  }

  aedes.authorizeForward = (client, packet: AedesPublishPacket) => {
    const session = sessions.get(client)
    if (session && isLive(session) && canReceive(session.acl, packet.topic, session.ctx)) return packet
    return null
  }

  const offRevoked = follower?.on('revoked', (jti) => {
    for (const client of byJti.get(jti) ?? []) endSession(client, 'revoked')
  })

  function startSession(client: Client, session: Session): void {
    sessions.set(client, session)
    count++
    let clients = byJti.get(session.jti)
    if (!clients) byJti.set(session.jti, (clients = new Set()))
    clients.add(client)
    if (session.exp !== undefined) armExpiry(client, session)
    client.conn.once('close', () => forget(client, session))
  }

  function armExpiry(client: Client, session: Session): void {
    const delay = (session.exp ?? 0) * 1000 - Date.now()
    session.timer = delay > MAX_TIMER_MS
      ? setTimeout(() => armExpiry(client, session), MAX_TIMER_MS)
      : setTimeout(() => endSession(client, 'expired'), Math.max(0, delay))
    session.timer.unref()
  }

  function endSession(client: Client, why: 'revoked' | 'expired'): void {
    const session = sessions.get(client)
    if (!session || session.ended) return
    session.ended = why
    log(why === 'revoked' ? 'warn' : 'info', why === 'revoked' ? 'session closed: jti revoked' : 'session closed: token expired', {
      code: why === 'revoked' ? 'ERR_TOKEN_REVOKED' : 'ERR_TOKEN_EXPIRED', client_id: session.clientId, jti: session.jti,
    })
    client.close()
  }

  function forget(client: Client, session: Session): void {
    if (session.timer) clearTimeout(session.timer)
    session.ended ??= 'closed'
    if (sessions.get(client) === session) {
      sessions.delete(client)
      count--
    }
    const clients = byJti.get(session.jti)
    clients?.delete(client)
    if (clients?.size === 0) byJti.delete(session.jti)
  }

  function denied(what: string, session: Session | undefined, topic: string): AclDenied {
    log('warn', `${what} denied`, { code: 'ERR_ACL_DENIED', client_id: session?.clientId, jti: session?.jti, topic, session: session?.ended ?? (session ? 'live' : 'none') })
    return new AclDenied(`${what} to ${topic} denied`)
  }

  return {
    get sessionCount() {
      return count
    },
    close() {
      offRevoked?.()
      for (const clients of byJti.values()) {
        for (const client of clients) {
          const timer = sessions.get(client)?.timer
          if (timer) clearTimeout(timer)
        }
      }
    },
  }
}

/** A session grants nothing once revoked, expired or closed, even before the socket is gone. */
function isLive(session: Session): boolean {
  return !session.ended && (session.exp === undefined || Date.now() < session.exp * 1000)
}

/** The jti of a refused token, for the log only (unverified, bounded); never the token itself. */
function unverifiedJti(password: Readonly<Buffer | undefined>): string | undefined {
  if (!password || password.length === 0 || password.length > 8192) return undefined
  try {
    const jti = decodeJwt(password.toString('utf8').trim()).jti
    return typeof jti === 'string' ? jti.slice(0, 128) : undefined
  } catch {
    return undefined
  }
}
