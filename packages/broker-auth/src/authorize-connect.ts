import { ClientIdInvalid, ClientIdMismatch, mqttIdentifierProblem, TokenMissing, UsernameInvalid, UsernameMismatch } from '@mqtt-oidc/core'
import type { BrokerTokenClaims } from '@mqtt-oidc/core'
import { brokerTokenAcl } from './broker-token-acl.js'
import type { Verifier } from './create-verifier.js'
import type { ConnectAuthorization, ConnectDecision } from './types.js'

/** The credential fields of an MQTT CONNECT. */
export interface ConnectCredentials {
  /** CONNECT client id; empty or absent means "use the token's `sub`". */
  readonly clientId?: string | undefined
  /** CONNECT username; when present it must equal the `username` claim or `sub`. */
  readonly username?: string | undefined
  /** CONNECT password: the broker token. */
  readonly password?: string | Buffer | Uint8Array | undefined
}

/**
 * Checks an MQTT CONNECT: the password is a valid broker token for this
 * broker, the client id is empty or `sub`, the username (if any) is the
 * token's `username` or `sub`, and both pass core's mqttIdentifierProblem.
 * Resolves with the effective client id, the claims and the ACL; rejects
 * with `TokenMissing`, a token error, `ClientIdMismatch`, `ClientIdInvalid`,
 * `UsernameInvalid` or `UsernameMismatch`.
 *
 * @example
 * const { clientId, acl } = await authorizeConnect(verifier, { clientId: '', password: token })
 */
export function authorizeConnect(verifier: Verifier, credentials: ConnectCredentials): Promise<ConnectAuthorization> {
  try {
    return Promise.resolve(decideConnect(verifier, credentials))
  } catch (err) {
    return Promise.reject(err)
  }
}

/**
 * `authorizeConnect` without a promise when the verifier can answer at once
 * (see `Verifier.verifyIfKeysHeld`): the authorization, or a thrown refusal;
 * a promise of it only when a key fetch is due.
 */
export function decideConnect(verifier: Verifier, credentials: ConnectCredentials): ConnectDecision {
  const token = passwordText(credentials.password)
  if (token === '') throw new TokenMissing('CONNECT without a password (the broker token)')
  const claims = verifier.verifyIfKeysHeld(token)
  return claims ? credentialsMatch(claims, credentials) : verifier.verify(token).then((fetched) => credentialsMatch(fetched, credentials))
}

/** The client id and username rules between a CONNECT and its verified token's claims. */
function credentialsMatch(claims: BrokerTokenClaims, credentials: ConnectCredentials): ConnectAuthorization {
  const requested = credentials.clientId ?? ''
  if (requested !== '' && requested !== claims.sub) {
    throw new ClientIdMismatch('CONNECT client id is not the token subject')
  }
  // Core's identifier rule, also for tokens minted before it or elsewhere: the id lands in ACL filters.
  const clientIdProblem = mqttIdentifierProblem('client id', claims.sub)
  if (clientIdProblem) throw new ClientIdInvalid(clientIdProblem)
  const username = credentials.username ?? ''
  const usernameProblem = username === '' ? undefined : mqttIdentifierProblem('username', username)
  if (usernameProblem) throw new UsernameInvalid(usernameProblem)
  if (username !== '' && username !== claims.username && username !== claims.sub) {
    throw new UsernameMismatch('CONNECT username is neither the token username nor its subject')
  }
  return { clientId: claims.sub, claims, acl: brokerTokenAcl(claims) }
}

function passwordText(password: ConnectCredentials['password']): string {
  if (password === undefined) return ''
  if (typeof password === 'string') return password.trim()
  // aedes hands a Buffer: decoded as it is, without a new view of its memory
  const bytes = Buffer.isBuffer(password) ? password : Buffer.from(password.buffer, password.byteOffset, password.byteLength)
  return bytes.toString('utf8').trim()
}
