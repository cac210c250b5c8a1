import type { Aedes, Client } from 'aedes'
import { decodeJwtPayload } from '@mqtt-oidc/jose'
import { refusalFor } from '@mqtt-oidc/core'
import { createAclHooks } from './lib/aedes-acl-hooks.js'
import { createAclInterner } from './lib/acl-interner.js'
import { clientIdRefusal, connectPacketViolation } from './lib/connect-packet-rules.js'
import { createConnectCheck } from './lib/connect-check.js'
import { describeError } from './lib/describe-error.js'
import { createExpirySchedule } from './lib/expiry-schedule.js'
import { createSessionRegistry } from './lib/session-registry.js'
import type { SessionEnd, SessionObserver } from './lib/session-registry.js'
import type { Verifier } from './create-verifier.js'
import type { RevocationFollower } from './create-revocation-follower.js'
import type { FeedGuard } from './create-feed-guard.js'
import type { ConnectAuthorization, ConnectDecision, LogFn } from './types.js'

export interface AedesAuthOptions {
  /** Verifies CONNECT passwords. Required. */
  verifier: Verifier
  /** Live revocations: sessions whose jti gets revoked are closed at once. Optional. */
  follower?: Pick<RevocationFollower, 'has' | 'on'>
  /** Feed-unreachable policy, checked on every CONNECT. Default: none. */
  feedGuard?: Pick<FeedGuard, 'check'>
  /**
   * Called once per CONNECT decision (for metrics and the per-address failure budget):
   * `code` is the refusal code, undefined when accepted; `connack` the CONNACK return code
   * sent, undefined when the connection is closed without one.
   */
  onConnect?: (code: string | undefined, client: Client, connack: number | undefined) => void
  /** Optional log callback; refusals are logged at warn with code, jti and client id, never the token. */
  log?: LogFn
  /** Told when an authenticated session starts and ends (e.g. to report sessions to the exchange). Optional. */
  sessions?: SessionObserver<Client>
}

export interface AedesAuth {
  /** Sessions currently authenticated. */
  readonly sessionCount: number
  /** Removes the revocation listener and the expiry timer (the hooks stay set). */
  close(): void
}

/**
 * Installs broker-token authentication and ACL enforcement on an aedes
 * instance: `preConnect` (MQTT 3.1.1 CONNECT rules), `authenticate`
 * (CONNACK 2/4/5 from REFUSALS; an empty client id becomes the token's
 * `sub`), `authorizePublish`, `authorizeSubscribe` (SUBACK 0x80 per denied
 * filter), `authorizeForward` (nothing outside the ACL is delivered, retained
 * messages included), and closes sessions whose jti is revoked or whose
 * token expires (the will is published after an expiry, never after a
 * revocation).
 *
 * @example
 * const aedes = await Aedes.createBroker()
 * attachAedesAuth(aedes, { verifier, follower, log })
 */
export function attachAedesAuth(aedes: Aedes, options: AedesAuthOptions): AedesAuth {
  const { follower } = options
  const log: LogFn = options.log ?? (() => {})
  const registry = createSessionRegistry<Client>(options.sessions)
  const expiries = createExpirySchedule<Client>((client) => endSession(client, 'expired'))
  const acls = createAclInterner()
  const check = createConnectCheck({ verifier: options.verifier, revocations: follower, feedGuard: options.feedGuard })
  // What authenticate needs from the CONNECT, kept from preConnect until then: whether the client id
  // was empty (aedes replaces it with `aedes_<uuid>` before `authenticate`) and the password, which is
  // taken off aedes' packet so the token does not stay in memory for the life of the connection.
  // It rides on the client under a symbol of this instance (not in a WeakMap: no ephemeron per CONNECT for the GC).
  const pending = Symbol('mqtt-oidc pending CONNECT')
  type Pending = { [pending]?: { readonly emptyId: boolean; readonly password: Buffer | undefined } | undefined }

  const previousPreConnect = aedes.preConnect
  aedes.preConnect = (client, packet, callback) => {
    const violation = connectPacketViolation(packet)
    if (violation) {
      log('warn', 'CONNECT refused', { code: violation.code, reason: violation.message, client_id: packet.clientId || undefined })
      options.onConnect?.(violation.code, client, undefined)
      return callback(violation, false) // closes the connection, no CONNACK
    }
    previousPreConnect.call(aedes, client, packet, (err, ok) => {
      ;(client as Pending)[pending] = { emptyId: !packet.clientId, password: packet.password }
      ;(packet as { password?: Buffer }).password = undefined
      callback(err, ok)
    })
  }

  type Done = Parameters<Aedes['authenticate']>[3]

  aedes.authenticate = (client, username, _password, done) => {
    const connect = (client as Pending)[pending]
    ;(client as Pending)[pending] = undefined
    const password = connect?.password
    const clientId = connect?.emptyId ? '' : client.id
    let decision: ConnectDecision
    try {
      const idRefusal = clientIdRefusal(clientId, client.clean)
      if (idRefusal) throw idRefusal
      decision = check({ clientId, username, password })
    } catch (err) {
      return refuse(client, clientId, password, err, done)
    }
    // accept and refuse run outside the try: an exception thrown by aedes inside `done` must not call `done` twice
    if (decision instanceof Promise) {
      void decision.then(
        (auth) => accept(client, auth, done),
        (err: unknown) => refuse(client, clientId, password, err, done),
      )
    } else accept(client, decision, done)
  }

  // Made once out here, not per CONNECT: the synchronous path allocates no closure.
  function accept(client: Client, auth: ConnectAuthorization, done: Done): void {
    if (client.closed) return // aedes ignores a late answer for a connection that is gone
    ;(client as { id: string }).id = auth.clientId
    const { jti, exp, username: claimedUsername } = auth.claims
    registry.start(client, { clientid: auth.clientId, username: claimedUsername, jti, exp, acl: acls.intern(auth.acl), ended: undefined })
    if (exp !== undefined) expiries.add(client, exp)
    endOnClose(client)
    log('info', 'CONNECT accepted', { client_id: auth.clientId, jti, exp })
    options.onConnect?.(undefined, client, 0)
    done(null, true)
  }

  function refuse(client: Client, clientId: string, password: Buffer | undefined, err: unknown, done: Done): void {
    const refusal = refusalFor(err)
    log('warn', 'CONNECT refused', {
      code: refusal.code, connack: refusal.connack, client_id: clientId || undefined,
      jti: unverifiedJti(password), reason: err instanceof Error ? err.message : undefined,
    })
    if (refusal.code === 'ERR_SERVER') log('error', 'CONNECT check failed', { err: describeError(err) })
    options.onConnect?.(refusal.code, client, refusal.connack)
    const error = Object.assign(new Error(refusal.code), { returnCode: refusal.connack })
    done(error as Parameters<Done>[0], false)
  }

  Object.assign(aedes, createAclHooks(registry, { revocations: follower, log }))

  const offRevoked = follower?.on('revoked', (jti) => {
    for (const client of registry.withJti(jti)) endSession(client, 'revoked')
  })

  // Made out here so the listener's closure holds the client only, not the CONNECT (password, aedes' callbacks).
  function endOnClose(client: Client): void {
    client.conn.on('close', () => endSession(client, 'closed'))
  }

  function endSession(client: Client, why: SessionEnd): void {
    const session = registry.end(client, why)
    if (!session) return
    if (session.exp !== undefined) expiries.delete(client, session.exp)
    if (why === 'closed') {
      // Accepted, but aedes had not answered yet: it was still restoring the session (its store, Redis for a cluster), and the client gave up or went.
      if (!(client as { connackSent?: boolean }).connackSent) {
        log('warn', 'connection closed before its CONNACK was sent (the session restore was still running)', {
          code: 'ERR_CONNACK_NOT_SENT', client_id: session.clientid, jti: session.jti, clean: client.clean,
        })
      }
      return
    }
    log(why === 'revoked' ? 'warn' : 'info', why === 'revoked' ? 'session closed: jti revoked' : 'session closed: token expired', {
      code: why === 'revoked' ? 'ERR_TOKEN_REVOKED' : 'ERR_TOKEN_EXPIRED', client_id: session.clientid, jti: session.jti,
    })
    client.close()
  }

  return {
    get sessionCount() {
      return registry.size
    },
    close() {
      offRevoked?.()
      expiries.close()
    },
  }
}

/** The jti of a refused token, for the log only (unverified, bounded); never the token itself. */
function unverifiedJti(password: Readonly<Buffer | undefined>): string | undefined {
  if (!password || password.length === 0 || password.length > 8192) return undefined
  try {
    const jti = decodeJwtPayload(password.toString('utf8').trim()).jti
    return typeof jti === 'string' ? jti.slice(0, 128) : undefined
  } catch {
    return undefined
  }
}
