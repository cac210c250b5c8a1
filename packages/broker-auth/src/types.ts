import type { Acl, BrokerTokenClaims } from '@mqtt-oidc/core'

/** Log levels the library reports at; apps map them onto their logger (pino). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/**
 * Optional log callback. `fields` carry `code`, `jti`, `client_id`, `broker`,
 * never a token. Example with pino: `(level, msg, fields) => logger[level](fields ?? {}, msg)`.
 */
export type LogFn = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void

/** Anything that can answer "is this jti revoked?" (a follower, a test double, a set). */
export interface RevocationChecker {
  has(jti: string): boolean
}

/** What `verify` resolves with for a good broker token. */
export type { BrokerTokenClaims }

/** The outcome of a successful CONNECT check. */
export interface ConnectAuthorization {
  /** The effective MQTT client id: the token's `sub` (also when CONNECT sent an empty id). */
  readonly clientId: string
  readonly claims: BrokerTokenClaims
  /** The ACL the session gets: the `acl` claim, `#` for `topicAcl: "#"`, else nothing. */
  readonly acl: Acl
}

/**
 * A CONNECT decision: the authorization at once (or a refusal thrown at
 * once) when no key fetch was needed, which is every CONNECT but the first
 * after a key rotation; otherwise a promise of it.
 */
export type ConnectDecision = ConnectAuthorization | Promise<ConnectAuthorization>
