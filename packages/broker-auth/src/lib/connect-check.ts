import { TokenExpired, TokenRevoked } from '@mqtt-oidc/core'
import { decideConnect } from '../authorize-connect.js'
import type { ConnectCredentials } from '../authorize-connect.js'
import type { FeedGuard } from '../create-feed-guard.js'
import type { Verifier } from '../create-verifier.js'
import type { ConnectAuthorization, ConnectDecision, RevocationChecker } from '../types.js'

export interface ConnectCheckOptions {
  readonly verifier: Verifier
  /** Revoked jtis, asked again once the signature checked out. */
  readonly revocations?: RevocationChecker | undefined
  /** Feed-unreachable policy, asked last: only a good token reaches it. */
  readonly feedGuard?: Pick<FeedGuard, 'check'> | undefined
  /** Clock in epoch ms. Default `Date.now`. */
  readonly now?: () => number
}

/**
 * The whole CONNECT decision shared by the aedes hooks and the EMQX hook:
 * the credentials (`decideConnect`), then what can change while the
 * signature is checked or that the verifier's leeway would let through.
 * Synchronous when it can be (see ConnectDecision): a promise and its
 * microtasks per CONNECT cost more CPU than all the claim checks.
 */
export function createConnectCheck(options: ConnectCheckOptions): (credentials: ConnectCredentials) => ConnectDecision {
  const now = options.now ?? Date.now
  const recheck = (auth: ConnectAuthorization): ConnectAuthorization => {
    // revoked while the signature was being checked
    if (options.revocations?.has(auth.claims.jti)) throw new TokenRevoked('jti is revoked')
    // the verifier's clock leeway must not buy a session that would be closed at once
    if (auth.claims.exp !== undefined && auth.claims.exp * 1000 <= now()) throw new TokenExpired('token has expired')
    // a good token, but recent revocations cannot be known: the feed policy decides
    options.feedGuard?.check()
    return auth
  }
  return (credentials) => {
    const decision = decideConnect(options.verifier, credentials)
    return decision instanceof Promise ? decision.then(recheck) : recheck(decision)
  }
}
